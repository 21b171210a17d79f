"""Sphinx extension for the bilingual book.

1. myst-nb drops the tags of markdown cells from the HTML. Wrap each markdown cell
   tagged ``lang-ko`` / ``lang-en`` in a container with the class ``tag_lang-ko`` /
   ``tag_lang-en`` (as myst-nb already does for code cells), so the language switch
   in ``_static/bilingual.js`` can hide the other language.
2. On every page that has a generated notebook, put the Colab links for both
   languages in ``<meta>`` tags; the script shows the badge for the chosen language.
"""
from pathlib import Path

from docutils import nodes
from myst_nb.core.render import MditRenderMixin

_render_markdown_cell = MditRenderMixin.render_nb_cell_markdown


def _render_tagged_markdown_cell(self, token):
    tags = [t for t in token.meta["metadata"].get("tags", []) if t.startswith("lang-")]
    if not tags:
        return _render_markdown_cell(self, token)
    container = nodes.container(classes=[f"tag_{tag}" for tag in tags])
    self.add_line_and_source_path(container, token)
    with self.current_node_context(container, append=True):
        self.render_children(token)


def colab_url(repository_url, branch, lang, name):
    """The Colab address of ``notebooks/<lang>/<name>.ipynb`` in a GitHub repository."""
    repository = repository_url.rstrip("/").removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repository}/blob/{branch}/notebooks/{lang}/{name}.ipynb"


def _add_colab_meta(app, pagename, templatename, context, doctree):
    name = Path(pagename).name
    if not (Path(app.srcdir) / "notebooks" / "ko" / f"{name}.ipynb").is_file():
        return
    options = app.config.html_theme_options
    url, branch = options["repository_url"], options.get("repository_branch", "main")
    badge = context["pathto"]("_static/colab-badge.svg", 1)
    context["metatags"] = context.get("metatags", "") + "".join(
        f'<meta name="colab-{lang}" content="{colab_url(url, branch, lang, name)}">\n'
        for lang in ("ko", "en")) + f'<meta name="colab-badge" content="{badge}">\n'


def setup(app):
    MditRenderMixin.render_nb_cell_markdown = _render_tagged_markdown_cell
    app.connect("html-page-context", _add_colab_meta)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
