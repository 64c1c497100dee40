"""AUD001: what could not be read is reported, once per unread key, and silences the rules that need it.
AUD002: a VPC or transit gateway shared with an account whose owner was not audited is noted there, once."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.collect.registry import GLOBAL, REGISTRY
from tests.factories import ACCOUNT, OTHER_ACCOUNT, REGION, SnapshotBuilder, run_rule
from tests.rules.hybrid_factories_vpn_tgw import transit_gateway


def _builder_with_peering(dns_off: bool = True) -> SnapshotBuilder:
    builder = SnapshotBuilder()
    app = builder.vpc("10.0.0.0/16")
    shared = builder.vpc("10.1.0.0/16")
    builder.peering(app, shared, accepter_dns=not dns_off)
    return builder


@pytest.mark.parametrize(("errors", "expected"), [
    pytest.param([], [], id="pass_complete_snapshot"),
    pytest.param([("ec2:ClientVpnEndpoints", "UnauthorizedOperation", None)], ["ec2:ClientVpnEndpoints"],
                 id="fail_denied_key"),
    pytest.param([("ec2:VpcDnsAttributes", "Throttling", "vpc-0123456789abcdef0")], ["ec2:VpcDnsAttributes"],
                 id="fail_partial_key"),
    pytest.param([("ec2:TransitGatewayRoutes", "Truncated", "tgw-rtb-0123456789abcdef0")], [],
                 id="pass_truncated_route_table_is_tgw009s"),
])
def test_aud001_resource_type_not_collected(errors: list, expected: list[str]) -> None:
    builder = _builder_with_peering()
    for key, code, resource in errors:
        builder.error(key, code, resource_id=resource)

    findings = run_rule("AUD001", builder.build())

    assert [f.resource_id for f in findings] == expected
    assert all(f.severity == "info" and f.resource_type == "AWS::::Account" for f in findings)


def test_aud001_folds_dependent_keys_into_their_root() -> None:
    builder = _builder_with_peering()
    builder.error("ec2:ClientVpnEndpoints", "NotImplemented")
    for child in ("ec2:ClientVpnRoutes", "ec2:ClientVpnAuthorizationRules"):
        builder.error(child, "DependencyFailed")
        builder.errors[-1]["depends_on"] = "ec2:ClientVpnEndpoints"

    findings = run_rule("AUD001", builder.build())

    assert len(findings) == 1
    assert "neither could ec2:ClientVpnAuthorizationRules, ec2:ClientVpnRoutes" in findings[0].message
    assert findings[0].evidence["keys_not_read"] == ["ec2:ClientVpnAuthorizationRules", "ec2:ClientVpnEndpoints",
                                                     "ec2:ClientVpnRoutes"]


def test_unread_key_silences_the_rules_that_need_it_instead_of_passing() -> None:
    builder = _builder_with_peering(dns_off=True)
    builder.error("ec2:VpcPeeringConnections", "UnauthorizedOperation")
    document = builder.build()

    dns_findings = run_rule("PCX003", document)
    audit_findings = run_rule("AUD001", document)

    assert dns_findings == []
    assert "PCX003" in audit_findings[0].evidence["rules_affected"]
    assert "could not be read" in audit_findings[0].message


OTHER_REGION = "eu-west-1"


def _fail_every_key(builder: SnapshotBuilder, region: str, code: str, spare: str | None = None) -> list[str]:
    """Every regional key failed in `region` as a denied region fails them (a root with `code`, a child with
    DependencyFailed), except `spare`, read with nothing in it. Returns the roots that failed."""
    failed = []
    for key, collector in REGISTRY.items():
        if collector.scope == GLOBAL:
            continue
        if key == spare:
            builder.scope(ACCOUNT, region)[key] = []
        elif collector.parent:
            builder.error(key, "DependencyFailed", region=region)
            builder.errors[-1]["depends_on"] = collector.parent
        else:
            builder.error(key, code, region=region)
            failed.append(key)
    return failed


def test_aud001_is_one_finding_for_a_region_none_of_whose_keys_could_be_read() -> None:
    """A service control policy that denies a region, or an endpoint the network cannot reach, fails its 27 keys
    alike: one finding for the region, where there were 27 (a ticket each, with the ticketing formats)."""
    builder = _builder_with_peering()
    failed = _fail_every_key(builder, OTHER_REGION, "AccessDenied")

    findings = run_rule("AUD001", builder.build())

    assert [(f.account_id, f.region, f.resource_id) for f in findings] == [(ACCOUNT, OTHER_REGION, "*")]
    [finding] = findings
    assert finding.message.startswith(
        f"nothing could be read in {ACCOUNT}/{OTHER_REGION}: every one of its {len(failed)} keys failed "
        f"(AccessDenied x{len(failed)}; the first, {sorted(failed)[0]}: You are not authorized")
    regional = sorted(key for key, collector in REGISTRY.items() if collector.scope != GLOBAL)
    assert finding.evidence["keys_not_read"] == regional
    assert len(finding.evidence["errors"]) == len(failed)
    assert {"PCX001", "PCX003", "VPCE001"} <= set(finding.evidence["rules_affected"])


def _all_failed(b: SnapshotBuilder) -> list[str]:
    _fail_every_key(b, OTHER_REGION, "AccessDenied")
    return ["*"]


def _all_but_one_failed(b: SnapshotBuilder) -> list[str]:
    return sorted(_fail_every_key(b, OTHER_REGION, "AccessDenied", spare="ec2:FlowLogs"))


def _only_key_tried_failed(b: SnapshotBuilder) -> list[str]:
    """Nothing stored in the region but a single key tried (a run of one collector)."""
    b.error("ec2:Vpcs", "AccessDenied", region=OTHER_REGION)
    b.scope(ACCOUNT, OTHER_REGION).clear()
    return ["ec2:Vpcs"]


def _regions_not_listed(b: SnapshotBuilder) -> list[str]:
    """The region not read at all (ec2:Regions), which is its own finding."""
    b.errors.append({"account_id": ACCOUNT, "region": OTHER_REGION, "key": "ec2:Regions",
                     "operation": "DescribeRegions", "code": "OptInRequired", "message": "not enabled"})
    return ["ec2:Regions"]


@pytest.mark.parametrize("arrange", [
    pytest.param(_all_failed, id="fail_every_key_of_a_region_is_one_finding"),
    pytest.param(_all_but_one_failed, id="pass_one_key_read_each_failed_key_its_own"),
    pytest.param(_only_key_tried_failed, id="pass_a_single_key_tried_is_named"),
    pytest.param(_regions_not_listed, id="pass_a_region_not_enabled_keeps_its_ec2_regions_finding"),
])
def test_aud001_whole_region_not_read(arrange: Any) -> None:
    """What AUD001 makes of a region that nothing, or only a little, could be read in: `fail_` cases are the one
    finding for the region (resource `*`); `pass_` cases keep the findings key by key."""
    builder = _builder_with_peering()
    expected = arrange(builder)

    findings = run_rule("AUD001", builder.build())

    assert sorted(f.resource_id for f in findings) == expected
    assert {(f.account_id, f.region) for f in findings} == {(ACCOUNT, OTHER_REGION)}


# AUD002 shared-resource-owner-not-audited: the builder's account owns, OTHER_ACCOUNT participates.

def shared_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc("10.50.0.0/16")
    subnets = [b.subnet(vpc, "10.50.1.0/24"), b.subnet(vpc, "10.50.2.0/24", "us-east-1b")]
    b.share_vpc(vpc, OTHER_ACCOUNT)
    return {"resource": vpc, "type": "AWS::EC2::VPC", "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{vpc}",
            "fragment": f"shared with this account by {ACCOUNT} through AWS RAM, with its subnets "
                        f"{', '.join(subnets)} here"}


def shared_transit_gateway(b: SnapshotBuilder, state: str = "available") -> dict[str, Any]:
    tgw = transit_gateway(b, propagation="enable", state=state)
    b.share("ec2:TransitGateways", "TransitGatewayId", tgw, OTHER_ACCOUNT)
    return {"resource": tgw, "type": "AWS::EC2::TransitGateway",
            "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:transit-gateway/{tgw}",
            "fragment": f"transit gateway {tgw} is shared with this account by {ACCOUNT}"}


def participant_only(b: SnapshotBuilder) -> dict[str, Any]:
    return b.build_accounts(OTHER_ACCOUNT)


def participant_and_owner_elsewhere(b: SnapshotBuilder) -> dict[str, Any]:
    """The owner's account was collected, but not in the region where it shares the VPC."""
    b.vpc("10.9.0.0/16", account=ACCOUNT, region="eu-west-1")
    document = b.build()
    del document["accounts"][ACCOUNT]["regions"][REGION]
    return document


