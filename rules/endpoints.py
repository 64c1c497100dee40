"""VPC endpoint rules (PrivateLink consumer side, gateway endpoints). Pure: reads the indexed snapshot only."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from auditor.engine import Failure, RuleContext, rule
from auditor.index import Item, Scope
from auditor.items import ENDPOINT_GONE, listed, lowered, parse_time
from auditor.policy import PolicyError, open_statements

POLICY_TYPES = ("Gateway", "Interface")  # Gateway Load Balancer endpoints take no policy
PARTNER_SERVICE_PREFIX = "com.amazonaws.vpce."  # PrivateLink services of other accounts: no private DNS, no policy
NOT_AVAILABLE = {
    "pendingacceptance": "is waiting for the service provider to accept it",
    "rejected": "was rejected by the service provider",
    "failed": "failed to be created",
    "expired": "expired before the service provider accepted it",
}
WORLD = frozenset({"0.0.0.0/0", "::/0"})


def live_endpoints(scope: Scope, kind: str | None = None) -> Iterator[Item]:
    """Endpoints that are (or are about to be) in service, optionally of one type."""
    for endpoint in scope.items("ec2:VpcEndpoints"):
        if lowered(endpoint.get("State")) not in ENDPOINT_GONE and kind in (None, endpoint.get("VpcEndpointType")):
            yield endpoint


def live_endpoints_in_region(ctx: RuleContext, region: str, kind: str) -> list[Item]:
    """Every account's live endpoints of one type in a region, gathered once per audit. In a VPC shared through
    AWS RAM each endpoint is listed only in the account that made it: the owner's gateway endpoints in the
    owner's, a participant's interface endpoints in the participant's."""
    return ctx.index.memo(("live endpoints in region", region, kind), lambda: [
        endpoint for scope in ctx.index.scopes_in(region) for endpoint in live_endpoints(scope, kind)])


def endpoint_label(endpoint: Item) -> str:
    kind = {"GatewayLoadBalancer": "Gateway Load Balancer"}.get(endpoint.get("VpcEndpointType", ""),
                                                                 endpoint.get("VpcEndpointType", ""))
    return (f"{kind.lower()} endpoint {endpoint['VpcEndpointId']} for {endpoint.get('ServiceName')} "
            f"in {endpoint.get('VpcId')}")


@rule(id="VPCE001", name="endpoint-policy-too-open", severity="high", resource_type="AWS::EC2::VPCEndpoint",
      needs=("ec2:VpcEndpoints",))
