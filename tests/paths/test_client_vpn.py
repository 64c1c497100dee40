"""A Client VPN endpoint as the source of a path: authorization, its route to a target subnet, then the VPC's
own routing from that subnet under the endpoint's security groups (AWS's Client VPN guide: access to a peered
VPC needs an authorization rule, a Client VPN route and the VPC's route to the peering)."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.errors import UserError
from tests.factories import SnapshotBuilder
from tests.paths.network import codes, group, interface, path, spoke
from tests.rules.hybrid_factories_cvpn_dx import authorize, client_vpn_route, endpoint_item, remote_access


def _to_a_peered_vpc(b: SnapshotBuilder, *, authorized: bool = True, routed: bool = True) -> dict[str, Any]:
    net = remote_access(b)  # 10.0.0.0/16, two target subnets, one group authorized to the VPC
    other, other_subnet, other_table = spoke(b, "10.1.0.0/16", "10.1.1.0/24")
    pcx = b.peering(net["vpc"], other)
    b.route(b.main_table(net["vpc"]), "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    b.route(other_table, "10.0.0.0/16", VpcPeeringConnectionId=pcx)
    if authorized:
        authorize(b, net["endpoint"], "10.1.0.0/16")
    if routed:
        client_vpn_route(b, net["endpoint"], "10.1.0.0/16", net["subnet_b"])
    return {**net, "other": other, "other_subnet": other_subnet, "pcx": pcx}


def test_clients_reach_a_peered_vpc_through_the_target_subnet_of_their_route() -> None:
    b = SnapshotBuilder()
    net = _to_a_peered_vpc(b)

    result = path(b, net["endpoint"], net["other_subnet"], "tcp", 443)

    assert result.reachable
    assert result.source.subnet_id == net["subnet_b"]  # the route's target subnet; the address is translated
    assert [h.resource_id for h in result.forward.hops][:3] == [net["endpoint"]] * 3
    assert "authorized to 10.1.0.0/16 for group" in result.forward.hops[1].detail
    assert net["pcx"] in [h.resource_id for h in result.back.hops]


def test_a_destination_without_an_authorization_rule_is_blocked() -> None:
    b = SnapshotBuilder()
    net = _to_a_peered_vpc(b, authorized=False)

    result = path(b, net["endpoint"], net["other_subnet"])

    assert codes(result.forward) == ["CLIENT_VPN_NOT_AUTHORIZED"]
    assert f"authorize-client-vpn-ingress --client-vpn-endpoint-id {net['endpoint']}" in \
        result.forward.blockers[0].fix
    assert result.back.reachable  # everything after the endpoint was walked too


def test_a_destination_without_a_client_vpn_route_is_blocked() -> None:
    b = SnapshotBuilder()
    net = _to_a_peered_vpc(b, routed=False)

    result = path(b, net["endpoint"], net["other_subnet"])

    assert codes(result.forward) == ["CLIENT_VPN_NO_ROUTE"]
    assert "create-client-vpn-route" in result.forward.blockers[0].fix


def test_the_endpoints_security_group_is_the_source_the_destination_sees() -> None:
    b = SnapshotBuilder()
    net = _to_a_peered_vpc(b)
    endpoint_group = endpoint_item(b, net["endpoint"])["SecurityGroupIds"][0]
    admits_clients = group(b, net["other"], ingress=(), referenced=(endpoint_group,))
    admits_others = group(b, net["other"], ingress=((443, "192.168.0.0/16"),))
    open_server = interface(b, net["other_subnet"], "10.1.1.10", (admits_clients,))
    closed_server = interface(b, net["other_subnet"], "10.1.1.11", (admits_others,))

    assert path(b, net["endpoint"], open_server, "tcp", 443).reachable
    assert codes(path(b, net["endpoint"], closed_server, "tcp", 443).forward) == ["ENI_SG_RULES_MISMATCH"]


def test_a_client_vpn_endpoint_is_a_source_only() -> None:
    b = SnapshotBuilder()
    net = remote_access(b)

    with pytest.raises(UserError, match="source of a path, not its destination"):
        path(b, net["subnet_a"], net["endpoint"])
    with pytest.raises(UserError, match="not in the snapshot"):
        path(b, "cvpn-endpoint-0000000000000dead", net["subnet_a"])