def own_vpc_only(b: SnapshotBuilder) -> dict[str, Any]:
    b.vpc("10.60.0.0/16", account=OTHER_ACCOUNT)
    return {}


@pytest.mark.parametrize(("arrange", "collect", "noted"), [
    pytest.param(shared_vpc, participant_only, True, id="fail_vpc_owner_not_collected"),
    pytest.param(shared_transit_gateway, participant_only, True, id="fail_tgw_owner_not_collected"),
    pytest.param(shared_vpc, participant_and_owner_elsewhere, True, id="fail_owner_collected_in_another_region"),
    pytest.param(shared_vpc, SnapshotBuilder.build, False, id="pass_vpc_owner_collected"),
    pytest.param(shared_transit_gateway, SnapshotBuilder.build, False, id="pass_tgw_owner_collected"),
    pytest.param(lambda b: shared_transit_gateway(b, state="deleted"), participant_only, False,
                 id="pass_deleted_tgw"),
    pytest.param(own_vpc_only, participant_only, False, id="pass_participants_own_vpc"),
])
def test_aud002_shared_resource_owner_not_audited(arrange: Any, collect: Any, noted: bool) -> None:
    builder = SnapshotBuilder()
    expected = arrange(builder)

    findings = run_rule("AUD002", collect(builder))

    if not noted:
        assert findings == []
        return
    assert [(f.account_id, f.region, f.resource_type, f.resource_id, f.resource_arn, f.severity) for f in findings] \
        == [(OTHER_ACCOUNT, REGION, expected["type"], expected["resource"], expected["arn"], "info")]
    assert expected["fragment"] in findings[0].message
    assert f"{ACCOUNT}/{REGION} is not in the snapshot" in findings[0].message


