"""VPC endpoint (consumer side) and endpoint service (provider side) rules. Pure: reads the indexed snapshot only."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from auditor.engine import Failure, RuleContext, rule
from auditor.index import Item, Scope
from auditor.policy import PolicyError, open_statements

from .routes import ENDPOINT_GONE, listed, lowered

POLICY_TYPES = ("Gateway", "Interface")  # Gateway Load Balancer endpoints take no policy
PARTNER_SERVICE_PREFIX = "com.amazonaws.vpce."  # PrivateLink services of other accounts: no private DNS, no policy
SERVICE_GONE = frozenset({"deleted", "deleting", "failed"})
NOT_AVAILABLE = {
    "pendingacceptance": "is waiting for the service provider to accept it",
    "rejected": "was rejected by the service provider",
    "failed": "failed to be created",
    "expired": "expired before the service provider accepted it",
}
ACCEPTED_CONNECTION = frozenset({"available", "pending"})  # pending: accepted, interfaces being provisioned
WORLD = frozenset({"0.0.0.0/0", "::/0"})


def live_endpoints(scope: Scope, kind: str | None = None) -> Iterator[Item]:
    """Endpoints that are (or are about to be) in service, optionally of one type."""
    for endpoint in scope.items("ec2:VpcEndpoints"):
        if lowered(endpoint.get("State")) not in ENDPOINT_GONE and kind in (None, endpoint.get("VpcEndpointType")):
            yield endpoint


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
    comes from its own VPC). A Deny that refuses everyone outside known accounts or organizations
    closes the Allows it covers. An endpoint without a policy document has the default
    full-access policy. A policy document that cannot be parsed is reported as such. Gateway Load
    Balancer endpoints and endpoints to other accounts' PrivateLink services (com.amazonaws.vpce.*)
    take no policy and are not judged, nor are endpoints that are deleted, rejected, failed or expired.

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
        for endpoint in live_endpoints(scope):
            service = str(endpoint.get("ServiceName", ""))
            if endpoint.get("VpcEndpointType") not in POLICY_TYPES or service.startswith(PARTNER_SERVICE_PREFIX):
                continue
            document = endpoint.get("PolicyDocument")
            evidence: dict[str, Any] = {"VpcEndpointId": endpoint["VpcEndpointId"], "ServiceName": service,
                                        "PolicyDocument": document}
            try:
                found = open_statements(document)
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


@rule(id="VPCE002", name="endpoint-private-dns-disabled", severity="medium", resource_type="AWS::EC2::VPCEndpoint",
      needs=("ec2:VpcEndpoints",))
def endpoint_private_dns_disabled(ctx: RuleContext) -> Iterator[Failure]:
    """An interface endpoint for an AWS service has private DNS off, so clients resolve past it.

    Only AWS services (com.amazonaws.<region>.<service>) are judged: PrivateLink services of other
    accounts (com.amazonaws.vpce.*) have their own private DNS names, if any. An interface
    endpoint for a service that also has a gateway endpoint in the same VPC (S3, DynamoDB) is
    fine with private DNS off: the service's public name then routes through the gateway endpoint.

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
        gateway_services = {(e.get("VpcId"), e.get("ServiceName")) for e in live_endpoints(scope, "Gateway")}
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

    Subnets of the endpoint that are not in the snapshot are not counted; an endpoint none of
    whose subnets is known is not judged.

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
        for endpoint in live_endpoints(scope, "Interface"):
            known = [subnets[s] for s in endpoint.get("SubnetIds") or [] if s in subnets]
            zones = {s.get("AvailabilityZone") for s in known}
            vpc_zones = sorted(zones_of_vpc.get(endpoint.get("VpcId", ""), ()))
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


def parse_time(value: Any) -> dt.datetime | None:
    try:
        parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


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
            if state == "pendingacceptance" and created is not None and ctx.now - created < grace:
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


def live_services(scope: Scope) -> Iterator[Item]:
    for service in scope.items("ec2:VpcEndpointServiceConfigurations"):
        if lowered(service.get("ServiceState")) not in SERVICE_GONE:
            yield service


