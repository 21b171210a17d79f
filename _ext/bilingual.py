"""Sphinx extension for the book's two editions (scripts/build_book.py builds one per language).

Every page gets, in ``<meta>`` tags that ``_static/bilingual.js`` turns into a bar above the
article, the address of the same page in the other edition and, where the chapter has a
notebook, the Colab address of this edition's notebook (``notebooks/<lang>/<page>.ipynb``).
``<link rel="alternate" hreflang>`` names the twin page for search engines too.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository (_ext/ is linked into each edition)
LANGS = ("ko", "en")


def colab_url(repository_url, branch, lang, name):
    """The Colab address of ``notebooks/<lang>/<name>.ipynb`` in a GitHub repository."""
    repository = repository_url.rstrip("/").removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/notebooks/{lang}/{name}.ipynb"


def _add_edition_meta(app, pagename, templatename, context, doctree):
    lang = app.config.book_edition
    other = next(code for code in LANGS if code != lang)
    twin = f"{context['pathto']('', 1)}../{other}/{pagename}.html"
    tags = [f'<meta name="book-edition" content="{lang}">',
            f'<meta name="other-edition" content="{twin}">',
            f'<link rel="alternate" hreflang="{other}" href="{twin}">']
    name = Path(pagename).name
    if (ROOT / "notebooks" / lang / f"{name}.ipynb").is_file():
        options = app.config.html_theme_options
        url, branch = options["repository_url"], options.get("repository_branch", "main")
        tags += [f'<meta name="colab" content="{colab_url(url, branch, lang, name)}">',
                 f'<meta name="colab-badge" content="{context["pathto"]("_static/colab-badge.svg", 1)}">']
    context["metatags"] = context.get("metatags", "") + "\n".join(tags) + "\n"


def setup(app):
    app.add_config_value("book_edition", "ko", "html")
    app.connect("html-page-context", _add_edition_meta)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
