"""Client VPN rules: authorization, logging, security groups, target networks, routes. Pure: reads the snapshot only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from auditor.cidrs import CidrIndex
from auditor.engine import Failure, RuleContext, rule
from auditor.index import Item, Network, Scope, network
from auditor.items import listed, lowered

RESOURCE_TYPE = "AWS::EC2::ClientVpnEndpoint"
ENDPOINTS = "ec2:ClientVpnEndpoints"
AUTHORIZATIONS = "ec2:ClientVpnAuthorizationRules"
ROUTES = "ec2:ClientVpnRoutes"
TARGET_NETWORKS = "ec2:ClientVpnTargetNetworks"
ENDPOINT_GONE = frozenset({"deleting", "deleted"})
LIVE_AUTHORIZATION = frozenset({"active", "authorizing"})  # authorizing: in force in a moment
LIVE_ROUTE = frozenset({"active", "creating"})
LIVE_ASSOCIATION = frozenset({"associated", "associating"})

def status(item: Item) -> str:
    return lowered((item.get("Status") or {}).get("Code"))


def live_endpoints(scope: Scope) -> Iterator[Item]:
    for endpoint in scope.items(ENDPOINTS):
        if status(endpoint) not in ENDPOINT_GONE:
            yield endpoint


def endpoint_label(endpoint: Item) -> str:
    where = f" in {endpoint['VpcId']}" if endpoint.get("VpcId") else ""
    return f"Client VPN endpoint {endpoint['ClientVpnEndpointId']}{where}"


def children(scope: Scope, key: str, field: str, endpoint: Item) -> list[Item] | None:
    """The endpoint's authorization rules, routes or target networks; None when they were not read for it."""
    record = scope.by_id(key, "ClientVpnEndpointId").get(endpoint["ClientVpnEndpointId"])
    return None if record is None else list(record.get(field) or [])


def live_authorizations(scope: Scope, endpoint: Item) -> list[Item] | None:
    found = children(scope, AUTHORIZATIONS, "AuthorizationRules", endpoint)
    return None if found is None else [a for a in found if status(a) in LIVE_AUTHORIZATION]


def live_routes(scope: Scope, endpoint: Item) -> list[Item] | None:
    found = children(scope, ROUTES, "Routes", endpoint)
    return None if found is None else [r for r in found if status(r) in LIVE_ROUTE]


def vpc_blocks(scope: Scope) -> CidrIndex[str]:
    """Every CIDR block of every VPC of the scope, with its VPC id."""
    return CidrIndex((cidr, vpc["VpcId"]) for vpc in scope.items("ec2:Vpcs") for cidr in scope.vpc_cidrs(vpc["VpcId"]))


@rule(id="CVPN001", name="client-vpn-authorize-all-users", severity="high", resource_type=RESOURCE_TYPE,
      needs=(ENDPOINTS, AUTHORIZATIONS, "ec2:Vpcs"))
def client_vpn_authorize_all_users(ctx: RuleContext) -> Iterator[Failure]:
    """A Client VPN authorization rule lets every user reach 0.0.0.0/0 or the whole CIDR of a VPC.

    Judged: active (or authorizing) rules with AccessAll on, whose destination is 0.0.0.0/0 (::/0),
    or holds a whole CIDR block of a VPC of the same account and region (the endpoint's or any
    other). A rule for one group, or for a part of a VPC (a /24 of a /16), passes. One finding
    per endpoint and destination. Endpoints that use mutual (certificate) authentication only
    have no groups: there, AccessAll is the only choice, and the fix is a narrower destination.

    ## Why it matters
    Authorization rules are the Client VPN's access control. AccessAll admits every user the
    endpoint authenticates: every member of the identity provider, every holder of a client
    certificate. A stolen laptop, a contractor's account or a leaked certificate then reaches
    every host of the VPC (or everything routed), with no group to revoke.

    ## Remediation
    Replace the rule with rules per group, for the subnets each group needs:
    `aws ec2 revoke-client-vpn-ingress --client-vpn-endpoint-id cvpn-endpoint-... --target-network-cidr
    10.0.0.0/16 --revoke-all-groups` then `aws ec2 authorize-client-vpn-ingress --client-vpn-endpoint-id
    cvpn-endpoint-... --target-network-cidr 10.0.1.0/24 --access-group-id <group id>`.
    """
    for scope in ctx.index.regional_scopes():
        for endpoint in live_endpoints(scope):
            for authorization in live_authorizations(scope, endpoint) or []:
                destination = network(authorization.get("DestinationCidr"))
                if not authorization.get("AccessAll") or destination is None:
                    continue
                if destination.prefixlen == 0:
                    reach = f"{destination}: every address the endpoint has a route to"
                    vpcs: list[str] = []
                else:
                    covered = scope.memo(("cvpn", "vpc-blocks"), vpc_blocks, scope).inside(destination)
                    if not covered:
                        continue
                    own = endpoint.get("VpcId")
                    covered.sort(key=lambda found: (found[1] != own, found[1], str(found[0])))
                    vpcs = list(dict.fromkeys(vpc_id for _, vpc_id in covered))
                    reach = f"{destination}, the whole of " + listed(f"{vpc_id} ({cidr})" for cidr, vpc_id in covered)
                yield Failure(
                    account_id=scope.account_id, region=scope.region, resource_id=endpoint["ClientVpnEndpointId"],
                    discriminator=str(destination), related=tuple(vpcs),
                    message=(f"{endpoint_label(endpoint)}: an authorization rule lets every user (AccessAll) "
                             f"reach {reach}"),
                    evidence={"ClientVpnEndpointId": endpoint["ClientVpnEndpointId"],
                              "AuthorizationRule": authorization, "CoveredVpcs": vpcs},
                )


