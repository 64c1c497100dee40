"""Route table and VPC rules: dead routes, DNS support, flow logs. Pure: reads the indexed snapshot only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from auditor.engine import Failure, RuleContext, rule
from auditor.index import Item, Scope, route_destination, route_target
from auditor.items import (  # noqa: F401 - re-exported for the families that read routes
    ATTACHED,
    ATTACHMENT_GONE,
    ENDPOINT_GONE,
    GATEWAY_GONE,
    PEERING_GONE,
    listed,
    lowered,
)

from .endpoints import live_endpoints_in_region


def table_label(table: Item, users: dict[str, list[str]]) -> str:
    """`rtb-... (vpc-..., main table, used by subnet-...)`: where a route sits and whom it affects."""
    main = any(a.get("Main") for a in table.get("Associations") or [])
    subnets = users.get(table["RouteTableId"], [])
    used = f"used by {listed(subnets)}" if subnets else "used by no subnet"
    return f"route table {table['RouteTableId']} ({table.get('VpcId', '?')}, {'main table, ' if main else ''}{used})"


@rule(id="RTB001", name="route-blackhole", severity="medium", resource_type="AWS::EC2::RouteTable",
      needs=("ec2:RouteTables", "ec2:Subnets"))
def route_blackhole(ctx: RuleContext) -> Iterator[Failure]:
    """A route is in the blackhole state: its target is gone, and traffic to its destination is dropped.

    ## Why it matters
    AWS marks a route blackhole when what it points at (a peering, NAT gateway, network interface,
    detached gateway) no longer exists. Traffic to the route's destination is silently dropped,
    and the route still hides any less specific route that would have carried it. One finding per
    route table and destination, naming the former target. A route to a peering request not yet
    accepted is a blackhole until it is, and not reported (PCX006 reports a request left pending).

    ## Remediation
    Point the route at a live target, or delete it:
    `aws ec2 replace-route --route-table-id rtb-... --destination-cidr-block 10.1.0.0/16
    --vpc-peering-connection-id pcx-...` or
    `aws ec2 delete-route --route-table-id rtb-... --destination-cidr-block 10.1.0.0/16`
    (`--destination-ipv6-cidr-block` or `--destination-prefix-list-id` for those destinations).
    """
    for scope in ctx.index.regional_scopes():
        for ref in scope.routes_in_state("blackhole"):
            table, route = ref.table, ref.route
            users = scope.subnets_by_table
            destination, target = route_destination(route), route_target(route)
            if _peering_not_yet_active(scope, target):
                continue  # made before the request was accepted: it carries traffic once it is (PCX006's)
            former = f"its former target {target} no longer exists" if target else "its target no longer exists"
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=table["RouteTableId"],
                discriminator=destination, related=tuple(x for x in (table.get("VpcId"), target) if x),
                message=(f"{table_label(table, users)}: the route to {destination} is a blackhole: {former}, "
                         f"so traffic to {destination} is dropped"),
                evidence={"RouteTableId": table["RouteTableId"], "VpcId": table.get("VpcId"), "Route": route,
                          "Subnets": users.get(table["RouteTableId"], [])},
            )


PEERING_NOT_YET_ACTIVE = frozenset({"initiating-request", "pending-acceptance", "provisioning"})


def _peering_not_yet_active(scope: Scope, target: str) -> bool:
    """A route to a peering request not accepted yet: AWS shows it as a blackhole until the peering is active."""
    if not target.startswith("pcx-"):
        return False
    kind = TARGET_KINDS["pcx-"]
    peering = scope.by_id(kind.key, kind.id_field).get(target)
    return peering is not None and kind.state(peering) in PEERING_NOT_YET_ACTIVE


@dataclass(frozen=True)
class TargetKind:
    """How to find a route target of one kind in the snapshot and tell whether it still carries traffic."""

    noun: str
    key: str
    id_field: str
    state: Callable[[Item], str]
    gone: frozenset[str]
    attachments: str = ""  # the field listing the VPCs the target is attached to, if it is attached to one


def _state(item: Item) -> str:
    return lowered(item.get("State"))


TARGET_KINDS = {
    "pcx-": TargetKind("peering connection", "ec2:VpcPeeringConnections", "VpcPeeringConnectionId",
                       lambda item: lowered((item.get("Status") or {}).get("Code")), PEERING_GONE),
    "nat-": TargetKind("NAT gateway", "ec2:NatGateways", "NatGatewayId", _state, GATEWAY_GONE),
    "vgw-": TargetKind("virtual private gateway", "ec2:VpnGateways", "VpnGatewayId", _state, GATEWAY_GONE,
                       attachments="VpcAttachments"),
    "igw-": TargetKind("internet gateway", "ec2:InternetGateways", "InternetGatewayId", _state, frozenset(),
                       attachments="Attachments"),
    "eigw-": TargetKind("egress-only internet gateway", "ec2:EgressOnlyInternetGateways",
                        "EgressOnlyInternetGatewayId", _state, frozenset(), attachments="Attachments"),
    "vpce-": TargetKind("VPC endpoint", "ec2:VpcEndpoints", "VpcEndpointId", _state, ENDPOINT_GONE),
}


class Targets:
    """The route targets of one scope, looked up by id; built once per scope."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.vpc_attachments = {
            (a.get("TransitGatewayId"), a.get("ResourceId"))
            for a in scope.items("ec2:TransitGatewayAttachments")
            if lowered(a.get("ResourceType")) == "vpc" and lowered(a.get("State")) not in ATTACHMENT_GONE}

    def problem(self, target_id: str, vpc_id: str) -> tuple[str, Item | None] | None:
        """Why a route from `vpc_id` to `target_id` carries no traffic, with the target item; None if it may."""
        if target_id.startswith("tgw-"):
            return self._transit_gateway_problem(target_id, vpc_id)
        kind = next((k for prefix, k in TARGET_KINDS.items() if target_id.startswith(prefix)), None)
        if kind is None or not self.scope.has(kind.key):
            return None  # a target type that is not collected (network interface, instance...) is not judged
        item = self.scope.by_id(kind.key, kind.id_field).get(target_id)
        if item is None:
            return f"{kind.noun} {target_id}, which no longer exists in this account and region", None
        state = kind.state(item)
        if state in kind.gone:
            return f"{kind.noun} {target_id}, which is {state}", item
        if kind.attachments and not any(a.get("VpcId") == vpc_id and lowered(a.get("State")) in ATTACHED
                                        for a in item.get(kind.attachments) or []):
            return f"{kind.noun} {target_id}, which is not attached to {vpc_id}", item
        return None

    def _transit_gateway_problem(self, tgw_id: str, vpc_id: str) -> tuple[str, Item | None] | None:
        # A transit gateway shared by RAM is not in this account's DescribeTransitGateways, but the VPC's
        # attachment to it is in DescribeTransitGatewayAttachments: the attachment is what proves it alive.
        if not self.scope.has("ec2:TransitGatewayAttachments") or (tgw_id, vpc_id) in self.vpc_attachments:
            return None
        item = self.scope.by_id("ec2:TransitGateways", "TransitGatewayId").get(tgw_id)
        if item is not None and _state(item) in GATEWAY_GONE:
            return f"transit gateway {tgw_id}, which is {_state(item)}", item
        return f"transit gateway {tgw_id}, to which {vpc_id} has no attachment", item