@pytest.mark.parametrize(("region", "code", "says"), [
    (REGION, "OptInRequired", "the region was not read (ec2:Regions)"),
    ("global", "AccessDenied", "the account's enabled regions could not be listed (ec2:Regions)"),
])
def test_aud001_says_what_an_ec2_regions_error_means(region: str, code: str, says: str) -> None:
    builder = _builder_with_peering()
    builder.errors.append({"account_id": ACCOUNT, "region": region, "key": "ec2:Regions",
                           "operation": "DescribeRegions", "code": code, "message": "the collector's words"})

    findings = run_rule("AUD001", builder.build())

    assert [f.resource_id for f in findings] == ["ec2:Regions"]
    assert findings[0].message.startswith(f"{says} in {ACCOUNT}/{region} ({code}: the collector's words)")


@pytest.mark.parametrize(("account", "region", "says"), [
    pytest.param(ACCOUNT, REGION, "the worker process reading the region exited before it was done, so nothing in "
                 "it could be read", id="fail_a_region_of_one_account_split_between_workers"),
    pytest.param(ACCOUNT, "global", "the worker process reading the account's global keys exited before it was "
                 "done, so they could not be read", id="fail_the_global_keys_while_its_regions_were_read"),
    pytest.param(OTHER_ACCOUNT, "global", "the worker process reading the account exited before it was done, so "
                 "nothing could be read", id="fail_a_whole_account"),
])
def test_aud001_says_what_a_dead_worker_took(account: str, region: str, says: str) -> None:
    builder = _builder_with_peering()  # ACCOUNT's REGION is read; OTHER_ACCOUNT has nothing in the snapshot
    builder.errors.append({"account_id": account, "region": region, "key": "auditor:Worker",
                           "operation": "Collect", "code": "WorkerExited", "message": "the collector's words"})

    findings = run_rule("AUD001", builder.build())

    assert [(f.account_id, f.region, f.resource_id) for f in findings] == [(account, region, "auditor:Worker")]
    assert findings[0].message.startswith(f"{says} in {account}/{region} (WorkerExited: the collector's words)")
