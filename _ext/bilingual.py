"""Sphinx extension for the book's two editions (scripts/build_book.py builds one per language).

Every page gets, in ``<meta>`` tags that ``_static/bilingual.js`` turns into a bar above the
article, the address of the same page in the other edition and, where the chapter has a
notebook, the Colab address of this edition's notebook (``notebooks/<lang>/<page>.ipynb``).
``<link rel="alternate" hreflang>`` names the twin page for search engines too.

The Korean edition's interface is Korean: the theme's strings that have no Korean translation
(or an awkward one, like the footer's "By") get one from ``KOREAN_INTERFACE``.
"""
from pathlib import Path

from sphinx import locale

ROOT = Path(__file__).resolve().parent.parent  # the repository (_ext/ is linked into each edition)
LANGS = ("ko", "en")


# msgid -> Korean, per message catalog: "sphinx" (Sphinx and pydata-sphinx-theme) and
# "booktheme" (sphinx-book-theme).
KOREAN_INTERFACE = {
    "sphinx": {
        "previous": "이전", "next": "다음", "previous page": "이전 페이지", "next page": "다음 페이지",
        "On this page": "이 페이지의 내용", "Search": "검색", "Color mode": "화면 모드", "Light": "밝게",
        "Dark": "어둡게", "System Settings": "시스템 설정", "Site navigation": "사이트 메뉴",
        "Version warning": "버전 알림", "Skip to main content": "본문으로 건너뛰기", "Back to top": "맨 위로",
        "Announcement": "알림", "© Copyright %(copyright)s.": "© %(copyright)s.",
        "Toggle primary sidebar": "왼쪽 메뉴 열기·닫기",  # in _templates/: the theme writes these two
        "Toggle secondary sidebar": "페이지 목차 열기·닫기",  # without translation
    },
    "booktheme": {"By": "지은이:", "Contents": "목차", "Search": "검색"},
}
SEARCH_BAR_TEXT = {"ko": "이 책에서 검색...", "en": "Search this book..."}


def _korean_interface(app):
    if app.config.book_edition != "ko":
        return
    for catalog, messages in KOREAN_INTERFACE.items():
        translator = locale.translators.get(("general", catalog))
        # the catalogs' own translations first, ours over them (no public API merges catalogs)
        getattr(translator, "_catalog", {}).update(messages)


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
                 f'<meta name="colab-logo" content="{context["pathto"]("_static/colab-logo.svg", 1)}">']
    context["metatags"] = context.get("metatags", "") + "\n".join(tags) + "\n"
    context["theme_search_bar_text"] = SEARCH_BAR_TEXT[lang]


def setup(app):
    app.add_config_value("book_edition", "ko", "html")
    app.connect("builder-inited", _korean_interface)
    app.connect("html-page-context", _add_edition_meta, priority=900)  # after the theme's
    return {"parallel_read_safe": True, "parallel_write_safe": True}
