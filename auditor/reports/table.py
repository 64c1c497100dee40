"""The table a person reads: findings grouped by rule, most severe first, fitting 100 columns."""

from __future__ import annotations

import textwrap
from itertools import groupby

from tabulate import tabulate

from auditor.engine import Finding
from auditor.reports import Report

WIDTH = 100
RESOURCE_WIDTH = 24
WHERE_WIDTH = 22
MESSAGE_WIDTH = WIDTH - RESOURCE_WIDTH - WHERE_WIDTH - 6


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False)) or "-"


def render(report: Report) -> str:
    findings = report.active
    if not findings:
        return "No findings.\n" + _footer(report)
    blocks: list[str] = []
    for (severity, rule_id, rule_name), group in groupby(findings, key=lambda f: (f.severity, f.rule_id, f.rule_name)):
        items: list[Finding] = list(group)
        heading = f"{severity.upper():8} {rule_id} {rule_name} ({len(items)})"
        rows = [[_wrap(f.resource_id, RESOURCE_WIDTH), _wrap(f"{f.account_id} {f.region}", WHERE_WIDTH),
                 _wrap(f.message, MESSAGE_WIDTH)] for f in items]
        table = tabulate(rows, headers=["resource", "account region", "problem"], tablefmt="simple")
        blocks.append(f"{heading}\n{_wrap(items[0].title, WIDTH)}\n\n{table}")
    return "\n\n".join(blocks) + "\n\n" + _footer(report)


def _footer(report: Report) -> str:
    lines = []
    if report.suppressed:
        lines.append(f"{len(report.suppressed)} suppressed finding(s) not shown (the other formats keep them, marked).")
    lines.append("Run `auditor rules ID` for why a rule matters and how to fix it.")
    return "\n".join(lines) + "\n"
