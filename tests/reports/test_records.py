"""jsonl and csv: the same records as the JSON report, one per line or row, suppressed findings included."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

from auditor.reports import RENDERERS, Report
from auditor.reports.records import CSV_COLUMNS


def _with_message(report: Report, message: str) -> Report:
    first = dataclasses.replace(report.result.findings[0], message=message)
    result = dataclasses.replace(report.result, findings=(first, *report.result.findings[1:]))
    return dataclasses.replace(report, result=result)


def _empty(report: Report) -> Report:
    return dataclasses.replace(report, result=dataclasses.replace(report.result, findings=()))


def test_jsonl_is_one_json_report_record_per_line(report) -> None:
    text = RENDERERS["jsonl"](report)

    lines = text.splitlines()
    assert text.endswith("\n")
    assert [json.loads(line) for line in lines] == json.loads(RENDERERS["json"](report))["findings"]
    assert [json.loads(line)["suppressed"] for line in lines] == [False, False, True, False]


def test_a_line_separator_in_a_name_keeps_each_finding_on_one_line(report) -> None:
    # JSON allows U+2028, U+2029 and U+0085 raw in a string; str.splitlines (and older JavaScript) ends a line there.
    message = "route table rtb-1 (name: a\u2028b\u2029c\x85d)"
    text = RENDERERS["jsonl"](_with_message(report, message))

    lines = text.splitlines()
    assert len(lines) == len(report.result.findings)
    assert json.loads(lines[0])["message"] == message


def test_jsonl_of_no_findings_is_empty(report) -> None:
    assert RENDERERS["jsonl"](_empty(report)) == ""


def test_csv_has_the_stable_columns_and_one_row_per_finding(report) -> None:
    text = RENDERERS["csv"](report)

    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [r["id"] for r in records] == [f.id for f in report.result.findings]
    assert [r["severity"] for r in records] == ["high", "high", "medium", "info"]
    assert [r["suppressed"] for r in records] == ["false", "false", "true", "false"]
    assert records[3]["rule_id"] == "AUD001" and records[3]["resource_arn"] == ""
    assert records[0]["remediation"] == report.result.findings[0].remediation, "multi-line cells round-trip"


def test_csv_quotes_as_rfc_4180_says(report) -> None:
    text = RENDERERS["csv"](_with_message(report, 'a "quoted", two-line\nmessage'))

    assert text.split("\r\n")[0] == ",".join(CSV_COLUMNS)
    assert '"a ""quoted"", two-line\nmessage"' in text
    assert text.endswith("\r\n")


def test_csv_cell_that_a_spreadsheet_would_run_is_defused(report) -> None:
    text = RENDERERS["csv"](_with_message(report, '=HYPERLINK("http://example.invalid","x")'))

    row = list(csv.DictReader(io.StringIO(text, newline="")))[0]
    assert row["message"] == "'" + '=HYPERLINK("http://example.invalid","x")'


def test_csv_of_no_findings_is_the_header(report) -> None:
    assert RENDERERS["csv"](_empty(report)) == ",".join(CSV_COLUMNS) + "\r\n"