@rule(id="RTB002", name="route-target-missing", severity="medium", resource_type="AWS::EC2::RouteTable",
      needs=("ec2:RouteTables", "ec2:Subnets"))  # each kind of target only where its own key was read (Targets)
def route_target_missing(ctx: RuleContext) -> Iterator[Failure]:
    """A route points at a peering, gateway or endpoint that no longer exists or no longer serves its VPC.

    Catches what the blackhole state does not show (AWS sets it late or not at all for some
    targets, and moto never sets it): the target is absent from the snapshot, in a final state
    (a peering deleted, rejected, failed or expired; a NAT gateway deleted or failed; an endpoint
    deleted, rejected, failed or expired), an internet, egress-only or virtual private gateway not
    attached to the route table's VPC, or a transit gateway to which the VPC has no attachment.
    Routes in the blackhole state are RTB001's; `local` routes are never judged. Network
    interfaces, instances, carrier, local and core-network targets are not collected, so routes
    to them are not judged. Route tables shared from another account are judged in their
    owner's account. A transit gateway shared through RAM from another account is not always
    among this account's transit gateways in the snapshot (its owner's account may not be
    collected): such a route is reported only when no attachment of this VPC to that transit
    gateway is in the snapshot either. A kind of target whose read failed in a region (say
    DescribeVpcEndpoints denied) is not judged there; the other kinds still are (until
    2026-11-27 one unread kind silenced the rule in the whole region).

    ## Why it matters
    Traffic to the route's destination is sent to a target that cannot carry it and is dropped,
    while the console may still show the route as active. The route also hides any less specific
    route that would have carried that traffic, so failover through another path never happens.

    ## Remediation
    Point the route at a live target, or delete it:
    `aws ec2 replace-route --route-table-id rtb-... --destination-cidr-block 10.1.0.0/16
    --transit-gateway-id tgw-...` or
    `aws ec2 delete-route --route-table-id rtb-... --destination-cidr-block 10.1.0.0/16`
    (`--destination-ipv6-cidr-block` or `--destination-prefix-list-id` for those destinations).
    For a detached gateway, attach it again:
    `aws ec2 attach-internet-gateway --internet-gateway-id igw-... --vpc-id vpc-...`.
    """
    for scope in ctx.index.regional_scopes():
        targets = Targets(scope)
        for target_id in sorted(scope.route_targets()):
            if target_id in ("", "local"):
                continue
            problems: dict[str, tuple[str, Item | None] | None] = {}  # one verdict per (target, VPC)
            for ref in scope.routes_to(target_id):
                table, route = ref.table, ref.route
                vpc_id = table.get("VpcId", "")
                if route.get("State") == "blackhole":
                    continue
                if vpc_id not in problems:
                    problems[vpc_id] = targets.problem(target_id, vpc_id)
                found = problems[vpc_id]
                if found is None:
                    continue
                users = scope.subnets_by_table
                why, target = found
                destination = route_destination(route)
                yield Failure(
                    account_id=scope.account_id, region=scope.region, resource_id=table["RouteTableId"],
                    discriminator=destination, related=(vpc_id, target_id),
                    message=(f"{table_label(table, users)}: the route to {destination} sends traffic to {why}, "
                             "so that traffic is dropped"),
                    evidence={"RouteTableId": table["RouteTableId"], "VpcId": vpc_id, "Route": route,
                              "Target": target, "Subnets": users.get(table["RouteTableId"], [])},
                )


