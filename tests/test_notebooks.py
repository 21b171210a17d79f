"""notebooks/{ko,en}/ are generated from book/ and must match it exactly."""
import json
import re
import subprocess
import sys

import jupytext
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import make_notebooks  # noqa: E402

CHAPTERS = [p for p in sorted((ROOT / "book").glob("*.md"))
            if any(c.cell_type == "code" for c in jupytext.read(p).cells)]


def test_committed_notebooks_equal_freshly_generated(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_notebooks.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.ipynb"))
    committed = sorted(p.relative_to(ROOT / "notebooks") for p in (ROOT / "notebooks").rglob("*.ipynb"))
    assert fresh == committed, "run `make notebooks` and commit notebooks/"
    for name in fresh:
        assert (tmp_path / name).read_text() == (ROOT / "notebooks" / name).read_text(), \
            f"notebooks/{name} is out of date: run `make notebooks` (never edit notebooks/ by hand)"


def test_every_chapter_has_a_notebook_per_language():
    assert CHAPTERS, "book/ has no chapter with code"
    for chapter in CHAPTERS:
        for lang in ("ko", "en"):
            assert (ROOT / "notebooks" / lang / f"{chapter.stem}.ipynb").is_file()


def test_each_notebook_keeps_only_its_language():
    for chapter in CHAPTERS:
        source = jupytext.read(chapter)
        for lang, other in (("ko", "en"), ("en", "ko")):
            code = [c.source for c in source.cells
                    if c.cell_type == "code" and f"lang-{other}" not in c.metadata.get("tags", [])]
            notebook = json.loads((ROOT / "notebooks" / lang / f"{chapter.stem}.ipynb").read_text())
            tags = [t for c in notebook["cells"] for t in c["metadata"].get("tags", [])]
            assert f"lang-{lang}" in tags and f"lang-{other}" not in tags
            sources = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
            assert sources[1:] == code  # the chapter's shared and own-language code, after the setup cell
            assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code")


def test_setup_cell_clones_the_configured_repository():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for lang in ("ko", "en"):
        notebook = json.loads((ROOT / "notebooks" / lang / f"{CHAPTERS[0].stem}.ipynb").read_text())
        setup = "".join(notebook["cells"][2]["source"])
        assert f'"{url}"' in setup and f'install(STACKS, lang="{lang}")' in setup
        assert f'os.environ["BOOK_LANG"] = "{lang}"' in setup  # plots and messages in the notebook's language
        assert ("포크" if lang == "ko" else "fork") in setup  # what to change when the clone fails
        assert notebook["cells"][0]["source"][0].startswith("# ")  # the title stays on top


def test_setup_cell_installs_the_stacks_the_chapter_imports():
    import ast

    def stacks(name):
        notebook = json.loads((ROOT / "notebooks" / "en" / f"{name}.ipynb").read_text())
        line = next(l for l in notebook["cells"][2]["source"] if l.startswith("REPO_URL, BRANCH, STACKS = "))
        return ast.literal_eval(line.split(" = ", 1)[1])[2]
    assert stacks("11_bert_encoder_gluon") == ["gluon"]      # d2l and MXNet, no torch
    assert stacks("31_nsmc_pytorch") == ["pytorch"]
    assert stacks("10_input_representation") == ["pytorch", "gluon"]


def test_setup_cell_finds_the_repository_outside_colab(tmp_path):
    """Run the generated setup cell from notebooks/ko/ as a local Jupyter would."""
    notebook = json.loads((ROOT / "notebooks" / "ko" / f"{CHAPTERS[0].stem}.ipynb").read_text())
    setup = "".join(notebook["cells"][2]["source"])
    probe = setup + "\nimport utils.env\nprint(ROOT)\n"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT / "notebooks" / "ko",
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT)
    result = subprocess.run([sys.executable, "-c", setup], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode != 0
    assert "utils/ 폴더가 있는 저장소를 찾지 못했습니다" in result.stderr


def test_make_notebooks_for_language_filters_prose_code_and_captions():
    import nbformat
    figure = {"mystnb": {"figure": {"name": "fig-x", "caption": {"ko": "그림의 *설명*", "en": "The *caption*"}}}}
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 제목", metadata={"tags": ["lang-ko"]}),
        nbformat.v4.new_markdown_cell("# Title", metadata={"tags": ["lang-en"]}),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell('label = "길이"', metadata={"tags": ["lang-ko"]}),
        nbformat.v4.new_code_cell('label = "length"', metadata={"tags": ["lang-en"]}),
        nbformat.v4.new_code_cell("plot()", metadata=figure)])
    english = make_notebooks.for_language(notebook, "en", "https://github.com/a/b", "main")
    assert [c.source for c in english.cells if c.cell_type == "markdown"][0] == "# Title"
    assert not any(HANGUL.search(c.source) for c in english.cells if "BOOK_LANG" not in c.source)
    assert [c.source for c in english.cells[3:]] == ["x = 1", 'label = "length"', "plot()"]
    assert english.cells[-1].metadata["mystnb"] == {"figure": {"name": "fig-x", "caption": "The *caption*"},
                                                    "image": {"alt": "The caption"}}
    korean = make_notebooks.for_language(notebook, "ko", "https://github.com/a/b", "main")
    assert korean.cells[-1].metadata["mystnb"]["figure"]["caption"] == "그림의 *설명*"
    assert notebook.cells[-1].metadata == figure  # the source stays bilingual