@rule(id="CVPN002", name="client-vpn-connection-logging-disabled", severity="medium", resource_type=RESOURCE_TYPE,
      needs=(ENDPOINTS,))
def client_vpn_connection_logging_disabled(ctx: RuleContext) -> Iterator[Failure]:
    """A Client VPN endpoint does not log client connections.

    ## Why it matters
    Connection logs are the only record of who connected to the endpoint, from which address,
    when, for how long, and which attempts failed. Without them a stolen certificate or account
    used over the VPN cannot be detected, nor an incident investigated after the fact.

    ## Remediation
    Turn connection logging on, to a CloudWatch Logs group:
    `aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id cvpn-endpoint-...
    --connection-log-options Enabled=true,CloudwatchLogGroup=/aws/client-vpn/connections`
    """
    for scope in ctx.index.regional_scopes():
        for endpoint in live_endpoints(scope):
            options = endpoint.get("ConnectionLogOptions") or {}
            if options.get("Enabled"):
                continue
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=endpoint["ClientVpnEndpointId"],
                related=tuple(x for x in (endpoint.get("VpcId"),) if x),
                message=(f"{endpoint_label(endpoint)} has connection logging off: there is no record of who "
                         "connected, from where and when"),
                evidence={"ClientVpnEndpointId": endpoint["ClientVpnEndpointId"], "ConnectionLogOptions": options},
            )


@rule(id="CVPN003", name="client-vpn-default-security-group", severity="medium", resource_type=RESOURCE_TYPE,
      needs=(ENDPOINTS, "ec2:SecurityGroups"))
def client_vpn_default_security_group(ctx: RuleContext) -> Iterator[Failure]:
    """A Client VPN endpoint uses only its VPC's default security group.

    An endpoint with no security group yet (no target network associated) is not judged, nor
    one whose group is not in the snapshot.

    ## Why it matters
    The endpoint's security group is what other security groups name to admit VPN clients.
    The default group admits all traffic from its own members, and is the group every resource
    launched without a choice lands in: VPN clients then reach all of those on every port, and
    no rule written for the VPN limits which resources clients reach.

    ## Remediation
    Create a security group for the endpoint, admit it only where clients need to go, and apply it:
    `aws ec2 apply-security-groups-to-client-vpn-target-network --client-vpn-endpoint-id
    cvpn-endpoint-... --vpc-id vpc-... --security-group-ids sg-...`
    """
    for scope in ctx.index.regional_scopes():
        groups = scope.by_id("ec2:SecurityGroups", "GroupId")
        for endpoint in live_endpoints(scope):
            group_ids = list(endpoint.get("SecurityGroupIds") or [])
            group = groups.get(group_ids[0]) if len(group_ids) == 1 else None
            if group is None or group.get("GroupName") != "default":
                continue
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=endpoint["ClientVpnEndpointId"],
                related=tuple(x for x in (endpoint.get("VpcId"), group["GroupId"]) if x),
                message=(f"{endpoint_label(endpoint)} uses only {group['GroupId']}, the default security group of "
                         f"{group.get('VpcId')}: VPN clients reach every resource that admits that group"),
                evidence={"ClientVpnEndpointId": endpoint["ClientVpnEndpointId"], "SecurityGroupIds": group_ids,
                          "SecurityGroup": group},
            )


def association_zones(association: Item, subnets: dict[str, Item]) -> list[str]:
    """The zones of a target network: its subnet's, else those AWS lists on the association (transit gateway)."""
    subnet = subnets.get(str(association.get("TargetNetworkId")))
    if subnet is not None and subnet.get("AvailabilityZone"):
        return [str(subnet["AvailabilityZone"])]
    return [str(zone) for zone in association.get("AvailabilityZones") or []]