@rule(id="VPC001", name="vpc-dns-support-disabled", severity="medium", resource_type="AWS::EC2::VPC",
      needs=("ec2:Vpcs", "ec2:VpcDnsAttributes", "ec2:VpcEndpoints", "ec2:VpcPeeringConnections"))
def vpc_dns_support_disabled(ctx: RuleContext) -> Iterator[Failure]:
    """A VPC with interface endpoints or peerings has DNS off (support, or hostnames for private DNS).

    Endpoints and peerings that are deleted, rejected, failed or expired do not count. A VPC
    whose DNS attributes could not be read is not judged. With DNS support on and DNS hostnames
    off, only interface endpoints with private DNS on count: AWS serves an endpoint's private DNS
    names only in a VPC with both attributes on (until 2026-11-27 only DNS support was checked).
    Peerings that allow DNS resolution are not judged on DNS hostnames. In a VPC shared through
    AWS RAM, the interface endpoints participants made in its subnets count (listed only in their
    accounts); the finding is the owner's, who alone can change the attributes (until 2026-11-27
    such a VPC was reported only when its owner had endpoints of its own there).

    ## Why it matters
    With enableDnsSupport off, the Amazon DNS server (the VPC's .2 address and 169.254.169.253)
    does not answer in the VPC. The private DNS names of interface endpoints and the private
    answers for instances across a peering then never resolve: clients fall back to public
    names and addresses, so their traffic leaves through the internet or a NAT gateway instead
    of the endpoint or the peering, or fails. With enableDnsHostnames off the same happens to
    the endpoints' private DNS names.

    ## Remediation
    Turn DNS support on (and DNS hostnames, which private DNS also needs):
    `aws ec2 modify-vpc-attribute --vpc-id vpc-... --enable-dns-support '{"Value":true}'`
    then `aws ec2 modify-vpc-attribute --vpc-id vpc-... --enable-dns-hostnames '{"Value":true}'`.
    """
    for scope in ctx.index.regional_scopes():
        # Every account's in the region: a participant's endpoint in a shared VPC is listed only in its account.
        endpoints: dict[str, list[Item]] = defaultdict(list)
        for endpoint in live_endpoints_in_region(ctx, scope.region, "Interface"):
            endpoints[endpoint.get("VpcId", "")].append(endpoint)
        peerings: dict[str, list[Item]] = defaultdict(list)
        for peering in scope.items("ec2:VpcPeeringConnections"):
            if TARGET_KINDS["pcx-"].state(peering) not in PEERING_GONE:
                for side in ("RequesterVpcInfo", "AccepterVpcInfo"):
                    peerings[(peering.get(side) or {}).get("VpcId", "")].append(peering)
        dns = scope.by_id("ec2:VpcDnsAttributes", "VpcId")
        for vpc in scope.items("ec2:Vpcs"):
            vpc_id = vpc["VpcId"]
            attributes = dns.get(vpc_id)
            if attributes is None:
                continue
            support_off = attributes.get("EnableDnsSupport") is False
            if not support_off and attributes.get("EnableDnsHostnames") is not False:
                continue
            its_endpoints, its_peerings = endpoints.get(vpc_id, []), peerings.get(vpc_id, [])
            if not support_off:  # DNS hostnames off: endpoints' private DNS needs them
                its_endpoints = [e for e in its_endpoints if e.get("PrivateDnsEnabled")]
                its_peerings = []
            users = []
            if its_endpoints:
                users.append("interface endpoints " + listed(
                    f"{e['VpcEndpointId']} ({e.get('ServiceName')})" for e in its_endpoints))
            if its_peerings:
                users.append("peerings " + listed(p["VpcPeeringConnectionId"] for p in its_peerings))
            if not users:
                continue
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=vpc_id,
                related=tuple([e["VpcEndpointId"] for e in its_endpoints]
                              + [p["VpcPeeringConnectionId"] for p in its_peerings]),
                message=(f"VPC {vpc_id} has enableDnsSupport off, so the Amazon DNS server does not answer in it "
                         f"and private DNS cannot work for its {' and '.join(users)}" if support_off else
                         f"VPC {vpc_id} has enableDnsHostnames off, which private DNS needs as well as DNS support: "
                         f"it cannot work for its {' and '.join(users)}"),
                evidence={"VpcDnsAttributes": attributes,
                          "InterfaceEndpoints": [{k: e.get(k) for k in ("VpcEndpointId", "ServiceName",
                                                                         "PrivateDnsEnabled", "State")}
                                                 for e in its_endpoints],
                          "VpcPeeringConnections": [{"VpcPeeringConnectionId": p["VpcPeeringConnectionId"],
                                                     "Status": p.get("Status")} for p in its_peerings]},
            )


