"""Every format through the command line, deterministic output, and the README naming each one."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from auditor.reports import RENDERERS
from tests.reports.conftest import RULES_RUN, build_report, snapshot_with_findings
from tests.test_cli_audit import run

NEW_FORMATS = ("jsonl", "csv", "markdown", "sarif", "ocsf", "asff")
README = Path(__file__).resolve().parents[2] / "README.md"


def _finding_ids(fmt: str, text: str) -> list[str]:
    """The finding ids a report carries, read back as a consumer of that format would."""
    if fmt == "jsonl":
        return [json.loads(line)["id"] for line in text.splitlines()]
    if fmt == "csv":
        return [row["id"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    if fmt == "sarif":
        return [r["partialFingerprints"]["auditorFindingId/v1"] for r in json.loads(text)["runs"][0]["results"]]
    if fmt == "ocsf":
        return [event["finding_info"]["uid"] for event in json.loads(text)]
    if fmt == "asff":
        return [finding["Id"] for finding in json.loads(text)]
    raise AssertionError(fmt)


@pytest.mark.parametrize("fmt", NEW_FORMATS)
def test_cli_writes_each_format_to_stdout(tmp_path, capsys, snapshot_path, fmt: str) -> None:
    code, out, err = run(capsys, "audit", "--snapshot", str(snapshot_path), "--format", fmt,
                         "--select", ",".join(RULES_RUN))

    assert code == 1
    assert "4 finding(s): 2 high, 1 medium, 1 info" in err
    if fmt == "markdown":
        assert out.startswith("# Network audit: 4 finding(s), 0 suppressed\n")
        assert "## HIGH PCX001 `peering-missing-route` (2)" in out
    else:
        assert len(_finding_ids(fmt, out)) == 4


@pytest.mark.parametrize("fmt", NEW_FORMATS)
def test_same_report_gives_the_same_bytes(fmt: str) -> None:
    first = build_report(*snapshot_with_findings())
    second = build_report(*snapshot_with_findings())

    assert RENDERERS[fmt](first) == RENDERERS[fmt](second)


@pytest.mark.parametrize("fmt", [f for f in NEW_FORMATS if f != "markdown"])
def test_ids_round_trip_in_order(report, fmt: str) -> None:
    ids: list[Any] = _finding_ids(fmt, RENDERERS[fmt](report))

    assert ids == [f.id for f in report.result.findings]


def _readme_section(heading: str) -> str:
    """The README's text under a `## heading`, up to the next such heading outside a code block."""
    lines, inside, fenced = [], False, False
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            inside = line == f"## {heading}"
        elif inside:
            lines.append(line)
    return "\n".join(lines)


def test_readme_documents_every_format() -> None:
    section = _readme_section("Output formats")

    assert [fmt for fmt in sorted(RENDERERS) if f"`--format {fmt}`" not in section] == []
