"""Code a chapter teaches, written in the chapter and loaded from it.

A chapter that teaches a function defines it in a visible code cell whose first line is
``#@save`` (the marker d2l uses). ``chapter_code("12_pretraining")`` runs those cells, in
order, in a fresh module and returns it, so the tests (and any later chapter) use exactly the
code the reader sees, and a chapter edit that breaks it fails a test. A traceback points to
the line of ``book/<chapter>.md``.
"""
import functools
import re
import types
from pathlib import Path

BOOK = Path(__file__).resolve().parent.parent / "book"
SAVE_MARK = "#@save"
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?:---\n.*?\n---\n)?(.*?)^```$", re.S | re.M)


def saved_cells(chapter):
    """``(first_line, source)`` of each code cell of ``book/<chapter>.md`` marked ``#@save``."""
    path = BOOK / f"{chapter}.md"
    if not path.is_file():
        chapters = sorted(p.stem for p in BOOK.glob("[0-9]*.md"))
        raise FileNotFoundError(f"No chapter {chapter!r} in {BOOK}; the chapters are: {', '.join(chapters)}.")
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, cell.start(1)) + 1, cell.group(1))
            for cell in CODE_CELL.finditer(text) if cell.group(1).lstrip().startswith(SAVE_MARK)]


@functools.cache
def chapter_code(chapter):
    """A module holding what ``book/<chapter>.md`` defines in its ``#@save`` cells."""
    cells = saved_cells(chapter)
    if not cells:
        raise ValueError(f"book/{chapter}.md has no code cell starting with {SAVE_MARK}; "
                         f"mark the cells that define what other code loads from it.")
    module = types.ModuleType(f"book_{chapter}", f"The {SAVE_MARK} cells of book/{chapter}.md.")
    for first_line, source in cells:
        # Pad with blank lines so that tracebacks give the line number in the chapter's file.
        exec(compile("\n" * (first_line - 1) + source, str(BOOK / f"{chapter}.md"), "exec"), module.__dict__)
    return module