def allowed_principals(scope: Scope, service: Item) -> list[str] | None:
    """The service's allowed principals; None when its permissions could not be read."""
    record = scope.by_id("ec2:VpcEndpointServicePermissions", "ServiceId").get(service["ServiceId"])
    if record is None:
        return None
    return [str(p.get("Principal")) for p in record.get("AllowedPrincipals") or [] if p.get("Principal")]


def principal_account(principal: str) -> str | None:
    """The account a principal belongs to: an account id, or the account field of an ARN
    (arn:aws:iam::<account>:root or :role/..., an organization's management account); None for "*" and others."""
    if re.fullmatch(r"\d{12}", principal):
        return principal
    parts = principal.split(":", 5)
    return parts[4] if principal.startswith("arn:") and len(parts) == 6 and parts[4] else None


def service_label(service: Item) -> str:
    return f"endpoint service {service['ServiceId']} ({service.get('ServiceName')})"


@rule(id="VPCES001", name="endpoint-service-open-principals", severity="high",
      resource_type="AWS::EC2::VPCEndpointService",
      needs=("ec2:VpcEndpointServiceConfigurations", "ec2:VpcEndpointServicePermissions"))
def endpoint_service_open_principals(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint service lets any AWS account ("*") create endpoints to it.

    Critical when the service also accepts connections without review (AcceptanceRequired
    false): anyone can then reach the load balancers behind it. High otherwise: every request
    waits for a human, who must tell strangers from customers.

    ## Why it matters
    The allowed principals are who may even ask to connect. With "*", any AWS account in the
    world can discover the service name and create an endpoint to it; with acceptance off, the
    connection is live at once and the service's listeners are open to that account's VPC.

    ## Remediation
    Remove "*" and allow the accounts (or organization) that are meant to connect:
    `aws ec2 modify-vpc-endpoint-service-permissions --service-id vpce-svc-...
    --remove-allowed-principals "*" --add-allowed-principals arn:aws:iam::111122223333:root`
    """
    for scope in ctx.index.regional_scopes():
        for service in live_services(scope):
            principals = allowed_principals(scope, service)
            if not principals or "*" not in principals:
                continue
            unreviewed = service.get("AcceptanceRequired") is False
            consequence = (" and accepts their connections without review, so anyone can reach its load balancers"
                           if unreviewed else "; only the acceptance step keeps strangers out")
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=service["ServiceId"],
                severity="critical" if unreviewed else None,
                message=(f"{service_label(service)} allows every AWS account ('*') to create endpoints "
                         f"to it{consequence}"),
                evidence={"ServiceId": service["ServiceId"], "AcceptanceRequired": service.get("AcceptanceRequired"),
                          "AllowedPrincipals": principals},
            )


@rule(id="VPCES002", name="endpoint-service-acceptance-not-required", severity="medium",
      resource_type="AWS::EC2::VPCEndpointService",
      needs=("ec2:VpcEndpointServiceConfigurations", "ec2:VpcEndpointServicePermissions"))
def endpoint_service_acceptance_not_required(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint service auto-accepts connections from principals outside the trusted accounts.

    A principal belongs to the account in its ARN (arn:aws:iam::<account>:root, :role/..., or an
    organization's management account) or is an account id; trusted accounts are the configured
    ones plus every account in the snapshot. "*" is left to VPCES001, which already reports it
    (critical when acceptance is off), so that one problem makes one ticket; named untrusted
    principals next to "*" are still reported here, as removing "*" does not remove them.

    ## Why it matters
    With acceptance off, any allowed principal's endpoint is connected at once, with no one
    looking at which account and VPC it comes from. For principals outside your accounts, that
    gives a third party's network a live path to the load balancers behind the service.

    ## Remediation
    Require acceptance, or limit the allowed principals to trusted accounts:
    `aws ec2 modify-vpc-endpoint-service-configuration --service-id vpce-svc-... --acceptance-required`
    """
    for scope in ctx.index.regional_scopes():
        for service in live_services(scope):
            principals = allowed_principals(scope, service)
            if service.get("AcceptanceRequired") is not False or not principals:
                continue
            untrusted = [p for p in principals if p != "*" and principal_account(p) not in ctx.trusted_accounts]
            if not untrusted:
                continue
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=service["ServiceId"],
                message=(f"{service_label(service)} accepts endpoint connections without review, and allows "
                         f"principals outside the trusted accounts: {listed(untrusted)}"),
                evidence={"ServiceId": service["ServiceId"], "AcceptanceRequired": False,
                          "AllowedPrincipals": principals, "Untrusted": untrusted},
            )


