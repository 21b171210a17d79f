"""Generate notebooks/{ko,en}/NN_name.ipynb from the chapters in book/ (never edit those by hand).

The split: each notebook keeps the cells of one language (untagged cells, and cells tagged
``lang-ko`` or ``lang-en``), and starts with a setup cell: on Colab it clones the repository
and installs what the chapter's code uses (``utils.colab.install``); anywhere it sets
BOOK_LANG and puts the repository root on sys.path so that ``import utils`` works.
A value written as ``{ko: ..., en: ...}`` in cell metadata (a figure's caption) becomes
that language's value. The book's two editions are built from the same split
(scripts/build_book.py), so the page and the Colab notebook it opens are one notebook.

    python scripts/make_notebooks.py [--out DIR]     # default: notebooks/
"""
import argparse
import copy
import json
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("ko", "en")

SETUP_NOTE = {
    "ko": "**Colab에서 실행한다면** 아래 셀을 먼저 실행하세요. 저장소를 내려받고 이 장에 필요한 패키지만 "
          "설치합니다. Colab에 있는 numpy, torch, transformers는 그대로 두므로 런타임을 다시 시작할 필요가 없습니다.",
    "en": "**On Colab,** run the cell below first. It clones the repository and installs only what this "
          "chapter needs. It keeps Colab's numpy, torch and transformers, so no runtime restart is needed.",
}

SETUP_CODE = '''\
# {comment}
import os, subprocess, sys
from pathlib import Path

REPO_URL, BRANCH, STACKS = "{url}", "{branch}", {stacks}
os.environ["BOOK_LANG"] = "{lang}"  # the language of plots and messages
if "google.colab" in sys.modules:
    clone = Path("/content") / REPO_URL.rstrip("/").split("/")[-1]
    if not clone.is_dir():
        print("git clone", REPO_URL, "...")
        cloned = subprocess.run(["git", "clone", "-q", "--depth", "1", "-b", BRANCH, REPO_URL, str(clone)])
        if cloned.returncode != 0:
            raise RuntimeError(f"{clone_failed}")
    os.chdir(clone)
    sys.path.insert(0, str(clone))
    from utils.colab import install
    install(STACKS, lang="{lang}")
ROOT = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "utils" / "env.py").is_file()), None)
if ROOT is None:
    raise RuntimeError("{missing}" + REPO_URL)
sys.path.insert(0, str(ROOT))
'''

SETUP_TEXT = {
    "ko": dict(comment="Colab: 저장소를 내려받고 이 장의 패키지를 설치합니다. 로컬: 저장소 루트를 import 경로에 더합니다.",
               clone_failed="{REPO_URL}의 {BRANCH} 브랜치를 clone하지 못했습니다. 포크(fork)에서 연 노트북이라면 "
                            "이 셀의 REPO_URL을 포크 주소로 고치세요. 저장소 관리자는 _config.yml의 repository.url을 "
                            "고치고 `make notebooks`로 노트북을 다시 만드세요.",
               missing="utils/ 폴더가 있는 저장소를 찾지 못했습니다. 저장소를 clone한 폴더 안에서 이 노트북을 여세요: "),
    "en": dict(comment="Colab: clone the repository and install this chapter's packages. Locally: put the repository root on the import path.",
               clone_failed="Could not clone branch {BRANCH} of {REPO_URL}. If you opened this notebook from a fork, "
                            "set REPO_URL in this cell to your fork's address. Maintainers: set repository.url in "
                            "_config.yml and run `make notebooks` to regenerate the notebooks.",
               missing="Could not find the repository (a folder with utils/). Open this notebook inside a clone of "),
}

# What a chapter's code imports decides what its setup cell installs on Colab.
STACK_IMPORTS = {"pytorch": r"\b(torch|transformers|utils\.pytorch|utils\.finetune)\b",
                 "gluon": r"\b(mxnet|gluonnlp|d2l|utils\.gluon)\b"}


def repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    return config["url"], config.get("branch", "main")


def has_code(notebook):
    return any(cell.cell_type == "code" for cell in notebook.cells)


def stacks(notebook):
    """The frameworks a chapter's code uses ("pytorch", "gluon"), in that order."""
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    return [name for name, pattern in STACK_IMPORTS.items() if re.search(pattern, code)]