HANGUL = re.compile("[\uac00-\ud7a3]")


def _prose_cells(path):
    return [c for c in jupytext.read(path).cells if c.cell_type == "markdown"]


def _headings(markdown):
    prose = re.sub(r"^(```|~~~).*?^\1", "", markdown, flags=re.M | re.S)  # not code blocks
    return [line for line in prose.splitlines() if re.match(r"#{1,6} ", line)]


def test_headings_are_per_language():
    """A heading shared by both editions (an untagged cell) must not be Korean or bilingual."""
    for page in sorted((ROOT / "book").glob("*.md")):
        for cell in _prose_cells(page):
            if not any(t.startswith("lang-") for t in cell.metadata.get("tags", [])):
                shared = [h for h in _headings(cell.source) if HANGUL.search(h) or " / " in h]
                assert not shared, f"{page.name}: move {shared[0]!r} into the lang-ko and lang-en cells"


def test_notebooks_have_headings_in_their_language_only():
    for path in sorted((ROOT / "notebooks").glob("*/*.ipynb")):
        lang = path.parent.name
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        headings = [h for c in cells if c["cell_type"] == "markdown" for h in _headings("".join(c["source"]))]
        assert headings, path
        if lang == "en":
            wrong = [h for h in headings if HANGUL.search(h)]
        else:  # Korean, or only code / a name (e.g. "### `torch.compile`")
            wrong = [h for h in headings if not HANGUL.search(h) and not re.fullmatch(r"#+ [`\w.\[\]]+", h)]
        assert not wrong, f"{path.relative_to(ROOT)}: {wrong[:3]}"


def test_every_korean_cell_has_an_english_twin_next_to_it():
    for page in sorted((ROOT / "book").glob("*.md")):
        cells = jupytext.read(page).cells
        tags = [next((t for t in c.metadata.get("tags", []) if t.startswith("lang-")), None) for c in cells]
        for i, tag in enumerate(tags):
            if tag == "lang-ko":
                assert i + 1 < len(tags) and tags[i + 1] == "lang-en" and \
                    cells[i + 1].cell_type == cells[i].cell_type, \
                    f"{page.name}: cell {i} (lang-ko {cells[i].cell_type}) is not followed by its lang-en twin"
        assert tags.count("lang-ko") == tags.count("lang-en"), page.name


EXERCISES = {"ko": "## 연습 문제", "en": "## Exercises"}
SOLUTION = {"ko": "풀이", "en": "Solution"}


def _exercises_and_solutions(page, lang):
    """The exercise numbers of a chapter's exercise list and the numbers of its folded solutions."""
    cells = [c for c in _prose_cells(page) if f"lang-{lang}" in c.metadata.get("tags", [])]
    exercises, solutions = [], []
    for cell in cells:
        if EXERCISES[lang] in cell.source:
            listed = cell.source.split(EXERCISES[lang], 1)[1].split("\n#", 1)[0]
            exercises += [int(n) for n in re.findall(r"^(\d+)\. ", listed, re.M)]
        for number, options in re.findall(rf"^`{{3,}}\{{admonition\}} {SOLUTION[lang]} (\d+)\n((?::\w+:.*\n)*)",
                                          cell.source, re.M):
            assert ":class: dropdown" in options, f"{page.name}: {SOLUTION[lang]} {number} is not folded"
            solutions.append(int(number))
    return exercises, solutions


def test_every_exercise_has_a_folded_solution_in_both_languages():
    chapters = [p for p in CHAPTERS if EXERCISES["ko"] in p.read_text(encoding="utf-8")]
    assert len(chapters) >= 14
    for page in chapters:
        for lang in ("ko", "en"):
            exercises, solutions = _exercises_and_solutions(page, lang)
            assert exercises == list(range(1, len(exercises) + 1)) and exercises, f"{page.name} ({lang})"
            assert solutions == exercises, f"{page.name} ({lang}): exercises {exercises}, solutions {solutions}"


def test_notebooks_show_admonitions_as_jupyter_does():
    """Colab does not know MyST directives: dropdowns fold into <details>, other admonitions quote."""
    cell = make_notebooks.nbformat.v4.new_markdown_cell(
        "Text.\n\n````{admonition} Solution 1\n:class: dropdown\n\nUse `x`.\n\n```python\nx = 1\n```\n````\n\n"
        "```{admonition} Full mode\nIt takes *an hour*.\n```\n\n```{important}\nRead this.\n```")
    notebook = make_notebooks.nbformat.v4.new_notebook(cells=[cell])
    source = make_notebooks.for_jupyter(notebook, "en").cells[0].source
    assert source == ("Text.\n\n<details>\n<summary><b>Solution 1</b></summary>\n\nUse `x`.\n\n```python\nx = 1\n```"
                      "\n\n</details>\n\n> **Full mode**\n>\n> It takes *an hour*.\n\n> **Important**\n>\n> Read this.")
    for path in sorted((ROOT / "notebooks").glob("*/*.ipynb")):
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
        assert not re.search(r"^[`:]{3,}\{(admonition|important|note|tip|warning)\}", text, re.M), path.name
