"""Peering rules: a table of failing and passing cases per rule, built with the snapshot factories."""

from __future__ import annotations

import pytest

from tests.factories import OTHER_ACCOUNT, SnapshotBuilder, run_rule


def _dns_case(requester_dns: bool, accepter_dns: bool, status: str = "active", cross_account: bool = False):
    builder = SnapshotBuilder()
    local = builder.vpc("10.0.0.0/16")
    if cross_account:
        peer = "vpc-0fedcba9876543210"
        builder.peering(local, peer, requester_dns=requester_dns, accepter_dns=accepter_dns, status=status,
                        accepter_account=OTHER_ACCOUNT, accepter_cidrs=("10.1.0.0/16",))
    else:
        peer = builder.vpc("10.1.0.0/16")
        builder.peering(local, peer, requester_dns=requester_dns, accepter_dns=accepter_dns, status=status)
    return builder.build()


@pytest.mark.parametrize(("case", "expected_sides"), [
    pytest.param(dict(requester_dns=True, accepter_dns=True), [], id="pass_both_sides_resolve"),
    pytest.param(dict(requester_dns=True, accepter_dns=False), ["accepter"], id="fail_accepter_off"),
    pytest.param(dict(requester_dns=False, accepter_dns=True), ["requester"], id="fail_requester_off"),
    pytest.param(dict(requester_dns=False, accepter_dns=False), ["accepter", "requester"], id="fail_both_off"),
    pytest.param(dict(requester_dns=False, accepter_dns=False, status="pending-acceptance"), [],
                 id="pass_not_active_yet"),
    pytest.param(dict(requester_dns=True, accepter_dns=False, cross_account=True), ["accepter"],
                 id="fail_accepter_in_account_outside_snapshot"),
])
def test_pcx003_peering_dns_resolution_disabled(case: dict, expected_sides: list[str]) -> None:
    document = _dns_case(**case)

    findings = run_rule("PCX003", document)

    assert sorted(f.evidence.get("AccepterVpcInfo") and "accepter" or "requester" for f in findings) == expected_sides
    for finding in findings:
        assert "does not allow DNS resolution" in finding.message
        assert finding.resource_id.startswith("pcx-")


def test_pcx003_one_finding_per_side_when_both_accounts_hold_the_peering() -> None:
    builder = SnapshotBuilder()
    builder.scope(OTHER_ACCOUNT, "eu-west-1")
    local = builder.vpc("10.0.0.0/16")
    peer = builder.vpc("10.1.0.0/16", account=OTHER_ACCOUNT, region="eu-west-1")
    builder.peering(local, peer, accepter_dns=False)

    findings = run_rule("PCX003", builder.build())

    assert [(f.account_id, f.region) for f in findings] == [(OTHER_ACCOUNT, "eu-west-1")]
