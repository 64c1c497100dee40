"""Markdown for a pull request or a wiki page: summaries by severity and family, then findings grouped by rule."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from auditor.engine import SEVERITIES, Finding
from auditor.reports import Report


def render(report: Report) -> str:
    findings = report.result.findings
    summary = report.snapshot_summary()
    collected = summary["collected_at"] or "at an unknown time"
    lines = [f"# Network audit: {len(report.active)} finding(s), {len(report.suppressed)} suppressed", "",
             f"Generated {report.generated_at} from a snapshot collected {collected} "
             f"({len(summary['accounts'])} account(s), {len(summary['regions'])} region(s)).", ""]
    if not findings:
        return "\n".join([*lines, "No findings."]) + "\n"
    lines += _count_table("severity", [(s, [f for f in findings if f.severity == s]) for s in SEVERITIES])
    families = sorted({_family(f) for f in findings})
    lines += _count_table("family", [(name, [f for f in findings if _family(f) == name]) for name in families])
    for (severity, rule_id, rule_name), group in groupby(report.active, key=lambda f: (f.severity, f.rule_id,
                                                                                          f.rule_name)):
        items = list(group)
        lines += [f"## {severity.upper()} {rule_id} `{rule_name}` ({len(items)})", "", items[0].title, "",
                  "| resource | account / region | problem |", "|---|---|---|"]
        lines += [f"| {_code(f.resource_id)} | {_cell(f.account_id)} / {_cell(f.region)} | {_cell(f.message)} |"
                  for f in items]
        lines += ["", "**Remediation**", "", items[0].remediation or f"See `auditor rules {rule_id}`.", ""]
    if report.suppressed:
        lines += [f"## Suppressed ({len(report.suppressed)})", "",
                  "| severity | rule | resource | account / region | reason | expires |", "|---|---|---|---|---|---|"]
        for f in report.suppressed:
            suppression = f.suppression or {}
            lines.append(f"| {f.severity} | {f.rule_id} `{f.rule_name}` | {_code(f.resource_id)} | "
                         f"{_cell(f.account_id)} / {_cell(f.region)} | {_cell(str(suppression.get('reason', '')))} | "
                         f"{_cell(str(suppression.get('expires') or 'never'))} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _count_table(label: str, rows: list[tuple[str, list[Finding]]]) -> list[str]:
    lines = [f"| {label} | findings | suppressed |", "|---|---:|---:|"]
    for name, items in rows:
        if items:
            suppressed = Counter(f.suppressed for f in items)[True]
            lines.append(f"| {name} | {len(items) - suppressed} | {suppressed} |")
    return [*lines, ""]


def _family(finding: Finding) -> str:
    return finding.rule_id.rstrip("0123456789")


def _cell(text: str) -> str:
    """Text safe in a table cell: a pipe ends the cell, a newline the row, and tag values may hold either."""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return "<br>".join(escaped.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _code(text: str) -> str:
    """An id as a code span; only a pipe needs escaping there (GFM splits cells before reading code spans)."""
    if "`" in text:
        return _cell(text)
    return "`" + " ".join(text.splitlines()).replace("|", "\\|") + "`"
