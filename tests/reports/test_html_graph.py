"""html: the network drawn inline (SVG) above the findings; nothing fetched, account text never markup."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from auditor.graph import build_graph
from auditor.index import Index
from auditor.reports import RENDERERS, Report
from auditor.reports import html as html_report
from tests.reports.conftest import build_report, snapshot_with_findings
from tests.reports.test_html import HOSTILE, _Page, browser  # noqa: F401  (browser: the module's Chromium fixture)

EXTERNAL = re.compile(r"https?://|<link\b|@import|@font-face|url\((?!#)|<script[^>]*\bsrc=|<img\b|<iframe\b", re.I)


def test_the_page_embeds_the_network_as_inline_svg(report: Report) -> None:
    graph = build_graph(Index(report.snapshot), report.result.findings)

    text = RENDERERS["html"](report)

    assert text.count("<svg") == 1 and '<svg class="network"' in text and "xmlns" not in text
    page = _Page(text)
    assert page.attribute_values("data-node") == [n.id for n in graph.nodes]
    assert page.attribute_values("data-edge") == [e.id for e in graph.edges]
    high = [e for e in graph.edges if e.severity == "high"]
    assert high and all(re.search(rf'data-edge="{e.id}"><title>[^<]*</title><path [^>]*stroke="#cf222e"', text)
                        for e in high)


def test_the_picture_fetches_nothing(report: Report) -> None:
    text = RENDERERS["html"](report)

    assert EXTERNAL.search(text) is None
    assert [tag for tag, _ in _Page(text).elements].count("script") == 1


def test_account_text_in_the_picture_is_escaped() -> None:
    document, suppressed = snapshot_with_findings()
    vpc = document["accounts"]["111122223333"]["regions"]["us-east-1"]["ec2:Vpcs"][0]
    vpc["Tags"] = [{"Key": "Name", "Value": HOSTILE}]

    text = RENDERERS["html"](build_report(document, suppressed))

    assert "<script>alert(1)</script>" not in text and "<img" not in text
    assert [tag for tag, _ in _Page(text).elements].count("script") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt; and &quot;quotes&quot;" in text


def test_no_picture_without_a_snapshot_and_a_note_when_too_big(report: Report,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    empty = RENDERERS["html"](dataclasses.replace(report, snapshot={"accounts": {}}))
    monkeypatch.setattr(html_report, "MAX_GRAPH_NODES", 1)

    too_big = RENDERERS["html"](report)

    assert "<svg" not in empty and "<h2>Network</h2>" not in empty
    assert "<svg" not in too_big and "Too many nodes to draw here" in too_big


@pytest.mark.server
def test_the_picture_shows_in_a_browser_under_the_policy(browser: Any, report: Report,  # noqa: F811
                                                          tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(RENDERERS["html"](report), encoding="utf-8")
    browser.get_log("browser")

    browser.get(path.as_uri())

    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    size = browser.execute_script("const box = document.querySelector('svg.network').getBoundingClientRect();"
                                  "return [box.width, box.height, document.querySelectorAll('svg .node').length];")
    assert size[0] > 200 and size[1] > 100 and size[2] == len(build_graph(Index(report.snapshot)).nodes)
