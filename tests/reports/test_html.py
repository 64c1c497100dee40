"""html: one self-contained page; account text never becomes markup; the filters work in a real Chromium."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from auditor.engine import Finding
from auditor.reports import RENDERERS, Report
from tests.factories import OTHER_ACCOUNT
from tests.reports.conftest import RULES_RUN, build_report, snapshot_with_findings
from tests.test_cli_audit import run

HOSTILE = '<script>alert(1)</script> and "quotes" <img src=x onerror="window.injected=1">'
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000")


class _Page(HTMLParser):
    """What a browser would build from the page: elements with their attributes, and each table's cell text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "table":
            self._table = attributes.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def attribute_values(self, name: str) -> list[str | None]:
        return [attrs[name] for _, attrs in self.elements if name in attrs]


def _with_findings(report: Report, findings: list[Finding]) -> Report:
    return dataclasses.replace(report, result=dataclasses.replace(report.result, findings=tuple(findings)))


def _mixed(report: Report) -> Report:
    """The fixture's findings with the second PCX001 in another account and a hostile AUD001 message."""
    first, second, suppressed, aud = report.result.findings
    return _with_findings(report, [first, dataclasses.replace(second, account_id=OTHER_ACCOUNT), suppressed,
                                   dataclasses.replace(aud, message=HOSTILE)])


# Unit: the page as text


def test_every_finding_has_a_row_in_order(report) -> None:
    page = _Page(RENDERERS["html"](report))

    assert page.attribute_values("data-id") == [f.id for f in report.result.findings]


def test_summary_by_severity_and_family(report) -> None:
    page = _Page(RENDERERS["html"](report))

    assert page.tables["by-severity"][1:] == [["high", "2", "0"], ["medium", "0", "1"], ["info", "1", "0"]]
    assert page.tables["by-family"][1:] == [["AUD", "1", "0"], ["PCX", "2", "1"]]


def test_account_text_is_escaped_in_text_and_in_attributes(report) -> None:
    first, *rest = report.result.findings
    hostile = dataclasses.replace(first, message=HOSTILE, title=HOSTILE, account_id='1" onclick="x',
                                  evidence={"Tags": [{"Key": "Name", "Value": HOSTILE}]})

    text = RENDERERS["html"](_with_findings(report, [hostile, *rest]))

    assert "<script>alert(1)</script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; and &quot;quotes&quot;" in text
    page = _Page(text)
    assert [tag for tag, _ in page.elements].count("script") == 1
    assert "onclick" not in {name for _, attrs in page.elements for name in attrs}
    assert '1" onclick="x' in page.attribute_values("data-account")
    assert any(HOSTILE in "".join(row) for row in page.tables["findings"])


def test_self_contained_no_urls_and_a_strict_policy(report) -> None:
    text = RENDERERS["html"](report)

    assert re.search(r"https?://", text) is None
    page = _Page(text)
    assert page.attribute_values("src") == [] and page.attribute_values("href") == []
    policy = next(attrs["content"] for tag, attrs in page.elements
                  if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    assert policy is not None and policy.startswith("default-src 'none';")
    for tag in ("style", "script"):
        block = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
        assert block is not None
        digest = base64.b64encode(hashlib.sha256(block.group(1).encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy


def test_same_report_gives_the_same_bytes() -> None:
    first = build_report(*snapshot_with_findings())
    second = build_report(*snapshot_with_findings())

    assert RENDERERS["html"](first) == RENDERERS["html"](second)


def test_evidence_is_pretty_json_and_remediation_is_shown(report) -> None:
    text = RENDERERS["html"](report)

    assert '<details class="evidence"><summary>Evidence</summary><pre>{\n  &quot;' in text
    assert text.count('<details class="remediation">') == len(report.result.findings)
    assert "aws ec2 create-route" in text


def test_no_findings_says_so(report) -> None:
    text = RENDERERS["html"](_with_findings(report, []))

    assert "<p>No findings.</p>" in text and 'id="filters"' not in text


def test_cli_writes_html(capsys, snapshot_path) -> None:
    code, out, _ = run(capsys, "audit", "--snapshot", str(snapshot_path), "--format", "html",
                       "--select", ",".join(RULES_RUN))

    assert code == 1
    assert out.startswith("<!DOCTYPE html>") and len(_Page(out).attribute_values("data-id")) == 4


# Browser: the page in Debian's Chromium, driven by chromedriver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium; skipped where it is not installed, except in CI (`.ci/run` installs it)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium")
    if missing:
        message = f"not installed: {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests; {message}")
        pytest.skip(message)
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: Any, report: Report, tmp_path: Path) -> Any:
    """The mixed report loaded from a file:// URL, with no console error while loading."""
    path = tmp_path / "report.html"
    path.write_text(RENDERERS["html"](_mixed(report)), encoding="utf-8")
    browser.get_log("browser")  # drop what an earlier test left

    browser.get(path.as_uri())

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    return browser


def _visible_ids(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [row.get_attribute("data-id") for row in driver.find_elements(By.CSS_SELECTOR, "#findings tr.finding")
            if row.is_displayed()]


def _choose(driver: Any, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, f"filter-{name}")).select_by_value(value)


@pytest.mark.server
def test_filters_show_exactly_the_matching_rows(page: Any, report: Report) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    high, other_account, suppressed, aud = (f.id for f in report.result.findings)

    assert page.find_element(By.ID, "filters").is_displayed()
    assert _visible_ids(page) == [high, other_account, aud]
    _choose(page, "severity", "high")
    assert _visible_ids(page) == [high, other_account]
    _choose(page, "account", OTHER_ACCOUNT)
    assert _visible_ids(page) == [other_account]
    assert page.find_element(By.ID, "shown").text == "1"
    page.find_element(By.CSS_SELECTOR, "#filters button[type=reset]").click()
    # The page filters again once the form is reset, in a task of its own (setTimeout: a reset event fires before
    # the fields are cleared), so the rows are read once that has run.
    WebDriverWait(page, 5).until(lambda driver: _visible_ids(driver) == [high, other_account, aud])
    assert _visible_ids(page) == [high, other_account, aud]
    _choose(page, "rule", "PCX003")
    assert _visible_ids(page) == [] and page.find_element(By.ID, "no-match").is_displayed()
    page.find_element(By.ID, "filter-suppressed").click()
    assert _visible_ids(page) == [suppressed]
    assert [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"] == []


@pytest.mark.server
def test_hostile_text_is_shown_not_run(page: Any, report: Report) -> None:
    from selenium.webdriver.common.by import By

    aud = report.result.findings[3].id

    message = page.find_element(By.CSS_SELECTOR, f'tr[data-id="{aud}"] .message').text
    assert message == HOSTILE
    assert page.execute_script("return window.injected === undefined && document.images.length === 0")


@pytest.mark.server
def test_screenshot(page: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    page.find_element(By.CSS_SELECTOR, "details.evidence summary").click()
    shot = tmp_path / "report.png"

    assert page.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    if target := os.environ.get("AUDITOR_HTML_SCREENSHOT"):
        shutil.copyfile(shot, target)
