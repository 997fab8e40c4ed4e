"""The HTML report in a real browser: headless Chromium driven by Selenium and chromedriver.

Why Selenium rather than `chromium --headless --dump-dom --enable-logging=stderr`: the
browser log that chromedriver collects (`goog:loggingPrefs`) reports every uncaught
exception, `console.error` and Content-Security-Policy violation as a structured SEVERE
entry, while the text that `--enable-logging` writes to stderr changes between Chromium
versions and headless modes and mixes console lines with the browser's own noise. Selenium
also lets the test click the filters and read what is *visible*, which `--dump-dom`
cannot. `test_console_check_fails_on_a_page_that_throws` proves the check catches errors.

Chromium comes from Debian's `chromium` and `chromium-driver` packages (`.ci/run`
installs them). Without them these tests are skipped with the reason, or fail under
`ARCHITECT_REQUIRE_SERVICES=1`, as on CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fastapi_architect.config import Config
from fastapi_architect.review.engine import review_paths
from fastapi_architect.review.registry import Rule
from fastapi_architect.review.reporters.html import render_html
from fastapi_architect.review.result import ReviewResult

BOOKSHOP = Path(__file__).resolve().parents[2] / "examples" / "bookshop"


def _unavailable(reason: str) -> None:
    if os.environ.get("ARCHITECT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"ARCHITECT_REQUIRE_SERVICES=1 and {reason}", pytrace=False)
    pytest.skip(reason)


def _find(env: str, *names: str) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module, with its console log collected."""
    binary = _find("CHROMIUM_BINARY", "chromium", "chromium-browser")
    driver_path = _find("CHROMEDRIVER", "chromedriver")
    if binary is None or driver_path is None:
        _unavailable(
            "Chromium is not installed (apt-get install chromium chromium-driver, "
            "or set CHROMIUM_BINARY and CHROMEDRIVER)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    # Never let Selenium Manager fetch a browser or a driver from the network.
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
    except Exception as exc:  # WebDriverException and friends: report, do not crash
        _unavailable(f"Chromium does not start: {exc}")
    try:
        yield driver
    finally:
        driver.quit()


def console_problems(driver: Any) -> list[str]:
    """The browser log entries at WARNING or above since the last call (the log is drained)."""
    return [
        f"{entry['level']} {entry['message']}"
        for entry in driver.get_log("browser")
        if entry["level"] in {"SEVERE", "WARNING"}
    ]


def open_page(driver: Any, path: Path) -> None:
    driver.get_log("browser")  # drain what an earlier page logged
    driver.get(path.as_uri())


def assert_page_clean(driver: Any, path: Path) -> None:
    open_page(driver, path)
    problems = console_problems(driver)
    assert problems == [], f"console errors on {path.name}: {problems}"


def visible(driver: Any, css: str) -> list[Any]:
    return [e for e in driver.find_elements("css selector", css) if e.is_displayed()]


def checkbox(driver: Any, kind: str, value: str) -> Any:
    (box,) = [
        b
        for b in driver.find_elements("css selector", f'input[data-filter="{kind}"]')
        if b.get_attribute("value") == value
    ]
    return box


@pytest.fixture(scope="module")
def bookshop() -> ReviewResult:
    return review_paths([BOOKSHOP], Config())


@pytest.fixture(scope="module")
def bookshop_page(bookshop: ReviewResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("html") / "bookshop.html"
    page.write_text(render_html(bookshop, tool_version="test"), encoding="utf-8")
    return page


# --- the proof that the console check works -------------------------------------------------


def test_console_check_fails_on_a_page_that_throws(browser: Any, tmp_path: Path) -> None:
    page = tmp_path / "throws.html"
    page.write_text(
        "<!DOCTYPE html><html><body><p>hi</p>"
        '<script>throw new Error("boom from the test page");</script></body></html>',
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match="boom from the test page"):
        assert_page_clean(browser, page)


def test_console_check_fails_when_the_report_loads_a_network_resource(
    browser: Any, bookshop_page: Path, tmp_path: Path
) -> None:
    # The report's Content-Security-Policy blocks any load, and the block is a console error.
    html = bookshop_page.read_text(encoding="utf-8")
    page = tmp_path / "tampered.html"
    page.write_text(
        html.replace("<h1>", '<img src="https://example.invalid/logo.png"><h1>', 1),
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match="Content Security Policy"):
        assert_page_clean(browser, page)


# --- the report -----------------------------------------------------------------------------


def test_report_loads_clean_and_shows_every_finding(
    browser: Any, bookshop: ReviewResult, bookshop_page: Path
) -> None:
    assert_page_clean(browser, bookshop_page)
    articles = visible(browser, "article.finding")
    assert len(articles) == len(bookshop.findings) > 20
    shown = {
        (a.get_attribute("data-code"), a.find_element("css selector", ".loc").text)
        for a in articles
    }
    expected = {(f.code, f"{f.file}:{f.line}:{f.column}") for f in bookshop.findings}
    assert shown == expected
    # A finding shows its message, its code frame and (on demand) its rule's docs.
    first = sorted(bookshop.findings)[0]
    article = articles[0]
    assert first.message.replace("`", "") in article.find_element("css selector", ".msg").text
    frame = article.find_element("css selector", "pre.frame")
    assert frame.find_element("css selector", "mark").is_displayed()
    assert str(first.line) in frame.text
    routes = visible(browser, "#route-table tr.route")
    assert len(routes) > 10
    assert any(r.find_elements("css selector", ".noauth") for r in routes)
    assert browser.find_element("id", "shown-count").text == str(len(bookshop.findings))


def test_filters_hide_and_show_findings(
    browser: Any, bookshop: ReviewResult, bookshop_page: Path
) -> None:
    assert_page_clean(browser, bookshop_page)
    total = len(bookshop.findings)
    infos = sum(1 for f in bookshop.findings if f.severity == "info")
    assert 0 < infos < total

    checkbox(browser, "severity", "info").click()
    assert len(visible(browser, "article.finding")) == total - infos
    assert not visible(browser, 'article.finding[data-severity="info"]')
    assert browser.find_element("id", "shown-count").text == str(total - infos)
    # A file whose findings are all hidden is hidden too.
    files_left = {f.file for f in bookshop.findings if f.severity != "info"}
    assert {s.get_attribute("data-file") for s in visible(browser, "section.file")} == files_left
    checkbox(browser, "severity", "info").click()
    assert len(visible(browser, "article.finding")) == total

    security = [f for f in bookshop.findings if f.code.startswith("FAA3")]
    assert security
    for box in browser.find_elements("css selector", 'input[data-filter="category"]'):
        if box.get_attribute("value") != "Security & auth":
            box.click()
    assert len(visible(browser, "article.finding")) == len(security)

    # Text filter on top: one rule's code.
    code = security[0].code
    browser.find_element("id", "filter-text").send_keys(code.lower())
    assert {a.get_attribute("data-code") for a in visible(browser, "article.finding")} == {code}
    assert console_problems(browser) == []


def test_route_filter_shows_only_unauthenticated_routes(browser: Any, bookshop_page: Path) -> None:
    assert_page_clean(browser, bookshop_page)
    everything = len(visible(browser, "#route-table tr.route"))
    open_routes = len(visible(browser, '#route-table tr.route[data-authenticated="false"]'))
    assert 0 < open_routes < everything
    browser.find_element("id", "filter-noauth").click()
    rows = visible(browser, "#route-table tr.route")
    assert len(rows) == open_routes
    assert all(r.find_element("css selector", "td:nth-child(5)").text == "none" for r in rows)


def test_hostile_findings_stay_text(
    browser: Any, result: ReviewResult, rules: dict[str, Rule], payload: str, tmp_path: Path
) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(render_html(result, tool_version="<b>1</b>", rules=rules), encoding="utf-8")
    assert_page_clean(browser, page)
    assert browser.execute_script("return window.__pwned === undefined") is True
    messages = [e.text for e in browser.find_elements("css selector", "p.msg")]
    assert f"public docs {payload}" in messages
    assert not browser.find_elements("css selector", "img")
    assert len(browser.find_elements("css selector", "script")) == 1
