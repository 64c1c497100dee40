"""Client VPN rules: a table of failing and passing cases per rule, on snapshot fragments shaped like the API.

moto 5.2.5 does not implement Client VPN, so every case is built with tests/rules/hybrid_factories_cvpn_dx.py.
Each case arranges a snapshot and returns the names it made: `found` lists the resources the rule must
report (empty for a passing case), and the other names fill the case's expected message fragment.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import SnapshotBuilder, run_rule
from tests.rules.hybrid_factories_cvpn_dx import (
    GROUP,
    associate_target_network,
    authorize,
    client_vpn_endpoint,
    client_vpn_route,
    endpoint_item,
    remote_access,
)
from tests.rules.test_routes import Case, run_case


def case(arrange: Case, severity: str, fragment: str) -> Any:
    return pytest.param(arrange, severity, fragment, id=arrange.__name__)


# CVPN001 client-vpn-authorize-all-users

def fail_access_all_to_world(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "0.0.0.0/0", group=None)
    return {"found": [names["endpoint"]], **names}


def fail_access_all_to_whole_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "10.0.0.0/16", group=None)
    return {"found": [names["endpoint"]], **names}


def fail_access_all_covers_another_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    other = b.vpc("10.1.0.0/16")
    authorize(b, names["endpoint"], "10.0.0.0/8", group=None)
    return {"found": [names["endpoint"]], "other": other, **names}


def pass_access_all_to_a_subnet_of_the_vpc(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "10.0.1.0/24", group=None)
    return {"found": []}


def pass_group_to_world(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "0.0.0.0/0", group=GROUP)
    return {"found": []}


def pass_access_all_being_revoked(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "0.0.0.0/0", group=None, status="revoking")
    return {"found": []}


def pass_deleted_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b, status="deleted")
    authorize(b, names["endpoint"], "0.0.0.0/0", group=None)
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_access_all_to_world, "high", "Client VPN endpoint {endpoint} in {vpc}: an authorization rule lets "
         "every user (AccessAll) reach 0.0.0.0/0: every address the endpoint has a route to"),
    case(fail_access_all_to_whole_vpc, "high", "lets every user (AccessAll) reach 10.0.0.0/16, the whole of {vpc} "
         "(10.0.0.0/16)"),
    case(fail_access_all_covers_another_vpc, "high", "reach 10.0.0.0/8, the whole of {vpc} (10.0.0.0/16), {other} "
         "(10.1.0.0/16)"),
    case(pass_access_all_to_a_subnet_of_the_vpc, "high", ""),
    case(pass_group_to_world, "high", ""),
    case(pass_access_all_being_revoked, "high", ""),
    case(pass_deleted_endpoint, "high", ""),
])
def test_cvpn001_client_vpn_authorize_all_users(arrange: Case, severity: str, fragment: str) -> None:
    run_case("CVPN001", arrange, severity, fragment)


def test_cvpn001_one_finding_per_destination() -> None:
    builder = SnapshotBuilder()
    names = remote_access(builder)
    authorize(builder, names["endpoint"], "0.0.0.0/0", group=None)
    authorize(builder, names["endpoint"], "10.0.0.0/16", group=None)

    findings = run_rule("CVPN001", builder.build())

    assert len(findings) == 2
    assert len({f.id for f in findings}) == 2
    assert {f.resource_id for f in findings} == {names["endpoint"]}
    assert {f.severity for f in findings} == {"high"}
    assert any("reach 10.0.0.0/16, the whole of" in f.message for f in findings)


# CVPN002 client-vpn-connection-logging-disabled

def fail_logging_off(b: SnapshotBuilder) -> dict[str, Any]:
    return {"found": [remote_access(b, logging=False)["endpoint"]]}


def fail_log_options_absent(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    endpoint_item(b, names["endpoint"]).pop("ConnectionLogOptions")
    return {"found": [names["endpoint"]]}


def pass_logging_on(b: SnapshotBuilder) -> dict[str, Any]:
    remote_access(b)
    return {"found": []}


def pass_deleting_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    remote_access(b, logging=False, status="deleting")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_logging_off, "medium", "has connection logging off: there is no record of who connected"),
    case(fail_log_options_absent, "medium", "has connection logging off"),
    case(pass_logging_on, "medium", ""),
    case(pass_deleting_endpoint, "medium", ""),
])
def test_cvpn002_client_vpn_connection_logging_disabled(arrange: Case, severity: str, fragment: str) -> None:
    run_case("CVPN002", arrange, severity, fragment)


# CVPN003 client-vpn-default-security-group

def fail_only_the_default_group(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    default = b.security_group(vpc, name="default")
    endpoint = client_vpn_endpoint(b, vpc, groups=(default,))
    return {"found": [endpoint], "endpoint": endpoint, "vpc": vpc, "default": default}


def pass_default_and_own_group(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    groups = (b.security_group(vpc, name="default"), b.security_group(vpc, name="client-vpn"))
    client_vpn_endpoint(b, vpc, groups=groups)
    return {"found": []}


def pass_own_group(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    b.security_group(vpc, name="default")
    client_vpn_endpoint(b, vpc)
    return {"found": []}


def pass_no_group_yet(b: SnapshotBuilder) -> dict[str, Any]:
    client_vpn_endpoint(b, b.vpc(), groups=(), status="pending-associate")
    return {"found": []}


def pass_group_not_in_snapshot(b: SnapshotBuilder) -> dict[str, Any]:
    client_vpn_endpoint(b, b.vpc(), groups=("sg-0123456789abcdef0",))
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_only_the_default_group, "medium", "Client VPN endpoint {endpoint} in {vpc} uses only {default}, the "
         "default security group of {vpc}: VPN clients reach every resource that admits that group"),
    case(pass_default_and_own_group, "medium", ""),
    case(pass_own_group, "medium", ""),
    case(pass_no_group_yet, "medium", ""),
    case(pass_group_not_in_snapshot, "medium", ""),
])
def test_cvpn003_client_vpn_default_security_group(arrange: Case, severity: str, fragment: str) -> None:
    run_case("CVPN003", arrange, severity, fragment)


# CVPN004 client-vpn-no-target-network

def fail_no_target_network(b: SnapshotBuilder) -> dict[str, Any]:
    endpoint = client_vpn_endpoint(b, b.vpc(), status="pending-associate")
    return {"found": [endpoint], "endpoint": endpoint}


def fail_target_networks_all_disassociated(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    endpoint = client_vpn_endpoint(b, vpc, status="pending-associate")
    associate_target_network(b, endpoint, b.subnet(vpc, "10.0.1.0/24"), status="disassociated", route=False)
    return {"found": [endpoint], "endpoint": endpoint}


def fail_two_networks_in_one_zone(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    endpoint = client_vpn_endpoint(b, vpc)
    subnets = [b.subnet(vpc, cidr, "us-east-1a") for cidr in ("10.0.1.0/24", "10.0.2.0/24")]
    for subnet in subnets:
        associate_target_network(b, endpoint, subnet)
    return {"found": [endpoint], "endpoint": endpoint, "a": subnets[0], "b": subnets[1]}


def fail_one_network(b: SnapshotBuilder) -> dict[str, Any]:
    vpc = b.vpc()
    endpoint = client_vpn_endpoint(b, vpc)
    subnet = b.subnet(vpc, "10.0.1.0/24", "us-east-1c")
    associate_target_network(b, endpoint, subnet)
    return {"found": [endpoint], "subnet": subnet}


def pass_two_networks_in_two_zones(b: SnapshotBuilder) -> dict[str, Any]:
    remote_access(b)
    return {"found": []}


def pass_zone_of_network_unknown(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    b.scope()["ec2:Subnets"].remove(b.find("ec2:Subnets", "SubnetId", names["subnet_b"]))
    b.scope()["ec2:Subnets"].remove(b.find("ec2:Subnets", "SubnetId", names["subnet_a"]))
    return {"found": []}


def pass_transit_gateway_networks_in_two_zones(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    b.scope()["ec2:Subnets"].clear()
    networks = b.find("ec2:ClientVpnTargetNetworks", "ClientVpnEndpointId", names["endpoint"])
    for association, zone in zip(networks["ClientVpnTargetNetworks"], ("us-east-1a", "us-east-1b"), strict=True):
        association["AvailabilityZones"] = [zone]
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_no_target_network, "medium", "Client VPN endpoint {endpoint} in vpc-00000000000000001 has no "
         "associated target network: clients can connect to nothing"),
    case(fail_target_networks_all_disassociated, "medium", "has no associated target network"),
    case(fail_two_networks_in_one_zone, "low", "has target networks only in us-east-1a ({a}, {b}): an outage of "
         "that zone disconnects every client"),
    case(fail_one_network, "low", "has target networks only in us-east-1c ({subnet})"),
    case(pass_two_networks_in_two_zones, "medium", ""),
    case(pass_zone_of_network_unknown, "medium", ""),
    case(pass_transit_gateway_networks_in_two_zones, "medium", ""),
])
def test_cvpn004_client_vpn_no_target_network(arrange: Case, severity: str, fragment: str) -> None:
    run_case("CVPN004", arrange, severity, fragment)


def test_cvpn004_the_two_problems_are_different_tickets() -> None:
    builder = SnapshotBuilder()
    vpc = builder.vpc()
    endpoint = client_vpn_endpoint(builder, vpc, status="pending-associate")
    before = builder.build()
    associate_target_network(builder, endpoint, builder.subnet(vpc, "10.0.1.0/24", "us-east-1c"))

    (no_network,) = run_rule("CVPN004", before)
    (one_zone,) = run_rule("CVPN004", builder.build())

    assert no_network.resource_id == one_zone.resource_id == endpoint
    assert (no_network.severity, one_zone.severity) == ("medium", "low")
    assert no_network.id != one_zone.id
    assert "only in us-east-1c" in one_zone.message


# CVPN005 client-vpn-route-without-authorization

def fail_route_not_authorized(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    client_vpn_route(b, names["endpoint"], "10.50.0.0/16", names["subnet_a"])
    return {"found": [names["endpoint"]], **names}


def pass_route_wider_than_its_authorization(b: SnapshotBuilder) -> dict[str, Any]:
    # Users may send traffic to the part of the route that is authorized (AWS checks each destination address).
    names = remote_access(b)
    client_vpn_route(b, names["endpoint"], "0.0.0.0/0", names["subnet_a"])
    return {"found": [], **names}


def pass_vpc_route_authorized_a_subnet_per_group(b: SnapshotBuilder) -> dict[str, Any]:
    # The least-privilege setup CVPN001 recommends: the route AWS adds for the VPC, a /24 for each group.
    vpc = b.vpc("10.0.0.0/16")
    subnet_a, subnet_b = b.subnet(vpc, "10.0.1.0/24", "us-east-1a"), b.subnet(vpc, "10.0.2.0/24", "us-east-1b")
    endpoint = client_vpn_endpoint(b, vpc)
    associate_target_network(b, endpoint, subnet_a)
    associate_target_network(b, endpoint, subnet_b)
    authorize(b, endpoint, "10.0.1.0/24", group="S-1-5-21-1-2-3-1001")
    authorize(b, endpoint, "10.0.2.0/24", group="S-1-5-21-1-2-3-1002")
    return {"found": []}


def fail_authorization_without_route(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "10.60.0.0/16", group=None)
    return {"found": [names["endpoint"]], **names}


def pass_route_inside_an_authorization(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "10.0.0.0/8")
    client_vpn_route(b, names["endpoint"], "10.50.0.0/16", names["subnet_a"])
    return {"found": []}


def pass_authorization_inside_a_route(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "10.0.1.0/24", group="S-1-5-21-1-2-3-1099")
    return {"found": []}


def pass_unauthorized_route_being_deleted(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    client_vpn_route(b, names["endpoint"], "10.50.0.0/16", names["subnet_a"], status="deleting")
    return {"found": []}


def pass_routes_not_read_for_the_endpoint(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b)
    authorize(b, names["endpoint"], "10.60.0.0/16")
    b.scope()["ec2:ClientVpnRoutes"].clear()
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_route_not_authorized, "low", "Client VPN endpoint {endpoint} in {vpc} routes 10.50.0.0/16 (through "
         "{subnet_a}) but no authorization rule covers it: no user may send traffic there"),
    case(pass_route_wider_than_its_authorization, "low", ""),
    case(pass_vpc_route_authorized_a_subnet_per_group, "low", ""),
    case(fail_authorization_without_route, "low", "authorizes every user to reach 10.60.0.0/16, but no route of "
         "the endpoint reaches 10.60.0.0/16"),
    case(pass_route_inside_an_authorization, "low", ""),
    case(pass_authorization_inside_a_route, "low", ""),
    case(pass_unauthorized_route_being_deleted, "low", ""),
    case(pass_routes_not_read_for_the_endpoint, "low", ""),
])
def test_cvpn005_client_vpn_route_without_authorization(arrange: Case, severity: str, fragment: str) -> None:
    run_case("CVPN005", arrange, severity, fragment)


def test_cvpn005_one_finding_per_destination_and_one_per_rule() -> None:
    builder = SnapshotBuilder()
    names = remote_access(builder)
    for subnet in (names["subnet_a"], names["subnet_b"]):
        client_vpn_route(builder, names["endpoint"], "10.50.0.0/16", subnet)
    authorize(builder, names["endpoint"], "10.60.0.0/16")

    findings = run_rule("CVPN005", builder.build())

    assert len(findings) == 2
    assert {f.resource_id for f in findings} == {names["endpoint"]}
    assert {f.severity for f in findings} == {"low"}
    assert len({f.id for f in findings}) == 2
    route, grant = sorted(findings, key=lambda f: "authorizes" in f.message)
    assert f"routes 10.50.0.0/16 (through {names['subnet_a']}, {names['subnet_b']})" in route.message
    assert f"authorizes group {GROUP} to reach 10.60.0.0/16" in grant.message


def test_cvpn005_not_judged_where_routes_could_not_be_read() -> None:
    builder = SnapshotBuilder()
    fail_route_not_authorized(builder)
    builder.error("ec2:ClientVpnRoutes")

    findings = run_rule("CVPN005", builder.build())

    assert findings == []


# CVPN006 client-vpn-full-tunnel

def fail_full_tunnel_with_default_route(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b, split_tunnel=False)
    authorize(b, names["endpoint"], "0.0.0.0/0")
    client_vpn_route(b, names["endpoint"], "0.0.0.0/0", names["subnet_a"])
    return {"found": [names["endpoint"]], **names}


def pass_split_tunnel_with_default_route(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b, split_tunnel=True)
    client_vpn_route(b, names["endpoint"], "0.0.0.0/0", names["subnet_a"])
    return {"found": []}


def pass_full_tunnel_without_default_route(b: SnapshotBuilder) -> dict[str, Any]:
    remote_access(b, split_tunnel=False)
    return {"found": []}


def pass_full_tunnel_default_route_failed(b: SnapshotBuilder) -> dict[str, Any]:
    names = remote_access(b, split_tunnel=False)
    client_vpn_route(b, names["endpoint"], "0.0.0.0/0", names["subnet_a"], status="failed")
    return {"found": []}


@pytest.mark.parametrize(("arrange", "severity", "fragment"), [
    case(fail_full_tunnel_with_default_route, "info", "Client VPN endpoint {endpoint} in {vpc} has split tunnel off "
         "and routes 0.0.0.0/0 through {subnet_a}: all client traffic, internet included, goes through the VPC"),
    case(pass_split_tunnel_with_default_route, "info", ""),
    case(pass_full_tunnel_without_default_route, "info", ""),
    case(pass_full_tunnel_default_route_failed, "info", ""),
])
def test_cvpn006_client_vpn_full_tunnel(arrange: Case, severity: str, fragment: str) -> None:
    run_case("CVPN006", arrange, severity, fragment)


def test_compliant_remote_access_passes_every_client_vpn_rule() -> None:
    builder = SnapshotBuilder()
    remote_access(builder)
    document = builder.build()

    findings = [f for rule_id in ("CVPN001", "CVPN002", "CVPN003", "CVPN004", "CVPN005", "CVPN006")
                for f in run_rule(rule_id, document)]

    assert findings == []