@rule(id="CVPN004", name="client-vpn-no-target-network", severity="medium", resource_type=RESOURCE_TYPE,
      needs=(ENDPOINTS, TARGET_NETWORKS))
def client_vpn_no_target_network(ctx: RuleContext) -> Iterator[Failure]:
    """A Client VPN endpoint has no associated target network, or all of them in one Availability Zone.

    Associated (or associating) target networks count. No target network: medium. All in one
    zone: low. The zone of a target network comes from its subnet (ec2:Subnets) or, for an
    endpoint on a transit gateway, from the association itself; when a zone is unknown the
    single-zone case is not judged.

    ## Why it matters
    Without a target network, clients can connect to nothing: the endpoint stays in
    pending-associate and every connection fails. With every target network in one zone, an
    outage of that zone disconnects every client, although the VPC's other zones still run.

    ## Remediation
    Associate a subnet in each of two zones or more:
    `aws ec2 associate-client-vpn-target-network --client-vpn-endpoint-id cvpn-endpoint-...
    --subnet-id subnet-...`
    """
    for scope in ctx.index.regional_scopes():
        subnets = scope.by_id("ec2:Subnets", "SubnetId")
        for endpoint in live_endpoints(scope):
            networks = children(scope, TARGET_NETWORKS, "ClientVpnTargetNetworks", endpoint)
            if networks is None:
                continue
            live = [n for n in networks if status(n) in LIVE_ASSOCIATION]
            failure: dict[str, Any] = {
                "account_id": scope.account_id, "region": scope.region,
                "resource_id": endpoint["ClientVpnEndpointId"],
                "evidence": {"ClientVpnEndpointId": endpoint["ClientVpnEndpointId"], "Status": endpoint.get("Status"),
                             "ClientVpnTargetNetworks": networks}}
            if not live:
                yield Failure(**failure, discriminator="no-target-network",
                              related=tuple(x for x in (endpoint.get("VpcId"),) if x),
                              message=(f"{endpoint_label(endpoint)} has no associated target network: clients "
                                       "can connect to nothing"))
                continue
            zones = [association_zones(n, subnets) for n in live]
            distinct = {zone for found in zones for zone in found}
            if len(distinct) != 1 or not all(zones):
                continue
            names = [str(n.get("TargetNetworkId")) for n in live]
            yield Failure(**failure, discriminator="single-az", severity="low", related=tuple(names),
                          message=(f"{endpoint_label(endpoint)} has target networks only in {distinct.pop()} "
                                   f"({listed(names)}): an outage of that zone disconnects every client"))


@rule(id="CVPN005", name="client-vpn-route-without-authorization", severity="low", resource_type=RESOURCE_TYPE,
      needs=(ENDPOINTS, AUTHORIZATIONS, ROUTES))
def client_vpn_route_without_authorization(ctx: RuleContext) -> Iterator[Failure]:
    """A Client VPN route that no authorization rule covers, or an authorization rule no route reaches.

    Only active (or authorizing, creating) rules and routes count. A route is covered when an
    authorization rule's destination shares an address with it (AWS authorizes each destination
    address, so rules for two /24s make the /16 route that AWS adds for the VPC usable: a
    least-privilege setup, reported until 2026-11-27); an authorization rule is reached when a
    route's destination shares an address with it. Routes to one destination through several
    target subnets are one finding. Endpoints whose rules or routes were not read are not judged.

    ## Why it matters
    Client VPN needs both: a route to send clients' traffic into the VPC, and an authorization
    rule to let them use it. A route without a rule is traffic no user may send (a forgotten
    grant, or a route left behind); a rule without a route grants access that does not work,
    and will start working, unreviewed, the day someone adds the route.

    ## Remediation
    Authorize the route's destination for the groups that need it, or delete the route:
    `aws ec2 authorize-client-vpn-ingress --client-vpn-endpoint-id cvpn-endpoint-...
    --target-network-cidr 10.1.0.0/16 --access-group-id <group id>` or
    `aws ec2 delete-client-vpn-route --client-vpn-endpoint-id cvpn-endpoint-... --destination-cidr-block
    10.1.0.0/16 --target-vpc-subnet-id subnet-...`; for a rule without a route, add the route
    (`aws ec2 create-client-vpn-route ...`) or revoke the rule (`aws ec2 revoke-client-vpn-ingress ...`).
    """
    for scope in ctx.index.regional_scopes():
        for endpoint in live_endpoints(scope):
            authorizations, routes = live_authorizations(scope, endpoint), live_routes(scope, endpoint)
            if authorizations is None or routes is None:
                continue
            yield from _routes_without_authorization(scope, endpoint, authorizations, routes)
            yield from _authorizations_without_route(scope, endpoint, authorizations, routes)


