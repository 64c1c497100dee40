"""markdown: summaries by severity and family, findings grouped by rule with remediation, safe table cells."""

from __future__ import annotations

import dataclasses

from auditor.reports import RENDERERS
from tests.reports.conftest import SUPPRESSION_REASON


def _table(text: str, header: str) -> list[list[str]]:
    """The rows of the Markdown table that starts with `header`, as lists of cells."""
    lines = text.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_summary_by_severity_and_family(report) -> None:
    text = RENDERERS["markdown"](report)

    assert text.startswith("# Network audit: 3 finding(s), 1 suppressed\n")
    assert _table(text, "| severity | findings | suppressed |") == [["high", "2", "0"], ["medium", "0", "1"],
                                                                   ["info", "1", "0"]]
    assert _table(text, "| family | findings | suppressed |") == [["AUD", "1", "0"], ["PCX", "2", "1"]]


def test_findings_are_grouped_by_rule_with_the_remediation(report) -> None:
    text = RENDERERS["markdown"](report)

    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## HIGH PCX001 `peering-missing-route` (2)",
                        "## INFO AUD001 `resource-type-not-collected` (1)", "## Suppressed (1)"]
    rows = _table(text, "| resource | account / region | problem |")
    assert [row[1] for row in rows] == ["111122223333 / us-east-1"] * 2
    assert "aws ec2 create-route" in text.split("## INFO")[0]
    suppressed = _table(text, "| severity | rule | resource | account / region | reason | expires |")
    assert suppressed[0][0] == "medium" and suppressed[0][4:] == [SUPPRESSION_REASON, "2099-01-01"]


def test_pipes_and_newlines_cannot_break_a_table(report) -> None:
    first = dataclasses.replace(report.result.findings[0], message="tag a|b\nnext <b>line</b>")
    changed = dataclasses.replace(report, result=dataclasses.replace(
        report.result, findings=(first, *report.result.findings[1:])))

    text = RENDERERS["markdown"](changed)

    assert r"tag a\|b<br>next &lt;b&gt;line&lt;/b&gt; |" in text
    assert len(_table(text, "| resource | account / region | problem |")[0]) == 3


def test_no_findings_says_so(report) -> None:
    empty = dataclasses.replace(report, result=dataclasses.replace(report.result, findings=()))

    text = RENDERERS["markdown"](empty)

    assert text.endswith("\nNo findings.\n")
