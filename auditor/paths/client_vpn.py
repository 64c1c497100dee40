"""A Client VPN endpoint as the source of a path: its clients, as AWS forwards their traffic. Pure.

A client's packet must be authorized (an active authorization rule whose destination CIDR holds the
destination) and routed (the endpoint's most specific active route for it names an associated target
subnet). AWS then sends it from the endpoint's interface in that subnet, with the client's address
translated to the interface's: from there on it is a packet leaving that subnet, under the endpoint's
security groups, and the reply comes back to that subnet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.errors import UserError
from auditor.index import Network, network, within
from auditor.items import lowered
from auditor.paths.model import Blocker, Endpoint, Hop
from auditor.paths.world import World

PREFIX = "cvpn-endpoint-"


@dataclass
class ClientVpnStart:
    """Where the clients' packet starts in the VPC (None when no target subnet can carry it), with the hops
    and blockers met before it gets there."""

    source: Endpoint | None
    hops: list[Hop] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)


def _records(world: World, key: str, endpoint_id: str, field_name: str) -> list[dict[str, Any]]:
    for scope in world.index.scopes:
        for record in scope.items(key):
            if record.get("ClientVpnEndpointId") == endpoint_id:
                return list(record.get(field_name) or [])
    return []


def _active(item: dict[str, Any], *states: str) -> bool:
    return lowered((item.get("Status") or {}).get("Code")) in states


def start(world: World, endpoint_id: str, dst: Endpoint) -> ClientVpnStart:
    located = next(((item, scope) for scope in world.index.scopes for item in scope.items("ec2:ClientVpnEndpoints")
                    if item.get("ClientVpnEndpointId") == endpoint_id), None)
    if located is None:
        raise UserError(f"Client VPN endpoint {endpoint_id} is not in the snapshot")
    item, scope = located
    found = ClientVpnStart(None)

    def hop(detail: str) -> None:
        found.hops.append(Hop(endpoint_id, "AWS::EC2::ClientVpnEndpoint", scope.account_id, scope.region, detail))

    def block(code: str, message: str, fix: str) -> None:
        found.blockers.append(Blocker(code, endpoint_id, message, fix))

    status = lowered((item.get("Status") or {}).get("Code"))
    hop(f"clients {item.get('ClientCidrBlock')} ({status or 'status unknown'})")
    if status != "available":
        block("CLIENT_VPN_ENDPOINT_NOT_AVAILABLE", f"{endpoint_id} is {status or 'in an unknown state'}: it carries "
              "no traffic until a target network is associated", "aws ec2 associate-client-vpn-target-network "
              f"--client-vpn-endpoint-id {endpoint_id} --subnet-id <subnet>")
    rules = [r for r in _records(world, "ec2:ClientVpnAuthorizationRules", endpoint_id, "AuthorizationRules")
             if _active(r, "active") and _holds(r.get("DestinationCidr"), dst.network)]
    if rules:
        rule = max(rules, key=lambda r: _length(r.get("DestinationCidr")))
        who = "all users" if rule.get("AccessAll") else f"group {rule.get('GroupId')}"
        hop(f"authorized to {rule.get('DestinationCidr')} for {who}")
    else:
        block("CLIENT_VPN_NOT_AUTHORIZED", f"no active authorization rule of {endpoint_id} holds {dst.network}",
              f"aws ec2 authorize-client-vpn-ingress --client-vpn-endpoint-id {endpoint_id} --target-network-cidr "
              f"{dst.network} --access-group-id <group> (or --authorize-all-groups)")
    associated = [t.get("TargetNetworkId") for t in
                  _records(world, "ec2:ClientVpnTargetNetworks", endpoint_id, "ClientVpnTargetNetworks")
                  if _active(t, "associated") and t.get("TargetNetworkId") in world.subnets]
    routes = [r for r in _records(world, "ec2:ClientVpnRoutes", endpoint_id, "Routes")
              if _active(r, "active") and _holds(r.get("DestinationCidr"), dst.network)]
    subnet = None
    if routes:
        route = max(routes, key=lambda r: _length(r.get("DestinationCidr")))
        subnet = str(route.get("TargetSubnet"))
        hop(f"route {route.get('DestinationCidr')} -> {subnet}")
        if subnet not in associated:
            block("CLIENT_VPN_TARGET_NOT_ASSOCIATED", f"the route for {dst.network} names {subnet}, which is not an "
                  f"associated target network of {endpoint_id}", "aws ec2 associate-client-vpn-target-network "
                  f"--client-vpn-endpoint-id {endpoint_id} --subnet-id {subnet}")
            subnet = subnet if subnet in world.subnets else None
    else:
        block("CLIENT_VPN_NO_ROUTE", f"no active route of {endpoint_id} holds {dst.network}",
              f"aws ec2 create-client-vpn-route --client-vpn-endpoint-id {endpoint_id} --destination-cidr-block "
              f"{dst.network} --target-vpc-subnet-id {associated[0] if associated else '<associated subnet>'}")
        subnet = associated[0] if associated else None
    if subnet is None:
        return found
    subnet_item = world.subnets[subnet]
    found.source = Endpoint(
        text=endpoint_id, kind="client-vpn", network=world.subnet_networks(subnet)[0],
        account_id=subnet_item.scope.account_id, region=subnet_item.scope.region,
        vpc_id=str(subnet_item.item.get("VpcId")), subnet_id=subnet,
        groups=tuple(str(g) for g in item.get("SecurityGroupIds") or []))
    return found


def _holds(cidr: object, net: Network) -> bool:
    parsed = network(str(cidr)) if cidr else None
    return parsed is not None and within(net, parsed)


def _length(cidr: object) -> int:
    parsed = network(str(cidr)) if cidr else None
    return parsed.prefixlen if parsed is not None else -1