@rule(id="VPC002", name="vpc-flow-logs-disabled", severity="low", resource_type="AWS::EC2::VPC",
      needs=("ec2:Vpcs", "ec2:FlowLogs"))
def vpc_flow_logs_disabled(ctx: RuleContext) -> Iterator[Failure]:
    """A VPC has no active flow log of its own.

    Only a flow log on the VPC itself in the ACTIVE status counts: subnet and network interface
    flow logs cover only part of it. Every VPC is reported, default VPCs too (the message says so):
    an unused default VPC is better deleted than logged. VPCs shared by RAM are judged in their
    owner's account.

    ## Why it matters
    Without flow logs there is no record of which addresses talked to what through the VPC's
    peerings, endpoints, VPN and transit gateway attachments: an incident cannot be investigated
    after the fact, and a new path cannot be checked against what really flows.

    ## Remediation
    Create a flow log on the VPC (to CloudWatch Logs or S3):
    `aws ec2 create-flow-logs --resource-type VPC --resource-ids vpc-... --traffic-type ALL
    --log-destination-type s3 --log-destination arn:aws:s3:::my-flow-log-bucket`
    """
    for scope in ctx.index.regional_scopes():
        logs: dict[str, list[Item]] = defaultdict(list)
        for flow_log in scope.items("ec2:FlowLogs"):
            logs[flow_log.get("ResourceId", "")].append(flow_log)
        for vpc in scope.items("ec2:Vpcs"):
            vpc_id = vpc["VpcId"]
            its_logs = logs.get(vpc_id, [])
            if any(f.get("FlowLogStatus") == "ACTIVE" for f in its_logs):
                continue
            default = "; it is the default VPC (delete it if unused)" if vpc.get("IsDefault") else ""
            states = listed(f"{f.get('FlowLogId')} ({f.get('FlowLogStatus')})" for f in its_logs)
            inactive = f"; none of its flow logs is ACTIVE: {states}" if its_logs else ""
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=vpc_id,
                message=f"VPC {vpc_id} ({vpc.get('CidrBlock')}) has no active flow log{inactive}{default}",
                evidence={"VpcId": vpc_id, "CidrBlock": vpc.get("CidrBlock"), "IsDefault": vpc.get("IsDefault"),
                          "FlowLogs": its_logs},
            )
