"""The rendered book: two editions built with warnings as errors, read as HTML and in a real browser.

Screenshots land in tests/artifacts/ (CI keeps them).
"""
import functools
import http.server
import re
import threading

import pytest
import yaml
from bs4 import BeautifulSoup
from playwright.sync_api import sync_playwright

from conftest import ARTIFACTS, ROOT

HANGUL = re.compile("[\uac00-\ud7a3\u3131-\u318e]")
FIGURE_NUMBER = {"ko": re.compile(r"^그림 \d+"), "en": re.compile(r"^Fig\. \d+")}


def toc_pages():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"file: (book/\w+)", toc) + [yaml.safe_load(toc)["root"]]


def soup(built_book, lang, page):
    return BeautifulSoup((built_book / lang / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


def text(element):
    return re.sub(r"\s+", " ", element.get_text(" ")).strip()


def interface_strings(page):
    """What a reader sees around the chapter: title, sidebar, header, table of contents,
    footer, previous/next, and the labels and tooltips of buttons and fields."""
    strings = [text(page.title)]
    for selector in ("nav.bd-links", ".bd-header-article", ".bd-toc", ".prev-next-area",
                     ".bd-footer-content", ".navbar-brand", ".bd-caption-text", "p.caption"):
        strings += [text(element) for element in page.select(selector)]
    for element in page.select("[aria-label], [title], [placeholder]"):
        if not element.find_parent("article"):
            strings += [element.get(name) for name in ("aria-label", "title", "placeholder") if element.get(name)]
    return [s for s in strings if s]


def test_each_edition_has_every_page_linked_to_its_twin(built_book):
    for lang, other in (("ko", "en"), ("en", "ko")):
        for name in toc_pages():
            page = soup(built_book, lang, name)
            assert page.html["lang"] == lang, (lang, name)
            twin = page.find("meta", attrs={"name": "other-edition"})["content"]
            assert twin.endswith(f"../{other}/{name}.html"), twin
            resolved = (built_book / lang / name).parent / twin
            assert resolved.resolve() == (built_book / other / f"{name}.html").resolve()
    root = (built_book / "index.html").read_text(encoding="utf-8")
    assert 'href="ko/index.html"' in root and 'href="en/index.html"' in root


def test_english_edition_has_no_hangul_but_quoted_korean(built_book):
    """Headings, sidebar, interface, figure captions, admonition titles, table headers: English.
    Korean may appear in quoted examples (prose, code, outputs) and the glossary's Korean column."""
    for name in toc_pages():
        page = soup(built_book, "en", name)
        seen = interface_strings(page)
        for selector in ("h1", "h2", "h3", "h4", "figcaption", "p.admonition-title", "th"):
            seen += [text(e) for e in page.select(f"article {selector}")
                     if not (name == "book/glossary" and selector == "th")]
        seen += [img.get("alt", "") for img in page.select("article img")]
        korean = [s for s in seen if HANGUL.search(s)]
        assert not korean, f"{name} (English edition) shows Korean: {korean[:5]}"


def test_korean_edition_speaks_korean(built_book):
    pages = toc_pages()
    for name in pages:
        page = soup(built_book, "ko", name)
        first, last = name == "book/intro", name == pages[-2]   # toc_pages ends with the root, intro
        assert "이전" in text(page.select_one(".prev-next-area")) or first, name
        assert "다음" in text(page.select_one(".prev-next-area")) or last, name
        assert HANGUL.search(page.select_one(".bd-footer-content").get_text())
        headings = [text(h).rstrip("#").strip() for h in page.select("article h1, article h2")]
        latin_only = [h for h in headings if not HANGUL.search(h) and not re.fullmatch(r"[\w.`\[\]]+", h)]
        assert not latin_only, f"{name} (Korean edition) has English headings: {latin_only}"
        english_interface = [s for s in interface_strings(page)
                             if re.search(r"\b(Search|previous|next|Contents|By|Toggle)\b", s)]
        assert not english_interface, f"{name} (Korean edition) interface in English: {english_interface}"


def test_every_figure_is_numbered_and_captioned_in_its_language(built_book):
    figures = 0
    for lang in ("ko", "en"):
        for name in toc_pages():
            page = soup(built_book, lang, name)
            for image in page.select("div.cell_output img"):
                figure = image.find_parent("figure")
                assert figure is not None and figure.figcaption, f"{lang}/{name}: a figure without a caption"
                caption = text(figure.figcaption)
                assert FIGURE_NUMBER[lang].match(caption), f"{lang}/{name}: {caption!r} has no number"
                alt = image.get("alt", "")
                assert len(alt) > 15 and not re.fullmatch(r"[0-9a-f]{20,}", alt), f"{lang}/{name}: alt {alt!r}"
                assert bool(HANGUL.search(caption)) == (lang == "ko"), f"{lang}/{name}: {caption!r}"
                figures += 1
    assert figures >= 20


def test_output_a_reader_can_read(built_book):
    """No warnings, tracebacks, local paths or font messages; no widgets (their scripts come
    from a CDN); progress bars as finished text; no runaway output."""
    for lang in ("ko", "en"):
        for name in toc_pages():
            html = (built_book / lang / f"{name}.html").read_text(encoding="utf-8")
            for sign in ("application/vnd.jupyter.widget", "require.min.js", "html-manager"):
                assert sign not in html, f"{lang}/{name} loads {sign}"
            assert not re.search(r'<script[^>]+src="(https?:)?//', html), f"{lang}/{name} loads a script from elsewhere"
            for output in soup(built_book, lang, name).select("div.cell_output"):
                shown = output.get_text()
                for sign in ("Traceback", "Warning", "warn(", "/tmp/", ".venv", "site-packages",
                             "findfont", "missing from font", "/work/", "/root/", "/home/"):
                    assert sign not in shown, f"{lang}/{name} shows {sign!r}: {shown[:300]}"
                for block in output.select("pre"):
                    lines = block.get_text().count("\n")
                    assert lines <= 60, f"{lang}/{name}: an output of {lines} lines: {block.get_text()[:200]}"
    pytorch = soup(built_book, "en", "book/21_imdb_pytorch").select("div.cell_output")
    assert any(re.search(r"100%\|█+\|", o.get_text()) for o in pytorch), "no finished text progress bar"


# --- in a real browser -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(built_book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_book))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


def new_page(browser, locale="ko-KR", width=1280, height=1000):
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    return context.new_page()


def test_root_page_opens_the_chosen_edition_or_the_browsers_language(browser, site):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    english = new_page(browser, locale="en-US")
    english.goto(f"{site}/index.html")
    english.wait_for_url("**/en/book/intro.html")
    english.goto(f"{site}/ko/book/00_setup.html")  # reading the Korean edition chooses it
    english.goto(f"{site}/index.html")
    english.wait_for_url("**/ko/book/intro.html")
    korean = new_page(browser, locale="ko-KR", width=390, height=844)
    korean.goto(f"{site}/index.html")
    korean.wait_for_url("**/ko/book/intro.html")
    korean.goto(f"{site}/index.html?choose")  # the page that offers both stays with ?choose
    links = korean.locator("a.edition")
    assert links.count() == 2 and all(links.nth(i).is_visible() for i in range(2))
    korean.screenshot(path=str(ARTIFACTS / "root-phone.png"))
    english.context.close(), korean.context.close()


def test_edition_link_lands_on_the_same_chapter(browser, site):
    for lang, other, label in (("en", "ko", "한국어판"), ("ko", "en", "English edition")):
        for width, height, device in ((1280, 1000, "desktop"), (390, 844, "phone")):
            page = new_page(browser, width=width, height=height)
            page.goto(f"{site}/{lang}/book/21_imdb_pytorch.html")
            badge = page.locator(".edition-bar .colab-badge")
            assert badge.get_attribute("href").endswith(f"/notebooks/{lang}/21_imdb_pytorch.ipynb")
            page.screenshot(path=str(ARTIFACTS / f"21_imdb_pytorch-{lang}-{device}.png"))
            link = page.locator(".edition-bar a.other-edition")
            assert label in link.inner_text() and link.is_visible()
            link.click()
            page.wait_for_url(f"**/{other}/book/21_imdb_pytorch.html")
            assert page.locator("html").get_attribute("lang") == other
            page.context.close()


def test_phone_sees_the_chapter_table_links_in_the_intro(browser, site):
    for lang in ("ko", "en"):
        page = new_page(browser, width=390, height=844)
        page.goto(f"{site}/{lang}/book/intro.html")
        table = page.locator("article table").first
        table.scroll_into_view_if_needed()
        links = table.locator("a.reference.internal")
        assert links.count() >= 8
        for i in range(links.count()):
            box = links.nth(i).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, f"{lang}: link {i} is cut off"
        page.screenshot(path=str(ARTIFACTS / f"intro-table-{lang}-phone.png"))
        page.goto(f"{site}/{lang}/book/31_nsmc_pytorch.html")  # long code, wide tables
        cut = page.evaluate("""() => Array.from(document.querySelectorAll('article pre, article table'))
            .filter(e => e.scrollWidth > e.clientWidth + 2 && !['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
            .map(e => e.textContent.slice(0, 60))""")
        assert not cut, f"{lang}: long lines cut off instead of scrolling: {cut}"
        page.context.close()


def test_no_page_is_wider_than_a_phone(browser, site):
    # Long inline code (a path, a pip command, a call with its arguments) once widened seven pages of each
    # edition, so that the whole page slid sideways under the reader's thumb.
    page = new_page(browser, width=390, height=844)
    for lang in ("ko", "en"):
        for name in toc_pages():
            page.goto(f"{site}/{lang}/{name}.html")
            if page.evaluate("document.documentElement.scrollWidth") > 390:
                wider = page.evaluate("""() => Array.from(document.querySelectorAll('article *'))
                    .filter(e => e.getBoundingClientRect().right > 391 && !e.closest('pre, table, mjx-container'))
                    .map(e => e.tagName + ': ' + e.textContent.slice(0, 60))""")
                pytest.fail(f"{lang}/{name} is wider than a phone: {wider[:3]}")
    page.context.close()


def test_no_page_shows_a_font_warning(built_book):
    # Hangul in plots comes from the pip font (utils.plots); without it every page with a plot
    # would carry "Glyph ... missing from font(s)" warnings above the figure.
    for lang in ("ko", "en"):
        pages = sorted((built_book / lang).glob("book/*.html"))
        assert len(pages) >= 15
        for page in pages:
            if page.name == "troubleshooting.html":  # quotes the warning to explain it
                continue
            html = page.read_text(encoding="utf-8")
            for sign in ("missing from font", "findfont", "Font family", "UserWarning"):
                assert sign not in html, f"{lang}/{page.name} shows {sign!r}"


def test_math_renders_with_the_network_blocked(browser, site):
    """A workshop room without network: MathJax comes from the build, not from a CDN."""
    offline = new_page(browser)
    left_the_site = []

    def only_the_site(route):
        if route.request.url.startswith(site):
            return route.continue_()
        left_the_site.append(route.request.url)
        return route.abort()
    offline.route("**/*", only_the_site)
    for lang in ("ko", "en"):
        offline.goto(f"{site}/{lang}/book/40_hate_speech.html")
        assert offline.locator('script[src*="_static/mathjax/"]').count() == 1
        offline.wait_for_selector("mjx-container", state="attached", timeout=20_000)  # typeset by MathJax
        assert offline.locator("mjx-container:visible").count() >= 1  # e.g. the focal-loss formula
    offline.locator("mjx-container:visible").first.scroll_into_view_if_needed()
    offline.screenshot(path=str(ARTIFACTS / "math-offline.png"))
    offline.context.close()
    assert not left_the_site, left_the_site


def test_glossary_leads_with_the_editions_language_in_its_order(built_book):
    """Korean edition: 한국어 | English | 설명 in 가나다 order; English: English | 한국어 | Explanation, A to Z
    (spaces and punctuation ignored, as a dictionary does)."""
    order = lambda term: re.sub(r"[\W_]", "", term).lower()  # noqa: E731
    for lang, header in (("ko", ["한국어", "English", "설명"]), ("en", ["English", "한국어", "Explanation"])):
        tables = soup(built_book, lang, "book/glossary").select("article table")
        assert len(tables) >= 6
        for table in tables:
            assert [text(th) for th in table.select("thead th")] == header
            terms = [text(row.select("td")[0]) for row in table.select("tbody tr")]
            assert terms == sorted(terms, key=order), f"{lang}: {terms}"


def test_every_exercise_has_a_folded_solution_on_the_page(built_book, browser, site):
    exercises_heading = {"ko": "연습 문제", "en": "Exercises"}
    solution = {"ko": "풀이", "en": "Solution"}
    pages = 0
    for lang in ("ko", "en"):
        for name in toc_pages():
            page = soup(built_book, lang, name)
            heading = next((h for h in page.select("article h2")
                            if text(h).rstrip("#").strip() == exercises_heading[lang]), None)
            if heading is None:
                continue
            pages += 1
            exercises = heading.find_next("ol").find_all("li", recursive=False)
            titles = [text(d.select_one(".admonition-title")) for d in page.select("article .admonition.dropdown")]
            numbered = [t for t in titles if re.fullmatch(rf"{solution[lang]} \d+", t)]
            assert numbered == [f"{solution[lang]} {n}" for n in range(1, len(exercises) + 1)], (lang, name, titles)
    assert pages >= 28
    for lang in ("ko", "en"):  # folded until the reader clicks the title
        for width, height, device in ((1280, 1000, "desktop"), (390, 844, "phone")):
            page = new_page(browser, width=width, height=height)
            page.goto(f"{site}/{lang}/book/12_pretraining.html")
            first = page.locator(".admonition.dropdown").filter(has_text=f"{solution[lang]} 1").first
            body = first.locator(":scope > :not(.admonition-title)").first
            assert not body.is_visible()
            first.locator(".admonition-title").click()
            body.wait_for(state="visible")
            first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"12_pretraining-solution-{lang}-{device}.png"))
            page.context.close()
