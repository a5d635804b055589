"""The search page in a real headless Chromium (Debian's `chromium`) on loopback: Enter searches, the grid shows,
a result plays from its start, "more like this" changes the results, /?q=... runs a search and back works."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium)")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


@pytest.fixture(scope="module")
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 640})
        page.set_default_timeout(20_000)
        yield page
        browser.close()


def result_ids(page) -> list[str]:
    return page.eval_on_selector_all("#results .card", "cards => cards.map(c => c.dataset.id)")


def test_typing_a_query_and_enter_shows_results_playing_from_their_start(page, live_url):
    page.goto(live_url + "/")
    page.fill("#q", "green second half")
    page.press("#q", "Enter")
    page.wait_for_selector("#results .card")
    assert result_ids(page)[0] == "3"
    assert page.url == live_url + "/?q=green+second+half"
    first = page.locator("#results .card").first
    assert "score 1.0000" in first.inner_text() and "green.mp4" in first.inner_text()
    assert "1.0 s – 2.0 s" in first.inner_text()
    # The moment starts at 1 s: the video must have seeked there (and keeps within [1 s, 2 s]).
    page.wait_for_function(
        "() => { const v = document.querySelector('#results .card video');"
        " return v.readyState >= 1 && v.currentTime >= 1.0 && v.currentTime <= 2.05; }"
    )


def test_more_like_this_changes_the_results_and_back_returns(page, live_url):
    page.goto(live_url + "/?q=red+first+half")  # opening a shared URL runs its search
    page.wait_for_selector("#results .card")
    assert page.input_value("#q") == "red first half"
    before = result_ids(page)
    assert before[0] == "0"
    page.locator("#results .card[data-id='4'] button.more").click()
    page.wait_for_function("() => document.querySelector('#results .card').dataset.id === '4'")
    assert result_ids(page) != before and page.url.endswith("/?like=4")
    assert "moment 4" in page.inner_text("#status")
    page.go_back()
    page.wait_for_function("() => document.querySelector('#results .card').dataset.id === '0'")
    assert result_ids(page) == before and page.input_value("#q") == "red first half"


def test_a_bad_query_shows_the_servers_error(page, live_url):
    page.goto(live_url + "/?q=red&min_score=7")
    page.wait_for_selector("#status.error")
    assert "min_score must be" in page.inner_text("#status")
    assert result_ids(page) == []
