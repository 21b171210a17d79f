"""Build the book's two editions, each a complete site in one language, and the root page.

    python scripts/build_book.py [--out DIR] [--lang ko en] [-W]

    DIR/ko/, DIR/en/   the Korean and the English edition (default DIR: _build/html)
    DIR/index.html     sends a visitor to the edition they chose before, or their browser's
                       language; offers both

Each edition is a Jupyter Book of its own, written to _build/editions/<lang>/ from the split
of book/*.md that also makes notebooks/<lang>/ (scripts/make_notebooks.py): the same cells,
setup cell and figure captions, executed once with BOOK_LANG=<lang>. Titles, part captions
and the author line come from _config.yml and _toc.yml, where a value written as
``{ko: ..., en: ...}`` has one entry per edition. The two editions build side by side.
"""
import argparse
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_notebooks import LANGS, ROOT, for_language, has_code, in_language, repository, split  # noqa: E402

EDITIONS = ROOT / "_build" / "editions"
EDITION_NAME = {"ko": "한국어판", "en": "English edition"}


def edition_config(lang):
    """_config.yml for one edition: its title, author and interface language."""
    config = in_language(yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")), lang)
    config["exclude_patterns"] = ["_build", "**.ipynb_checkpoints"]
    config["sphinx"]["config"].update(language=lang, book_edition=lang)
    return config


def write_edition(lang, folder):
    """The source folder of one edition: config, table of contents, and book/<page>.ipynb."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "book").mkdir(parents=True)
    for shared in ("_ext", "_static", "_templates"):
        (folder / shared).symlink_to(ROOT / shared, target_is_directory=True)
    (folder / "_config.yml").write_text(yaml.safe_dump(edition_config(lang), allow_unicode=True, sort_keys=False),
                                        encoding="utf-8")
    toc = in_language(yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8")), lang)
    (folder / "_toc.yml").write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    url, branch = repository()
    for source in sorted((ROOT / "book").glob("*.md")):
        notebook = jupytext.read(source)
        if has_code(notebook):  # exactly the notebook notebooks/<lang>/ holds: the page is the notebook
            page = for_language(notebook, lang, url, branch)
        else:
            page = nbformat.v4.new_notebook(cells=split(notebook, lang), metadata=notebook.metadata)
        (folder / "book" / f"{source.stem}.ipynb").write_text(nbformat.writes(page), encoding="utf-8")


ROOT_PAGE = """<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title_ko} · {title_en}</title>
<script>
// A saved choice (set by every page of an edition), else the browser's language; ?choose stays here.
(function () {{
  if (new URLSearchParams(location.search).has("choose")) return;
  var saved = localStorage.getItem("book-edition");
  var lang = (saved === "ko" || saved === "en") ? saved
    : ((navigator.language || "").toLowerCase().indexOf("ko") === 0 ? "ko" : "en");
  location.replace(lang + "/index.html");
}})();
</script>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; display: flex; min-height: 100vh;
       align-items: center; justify-content: center; background: #f6f8fa; color: #1f2328; }}
main {{ padding: 2em; max-width: 36em; }}
h1 {{ font-size: 1.6em; margin: 0 0 0.2em; }}
p.sub {{ color: #57606a; margin: 0 0 1.5em; }}
a.edition {{ display: block; padding: 0.9em 1.2em; margin: 0.6em 0; border: 1px solid #d0d7de;
            border-radius: 8px; background: #fff; color: #0a5d91; font-size: 1.15em; text-decoration: none; }}
a.edition:hover {{ border-color: #0a5d91; }}
</style>
</head>
<body>
<main>
<h1 lang="ko">{title_ko}</h1>
<p class="sub" lang="en">{title_en}</p>
<a class="edition" href="ko/index.html" hreflang="ko" lang="ko" data-edition="ko">한국어판으로 읽기 →</a>
<a class="edition" href="en/index.html" hreflang="en" lang="en" data-edition="en">Read the English edition →</a>
</main>
<script>
document.querySelectorAll("a.edition").forEach(function (link) {{
  link.addEventListener("click", function () {{ localStorage.setItem("book-edition", link.dataset.edition); }});
}});
</script>
</body>
</html>
"""


def write_root_page(out):
    title = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]
    (out / "index.html").write_text(ROOT_PAGE.format(title_ko=html.escape(title["ko"]),
                                                     title_en=html.escape(title["en"])), encoding="utf-8")
    (out / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ and the other _folders as they are


def _problems(log):
    """A build log's warnings and errors (with what follows each), else its end."""
    lines = log.splitlines()
    marks = [i for i, line in enumerate(lines) if re.search(r"WARNING|ERROR|Error|Traceback", line)]
    shown = [line for i in marks[:20] for line in lines[i:i + 12]]
    return "\n".join(shown)[-8000:] if shown else log[-6000:]


def build(out, langs=LANGS, warnings_as_errors=False):
    """Write and build the editions side by side; return {lang: its build log}. Raises if one fails."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    env = dict(os.environ, BOOK_MODE=os.environ.get("BOOK_MODE", "smoke"), BOOK_PROGRESS="text",
               HF_HUB_DISABLE_PROGRESS_BARS="1",   # transformers' own bars (loading, saving) would be widgets
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    runs = {}
    for lang in langs:
        folder = EDITIONS / lang
        write_edition(lang, folder)
        command = [str(jupyter_book), "build", str(folder), "--all", *(["-W", "--keep-going"] if warnings_as_errors else [])]
        runs[lang] = subprocess.Popen(command, env=dict(env, BOOK_LANG=lang), cwd=folder, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    logs, failed = {}, []
    for lang, run in runs.items():
        logs[lang] = run.communicate()[0]
        (EDITIONS / lang / "build.log").write_text(logs[lang], encoding="utf-8")
        if run.returncode != 0:
            failed.append(lang)
    out.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        if lang not in failed:
            shutil.rmtree(out / lang, ignore_errors=True)
            shutil.copytree(EDITIONS / lang / "_build" / "html", out / lang)
    write_root_page(out)
    if failed:
        raise RuntimeError("\n\n".join(f"The {EDITION_NAME[lang]} ({lang}) failed to build "
                                       f"(the whole log: {EDITIONS / lang / 'build.log'}):\n{_problems(logs[lang])}"
                                       for lang in failed))
    return logs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "html", help="output folder")
    parser.add_argument("--lang", nargs="+", choices=LANGS, default=list(LANGS), help="editions to build")
    parser.add_argument("-W", dest="strict", action="store_true", help="treat warnings as errors")
    options = parser.parse_args()
    try:
        for lang in build(options.out, options.lang, options.strict):
            print(f"{EDITION_NAME[lang]}: {options.out / lang}/ (build log: {EDITIONS / lang / 'build.log'})")
    except RuntimeError as error:
        sys.exit(str(error))
    print(f"The book is at: file://{options.out.resolve()}/index.html")
