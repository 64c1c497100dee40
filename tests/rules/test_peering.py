"""Peering rules: a table of failing and passing cases per rule, built with the snapshot factories."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any

import pytest

from auditor.engine import fingerprint, load_rules, run_audit
from auditor.index import Index
from tests.factories import ACCOUNT, NOW, OTHER_ACCOUNT, REGION, SnapshotBuilder, run_rule

OUTSIDE_VPC = "vpc-0fedcba9876543210"
OTHER_REGION = "eu-west-1"
REQUESTER_V6 = "2600:1f18:1:100::/56"
ACCEPTER_V6 = "2600:1f18:2:200::/56"
BOTH_ROUTED = (("requester", "subnet", "10.1.0.0/16"), ("accepter", "subnet", "10.0.0.0/16"))


@dataclass
class Peered:
    """Two peered VPCs, each with a subnet on its own route table, a main table and a table no subnet uses."""

    document: dict[str, Any]
    pcx: str
    names: dict[str, str]  # e.g. requester_vpc, accepter_subnet_table, accepter_main_table, accepter_subnet

    def ids(self, text: str) -> str:
        return text.format(**self.names)


def _peered(routes: tuple[tuple[str, str, str], ...] = BOTH_ROUTED, *, requester: dict | None = None,
            accepter: dict | None = None, status: str = "active", route_state: str = "active",
            expiration: str | None = None, accepter_outside: bool = False, accepter_elsewhere: bool = False,
            moto_shaped: bool = False) -> Peered:
    """routes: (side, table: subnet|main|unused, destination) entries, each pointing at the peering."""
    builder = SnapshotBuilder()
    specs = {"requester": {"cidr": "10.0.0.0/16", **(requester or {})},
             "accepter": {"cidr": "10.1.0.0/16", **(accepter or {})}}
    if accepter_elsewhere:
        builder.scope(OTHER_ACCOUNT, OTHER_REGION)
        specs["accepter"].update(account=OTHER_ACCOUNT, region=OTHER_REGION)
    names: dict[str, str] = {}
    for side, spec in specs.items():
        if side == "accepter" and accepter_outside:
            names["accepter_vpc"] = OUTSIDE_VPC
            continue
        where = {k: spec[k] for k in ("account", "region") if k in spec}
        vpc = builder.vpc(**spec)
        table = builder.route_table(vpc, **where)
        first_24 = next(ipaddress.ip_network(spec["cidr"]).subnets(new_prefix=24))
        names.update({f"{side}_vpc": vpc, f"{side}_subnet_table": table, f"{side}_main_table": builder.main_table(vpc),
                      f"{side}_unused_table": builder.route_table(vpc, **where),
                      f"{side}_subnet": builder.subnet(vpc, str(first_24), table=table, **where)})
    if accepter_outside:
        pcx = builder.peering(names["requester_vpc"], OUTSIDE_VPC, status=status, expiration=expiration,
                              accepter_account=OTHER_ACCOUNT, accepter_cidrs=(specs["accepter"]["cidr"],))
    else:
        pcx = builder.peering(names["requester_vpc"], names["accepter_vpc"], status=status, expiration=expiration)
    for side, table, destination in routes:
        builder.route(names[f"{side}_{table}_table"], destination, VpcPeeringConnectionId=pcx, state=route_state)
    document = builder.build()
    if moto_shaped:  # moto 5.2.5 gives only CidrBlock on each side of a peering
        for region in (r for a in document["accounts"].values() for r in a["regions"].values()):
            for item in region.get("ec2:VpcPeeringConnections", []):
                for info in (item["RequesterVpcInfo"], item["AccepterVpcInfo"]):
                    info.pop("CidrBlockSet", None)
                    info.pop("Ipv6CidrBlockSet", None)
    return Peered(document, pcx, names)


def _assert_findings(findings: list, peered: Peered, expected: list[tuple[str, str]]) -> None:
    """expected: (severity, message fragment with {name} placeholders), each matched by a different finding."""
    assert len(findings) == len(expected), [f.message for f in findings]
    assert all(finding.resource_id == peered.pcx for finding in findings)
    unmatched = list(findings)
    for severity, fragment in expected:
        match = next((f for f in unmatched if f.severity == severity and peered.ids(fragment) in f.message), None)
        assert match is not None, (severity, peered.ids(fragment), [(f.severity, f.message) for f in unmatched])
        unmatched.remove(match)


# PCX001 peering-missing-route

@pytest.mark.parametrize(("case", "expected"), [
    pytest.param({}, [], id="pass_both_sides_routed"),
    pytest.param(dict(routes=BOTH_ROUTED[:1]),
                 [("high", "on the accepter side no route table in use in {accepter_vpc}")],
                 id="fail_accepter_has_no_route"),
    pytest.param(dict(routes=()), [("high", "on the requester side"), ("high", "on the accepter side")],
                 id="fail_neither_side_routed"),
    pytest.param(dict(routes=(BOTH_ROUTED[0], ("accepter", "unused", "10.0.0.0/16"))),
                 [("high", "route tables no subnet uses do: {accepter_unused_table}")],
                 id="fail_route_only_in_table_no_subnet_uses"),
    pytest.param(dict(routes=(BOTH_ROUTED[0], ("accepter", "main", "10.0.0.0/16"))), [],
                 id="pass_route_in_main_table"),
    pytest.param(dict(routes=(("requester", "subnet", "10.2.0.0/16"), BOTH_ROUTED[1]),
                      accepter=dict(secondary=("10.2.0.0/16",))), [], id="pass_route_covers_only_secondary_cidr"),
    pytest.param(dict(routes=(("requester", "subnet", "10.1.0.0/24"), BOTH_ROUTED[1])), [],
                 id="pass_route_to_part_of_peer_cidr"),
    pytest.param(dict(routes=(("requester", "subnet", "192.168.0.0/16"), BOTH_ROUTED[1])),
                 [("high", "routes the peer {accepter_vpc}'s CIDRs (10.1.0.0/16)")],
                 id="fail_only_route_is_dead_destination"),
    pytest.param(dict(route_state="blackhole"), [("high", "on the requester side"), ("high", "on the accepter side")],
                 id="fail_only_blackhole_routes"),
    pytest.param(dict(routes=(), status="pending-acceptance"), [], id="pass_not_active"),
    pytest.param(dict(routes=BOTH_ROUTED[:1], accepter_outside=True),
                 [("info", "the accepter side {accepter_vpc} (444455556666, us-east-1) could not be checked")],
                 id="fail_accepter_outside_snapshot_is_info"),
    pytest.param(dict(routes=(("requester", "subnet", "10.2.0.0/16"), BOTH_ROUTED[1]), moto_shaped=True,
                      accepter=dict(secondary=("10.2.0.0/16",))), [],
                 id="pass_secondary_cidr_known_from_snapshot_when_cidr_set_missing"),
])
def test_pcx001_peering_missing_route(case: dict, expected: list) -> None:
    peered = _peered(**case)

    findings = run_rule("PCX001", peered.document)

    _assert_findings(findings, peered, expected)


def test_pcx001_finding_lands_in_the_side_that_lacks_the_route_once() -> None:
    peered = _peered(routes=BOTH_ROUTED[:1], accepter_elsewhere=True)

    findings = run_rule("PCX001", peered.document)

    assert [(f.account_id, f.region, f.severity) for f in findings] == [(OTHER_ACCOUNT, OTHER_REGION, "high")]
    assert findings[0].id == fingerprint("PCX001", OTHER_ACCOUNT, OTHER_REGION, findings[0].resource_arn, "accepter")
    assert peered.names["accepter_subnet_table"] in findings[0].message


def test_pcx001_silent_where_route_tables_could_not_be_read() -> None:
    peered = _peered(routes=())
    peered.document["accounts"][ACCOUNT]["regions"][REGION].pop("ec2:RouteTables")
    peered.document["errors"].append({"account_id": ACCOUNT, "region": REGION, "key": "ec2:RouteTables",
                                      "operation": "DescribeRouteTables", "code": "UnauthorizedOperation",
                                      "message": "denied"})

    findings = run_rule("PCX001", peered.document)

    assert findings == []


# PCX002 peering-route-partial

SECONDARY = dict(accepter=dict(secondary=("10.2.0.0/16",)))
DUAL_STACK = dict(requester=dict(ipv6=(REQUESTER_V6,)), accepter=dict(ipv6=(ACCEPTER_V6,)))


@pytest.mark.parametrize(("case", "expected"), [
    pytest.param({}, [], id="pass_every_subnet_routes_every_cidr"),
    pytest.param(dict(routes=BOTH_ROUTED, **SECONDARY),
                 [("medium", "{requester_subnet_table} (subnets {requester_subnet}) does not route 10.2.0.0/16")],
                 id="fail_secondary_cidr_not_routed"),
    pytest.param(dict(routes=(("requester", "subnet", "10.2.0.0/16"), BOTH_ROUTED[1]), **SECONDARY),
                 [("medium", "does not route 10.1.0.0/16")], id="fail_only_secondary_cidr_routed"),
    pytest.param(dict(routes=(*BOTH_ROUTED, ("requester", "subnet", "10.2.0.0/16")), **SECONDARY), [],
                 id="pass_secondary_cidr_routed_too"),
    pytest.param(dict(routes=(BOTH_ROUTED[0], ("accepter", "main", "10.0.0.0/16"))),
                 [("medium", "{accepter_subnet_table} (subnets {accepter_subnet}) has no route to it")],
                 id="fail_route_in_main_table_but_subnet_table_lacks_it"),
    pytest.param(dict(routes=(*BOTH_ROUTED, ("accepter", "subnet", REQUESTER_V6)), **DUAL_STACK),
                 [("medium", f"does not route {ACCEPTER_V6}")], id="fail_ipv6_cidr_unrouted"),
    pytest.param(dict(routes=(*BOTH_ROUTED, ("accepter", "subnet", REQUESTER_V6),
                              ("requester", "subnet", ACCEPTER_V6)), **DUAL_STACK), [], id="pass_ipv6_routed"),
    pytest.param(dict(accepter=dict(ipv6=(ACCEPTER_V6,))), [], id="pass_peer_ipv6_when_side_has_no_ipv6"),
    pytest.param(dict(routes=BOTH_ROUTED[:1]), [], id="pass_no_route_at_all_is_pcx001"),
    pytest.param(dict(routes=BOTH_ROUTED, status="pending-acceptance", **SECONDARY), [], id="pass_not_active"),
])
def test_pcx002_peering_route_partial(case: dict, expected: list) -> None:
    peered = _peered(**case)

    findings = run_rule("PCX002", peered.document)

    _assert_findings(findings, peered, expected)


# PCX004 peering-route-too-broad and PCX005 peering-route-dead-destination: one route on the requester side

def _with_route(destination: str, **case: Any) -> dict:
    return dict(routes=(("requester", "subnet", destination), BOTH_ROUTED[1]), **case)


WIDE_PEER = dict(accepter=dict(cidr="10.8.0.0/16"))


@pytest.mark.parametrize(("case", "expected"), [
    pytest.param({}, [], id="pass_exact_peer_cidr"),
    pytest.param(_with_route("10.1.0.0/24"), [], id="pass_strict_subnet_of_peer_cidr"),
    pytest.param(_with_route("0.0.0.0/0"), [("medium", "sends 0.0.0.0/0 to peering")], id="fail_ipv4_default_route"),
    pytest.param(_with_route("::/0"), [("medium", "sends ::/0 to peering")], id="fail_ipv6_default_route"),
    pytest.param(_with_route("10.8.0.0/13", **WIDE_PEER),
                 [("medium", "{requester_subnet_table} in {requester_vpc} sends 10.8.0.0/13")],
                 id="fail_strict_supernet_of_peer_cidr"),
    pytest.param(_with_route("10.8.0.0/15", accepter=dict(cidr="10.8.0.0/16", secondary=("10.9.0.0/16",))), [],
                 id="pass_supernet_equal_to_union_of_peer_cidrs"),
    pytest.param(_with_route("10.8.0.0/14", accepter=dict(cidr="10.8.0.0/16", secondary=("10.10.0.0/16",))),
                 [("medium", "wider than the peer {accepter_vpc}'s CIDRs (10.8.0.0/16, 10.10.0.0/16)")],
                 id="fail_supernet_of_peer_cidrs_with_gap"),
    pytest.param(_with_route("192.168.0.0/16"), [], id="pass_dead_destination_is_pcx005"),
    pytest.param(_with_route("0.0.0.0/0", status="deleted"), [], id="pass_peering_gone_is_pcx006"),
])
def test_pcx004_peering_route_too_broad(case: dict, expected: list) -> None:
    peered = _peered(**case)

    findings = run_rule("PCX004", peered.document)

    _assert_findings(findings, peered, expected)
    for finding in findings:
        assert peered.names["requester_subnet_table"] in finding.related_resources


def test_pcx004_one_finding_per_route_table_and_destination() -> None:
    peered = _peered(routes=(("requester", "subnet", "0.0.0.0/0"), ("requester", "main", "0.0.0.0/0"),
                             ("requester", "subnet", "::/0"), BOTH_ROUTED[1]))

    findings = run_rule("PCX004", peered.document)

    tables = {peered.names["requester_subnet_table"], peered.names["requester_main_table"]}
    assert len(findings) == 3
    assert len({f.id for f in findings}) == 3
    assert all(f.resource_id == peered.pcx and f.severity == "medium" for f in findings)
    assert all(set(f.related_resources) & tables for f in findings)
    assert all("wider than the peer" in f.message for f in findings)


@pytest.mark.parametrize(("case", "expected"), [
    pytest.param({}, [], id="pass_exact_peer_cidr"),
    pytest.param(_with_route("10.1.0.0/24"), [], id="pass_strict_subnet_of_peer_cidr"),
    pytest.param(_with_route("10.8.0.0/13", **WIDE_PEER), [], id="pass_supernet_is_pcx004"),
    pytest.param(_with_route("0.0.0.0/0"), [], id="pass_default_route_is_pcx004"),
    pytest.param(_with_route("10.2.0.0/16", **SECONDARY), [], id="pass_secondary_cidr"),
    pytest.param(_with_route("192.168.0.0/16"),
                 [("low", "{requester_subnet_table} in {requester_vpc} sends 192.168.0.0/16 to peering")],
                 id="fail_destination_outside_peer"),
    pytest.param(_with_route("2600:1f18:9::/56"), [("low", "has no address there (its CIDRs: 10.1.0.0/16)")],
                 id="fail_ipv6_destination_peer_without_ipv6"),
    pytest.param(_with_route(ACCEPTER_V6, **DUAL_STACK), [], id="pass_ipv6_destination_in_peer"),
    pytest.param(_with_route("192.168.0.0/16", status="deleted"), [], id="pass_peering_gone_is_pcx006"),
])
def test_pcx005_peering_route_dead_destination(case: dict, expected: list) -> None:
    peered = _peered(**case)

    findings = run_rule("PCX005", peered.document)

    _assert_findings(findings, peered, expected)


# PCX006 peering-not-active

def _expires_in(days: float) -> str:
    return (NOW + dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(("case", "options", "expected"), [
    pytest.param({}, None, [], id="pass_active"),
    pytest.param(dict(routes=(), status="pending-acceptance", expiration=_expires_in(5)), None, [],
                 id="pass_pending_younger_than_limit"),
    pytest.param(dict(routes=(), status="pending-acceptance", expiration=_expires_in(4)), None, [],
                 id="pass_pending_for_exactly_the_limit"),
    pytest.param(dict(routes=(), status="pending-acceptance", expiration=_expires_in(3)), None,
                 [("low", "has been pending acceptance for 4 days (requested about 2026-11-22, expires 2026-11-29), "
                          "more than the 3 days allowed")], id="fail_pending_longer_than_default"),
    pytest.param(dict(routes=(), status="pending-acceptance", expiration=_expires_in(5)), {"max_pending_days": 1},
                 [("low", "has been pending acceptance for 2 days")], id="fail_pending_longer_than_option"),
    pytest.param(dict(routes=(), status="pending-acceptance", expiration=_expires_in(-1)), None,
                 [("low", "from {requester_vpc} (111122223333, us-east-1) to {accepter_vpc}")],
                 id="fail_pending_past_expiry"),
    pytest.param(dict(routes=(), status="pending-acceptance"), {"max_pending_days": 0}, [],
                 id="pass_pending_age_unknown"),
    pytest.param(dict(routes=(), status="deleted"), None, [], id="pass_deleted_no_routes_left"),
    pytest.param(dict(routes=BOTH_ROUTED[:1], status="deleted", route_state="blackhole"), None,
                 [("low", "is deleted but route tables of {requester_vpc} on the requester side still send "
                          "traffic for {accepter_vpc} to it: {requester_subnet_table} (10.1.0.0/16)")],
                 id="fail_blackhole_route_to_deleted_peering"),
    pytest.param(dict(status="expired", route_state="blackhole"), None,
                 [("low", "on the requester side"), ("low", "on the accepter side")],
                 id="fail_routes_on_both_sides_of_expired_peering"),
])
def test_pcx006_peering_not_active(case: dict, options: dict | None, expected: list) -> None:
    peered = _peered(**case)

    findings = run_rule("PCX006", peered.document, options=options)

    _assert_findings(findings, peered, expected)


def test_pcx006_age_is_the_age_when_the_snapshot_was_collected() -> None:
    peered = _peered(routes=(), status="pending-acceptance", expiration=_expires_in(5))  # 2 days old when collected
    undated = {key: value for key, value in peered.document.items() if key != "collected_at"}
    month_later = NOW + dt.timedelta(days=30)

    judged = {name: [f.message for f in run_audit(Index(document), now=month_later, rules=[load_rules()["PCX006"]])
                     .findings]
              for name, document in (("dated", peered.document), ("undated", undated))}

    assert judged["dated"] == []  # audited a month on, the snapshot still shows a request 2 days old
    assert len(judged["undated"]) == 1 and "pending acceptance for 32 days" in judged["undated"][0]


# PCX007 peering-cidr-overlap

@pytest.mark.parametrize(("case", "expected"), [
    pytest.param({}, [], id="pass_disjoint_cidrs"),
    pytest.param(dict(accepter=dict(cidr="10.0.0.0/16")),
                 [("high", "whose CIDRs overlap: 10.0.0.0/16 and 10.0.0.0/16")], id="fail_same_primary_cidr"),
    pytest.param(dict(accepter=dict(secondary=("10.0.128.0/20",))), [("high", "10.0.0.0/16 and 10.0.128.0/20")],
                 id="fail_secondary_cidr_inside_peer"),
    pytest.param(dict(requester=dict(cidr="10.0.0.0/16"), accepter=dict(cidr="10.0.0.0/17"), status="failed"), [],
                 id="pass_failed_peering"),
    pytest.param(dict(routes=(), accepter=dict(cidr="10.0.0.0/20"), accepter_outside=True),
                 [("high", "and {accepter_vpc} (444455556666, us-east-1), whose CIDRs overlap")],
                 id="fail_overlap_with_account_outside_snapshot"),
    pytest.param(dict(requester=dict(ipv6=(ACCEPTER_V6,)), accepter=dict(ipv6=(ACCEPTER_V6,))), [],
                 id="pass_ipv6_is_not_compared"),
])
def test_pcx007_peering_cidr_overlap(case: dict, expected: list) -> None:
    peered = _peered(**case)

    findings = run_rule("PCX007", peered.document)

    _assert_findings(findings, peered, expected)


# PCX008 peering-untrusted-account

OUTSIDE = dict(routes=(), accepter_outside=True)


@pytest.mark.parametrize(("case", "trusted", "expected"), [
    pytest.param({}, (), [], id="pass_same_account"),
    pytest.param(dict(accepter_elsewhere=True), (), [], id="pass_both_accounts_in_snapshot"),
    pytest.param(OUTSIDE, (),
                 [("high", "the accepter account 444455556666 is not a trusted account")],
                 id="fail_account_outside_snapshot"),
    pytest.param(OUTSIDE, (OTHER_ACCOUNT,), [], id="pass_account_outside_snapshot_trusted"),
    pytest.param(dict(OUTSIDE, status="pending-acceptance"), (), [("high", "(pending-acceptance)")],
                 id="fail_pending_request_to_untrusted_account"),
    pytest.param(dict(OUTSIDE, status="deleted"), (), [], id="pass_deleted"),
    pytest.param(dict(OUTSIDE, status="rejected"), (), [], id="pass_rejected"),
])
def test_pcx008_peering_untrusted_account(case: dict, trusted: tuple[str, ...], expected: list) -> None:
    peered = _peered(**case)

    findings = run_rule("PCX008", peered.document, trusted=trusted)

    _assert_findings(findings, peered, expected)
    assert all((f.account_id, f.region) == (ACCOUNT, REGION) for f in findings)


# PCX003 peering-dns-resolution-disabled

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


# Found by a review on 2026-11-27.

def _two_vpcs_peered() -> tuple[SnapshotBuilder, str, str, str, str]:
    """(builder, requester table, accepter table, peering, accepter VPC): each VPC's one subnet on its own table,
    and the accepter routing the requester's CIDR back."""
    builder = SnapshotBuilder()
    requester, accepter = builder.vpc("10.0.0.0/16"), builder.vpc("10.1.0.0/16")
    requester_table, accepter_table = builder.route_table(requester), builder.route_table(accepter)
    builder.subnet(requester, "10.0.1.0/24", table=requester_table)
    builder.subnet(accepter, "10.1.1.0/24", table=accepter_table)
    pcx = builder.peering(requester, accepter)
    builder.route(accepter_table, "10.0.0.0/16", VpcPeeringConnectionId=pcx)
    return builder, requester_table, accepter_table, pcx, accepter


