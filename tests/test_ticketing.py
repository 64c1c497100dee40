"""Finding ids are what ticketing deduplicates on: same problem, same id, whatever the order; never shared."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from auditor.collect import collect
from auditor.demo import DEMO_REGIONS, simulated_account
from auditor.engine import Finding, run_audit
from auditor.index import Index
from tests.factories import NOW, OTHER_ACCOUNT, SnapshotBuilder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from audit_bench import generate  # noqa: E402


def _reverse_lists(parsed: dict[str, Any], **_: Any) -> None:
    """An after-call hook: every list in every API response comes back in the opposite order."""

    def flip(value: Any) -> Any:
        if isinstance(value, list):
            value.reverse()
            for item in value:
                flip(item)
        elif isinstance(value, dict):
            for item in value.values():
                flip(item)
        return value

    for key, value in parsed.items():
        if key != "ResponseMetadata":
            flip(value)


def _identities(findings: tuple[Finding, ...]) -> dict[str, tuple[str, str, str, str, str]]:
    return {f.id: (f.rule_id, f.account_id, f.region, f.resource_id, f.severity) for f in findings}


def test_collecting_the_same_account_twice_in_reversed_api_order_gives_the_same_ids() -> None:
    with simulated_account() as session:
        first = collect(session, DEMO_REGIONS, max_workers=4).document
        session.events.register("after-call.*.*", _reverse_lists)
        second = collect(session, DEMO_REGIONS, max_workers=1).document

    first_findings = run_audit(Index(first), now=NOW).findings
    second_findings = run_audit(Index(second), now=NOW).findings

    assert first["accounts"] != second["accounts"], "nested lists (routes, associations) came back reversed"
    assert len(first_findings) > 20, "the demo account triggers every rule family"
    assert _identities(first_findings) == _identities(second_findings)
    assert len({f.id for f in first_findings}) == len(first_findings)


def _two_account_snapshot() -> dict[str, Any]:
    builder = SnapshotBuilder()
    builder.scope(OTHER_ACCOUNT, "eu-west-1")
    app = builder.vpc("10.0.0.0/16")
    shared = builder.vpc("10.1.0.0/16", account=OTHER_ACCOUNT, region="eu-west-1")
    data = builder.vpc("10.2.0.0/16")
    builder.peering(app, shared, accepter_dns=False)
    builder.peering(app, data, requester_dns=False)
    for key in ("ec2:FlowLogs",):
        builder.scope()[key].clear()
    return builder.build()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_accounts_and_items_in_any_order_give_the_same_ids(seed: int) -> None:
    document = _two_account_snapshot()
    shuffled = json.loads(json.dumps(document))
    rng = random.Random(seed)
    accounts = list(shuffled["accounts"].items())
    rng.shuffle(accounts)
    shuffled["accounts"] = dict(accounts)
    for section in shuffled["accounts"].values():
        for items in section["regions"].values():
            for listed in items.values():
                rng.shuffle(listed)

    expected = _identities(run_audit(Index(document), now=NOW).findings)
    actual = _identities(run_audit(Index(shuffled), now=NOW).findings)

    assert len(expected) >= 4
    assert actual == expected


def test_two_different_problems_never_share_an_id() -> None:
    document = generate(200)

    findings = run_audit(Index(document), now=NOW).findings

    problems = {(f.rule_id, f.account_id, f.region, f.resource_id, f.message) for f in findings}
    assert len({f.id for f in findings}) == len(findings) == len(problems)


def test_the_id_ignores_the_message_and_the_evidence() -> None:
    document = _two_account_snapshot()
    findings = run_audit(Index(document), now=NOW).findings
    renamed = json.loads(json.dumps(document))
    for section in renamed["accounts"].values():
        for items in section["regions"].values():
            for vpc in items.get("ec2:Vpcs", []):
                vpc["Tags"] = [{"Key": "Name", "Value": "renamed"}]

    again = run_audit(Index(renamed), now=NOW).findings

    assert [f.id for f in again] == [f.id for f in findings]