def _parsed(items: list[Item]) -> list[tuple[Network, Item]]:
    return [(net, item) for item in items if (net := network(item.get("DestinationCidr"))) is not None]


def _by_destination(items: list[Item]) -> dict[Network, list[Item]]:
    grouped: dict[Network, list[Item]] = defaultdict(list)
    for destination, item in _parsed(items):
        grouped[destination].append(item)
    return grouped


def _routes_without_authorization(scope: Scope, endpoint: Item, authorizations: list[Item],
                                  routes: list[Item]) -> Iterator[Failure]:
    granted = CidrIndex(_parsed(authorizations))
    for destination, its_routes in _by_destination(routes).items():
        if granted.overlapping(destination):  # authorization is per address: some users may use part of it
            continue
        subnets = [str(r.get("TargetSubnet") or r.get("TransitGatewayAttachmentId")) for r in its_routes]
        yield Failure(
            account_id=scope.account_id, region=scope.region, resource_id=endpoint["ClientVpnEndpointId"],
            discriminator=f"route:{destination}", related=tuple(subnets),
            message=(f"{endpoint_label(endpoint)} routes {destination} (through {listed(subnets)}) but no "
                     "authorization rule covers it: no user may send traffic there"),
            evidence={"ClientVpnEndpointId": endpoint["ClientVpnEndpointId"], "Routes": its_routes,
                      "AuthorizedCidrs": sorted({str(a.get("DestinationCidr")) for a in authorizations})},
        )


def _authorizations_without_route(scope: Scope, endpoint: Item, authorizations: list[Item],
                                  routes: list[Item]) -> Iterator[Failure]:
    routed = CidrIndex(_parsed(routes))
    for destination, grants in _by_destination(authorizations).items():
        if routed.overlapping(destination):
            continue
        who = listed(sorted({"every user" if a.get("AccessAll") else f"group {a.get('GroupId')}" for a in grants}))
        yield Failure(
            account_id=scope.account_id, region=scope.region, resource_id=endpoint["ClientVpnEndpointId"],
            discriminator=f"authorization:{destination}",
            message=(f"{endpoint_label(endpoint)} authorizes {who} to reach {destination}, but no route of the "
                     f"endpoint reaches {destination}: the grant does nothing until a route is added"),
            evidence={"ClientVpnEndpointId": endpoint["ClientVpnEndpointId"], "AuthorizationRules": grants,
                      "RoutedCidrs": sorted({str(r.get("DestinationCidr")) for r in routes})},
        )


@rule(id="CVPN006", name="client-vpn-full-tunnel", severity="info", resource_type=RESOURCE_TYPE,
      needs=(ENDPOINTS, ROUTES))
def client_vpn_full_tunnel(ctx: RuleContext) -> Iterator[Failure]:
    """A Client VPN endpoint has split tunnel off and a route to 0.0.0.0/0: all traffic crosses the VPC.

    ## Why it matters
    With split tunnel off, the endpoint pushes every route to clients, and a route to 0.0.0.0/0
    sends all their traffic, web browsing and video calls included, through the VPC and out of
    its NAT or internet gateway. That costs data processing and transfer, adds latency, loads the
    endpoint, and makes the VPC's egress the source of every client's internet traffic. It can be
    a deliberate choice (inspecting all traffic): this finding is informational.

    ## Remediation
    Turn split tunnel on, so that only the endpoint's routes go through the VPN:
    `aws ec2 modify-client-vpn-endpoint --client-vpn-endpoint-id cvpn-endpoint-... --split-tunnel`
    """
    for scope in ctx.index.regional_scopes():
        for endpoint in live_endpoints(scope):
            if endpoint.get("SplitTunnel") is not False:
                continue
            default = [r for net, r in _parsed(live_routes(scope, endpoint) or []) if net.prefixlen == 0]
            if not default:
                continue
            through = listed(sorted({str(r.get("TargetSubnet") or r.get("TransitGatewayAttachmentId"))
                                     for r in default}))
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=endpoint["ClientVpnEndpointId"],
                related=tuple(x for x in (endpoint.get("VpcId"),) if x),
                message=(f"{endpoint_label(endpoint)} has split tunnel off and routes "
                         f"{default[0].get('DestinationCidr')} through {through}: all client traffic, internet "
                         "included, goes through the VPC"),
                evidence={"ClientVpnEndpointId": endpoint["ClientVpnEndpointId"], "SplitTunnel": False,
                          "Routes": default},
            )