@pytest.mark.parametrize("unread", ["the key", "that prefix list"])
def test_pcx001_and_pcx002_do_not_judge_a_route_to_a_prefix_list_whose_entries_were_not_read(unread: str) -> None:
    builder, requester_table, _, pcx, _ = _two_vpcs_peered()
    builder.route(requester_table, "pl-0123456789abcdef0", VpcPeeringConnectionId=pcx)
    builder.error("ec2:ManagedPrefixListEntries",
                  resource_id="pl-0123456789abcdef0" if unread == "that prefix list" else None)
    document = builder.build()

    # It was a high "no route" finding: a route is there, what it holds is unknown (AUD001 says so).
    assert run_rule("PCX001", document) == []
    assert run_rule("PCX002", document) == []


def test_pcx005_does_not_judge_a_route_when_the_peers_cidrs_are_unknown() -> None:
    builder = SnapshotBuilder()
    vpc = builder.vpc("10.0.0.0/16")
    table = builder.route_table(vpc)
    builder.subnet(vpc, "10.0.1.0/24", table=table)
    pcx = builder.peering(vpc, "vpc-0fedcba9876543210", status="pending-acceptance", accepter_account=OTHER_ACCOUNT,
                          expiration="2026-12-01T00:00:00Z")
    accepter = builder.find("ec2:VpcPeeringConnections", "VpcPeeringConnectionId", pcx)["AccepterVpcInfo"]
    for field in ("CidrBlock", "CidrBlockSet", "PeeringOptions"):  # the API gives them once the peering is active
        accepter.pop(field, None)
    builder.route(table, "10.1.0.0/16", VpcPeeringConnectionId=pcx, state="blackhole")
    document = builder.build()

    assert run_rule("PCX005", document, trusted=(OTHER_ACCOUNT,)) == []
    # Nor is the route, a blackhole until the request is accepted, one whose target "no longer exists".
    assert run_rule("RTB001", document, trusted=(OTHER_ACCOUNT,)) == []