PAGE_LINK = re.compile(r"\]\((\w+)\.md(#[^)\s]*)?\)")


def in_language(value, lang):
    """``value`` with every ``{ko: ..., en: ...}`` mapping in it replaced by its ``lang`` entry."""
    if isinstance(value, dict):
        if set(value) == set(LANGS):
            return in_language(value[lang], lang)
        return {key: in_language(item, lang) for key, item in value.items()}
    if isinstance(value, list):
        return [in_language(item, lang) for item in value]
    return value


def _figure_alt_text(metadata):
    """A figure's alt text is its caption (without markdown) unless the chapter gives one."""
    figure = metadata.get("mystnb", {}).get("figure")
    if figure and "caption" in figure:
        image = metadata["mystnb"].setdefault("image", {})
        image.setdefault("alt", re.sub(r"[`*]|\{\w+\}", "", figure["caption"]))


def split(notebook, lang):
    """The cells of one language (untagged cells and ``lang``'s), metadata in that language."""
    other = f"lang-{'en' if lang == 'ko' else 'ko'}"
    cells = [copy.deepcopy(c) for c in notebook.cells if other not in c.metadata.get("tags", [])]
    for cell in cells:
        cell.metadata = in_language(cell.metadata, lang)
        _figure_alt_text(cell.metadata)
        if cell.cell_type == "markdown":  # [text](21_imdb_pytorch.md) -> the split page next to it
            cell.source = PAGE_LINK.sub(r"](\1.ipynb\2)", cell.source)
    return cells


def for_language(notebook, lang, url, branch):
    """One language's notebook: that language's cells, the setup cells after the title."""
    cells = split(notebook, lang)
    setup = [nbformat.v4.new_markdown_cell(SETUP_NOTE[lang]),
             nbformat.v4.new_code_cell(SETUP_CODE.format(url=url, branch=branch, lang=lang,
                                                         stacks=json.dumps(stacks(notebook)), **SETUP_TEXT[lang]),
                                       metadata={"tags": ["hide-input"]})]
    title = 1 if cells and cells[0].cell_type == "markdown" and cells[0].source.startswith("#") else 0
    cells = cells[:title] + setup + cells[title:]
    for index, cell in enumerate(cells):
        cell.id = f"{lang}-{index:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                    "language_info": {"name": "python"}, "accelerator": "GPU",
                    "colab": {"provenance": []}}
    return out


DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>admonition|important|note|tip|warning)\}(?P<title>[^\n]*)\n"
                       r"(?P<options>(?::\w+:[^\n]*\n)*)(?P<body>.*?)^(?P=fence)[ \t]*$", re.S | re.M)
DIRECTIVE_TITLES = {"important": {"ko": "중요", "en": "Important"}, "note": {"ko": "참고", "en": "Note"},
                    "tip": {"ko": "팁", "en": "Tip"}, "warning": {"ko": "주의", "en": "Warning"}}


def for_jupyter(notebook, lang):
    """Admonitions as Jupyter and Colab show them: a dropdown folds into ``<details>``, others quote."""
    def plain(match):
        title = match["title"].strip() or DIRECTIVE_TITLES.get(match["name"], {}).get(lang, "")
        body = match["body"].strip("\n")
        if "dropdown" in match["options"]:
            return f"<details>\n<summary><b>{title}</b></summary>\n\n{body}\n\n</details>"
        quoted = "\n".join(f"> {line}".rstrip() for line in body.splitlines())
        return f"> **{title}**\n>\n{quoted}"
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = DIRECTIVE.sub(plain, cell.source)
    return notebook


def generate(out_dir):
    url, branch = repository()
    written = []
    for source in sorted((ROOT / "book").glob("*.md")):
        notebook = jupytext.read(source)
        if not has_code(notebook):
            continue
        for lang in LANGS:
            target = Path(out_dir) / lang / f"{source.stem}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(nbformat.writes(for_jupyter(for_language(notebook, lang, url, branch), lang)) + "\n",
                              encoding="utf-8")
            written.append(target)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=ROOT / "notebooks", type=Path, help="output folder (default: notebooks/)")
    for path in generate(parser.parse_args().out):
        print(path)
    sys.exit(0)
