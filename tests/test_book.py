"""The rendered book: a clean -W build, then a real browser switching languages."""
import functools
import http.server
import re
import threading

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import ARTIFACTS

PAGES = ["book/intro", "book/00_setup", "book/glossary", "book/troubleshooting", "book/references"]


def test_build_has_every_page_with_both_languages(built_book):
    for page in PAGES:
        html = (built_book / f"{page}.html").read_text(encoding="utf-8")
        assert 'class="tag_lang-ko' in html or "tag_lang-ko " in html, page
        assert html.count("tag_lang-ko") == html.count("tag_lang-en"), page
        assert "bilingual.js" in html and "bilingual.css" in html


def test_setup_chapter_ran_in_smoke_mode_with_its_plot(built_book):
    html = (built_book / "book" / "00_setup.html").read_text(encoding="utf-8")
    assert "SMOKE mode" in html and "Traceback" not in html
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
    assert images, "the review-length histogram is missing"
    assert (built_book / "book" / images[0]).stat().st_size > 10_000
    assert 'name="colab-ko" content="https://colab.research.google.com/github/' in html
    assert html.count("/notebooks/ko/00_setup.ipynb") == 1 and html.count("/notebooks/en/00_setup.ipynb") == 1


@pytest.fixture(scope="module")
def site(built_book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_book))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def page(site):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 1000})
        yield context.new_page()
        browser.close()


def visible_prose(page):
    ko = page.locator(".tag_lang-ko").first
    en = page.locator(".tag_lang-en").first
    return ko.is_visible(), en.is_visible()


def test_language_switch_hides_the_other_language(page, site):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{site}/book/00_setup.html")
    assert visible_prose(page) == (True, False)  # a Korean browser starts in Korean
    page.get_by_role("button", name="English").click()
    expect(page.locator(".tag_lang-ko").first).to_be_hidden()
    assert visible_prose(page) == (False, True)
    assert page.locator(".tag_lang-ko:visible").count() == 0
    page.screenshot(path=str(ARTIFACTS / "setup-en.png"), full_page=False)
    badge = page.locator(".colab-badge:visible")
    assert badge.count() == 1 and badge.get_attribute("href").endswith("/notebooks/en/00_setup.ipynb")

    page.get_by_role("button", name="한국어").click()
    assert visible_prose(page) == (True, False)
    assert page.locator(".tag_lang-en:visible").count() == 0
    badge = page.locator(".colab-badge:visible")
    assert badge.count() == 1 and badge.get_attribute("href").endswith("/notebooks/ko/00_setup.ipynb")
    page.screenshot(path=str(ARTIFACTS / "setup-ko.png"), full_page=False)

    page.get_by_role("button", name="둘 다 / Both").click()
    assert visible_prose(page) == (True, True) and page.locator(".colab-badge:visible").count() == 2


def test_choice_is_remembered_and_url_wins(page, site):
    page.goto(f"{site}/book/00_setup.html")
    page.get_by_role("button", name="English").click()
    page.goto(f"{site}/book/glossary.html")  # another page remembers the choice
    assert visible_prose(page) == (False, True)
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{site}/book/intro.html?lang=ko")  # the URL wins over the saved choice
    assert visible_prose(page) == (True, False)
    page.screenshot(path=str(ARTIFACTS / "intro-ko.png"), full_page=False)
    page.goto(f"{site}/book/troubleshooting.html")  # ... and is saved
    assert visible_prose(page) == (True, False)
    assert page.locator(".colab-badge").count() == 0  # prose-only pages have no notebook


def test_no_page_shows_a_font_warning(built_book):
    # Hangul in plots comes from the pip font (utils.plots); without it every page with a plot
    # would carry "Glyph ... missing from font(s)" warnings above the figure.
    pages = sorted(built_book.glob("book/*.html"))
    assert len(pages) >= 15
    for page in pages:
        if page.name == "troubleshooting.html":  # quotes the warning to explain it
            continue
        html = page.read_text(encoding="utf-8")
        for sign in ("missing from font", "findfont", "Font family", "UserWarning"):
            assert sign not in html, f"{page.name} shows {sign!r}"


def test_math_renders_with_the_network_blocked(page, site):
    """A workshop room without network: MathJax comes from the build, not from a CDN."""
    context = page.context.browser.new_context()
    offline = context.new_page()
    left_the_site = []

    def only_the_site(route):
        if route.request.url.startswith(site):
            return route.continue_()
        left_the_site.append(route.request.url)
        return route.abort()
    offline.route("**/*", only_the_site)
    offline.goto(f"{site}/book/40_hate_speech.html")
    assert offline.locator('script[src*="_static/mathjax/"]').count() == 1
    offline.wait_for_selector("mjx-container", state="attached", timeout=20_000)  # typeset by MathJax
    assert offline.locator("mjx-container:visible").count() >= 1  # e.g. the focal-loss formula
    offline.locator("mjx-container:visible").first.scroll_into_view_if_needed()
    offline.screenshot(path=str(ARTIFACTS / "math-offline.png"))
    context.close()
    assert not any("mathjax" in url.lower() for url in left_the_site), left_the_site
