"""OCSF 1.1.0 Detection Finding events (class 2004, cloud profile), one per finding, as one JSON array."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from auditor import __version__
from auditor.engine import Finding
from auditor.reports import Report

OCSF_VERSION = "1.1.0"
CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2004, 2, 1
SEVERITY_IDS = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
SEVERITY_NAMES = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
STATUS_NEW, STATUS_SUPPRESSED = 1, 3
AWS_ACCOUNT = 10  # account.type_id
ANALYTIC_RULE = 1  # analytic.type_id
FINDING_TYPE = "Software and Configuration Checks/AWS Security Best Practices/Network Reachability"
# Event uids are name-based (uuid5), so the same report gives the same events byte for byte.
EVENT_NAMESPACE = uuid.UUID("6f0c39a4-5c0e-5b7e-9a51-0c2d7a1e4b10")


def render(report: Report) -> str:
    return json.dumps(events(report), indent=2, ensure_ascii=False, default=str) + "\n"


def events(report: Report) -> list[dict[str, Any]]:
    time_ms = _epoch_ms(report.generated_at)
    return [_event(report, finding, time_ms) for finding in report.result.findings]


def _event(report: Report, finding: Finding, time_ms: int) -> dict[str, Any]:
    severity_id = SEVERITY_IDS[finding.severity]
    account = {"uid": finding.account_id, "type_id": AWS_ACCOUNT, "type": "AWS Account"}
    resource: dict[str, Any] = {
        "uid": finding.resource_arn or f"{finding.account_id}/{finding.region}/{finding.resource_id}",
        "name": finding.resource_id, "type": finding.resource_type, "region": finding.region,
        "cloud_partition": _partition(report, finding.account_id), "owner": {"account": account},
    }
    event: dict[str, Any] = {
        "class_uid": CLASS_UID, "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID, "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE, "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE, "type_name": "Detection Finding: Create",
        "severity_id": severity_id, "severity": SEVERITY_NAMES[severity_id],
        "time": time_ms,
        "message": finding.message,
        "metadata": {
            "version": OCSF_VERSION, "profiles": ["cloud"],
            "uid": str(uuid.uuid5(EVENT_NAMESPACE, f"{finding.id}@{report.generated_at}")),
            "product": {"name": "auditor", "vendor_name": "aws-network-auditor", "version": __version__},
        },
        "finding_info": {
            "uid": finding.id, "title": finding.title, "desc": finding.message, "types": [FINDING_TYPE],
            "analytic": {"uid": finding.rule_id, "name": finding.rule_name, "type_id": ANALYTIC_RULE,
                         "type": "Rule"},
        },
        "resources": [resource],
        "cloud": {"provider": "AWS", "region": finding.region, "account": account},
        "status_id": STATUS_SUPPRESSED if finding.suppressed else STATUS_NEW,
        "status": "Suppressed" if finding.suppressed else "New",
        "unmapped": {"rule_id": finding.rule_id, "related_resources": list(finding.related_resources),
                     "evidence": finding.evidence},
    }
    if finding.remediation:
        event["remediation"] = {"desc": finding.remediation}
    if finding.suppressed and finding.suppression:
        expires = finding.suppression.get("expires")
        event["status_detail"] = str(finding.suppression.get("reason", "")) + (f" (until {expires})" if expires else "")
    return event


def _partition(report: Report, account_id: str) -> str:
    return str(report.snapshot.get("accounts", {}).get(account_id, {}).get("partition", "aws"))


def _epoch_ms(timestamp: str) -> int:
    moment = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)
