"""A real report to render: findings of several rules and severities, one suppressed, one AUD001 with no ARN."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from auditor.engine import Suppression, load_rules, run_audit
from auditor.index import Index
from auditor.reports import Report
from tests.factories import NOW, SnapshotBuilder

GENERATED_AT = "2026-11-26T10:00:00Z"
RULES_RUN = ("PCX001", "PCX003", "AUD001", "VPC002")
SUPPRESSION_REASON = "names resolve through Route 53 Resolver rules"


def snapshot_with_findings() -> tuple[dict[str, Any], str]:
    """Two high PCX001 (a peering with no routes), one medium PCX003 (to suppress), one info AUD001.

    Returns the snapshot and the id of the peering whose PCX003 finding the tests suppress.
    """
    builder = SnapshotBuilder()
    app = builder.vpc("10.0.0.0/16", name="app")
    shared = builder.vpc("10.1.0.0/16", name="shared")
    tools = builder.vpc("10.2.0.0/16", name="tools")
    dns_off = builder.peering(app, shared, accepter_dns=False)
    builder.route(builder.main_table(app), "10.1.0.0/16", VpcPeeringConnectionId=dns_off)
    builder.route(builder.main_table(shared), "10.0.0.0/16", VpcPeeringConnectionId=dns_off)
    builder.peering(app, tools)
    builder.error("ec2:ClientVpnEndpoints", "UnauthorizedOperation")
    return builder.build(), dns_off


def build_report(document: dict[str, Any], suppressed_peering: str) -> Report:
    rules = [load_rules()[rule_id] for rule_id in RULES_RUN]
    suppression = Suppression("PCX003", suppressed_peering, SUPPRESSION_REASON, dt.date(2099, 1, 1))
    result = run_audit(Index(document), now=NOW, rules=rules, suppressions=[suppression])
    return Report(result, document, GENERATED_AT)


@pytest.fixture
def report() -> Report:
    return build_report(*snapshot_with_findings())


@pytest.fixture
def snapshot_path(tmp_path: Path) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot_with_findings()[0]))
    return path
