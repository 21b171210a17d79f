"""Generate notebooks/{ko,en}/NN_name.ipynb from the chapters in book/ (never edit those by hand).

Each notebook keeps one language's prose and all the code, and starts with a setup
cell: on Colab it clones the repository and installs requirements.txt; anywhere it
puts the repository root on sys.path so that ``import utils`` works.

    python scripts/make_notebooks.py [--out DIR]     # default: notebooks/
"""
import argparse
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("ko", "en")

SETUP_NOTE = {
    "ko": "**Colab에서 실행한다면** 아래 셀을 먼저 실행하세요. 저장소를 내려받고 필요한 패키지를 "
          "설치합니다. 런타임을 다시 시작하라는 안내가 나오면 그대로 따른 뒤 이 셀부터 다시 실행하면 됩니다.",
    "en": "**On Colab,** run the cell below first. It clones the repository and installs what the "
          "book needs. If it asks you to restart the runtime, do so and run it again from this cell.",
}

SETUP_CODE = '''\
# {comment}
import importlib.metadata, os, subprocess, sys
from pathlib import Path

REPO_URL, BRANCH = "{url}", "{branch}"
if "google.colab" in sys.modules:
    clone = Path("/content") / REPO_URL.rstrip("/").split("/")[-1]
    if not clone.is_dir():
        subprocess.run(["git", "clone", "--depth", "1", "-b", BRANCH, REPO_URL, str(clone)], check=True)
    os.chdir(clone)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", "requirements.txt"], check=True)
    if "numpy" in sys.modules and sys.modules["numpy"].__version__ != importlib.metadata.version("numpy"):
        raise SystemExit("{restart}")  # stops "Run all" before a stale numpy breaks mxnet
ROOT = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "utils" / "env.py").is_file()), None)
if ROOT is None:
    raise RuntimeError("{missing}" + REPO_URL)
sys.path.insert(0, str(ROOT))
'''

SETUP_TEXT = {
    "ko": dict(comment="Colab: 저장소를 내려받고 패키지를 설치합니다. 로컬: 저장소 루트를 import 경로에 더합니다.",
               restart="numpy 버전이 바뀌었습니다. 메뉴에서 런타임 > 세션 다시 시작을 누른 뒤 이 셀부터 다시 실행하세요.",
               missing="utils/ 폴더가 있는 저장소를 찾지 못했습니다. 저장소를 clone한 폴더 안에서 이 노트북을 여세요: "),
    "en": dict(comment="Colab: clone the repository and install packages. Locally: put the repository root on the import path.",
               restart="numpy changed version. Restart the runtime (Runtime > Restart session), then run again from this cell.",
               missing="Could not find the repository (a folder with utils/). Open this notebook inside a clone of "),
}


def repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    return config["url"], config.get("branch", "main")


def has_code(notebook):
    return any(cell.cell_type == "code" for cell in notebook.cells)


def for_language(notebook, lang, url, branch):
    """One language's notebook: drop the other language's prose, add the setup cells."""
    other = f"lang-{'en' if lang == 'ko' else 'ko'}"
    cells = [c for c in notebook.cells if other not in c.metadata.get("tags", [])]
    setup = [nbformat.v4.new_markdown_cell(SETUP_NOTE[lang]),
             nbformat.v4.new_code_cell(SETUP_CODE.format(url=url, branch=branch, **SETUP_TEXT[lang]))]
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
            target.write_text(nbformat.writes(for_language(notebook, lang, url, branch)) + "\n",
                              encoding="utf-8")
            written.append(target)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=ROOT / "notebooks", type=Path, help="output folder (default: notebooks/)")
    for path in generate(parser.parse_args().out):
        print(path)
    sys.exit(0)
