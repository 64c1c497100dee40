"""VPN rules: a table of failing and passing cases per rule, built with the snapshot factories.

Each case arranges a snapshot and returns the names it made: `found` lists the resources the rule must
report (empty for a passing case), and the other names fill the case's expected message fragment. Tunnel
options and telemetry are snapshot fragments shaped like DescribeVpnConnections (moto models neither).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import OTHER_ACCOUNT, SnapshotBuilder, run_rule
from tests.rules.hybrid_factories_vpn_tgw import (
    OUTSIDE_ADDRESSES,
    customer_gateway,
    propagate_vgw,
    tunnel,
    values,
    vpn_connection,
    vpn_gateway,
    vpn_item,
)
from tests.rules.test_routes import Case, run_case

FIRST, SECOND = OUTSIDE_ADDRESSES


def vpn_to_vpc(b: SnapshotBuilder, vpc: str, **connection: Any) -> tuple[str, str]:
    """An attached virtual private gateway with a VPN connection on it: (vgw, vpn)."""
    vgw = vpn_gateway(b, vpc)
    return vgw, vpn_connection(b, customer_gateway(b), vgw=vgw, **connection)


def one_connection(b: SnapshotBuilder, **connection: Any) -> str:
    return vpn_connection(b, customer_gateway(b), vgw=vpn_gateway(b, b.vpc()), **connection)


# VPN001 vgw-detached

def fail_never_attached(b: SnapshotBuilder) -> dict[str, Any]:
    vgw = vpn_gateway(b)
    return {"found": [vgw], "vgw": vgw}


def fail_detached_with_connection(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    vgw = vpn_gateway(b, vpc, attachment_state="detached")
    vpn = vpn_connection(b, customer_gateway(b), vgw=vgw)
    return {"found": [vgw], "vgw": vgw, "vpc": vpc, "vpn": vpn}


def pass_attached(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_gateway(b, b.vpc())
    return {"found": []}


def pass_attaching(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_gateway(b, b.vpc(), attachment_state="attaching")
    return {"found": []}


def pass_gateway_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_gateway(b, state="deleted")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_never_attached, "virtual private gateway {vgw} (ASN 64512) is attached to no VPC",
                 id="fail_never_attached"),
    pytest.param(fail_detached_with_connection, "virtual private gateway {vgw} (ASN 64512) is attached to no VPC "
                 "(formerly {vpc}); its VPN connections {vpn} carry nothing", id="fail_detached_with_connection"),
    pytest.param(pass_attached, "", id="pass_attached"),
    pytest.param(pass_attaching, "", id="pass_attaching"),
    pytest.param(pass_gateway_deleted, "", id="pass_gateway_deleted"),
])
def test_vpn001_vgw_detached(arrange: Case, fragment: str) -> None:
    run_case("VPN001", arrange, "low", fragment)


# VPN002 vpn-tunnel-down

def fail_both_tunnels_down(b: SnapshotBuilder) -> dict[str, Any]:
    vpn = one_connection(b, statuses=(("DOWN", "IPSEC IS DOWN"), ("DOWN", "IPSEC IS DOWN")))
    return {"found": [vpn], "vpn": vpn}


def fail_one_tunnel_down(b: SnapshotBuilder) -> dict[str, Any]:
    vpn = one_connection(b, statuses=(("UP", "2 BGP ROUTES"), ("DOWN", "IPSEC IS DOWN")))
    return {"found": [vpn], "vpn": vpn}


def fail_tunnel_down_on_transit_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    vpn = vpn_connection(b, customer_gateway(b), tgw="tgw-0123456789abcdef0",
                         statuses=(("DOWN", "IPSEC IS DOWN"), ("UP", "")))
    return {"found": [vpn], "vpn": vpn}


def pass_both_up(b: SnapshotBuilder) -> dict[str, Any]:
    one_connection(b)
    return {"found": []}


def pass_down_while_pending(b: SnapshotBuilder) -> dict[str, Any]:
    one_connection(b, state="pending", statuses=(("DOWN", "IPSEC IS DOWN"), ("DOWN", "IPSEC IS DOWN")))
    return {"found": []}


def pass_down_when_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    one_connection(b, state="deleted", statuses=(("DOWN", "IPSEC IS DOWN"), ("DOWN", "IPSEC IS DOWN")))
    return {"found": []}


def pass_no_telemetry(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_item(b, one_connection(b)).pop("VgwTelemetry")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    pytest.param(fail_both_tunnels_down, "high",
                 "VPN connection {vpn} (vgw-", id="fail_both_tunnels_down"),
    pytest.param(fail_both_tunnels_down, "high",
                 f"at 203.0.113.10): every tunnel is down, so the customer network is cut off: tunnel {FIRST} is "
                 f"DOWN since 2026-11-25T08:00:00Z: IPSEC IS DOWN; tunnel {SECOND} is DOWN since 2026-11-25T08:00:00Z: "
                 "IPSEC IS DOWN", id="fail_both_tunnels_down_names_them"),
    pytest.param(fail_one_tunnel_down, "medium",
                 f"): 1 of its 2 tunnels is down, so no redundancy is left: tunnel {SECOND} is DOWN since "
                 "2026-11-25T08:00:00Z: IPSEC IS DOWN", id="fail_one_tunnel_down"),
    pytest.param(fail_tunnel_down_on_transit_gateway, "medium", "(tgw-0123456789abcdef0 to customer gateway",
                 id="fail_tunnel_down_on_transit_gateway"),
    pytest.param(pass_both_up, "high", "", id="pass_both_up"),
    pytest.param(pass_down_while_pending, "high", "", id="pass_down_while_pending"),
    pytest.param(pass_down_when_deleted, "high", "", id="pass_down_when_deleted"),
    pytest.param(pass_no_telemetry, "high", "", id="pass_no_telemetry"),
])
def test_vpn002_vpn_tunnel_down(arrange: Case, severity: str, fragment: str) -> None:
    run_case("VPN002", arrange, severity, fragment)


def test_vpn002_one_tunnel_down_names_only_that_tunnel() -> None:
    builder = SnapshotBuilder()
    one_connection(builder, statuses=(("UP", "2 BGP ROUTES"), ("DOWN", "IPSEC IS DOWN")))

    findings = run_rule("VPN002", builder.build())

    assert len(findings) == 1
    assert f"tunnel {SECOND} is DOWN" in findings[0].message
    assert FIRST not in findings[0].message
    assert [t["Status"] for t in findings[0].evidence["VgwTelemetry"]] == ["UP", "DOWN"]


# VPN003 vpn-routes-missing

def fail_no_route_to_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    subnet = b.subnet(vpc, "10.0.1.0/24")
    vgw, vpn = vpn_to_vpc(b, vpc)
    return {"found": [vpc], "vpc": vpc, "vgw": vgw, "vpn": vpn, "table": b.main_table(vpc), "subnet": subnet}


def fail_static_route_only_in_main_table(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table = b.route_table(vpc)
    subnet = b.subnet(vpc, "10.0.1.0/24", table=table)
    vgw, _ = vpn_to_vpc(b, vpc)
    b.route(b.main_table(vpc), "192.168.0.0/16", GatewayId=vgw)
    return {"found": [vpc], "vpc": vpc, "table": table, "subnet": subnet}


def fail_only_route_is_blackhole(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    vgw, _ = vpn_to_vpc(b, vpc)
    b.route(b.main_table(vpc), "192.168.0.0/16", state="blackhole", GatewayId=vgw)
    return {"found": [vpc], "table": b.main_table(vpc)}


def fail_propagating_another_gateway(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    vpn_to_vpc(b, vpc)
    propagate_vgw(b, b.main_table(vpc), "vgw-0123456789abcdef0")
    return {"found": [vpc], "table": b.main_table(vpc)}


def pass_propagation_on(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.subnet(vpc, "10.0.1.0/24")
    vgw, _ = vpn_to_vpc(b, vpc)
    propagate_vgw(b, b.main_table(vpc), vgw)
    return {"found": []}


def pass_propagation_on_before_routes_arrive(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    vgw, _ = vpn_to_vpc(b, vpc)
    propagate_vgw(b, b.main_table(vpc), vgw, networks=())
    return {"found": []}


def pass_propagated_route_only(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    vgw, _ = vpn_to_vpc(b, vpc)
    b.route(b.main_table(vpc), "192.168.0.0/16", GatewayId=vgw, Origin="EnableVgwRoutePropagation")
    return {"found": []}


def pass_static_route_in_each_used_table(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    table = b.route_table(vpc)
    b.subnet(vpc, "10.0.1.0/24", table=table)
    vgw, _ = vpn_to_vpc(b, vpc)
    b.route(table, "192.168.0.0/16", GatewayId=vgw)
    return {"found": []}  # the main table is used by no subnet


def pass_connection_pending(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_to_vpc(b, b.vpc(), state="pending")
    return {"found": []}


def pass_connection_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_to_vpc(b, b.vpc(), state="deleted")
    return {"found": []}


def pass_gateway_detached(b: SnapshotBuilder) -> dict[str, Any]:
    vgw = vpn_gateway(b, b.vpc(), attachment_state="detached")
    vpn_connection(b, customer_gateway(b), vgw=vgw)
    return {"found": []}


def pass_vpc_shared_by_another_account(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.vpc_item(vpc)["OwnerId"] = OTHER_ACCOUNT
    vpn_to_vpc(b, vpc)
    return {"found": []}


def _static(b: SnapshotBuilder, vpn: str, routes: tuple[str, ...] = ()) -> None:
    connection = vpn_item(b, vpn)
    connection["Options"]["StaticRoutesOnly"] = True
    connection["Routes"] = [{"DestinationCidrBlock": cidr, "Source": "Static", "State": "available"} for cidr in routes]


def fail_propagation_from_a_static_connection_without_routes(b: SnapshotBuilder) -> dict[str, Any]:
    # Found by a review on 2026-11-27: propagation on counted as routed, though it had nothing to bring.
    vpc = b.vpc()
    b.subnet(vpc, "10.0.1.0/24")
    vgw, vpn = vpn_to_vpc(b, vpc)
    _static(b, vpn)
    propagate_vgw(b, b.main_table(vpc), vgw, networks=())
    return {"found": [vpc], "table": b.main_table(vpc)}


def pass_propagation_from_a_static_connection_with_routes(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.subnet(vpc, "10.0.1.0/24")
    vgw, vpn = vpn_to_vpc(b, vpc)
    _static(b, vpn, ("192.168.0.0/16",))
    propagate_vgw(b, b.main_table(vpc), vgw)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_propagation_from_a_static_connection_without_routes, "neither propagate nor route anything to "
                 "it (the connections are static and have no routes, so propagation brings none): route table "
                 "{table}", id="fail_propagation_from_a_static_connection_without_routes"),
    pytest.param(pass_propagation_from_a_static_connection_with_routes, "",
                 id="pass_propagation_from_a_static_connection_with_routes"),
    pytest.param(fail_no_route_to_gateway, "VPC {vpc} has virtual private gateway {vgw} attached with available VPN "
                 "connection(s) {vpn}, but these route tables neither propagate nor route anything to it: route table "
                 "{table} ({vpc}, main table, used by {subnet}); their subnets cannot reach the customer network",
                 id="fail_no_route_to_gateway"),
    pytest.param(fail_static_route_only_in_main_table, "route anything to it: route table {table} ({vpc}, used by "
                 "{subnet}); their subnets", id="fail_static_route_only_in_main_table"),
    pytest.param(fail_only_route_is_blackhole, "route table {table}", id="fail_only_route_is_blackhole"),
    pytest.param(fail_propagating_another_gateway, "route table {table}", id="fail_propagating_another_gateway"),
    pytest.param(pass_propagation_on, "", id="pass_propagation_on"),
    pytest.param(pass_propagation_on_before_routes_arrive, "", id="pass_propagation_on_before_routes_arrive"),
    pytest.param(pass_propagated_route_only, "", id="pass_propagated_route_only"),
    pytest.param(pass_static_route_in_each_used_table, "", id="pass_static_route_in_each_used_table"),
    pytest.param(pass_connection_pending, "", id="pass_connection_pending"),
    pytest.param(pass_connection_deleted, "", id="pass_connection_deleted"),
    pytest.param(pass_gateway_detached, "", id="pass_gateway_detached"),
    pytest.param(pass_vpc_shared_by_another_account, "", id="pass_vpc_shared_by_another_account"),
])
def test_vpn003_vpn_routes_missing(arrange: Case, fragment: str) -> None:
    run_case("VPN003", arrange, "high", fragment)


def test_vpn003_not_judged_where_route_tables_could_not_be_read() -> None:
    builder = SnapshotBuilder()
    vpn_to_vpc(builder, builder.vpc())
    builder.error("ec2:RouteTables")

    findings = run_rule("VPN003", builder.build())

    assert findings == []


# VPN004 vpn-tunnel-logging-disabled

def fail_one_tunnel_not_logged(b: SnapshotBuilder) -> dict[str, Any]:
    vpn = one_connection(b, tunnels=[tunnel(FIRST, "169.254.10.0/30"),
                                     tunnel(SECOND, "169.254.11.0/30", logging=False)])
    return {"found": [vpn], "vpn": vpn}


def fail_no_log_options(b: SnapshotBuilder) -> dict[str, Any]:
    plain = [tunnel(FIRST), tunnel(SECOND)]
    for item in plain:
        item.pop("LogOptions")
    return {"found": [one_connection(b, tunnels=plain)]}


def pass_both_logged(b: SnapshotBuilder) -> dict[str, Any]:
    one_connection(b)
    return {"found": []}


def pass_no_tunnel_options(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_item(b, one_connection(b)).pop("Options")  # as moto returns it: nothing to judge
    return {"found": []}


def pass_not_logged_but_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    one_connection(b, state="deleted", tunnels=[tunnel(FIRST, logging=False), tunnel(SECOND, logging=False)])
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_one_tunnel_not_logged, "VPN connection {vpn} (vgw-", id="fail_one_tunnel_not_logged"),
    pytest.param(fail_one_tunnel_not_logged, f"does not log 1 of its 2 tunnels: tunnel {SECOND}, inside "
                 "169.254.11.0/30", id="fail_one_tunnel_not_logged_names_it"),
    pytest.param(fail_no_log_options, f"does not log 2 of its 2 tunnels: tunnel {FIRST}", id="fail_no_log_options"),
    pytest.param(pass_both_logged, "", id="pass_both_logged"),
    pytest.param(pass_no_tunnel_options, "", id="pass_no_tunnel_options"),
    pytest.param(pass_not_logged_but_deleted, "", id="pass_not_logged_but_deleted"),
])
def test_vpn004_vpn_tunnel_logging_disabled(arrange: Case, fragment: str) -> None:
    run_case("VPN004", arrange, "low", fragment)


# VPN005 vpn-weak-tunnel-options

DEFAULTED = {field: [] for field in ("IkeVersions", "Phase1EncryptionAlgorithms", "Phase2EncryptionAlgorithms",
                                     "Phase1IntegrityAlgorithms", "Phase2IntegrityAlgorithms",
                                     "Phase1DHGroupNumbers", "Phase2DHGroupNumbers")}


def fail_default_options(b: SnapshotBuilder) -> dict[str, Any]:
    return {"found": [one_connection(b, tunnels=[tunnel(FIRST, **DEFAULTED), tunnel(SECOND, **DEFAULTED)])]}


def fail_options_absent(b: SnapshotBuilder) -> dict[str, Any]:
    bare = [tunnel(FIRST), tunnel(SECOND)]
    for item in bare:
        for field in DEFAULTED:
            item.pop(field)
    return {"found": [one_connection(b, tunnels=bare)]}


def fail_ikev1_on_one_tunnel(b: SnapshotBuilder) -> dict[str, Any]:
    weak = tunnel(FIRST, IkeVersions=values("ikev1", "ikev2"))
    return {"found": [one_connection(b, tunnels=[weak, tunnel(SECOND)])]}


def fail_sha1_and_group_2(b: SnapshotBuilder) -> dict[str, Any]:
    weak = tunnel(SECOND, Phase2IntegrityAlgorithms=values("SHA1", "SHA2-256"), Phase1DHGroupNumbers=values(2, 14))
    return {"found": [one_connection(b, tunnels=[tunnel(FIRST), weak])]}


def fail_group_22(b: SnapshotBuilder) -> dict[str, Any]:
    weak = tunnel(FIRST, Phase2DHGroupNumbers=values(22))
    return {"found": [one_connection(b, tunnels=[weak, tunnel(SECOND)])]}


def pass_strong_explicit_options(b: SnapshotBuilder) -> dict[str, Any]:
    strong = {"Phase1EncryptionAlgorithms": values("AES128", "AES256"), "Phase2DHGroupNumbers": values(19, 20, 21, 24),
              "Phase1IntegrityAlgorithms": values("SHA2-384", "SHA2-512")}
    one_connection(b, tunnels=[tunnel(FIRST, **strong), tunnel(SECOND)])
    return {"found": []}


def pass_default_options_but_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    one_connection(b, state="deleted", tunnels=[tunnel(FIRST, **DEFAULTED), tunnel(SECOND, **DEFAULTED)])
    return {"found": []}


def pass_tunnel_options_not_returned(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_item(b, one_connection(b))["Options"].pop("TunnelOptions")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_default_options, f"allows weak tunnel options: tunnels {FIRST} and {SECOND} allow IKE versions "
                 "ikev1 (none set: AWS default list), phase 1 integrity SHA1 (none set: AWS default list), phase 2 "
                 "integrity SHA1 (none set: AWS default list), phase 1 DH groups 2/22 (none set: AWS default list), "
                 "phase 2 DH groups 2/5/22 (none set: AWS default list)", id="fail_default_options"),
    pytest.param(fail_options_absent, "IKE versions ikev1 (none set: AWS default list)", id="fail_options_absent"),
    pytest.param(fail_ikev1_on_one_tunnel, f"allows weak tunnel options: tunnel {FIRST} allows IKE versions ikev1",
                 id="fail_ikev1_on_one_tunnel"),
    pytest.param(fail_sha1_and_group_2, f"tunnel {SECOND} allows phase 2 integrity SHA1, phase 1 DH groups 2",
                 id="fail_sha1_and_group_2"),
    pytest.param(fail_group_22, "phase 2 DH groups 22", id="fail_group_22"),
    pytest.param(pass_strong_explicit_options, "", id="pass_strong_explicit_options"),
    pytest.param(pass_default_options_but_deleted, "", id="pass_default_options_but_deleted"),
    pytest.param(pass_tunnel_options_not_returned, "", id="pass_tunnel_options_not_returned"),
])
def test_vpn005_vpn_weak_tunnel_options(arrange: Case, fragment: str) -> None:
    run_case("VPN005", arrange, "medium", fragment)


def test_vpn005_evidence_says_which_values_come_from_the_default_lists() -> None:
    builder = SnapshotBuilder()
    one_connection(builder, tunnels=[tunnel(FIRST, IkeVersions=[], Phase1IntegrityAlgorithms=values("SHA1")),
                                     tunnel(SECOND)])

    findings = run_rule("VPN005", builder.build())

    assert len(findings) == 1
    weak = findings[0].evidence["WeakTunnelOptions"]
    assert [entry["OutsideIpAddress"] for entry in weak] == [FIRST]
    assert weak[0]["Weak"] == {
        "IkeVersions": {"label": "IKE versions", "weak": ["ikev1"], "default": True},
        "Phase1IntegrityAlgorithms": {"label": "phase 1 integrity", "weak": ["SHA1"], "default": False}}


# VPN006 customer-gateway-unused

def fail_unused(b: SnapshotBuilder) -> dict[str, Any]:
    cgw = customer_gateway(b)
    return {"found": [cgw], "cgw": cgw}


def fail_only_deleted_connection(b: SnapshotBuilder) -> dict[str, Any]:
    cgw = customer_gateway(b, address="198.51.100.7", asn="65020")
    vpn_connection(b, cgw, vgw=vpn_gateway(b, b.vpc()), state="deleted")
    return {"found": [cgw], "cgw": cgw}


def pass_used(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_connection(b, customer_gateway(b), vgw=vpn_gateway(b, b.vpc()))
    return {"found": []}


def pass_connection_being_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    vpn_connection(b, customer_gateway(b), vgw=vpn_gateway(b, b.vpc()), state="deleting")
    return {"found": []}


def pass_customer_gateway_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    customer_gateway(b, state="deleted")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "fragment"), [
    pytest.param(fail_unused, "customer gateway {cgw} (203.0.113.10, BGP ASN 65010) has no VPN connection",
                 id="fail_unused"),
    pytest.param(fail_only_deleted_connection, "customer gateway {cgw} (198.51.100.7, BGP ASN 65020) has no VPN "
                 "connection", id="fail_only_deleted_connection"),
    pytest.param(pass_used, "", id="pass_used"),
    pytest.param(pass_connection_being_deleted, "", id="pass_connection_being_deleted"),
    pytest.param(pass_customer_gateway_deleted, "", id="pass_customer_gateway_deleted"),
])
def test_vpn006_customer_gateway_unused(arrange: Case, fragment: str) -> None:
    run_case("VPN006", arrange, "info", fragment)