@rule(id="VPCES003", name="endpoint-service-untrusted-connection", severity="high",
      resource_type="AWS::EC2::VPCEndpointService", needs=("ec2:VpcEndpointConnections",))
def endpoint_service_untrusted_connection(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint service has an accepted connection from an endpoint of an untrusted account.

    Connections in the available or pending (accepted, being provisioned) state are judged; one
    finding per connection. Trusted accounts are the configured ones plus every account in the
    snapshot.

    ## Why it matters
    An accepted connection is a live network path from another account's VPC to the load
    balancers behind the service. From an account that no one trusts, it is a way in that no
    route table, peering or security review of your own VPCs shows.

    ## Remediation
    Reject the connection (and remove the account from the allowed principals):
    `aws ec2 reject-vpc-endpoint-connections --service-id vpce-svc-... --vpc-endpoint-ids vpce-...`
    """
    for scope in ctx.index.regional_scopes():
        services = scope.by_id("ec2:VpcEndpointServiceConfigurations", "ServiceId")
        for connection in scope.items("ec2:VpcEndpointConnections"):
            owner = str(connection.get("VpcEndpointOwner", ""))
            if lowered(connection.get("VpcEndpointState")) not in ACCEPTED_CONNECTION or owner in ctx.trusted_accounts:
                continue
            service_id, endpoint_id = connection["ServiceId"], connection.get("VpcEndpointId", "")
            service = services.get(service_id) or {"ServiceId": service_id}
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=service_id,
                discriminator=endpoint_id, related=(endpoint_id,),
                message=(f"{service_label(service)} has an accepted connection "
                         f"({connection.get('VpcEndpointState')}) from endpoint {endpoint_id} of account "
                         f"{owner or '(unknown)'}, which is not a trusted account"),
                evidence={"Connection": connection},
            )


@rule(id="VPCES004", name="endpoint-service-single-az", severity="low", resource_type="AWS::EC2::VPCEndpointService",
      needs=("ec2:VpcEndpointServiceConfigurations", "elbv2:LoadBalancers"))
def endpoint_service_single_az(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint service's load balancers all sit in one Availability Zone.

    The service is judged only when every one of its load balancers is in the snapshot.

    ## Why it matters
    Consumers can create endpoints to the service only in the zones its load balancers are in,
    so every consumer is tied to that one zone: its outage stops the service for all of them,
    and consumers whose subnets are elsewhere cannot connect at all.

    ## Remediation
    Enable the load balancer in subnets of more zones:
    `aws elbv2 set-subnets --load-balancer-arn arn:aws:elasticloadbalancing:... --subnets subnet-a subnet-b`
    """
    for scope in ctx.index.regional_scopes():
        balancers = scope.by_id("elbv2:LoadBalancers", "LoadBalancerArn")
        for service in live_services(scope):
            arns = [*(service.get("NetworkLoadBalancerArns") or []), *(service.get("GatewayLoadBalancerArns") or [])]
            if not arns or any(arn not in balancers for arn in arns):
                continue
            zones = sorted({str(z.get("ZoneName")) for arn in arns
                            for z in balancers[arn].get("AvailabilityZones") or []})
            if len(zones) != 1:
                continue
            names = [str(balancers[arn].get("LoadBalancerName", arn)) for arn in arns]
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=service["ServiceId"],
                related=tuple(arns),
                message=(f"{service_label(service)} is served only in {zones[0]}, by load balancer(s) "
                         f"{listed(names)}: an outage of {zones[0]} stops it for every consumer"),
                evidence={"ServiceId": service["ServiceId"], "LoadBalancerArns": arns, "Zones": zones},
            )