@pytest.mark.parametrize(("summary", "too_broad"), [
    pytest.param("10.0.0.0/15", False, id="pass_summary_of_both_vpcs"),  # the local route wins for 10.0.0.0/16
    pytest.param("10.0.0.0/14", True, id="fail_summary_of_both_and_more"),
])
def test_pcx004_a_summary_of_the_peer_and_the_vpc_itself_is_not_too_broad(summary: str, too_broad: bool) -> None:
    builder, requester_table, _, pcx, _ = _two_vpcs_peered()
    builder.route(requester_table, summary, VpcPeeringConnectionId=pcx)

    findings = run_rule("PCX004", builder.build())

    assert [f.message.split(" sends ")[1].split(" ")[0] for f in findings] == ([summary] if too_broad else [])


@pytest.mark.parametrize(("more_specific", "expected"), [
    pytest.param(("10.1.0.0/17", "10.1.128.0/17"),
                 [("PCX001", "are overridden: more specific routes send the peer's addresses elsewhere")],
                 id="fail_every_address_overridden"),
    pytest.param(("10.1.0.0/17",), [], id="pass_part_still_routed"),  # the route still carries 10.1.128.0/17
    pytest.param((), [], id="pass_nothing_more_specific"),
])
def test_pcx001_the_longest_prefix_wins_over_a_route_to_the_peering(more_specific: tuple[str, ...],
                                                                   expected: list[tuple[str, str]]) -> None:
    builder, requester_table, _, pcx, _ = _two_vpcs_peered()
    builder.route(requester_table, "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    for cidr in more_specific:
        builder.route(requester_table, cidr, TransitGatewayId="tgw-0123456789abcdef0")

    findings = run_rule("PCX001", builder.build())

    assert [(f.rule_id, fragment) for f in findings for _, fragment in expected if fragment in f.message] == expected
    assert len(findings) == len(expected)


def test_pcx001_a_summary_route_to_the_peering_under_a_more_specific_blackhole_carries_nothing() -> None:
    builder, requester_table, _, pcx, _ = _two_vpcs_peered()
    builder.route(requester_table, "10.0.0.0/8", VpcPeeringConnectionId=pcx)
    builder.route(requester_table, "10.1.0.0/16", state="blackhole", NatGatewayId="nat-0123456789abcdef0")

    findings = run_rule("PCX001", builder.build())

    assert [f.severity for f in findings] == ["high"]
