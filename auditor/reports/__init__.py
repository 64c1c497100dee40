"""Report renderers: findings in, text out. Know nothing of AWS; chosen from a table, not an if/elif."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor import __version__
from auditor.engine import SEVERITIES, AuditResult, Finding

FINDINGS_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Report:
    result: AuditResult
    snapshot: dict[str, Any]  # the snapshot document the findings were judged from
    generated_at: str

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.result.findings if not f.suppressed]

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.result.findings if f.suppressed]

    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.active)
        return {name: counts[name] for name in SEVERITIES if counts[name]}

    def snapshot_summary(self) -> dict[str, Any]:
        accounts = self.snapshot.get("accounts", {})
        regions = sorted({r for a in accounts.values() for r in a.get("regions", {}) if r != "global"})
        return {"collected_at": self.snapshot.get("collected_at"), "accounts": sorted(accounts),
                "regions": regions, "errors": len(self.snapshot.get("errors", []))}

    def document(self) -> dict[str, Any]:
        """The findings JSON of DESIGN.md section 6 (schema: auditor/schemas/findings.schema.json)."""
        return {
            "schema_version": FINDINGS_SCHEMA_VERSION,
            "tool": {"name": "auditor", "version": __version__},
            "generated_at": self.generated_at,
            "snapshot": self.snapshot_summary(),
            "summary": {"total": len(self.active), "by_severity": self.by_severity(),
                        "suppressed": len(self.suppressed)},
            "findings": [f.as_dict() for f in self.result.findings],
            "expired_suppressions": [s.as_dict() for s in self.result.expired_suppressions],
        }

    def stderr_summary(self) -> str:
        counts = self.by_severity()
        text = ", ".join(f"{n} {name}" for name, n in counts.items()) or "none"
        line = f"{len(self.active)} finding(s): {text}"
        if self.suppressed:
            line += f"; {len(self.suppressed)} suppressed"
        errors = self.snapshot_summary()["errors"]
        if errors:
            unread = {(e["account_id"], e["region"], e["key"]) for e in self.snapshot.get("errors", [])}
            line += (f"; snapshot incomplete: {len(unread)} resource type(s) in some account/region could not be "
                     "read (see AUD001)")
        return line


def _render_json(report: Report) -> str:
    import json

    return json.dumps(report.document(), indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"


def _render_table(report: Report) -> str:
    from auditor.reports.table import render

    return render(report)


def _lazy(module: str, function: str = "render") -> Callable[[Report], str]:
    """A renderer that imports its module on first use, so `--help` and the table stay fast."""

    def render(report: Report) -> str:
        import importlib

        renderer: Callable[[Report], str] = getattr(importlib.import_module(f"auditor.reports.{module}"), function)
        return renderer(report)

    return render


RENDERERS: dict[str, Callable[[Report], str]] = {
    "table": _render_table,
    "json": _render_json,
    "jsonl": _lazy("records", "render_jsonl"),
    "csv": _lazy("records", "render_csv"),
    "markdown": _lazy("markdown"),
    "sarif": _lazy("sarif"),
    "ocsf": _lazy("ocsf"),
    "asff": _lazy("asff"),
    "html": _lazy("html"),
}