def endpoint_policy_too_open(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint policy lets any principal use the endpoint, with no condition that limits who.

    One finding per endpoint, listing each open Allow statement and why no condition limits it
    (a condition on aws:SourceVpce or aws:SourceIp does not: every request through the endpoint
    comes from its own VPC). An Allow limited to resources named in full (ARNs with the account
    written out, S3 buckets by name), or to AWS services (aws:PrincipalIsAWSService), is not
    open: it cannot carry data to a bucket or table of anyone's choosing. A Deny that refuses
    everyone outside known accounts or organizations (AWS services may be spared) closes the
    Allows it covers; on a gateway endpoint a Deny of the service's actions ("s3:*") covers an
    Allow of "*". An endpoint without a policy document has the default full-access policy (not
    judged where the services' details could not be read). A policy document that cannot be
    parsed is reported as such. Gateway Load Balancer endpoints and endpoints to other accounts'
    PrivateLink services (com.amazonaws.vpce.*) take no policy and are not judged, nor are
    endpoints that are deleted, rejected, failed or expired, nor endpoints to an AWS service whose
    DescribeVpcEndpointServices entry says it takes no endpoint
    policy (VpcEndpointPolicySupported false: the default policy cannot be changed there).

    ## Why it matters
    The endpoint policy is the one place that decides which principals and resources traffic
    through the endpoint may reach. Open to anyone, it lets stolen or outside credentials, and
    code in the VPC writing to an attacker's own bucket or queue, move data out of the network
    through the private path that was meant to keep it in.

    ## Remediation
    Limit the Allow statements to your organization (or accounts) and the resources the VPC needs:
    `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-... --policy-document file://policy.json`
    with, for example, a Condition `{"StringEquals": {"aws:PrincipalOrgID": "o-..."}}`.
    """
    for scope in ctx.index.regional_scopes():
        no_policy = scope.memo(("endpoint-services-without-policy",), _services_without_policy, scope)
        for endpoint in live_endpoints(scope):
            service = str(endpoint.get("ServiceName", ""))
            if endpoint.get("VpcEndpointType") not in POLICY_TYPES or service.startswith(PARTNER_SERVICE_PREFIX) \
                    or (service, endpoint.get("VpcEndpointType")) in no_policy:
                continue
            document = endpoint.get("PolicyDocument")
            if not document and not scope.has("ec2:ServiceDetails"):
                continue  # whether the service takes a policy at all was not read (AUD001 says so)
            evidence: dict[str, Any] = {"VpcEndpointId": endpoint["VpcEndpointId"], "ServiceName": service,
                                        "PolicyDocument": document}
            # A gateway endpoint carries its one service's calls only (S3's or DynamoDB's): a Deny of "s3:*" there
            # covers an Allow of "*".
            carried = service.rsplit(".", 1)[-1] if endpoint.get("VpcEndpointType") == "Gateway" else None
            try:
                found = open_statements(document, carried)
            except PolicyError as error:
                message = (f"{endpoint_label(endpoint)}: its policy document could not be parsed ({error}), "
                           "so who it lets in cannot be judged")
            else:
                if not found:
                    continue
                source = "" if document else "it has no policy document, so the default full-access policy applies: "
                message = f"{endpoint_label(endpoint)} is open to anyone: {source}{'; '.join(s.reason for s in found)}"
                evidence["OpenStatements"] = [{"index": s.index, "sid": s.sid, "actions": list(s.actions),
                                               "reason": s.reason} for s in found]
            yield Failure(account_id=scope.account_id, region=scope.region, resource_id=endpoint["VpcEndpointId"],
                          related=(endpoint.get("VpcId", ""),), message=message, evidence=evidence)


def _services_without_policy(scope: Scope) -> frozenset[tuple[str, str]]:
    """(service name, endpoint type) of the AWS services whose endpoints take no policy, as collected."""
    return frozenset((str(detail.get("ServiceName")), str(kind.get("ServiceType")))
                     for detail in scope.items("ec2:ServiceDetails")
                     if detail.get("VpcEndpointPolicySupported") is False
                     for kind in detail.get("ServiceType") or [])


@rule(id="VPCE002", name="endpoint-private-dns-disabled", severity="medium", resource_type="AWS::EC2::VPCEndpoint",
      needs=("ec2:VpcEndpoints",))
def endpoint_private_dns_disabled(ctx: RuleContext) -> Iterator[Failure]:
    """An interface endpoint for an AWS service has private DNS off, so clients resolve past it.

    Only AWS services (com.amazonaws.<region>.<service>) are judged: PrivateLink services of other
    accounts (com.amazonaws.vpce.*) have their own private DNS names, if any. An interface
    endpoint for a service that also has a gateway endpoint in the same VPC (S3, DynamoDB) is
    fine with private DNS off: the service's public name then routes through the gateway endpoint.
    In a VPC shared through AWS RAM that gateway endpoint is the owner's, listed in the owner's
    account: it counts for a participant's interface endpoint too (until 2026-11-27 it did not).

    ## Why it matters
    With private DNS off, the service's usual name (ssm.us-east-1.amazonaws.com) still resolves to
    public addresses in the VPC. SDKs and tools use that name, so their traffic bypasses the
    endpoint and its policy, leaves through a NAT or internet gateway (or fails where there is
    none), and the endpoint carries only what names it explicitly.

    ## Remediation
    Turn private DNS on (the VPC needs DNS support and DNS hostnames):
    `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-... --private-dns-enabled`
    """
    for scope in ctx.index.regional_scopes():
        # Every account's in the region: a shared VPC's gateway endpoints are its owner's, listed only there.
        gateway_services = {(e.get("VpcId"), e.get("ServiceName"))
                            for e in live_endpoints_in_region(ctx, scope.region, "Gateway")}
        for endpoint in live_endpoints(scope, "Interface"):
            service = str(endpoint.get("ServiceName", ""))
            if (endpoint.get("PrivateDnsEnabled") is not False or not service.startswith("com.amazonaws.")
                    or service.startswith(PARTNER_SERVICE_PREFIX)
                    or (endpoint.get("VpcId"), service) in gateway_services):
                continue
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=endpoint["VpcEndpointId"],
                related=(endpoint.get("VpcId", ""),),
                message=(f"{endpoint_label(endpoint)} has private DNS off: clients in the VPC resolve the "
                         "service's public name to public addresses and bypass the endpoint"),
                evidence={k: endpoint.get(k) for k in ("VpcEndpointId", "ServiceName", "PrivateDnsEnabled",
                                                       "DnsEntries")},
            )


@rule(id="VPCE003", name="endpoint-single-az", severity="low", resource_type="AWS::EC2::VPCEndpoint",
      needs=("ec2:VpcEndpoints", "ec2:Subnets"))
def endpoint_single_az(ctx: RuleContext) -> Iterator[Failure]:
    """An interface endpoint sits in one Availability Zone while its VPC has subnets in several.

    Only the zones the service is offered in count (an AWS service's DescribeVpcEndpointServices
    entry lists them): a service offered in one zone of the VPC's leaves nothing to add. An
    endpoint with a subnet that is not in the snapshot is not judged: its zones are not known
    (until 2026-11-27 those subnets were left out, and the rule could say "only in" wrongly).

    ## Why it matters
    An interface endpoint has a network interface only in the subnets it was given. When that
    one zone fails, every client in the VPC (and those reaching it over peering, VPN or a transit
    gateway) loses the service, although the VPC's other zones are still up.

    ## Remediation
    Add a subnet in each other zone the VPC uses:
    `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-... --add-subnet-ids subnet-...`
    """
    for scope in ctx.index.regional_scopes():
        subnets = scope.by_id("ec2:Subnets", "SubnetId")
        zones_of_vpc: dict[str, set[str]] = defaultdict(set)
        for subnet in subnets.values():
            zones_of_vpc[subnet.get("VpcId", "")].add(str(subnet.get("AvailabilityZone")))
        offered = {str(detail.get("ServiceName")): set(detail.get("AvailabilityZones") or [])
                   for detail in scope.items("ec2:ServiceDetails")}
        for endpoint in live_endpoints(scope, "Interface"):
            subnet_ids = endpoint.get("SubnetIds") or []
            if any(s not in subnets for s in subnet_ids):
                continue
            known = [subnets[s] for s in subnet_ids]
            zones = {s.get("AvailabilityZone") for s in known}
            service_zones = offered.get(str(endpoint.get("ServiceName")))
            vpc_zones = sorted(zone for zone in zones_of_vpc.get(endpoint.get("VpcId", ""), ())
                               if not service_zones or zone in service_zones)
            if len(zones) != 1 or len(vpc_zones) < 2:
                continue
            zone = zones.pop()
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=endpoint["VpcEndpointId"],
                related=(endpoint.get("VpcId", ""), *(s["SubnetId"] for s in known)),
                message=(f"{endpoint_label(endpoint)} has network interfaces only in {zone} "
                         f"({listed(s['SubnetId'] for s in known)}), while its VPC has subnets in "
                         f"{listed(vpc_zones)}: an outage of {zone} cuts every client off the service"),
                evidence={"VpcEndpointId": endpoint["VpcEndpointId"], "SubnetIds": endpoint.get("SubnetIds"),
                          "EndpointZones": [zone], "VpcZones": vpc_zones},
            )


def describe_traffic(permission: Item) -> str:
    """`tcp/443`, `udp/1024-65535`, `all traffic`: what a security group permission admits."""
    protocol = str(permission.get("IpProtocol", "-1"))
    if protocol in ("-1", "all"):
        return "all traffic"
    name = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}.get(protocol, protocol)
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if name.startswith("icmp"):
        return name if low in (None, -1) else f"{name} type {low}"
    if low is None or (low in (0, -1) and high in (65535, -1)):
        return f"{name} all ports"
    return f"{name}/{low}" if low == high else f"{name}/{low}-{high}"


def world_open_permissions(group: Item) -> list[tuple[str, str]]:
    """(traffic, range) for each ingress permission of a security group that admits 0.0.0.0/0 or ::/0."""
    found = []
    for permission in group.get("IpPermissions") or []:
        ranges = [r.get("CidrIp") for r in permission.get("IpRanges") or []]
        ranges += [r.get("CidrIpv6") for r in permission.get("Ipv6Ranges") or []]
        found += [(describe_traffic(permission), cidr) for cidr in ranges if cidr in WORLD]
    return found


@rule(id="VPCE004", name="endpoint-security-group-open", severity="medium", resource_type="AWS::EC2::VPCEndpoint",
      needs=("ec2:VpcEndpoints", "ec2:SecurityGroups"))
def endpoint_security_group_open(ctx: RuleContext) -> Iterator[Failure]:
    """An interface endpoint's security group admits any address (0.0.0.0/0 or ::/0).

    One finding per endpoint, naming each group, protocol and port range open to any address.
    Groups that are not in the snapshot (another account's) are not judged.

    ## Why it matters
    The security group is the only network control on who reaches the endpoint. Opened to any
    address, it admits every network routed to the VPC: peered VPCs, on-premises networks over
    VPN or Direct Connect, and every VPC on a shared transit gateway, all of whom can then use the
    service (and the endpoint's policy) as if they were inside the VPC.

    ## Remediation
    Replace the open rule with the CIDRs or security groups of the clients:
    `aws ec2 revoke-security-group-ingress --group-id sg-... --protocol tcp --port 443 --cidr 0.0.0.0/0`
    then `aws ec2 authorize-security-group-ingress --group-id sg-... --protocol tcp --port 443
    --cidr 10.0.0.0/16`.
    """
    for scope in ctx.index.regional_scopes():
        groups = scope.by_id("ec2:SecurityGroups", "GroupId")
        open_by_group: dict[str, list[tuple[str, str]]] = {}
        for endpoint in live_endpoints(scope, "Interface"):
            found: dict[str, list[tuple[str, str]]] = {}
            for group_id in (g.get("GroupId") for g in endpoint.get("Groups") or []):
                if group_id in groups:
                    if group_id not in open_by_group:
                        open_by_group[group_id] = world_open_permissions(groups[group_id])
                    if open_by_group[group_id]:
                        found[group_id] = open_by_group[group_id]
            if not found:
                continue
            described = "; ".join(
                f"{group_id} ({groups[group_id].get('GroupName')}): "
                + ", ".join(f"{traffic} from {cidr}" for traffic, cidr in rules) for group_id, rules in found.items())
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=endpoint["VpcEndpointId"],
                related=(endpoint.get("VpcId", ""), *found),
                message=f"{endpoint_label(endpoint)} admits any address through its security groups: {described}",
                evidence={"VpcEndpointId": endpoint["VpcEndpointId"],
                          "SecurityGroups": [{"GroupId": g, "GroupName": groups[g].get("GroupName"),
                                              "OpenIngress": [{"traffic": t, "cidr": c} for t, c in rules]}
                                             for g, rules in found.items()]},
            )


@rule(id="VPCE005", name="gateway-endpoint-route-table-gap", severity="medium",
      resource_type="AWS::EC2::VPCEndpoint", needs=("ec2:VpcEndpoints", "ec2:RouteTables", "ec2:Subnets"))
def gateway_endpoint_route_table_gap(ctx: RuleContext) -> Iterator[Failure]:
    """A gateway endpoint is missing from route tables that some of its VPC's subnets use.

    Tables are those the subnets really use (explicitly, or the main table for the rest); a
    table that no subnet uses is not a gap. Several gateway endpoints for the same service in a
    VPC cover the union of their tables, and a gap is reported once, on the first of them by id.

    ## Why it matters
    A gateway endpoint works only through the prefix-list route it adds to its route tables.
    Subnets using another table reach the service (S3, DynamoDB) by its public addresses through
    a NAT or internet gateway, bypassing the endpoint policy and paying for NAT processing, or
    cannot reach it at all where there is no such gateway.

    ## Remediation
    Associate the endpoint with the missing route tables:
    `aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-... --add-route-table-ids rtb-...`
    """
    for scope in ctx.index.regional_scopes():
        by_service: dict[tuple[str, str], list[Item]] = defaultdict(list)
        for endpoint in live_endpoints(scope, "Gateway"):
            by_service[(endpoint.get("VpcId", ""), endpoint.get("ServiceName", ""))].append(endpoint)
        in_use: dict[str, dict[str, tuple[Item, list[Item]]]] = {}
        for (vpc_id, service), endpoints in sorted(by_service.items()):
            endpoints.sort(key=lambda e: e["VpcEndpointId"])
            covered = {t for e in endpoints for t in e.get("RouteTableIds") or []}
            if vpc_id not in in_use:
                in_use[vpc_id] = scope.tables_in_use(vpc_id)
            gaps = [(table_id, [s["SubnetId"] for s in subnets])
                    for table_id, (_, subnets) in sorted(in_use[vpc_id].items())
                    if subnets and table_id not in covered]
            if not gaps:
                continue
            first, others = endpoints[0], [e["VpcEndpointId"] for e in endpoints[1:]]
            nor = f"; nor are the VPC's other gateway endpoints for this service ({listed(others)})" if others else ""
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=first["VpcEndpointId"],
                related=(vpc_id, *others, *(table_id for table_id, _ in gaps)),
                message=(f"{endpoint_label(first)} is not associated with "
                         + "; ".join(f"route table {table} (used by {listed(subnets)})" for table, subnets in gaps)
                         + f"{nor}: traffic from those subnets to {service} does not use the endpoint"),
                evidence={"VpcEndpointIds": [e["VpcEndpointId"] for e in endpoints],
                          "RouteTableIds": sorted(covered),
                          "TablesMissing": [{"RouteTableId": t, "SubnetIds": s} for t, s in gaps]},
            )


@rule(id="VPCE006", name="endpoint-not-available", severity="low", resource_type="AWS::EC2::VPCEndpoint",
      needs=("ec2:VpcEndpoints",), options={"pending_acceptance_grace_hours": 24})
def endpoint_not_available(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint is stuck waiting for acceptance, or was rejected, failed or expired.

    The state is compared case-insensitively (AWS mixes pendingAcceptance and Rejected). An
    endpoint waiting for acceptance is reported once it is older than the option
    `pending_acceptance_grace_hours` (default 24), or at once when its creation time is unknown.

    ## Why it matters
    No traffic flows through such an endpoint. Clients that were meant to use it fall back to
    public paths or fail, and its private DNS name, if any, may still be reserved for the
    service, so a working endpoint for the same service cannot take it over.

    ## Remediation
    Ask the service provider to accept the connection (they run
    `aws ec2 accept-vpc-endpoint-connections --service-id vpce-svc-... --vpc-endpoint-ids vpce-...`),
    or delete the endpoint and create it again:
    `aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-...`
    """
    grace = dt.timedelta(hours=float(ctx.options.get("pending_acceptance_grace_hours", 24)))
    for scope in ctx.index.regional_scopes():
        for endpoint in scope.items("ec2:VpcEndpoints"):
            state = lowered(endpoint.get("State"))
            if state not in NOT_AVAILABLE:
                continue
            created = parse_time(endpoint.get("CreationTimestamp"))
            young = created is not None and ctx.as_of_for(scope.account_id, scope.region) - created < grace
            if state == "pendingacceptance" and young:
                continue
            since = f" (created {created.isoformat()})" if created else ""
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=endpoint["VpcEndpointId"],
                related=(endpoint.get("VpcId", ""),),
                message=(f"{endpoint_label(endpoint)} is {endpoint.get('State')}: it {NOT_AVAILABLE[state]}"
                         f"{since}, so no traffic flows through it"),
                evidence={k: endpoint.get(k) for k in ("VpcEndpointId", "ServiceName", "State", "LastError",
                                                       "CreationTimestamp")},
            )
