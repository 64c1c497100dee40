"""Flat records for pipes and spreadsheets: JSON Lines and CSV, one finding per line or row, nothing else."""

from __future__ import annotations

import csv
import io
import json

from auditor.reports import Report

CSV_COLUMNS = ("id", "severity", "rule_id", "rule_name", "account_id", "region", "resource_type", "resource_id",
               "resource_arn", "title", "message", "remediation", "suppressed")
# A spreadsheet runs a cell that starts with one of these as a formula; resource names and tags come from the
# audited accounts, so such a cell is quoted with a leading apostrophe (OWASP's advice against CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# Line separators JSON leaves as they are inside strings, but that readers splitting on lines (Python's
# str.splitlines, JavaScript before ES2019) take for a line's end: written escaped, one finding stays one line.
LINE_BREAKS_JSON_KEEPS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def render_jsonl(report: Report) -> str:
    """One finding per line, the same record as in the JSON report, suppressed findings included."""
    return "".join(json.dumps(f.as_dict(), ensure_ascii=False, default=str).translate(LINE_BREAKS_JSON_KEEPS) + "\n"
                   for f in report.result.findings)


def render_csv(report: Report) -> str:
    """A header, then one row per finding; RFC 4180 quoting and CRLF line ends, as the csv module writes them."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for finding in report.result.findings:
        record = finding.as_dict()
        writer.writerow([_cell(record[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
