"""SARIF 2.1.0: one run, the rules that ran as reportingDescriptors, each finding a result on a logical location."""

from __future__ import annotations

import json
from typing import Any

from auditor import __version__
from auditor.engine import Finding, Rule, load_rules
from auditor.reports import Report

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning reads properties.security-severity as a string holding a CVSS-like score.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
FINGERPRINT = "auditorFindingId/v1"


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False, default=str) + "\n"


def document(report: Report) -> dict[str, Any]:
    catalogue = load_rules()
    rule_ids = sorted(set(report.result.rules_run) | {f.rule_id for f in report.result.findings})
    index = {rule_id: position for position, rule_id in enumerate(rule_ids)}
    run = {
        "tool": {"driver": {"name": "auditor", "version": __version__, "semanticVersion": __version__,
                            "rules": [_descriptor(catalogue[rule_id]) for rule_id in rule_ids]}},
        "results": [_result(f, index[f.rule_id]) for f in report.result.findings],
        "properties": {"generatedAt": report.generated_at, "snapshot": report.snapshot_summary()},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _descriptor(rule: Rule) -> dict[str, Any]:
    why, remediation = rule.section("Why it matters"), rule.section("Remediation")
    intro = rule.doc.split("\n## ", 1)[0].strip()
    markdown = f"## Why it matters\n\n{why}\n\n## Remediation\n\n{remediation}"
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": f"{intro}\n\n{why}".strip()},
        "help": {"text": f"Why it matters: {why}\n\nRemediation: {remediation}", "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"security-severity": SECURITY_SEVERITY[rule.severity], "severity": rule.severity,
                       "resourceType": rule.resource_type, "tags": ["security", "network", rule.family]},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    name = finding.resource_arn or f"{finding.account_id}/{finding.region}/{finding.resource_id}"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"logicalLocations": [{"name": finding.resource_id, "fullyQualifiedName": name,
                                             "kind": "resource"}]}],
        "partialFingerprints": {FINGERPRINT: finding.id},
        "properties": {"severity": finding.severity, "security-severity": SECURITY_SEVERITY[finding.severity],
                       "accountId": finding.account_id, "region": finding.region,
                       "resourceType": finding.resource_type, "resourceId": finding.resource_id,
                       "relatedResources": list(finding.related_resources)},
    }
    if finding.suppressed:
        suppression = finding.suppression or {}
        entry: dict[str, Any] = {"kind": "external", "status": "accepted",
                                 "justification": str(suppression.get("reason", ""))}
        if suppression.get("expires"):
            entry["properties"] = {"expires": suppression["expires"]}
        result["suppressions"] = [entry]
    return result
