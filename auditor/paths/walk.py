"""Follow one packet hop by hop, as AWS forwards it, through one snapshot. Pure: no AWS calls, no printing.

The walk never stops at the first blocker when it can tell where the packet was meant to go: a
missing route whose intended target is plain (the one peering or transit gateway joining the two
VPCs) is reported, then the walk goes on as if it were fixed, so every blocker on the path is listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.index import Item, Network, Scope, route_destination, route_target, span, within
from auditor.items import lowered
from auditor.paths import fixes
from auditor.paths.filters import Traffic, acl_verdict, group_verdict
from auditor.paths.gateways import GatewaySteps, Step
from auditor.paths.model import Blocker, Direction, Endpoint, Hop
from auditor.paths.routing import RouteTable, compile_tgw_table, compile_vpc_table
from auditor.paths.world import World

MAX_STEPS = 16
DOWN_PEERING = ("deleted", "rejected", "failed", "expired")
Key = tuple[Any, ...]  # a destination: (VPC id, IP version, first address of the CIDR block)


class Walker(GatewaySteps):
    """Walks packets through one snapshot; compiled route tables are kept for every walk that follows."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._vpc_tables: dict[str, RouteTable] = {}
        self._tgw_tables: dict[str, RouteTable] = {}
        self._settled: dict[tuple[str, ...], dict[tuple[Any, ...], bool]] = {}

    # compiled tables
    def vpc_table(self, table: Item) -> RouteTable:
        table_id = str(table["RouteTableId"])
        compiled = self._vpc_tables.get(table_id)
        if compiled is None:
            compiled = self._vpc_tables[table_id] = compile_vpc_table(table, self.world.prefix_list_networks)
        return compiled

    def tgw_table(self, table_id: str) -> RouteTable | None:
        compiled = self._tgw_tables.get(table_id)
        if compiled is None:
            routes = self.world.tgw_routes.get(table_id)
            if routes is None:
                return None
            compiled = self._tgw_tables[table_id] = compile_tgw_table(routes, self.world.prefix_list_networks)
        return compiled

    def table_of(self, vpc_id: str, subnet_id: str | None) -> tuple[Scope, Item] | None:
        located = self.world.vpcs.get(vpc_id)
        if located is None:
            return None
        scope = located.scope
        subnet = self.world.subnets.get(subnet_id) if subnet_id else None
        table = scope.table_for_subnet(subnet.item) if subnet else scope.main_table(vpc_id)
        return (scope, table) if table is not None else None

    # the walk
    def trace(self, src: Endpoint, dst: Endpoint, traffic: Traffic, *, reply: bool = False,
              filters: bool = True, prefer: str = "") -> Direction:
        """One direction from `src` to `dst`. A reply skips security groups (stateful) and goes to ephemeral ports."""
        walk = Direction()
        if filters and not reply and src.groups:
            self._groups(walk, src, dst, traffic, egress=True)
        if filters and src.subnet_id:
            self._acl(walk, src.subnet_id, peer=dst.network, traffic=traffic, egress=True)
        step: Step | None = self._first_step(walk, src, dst, prefer)
        for _ in range(MAX_STEPS):
            if step is None or step.kind in ("deliver", "customer"):
                break
            step = self._handler(step)(walk, step, dst, reply)
        else:
            walk.blockers.append(Blocker("ROUTING_LOOP", step.ident if step else "", "the packet went through "
                                         f"more than {MAX_STEPS} hops: the routes form a loop", "fix the routes"))
            return walk
        if step is not None:
            self._arrive(walk, step, src, dst, traffic, reply=reply, filters=filters)
        return walk

    def _handler(self, step: Step) -> Any:
        return getattr(self, "_" + step.kind.replace("-", "_"))

    def delivered(self, vpc_id: str, table: Item, candidates: set[Key], endpoints: dict[Key, Endpoint],
                  inside: Callable[[Network], frozenset[Key]]) -> set[Key]:
        """Routing only: which candidate destinations a packet leaving through `table` of `vpc_id` arrives at.

        The same steps as `trace`, without filters. A destination is keyed (VPC id, IP version, first address)
        and `inside(net)` gives the keys of the destinations that `net` holds whole. Going through the
        table's routes most specific first splits the candidates by the route that wins them (set
        operations, not one lookup each); the step after a route is taken once, and each later step is
        settled once per destination, shared by every spoke associated with the same transit gateway table.
        """
        remaining = set(candidates)
        reached: set[Key] = set()
        first_step = Step("table", str(table["RouteTableId"]), vpc_id)
        for net, _ in self.vpc_table(table).longest_first():
            group = remaining.intersection(inside(net))
            if not group:
                continue
            remaining -= group
            scratch = Direction()
            following = self._table(scratch, first_step, endpoints[next(iter(group))], False)
            if scratch.blockers or following is None or following.kind in ("customer", "deliver"):
                if following is not None and following.kind == "deliver" and not scratch.blockers:
                    reached.update(key for key in group if key[0] == following.vpc_id)
                continue
            memo = self._memo_for(following)
            for key in group:
                verdict = memo.get(key)
                if verdict is None:
                    verdict = memo[key] = self._settles(following, endpoints[key], set())
                if verdict:
                    reached.add(key)
        return reached

    def _memo_for(self, step: Step) -> dict[tuple[Any, ...], bool]:
        """The answers of one step by destination. Entering a transit gateway through any attachment that is
        associated with the same route table gives the same answer, so those steps share one memo."""
        key: tuple[str, ...] = step
        if step.kind in ("tgw-from-vpc", "tgw"):
            attachment = step.attachment
            if step.kind == "tgw-from-vpc":
                found = self.world.tgw_vpc_attachments.get((step.ident, step.vpc_id))
                attachment = found[0] if found else ""
            table = self.world.tgw_association.get((step.ident, attachment)) if attachment else None
            if table:
                key = ("tgw", step.ident, table)
        return self._settled.setdefault(key, {})

    def _settles(self, step: Step, dst: Endpoint, seen: set[Step]) -> bool:
        if step in seen or len(seen) > MAX_STEPS:
            return False
        scratch = Direction()
        following = self._handler(step)(scratch, step, dst, False)
        if scratch.blockers or following is None or following.kind == "customer":
            return False
        if following.kind == "deliver":
            return following.vpc_id == dst.vpc_id
        memo = self._memo_for(following)
        version, first, _ = span(dst.network)
        key = (dst.vpc_id, version, first)
        verdict = memo.get(key)
        if verdict is None:
            verdict = memo[key] = self._settles(following, dst, seen | {step})
        return verdict

    def _first_step(self, walk: Direction, src: Endpoint, dst: Endpoint, prefer: str) -> Step | None:
        if not src.customer:
            found = self.table_of(str(src.vpc_id), src.subnet_id)
            if found is None:
                walk.blockers.append(Blocker("NO_ROUTE_TABLE", str(src.vpc_id), f"{src.vpc_id} has no route table "
                                             "in the snapshot", "collect ec2:RouteTables for its account"))
                return None
            return Step("table", str(found[1]["RouteTableId"]), str(src.vpc_id), subnet=src.subnet_id or "")
        entries = sorted(src.entries, key=lambda e: (e[1] != prefer, not self._leads_to(e, dst), e))
        kind, ident = entries[0]
        if kind == "vgw":
            located = self.world.vpn_gateway(ident)
            vpcs = [a.get("VpcId") for a in (located.item.get("VpcAttachments") or []) if
                    lowered(a.get("State")) == "attached"] if located else []
            self._hop(walk, ident, "AWS::EC2::VPNGateway", located.scope if located else None,
                      f"from {src.network} into {', '.join(map(str, vpcs)) or 'no VPC'}")
            if not vpcs:
                walk.blockers.append(Blocker("VGW_NOT_ATTACHED", ident, f"{ident} is attached to no VPC",
                                             f"aws ec2 attach-vpn-gateway --vpn-gateway-id {ident} --vpc-id <vpc>"))
                return None
            return self._enter_vpc(walk, str(vpcs[0]), dst, ident, transit=False)
        tgw_id, attachment = ident.split("/", 1)
        return Step("tgw", tgw_id, attachment=attachment)

    def _leads_to(self, entry: tuple[str, str], dst: Endpoint) -> bool:
        kind, ident = entry
        if kind == "vgw":
            return ident == self.world.vgw_id_of(str(dst.vpc_id))
        return (ident.split("/", 1)[0], str(dst.vpc_id)) in self.world.tgw_vpc_attachments

    def _table(self, walk: Direction, step: Step, dst: Endpoint, reply: bool) -> Step | None:
        located = self.world.vpcs[step.vpc_id]
        scope = located.scope
        table = scope.by_id("ec2:RouteTables", "RouteTableId")[step.ident]
        match = self.vpc_table(table).lookup(dst.network)
        if match is None:
            return self._no_route(walk, scope, step, dst, reply)
        route = match.route
        target = route_target(route)
        self._hop(walk, step.ident, "AWS::EC2::RouteTable", scope, f"{route_destination(route)} -> {target}")
        if lowered(route.get("State")) == "blackhole":
            walk.blockers.append(Blocker(
                "BAD_STATE_ROUTE", step.ident, f"route {route_destination(route)} -> {target} in {step.ident} is a "
                "blackhole: its target no longer exists",
                fixes.replace_blackhole(step.ident, route_destination(route))))
            return None
        return self._follow(walk, step, scope, target, dst)

    def _follow(self, walk: Direction, step: Step, scope: Scope, target: str, dst: Endpoint) -> Step | None:
        if target == "local":
            return Step("deliver", step.vpc_id, step.vpc_id)
        for prefix, kind in (("pcx-", "peering"), ("tgw-", "tgw-from-vpc"), ("vgw-", "vgw")):
            if target.startswith(prefix):
                return Step(kind, target, step.vpc_id, subnet=step.subnet)
        if target.startswith(("igw-", "eigw-")):
            walk.blockers.append(Blocker(
                "ROUTE_TO_INTERNET_GATEWAY", step.ident, f"{step.ident} sends {dst.network} to the internet gateway "
                f"{target}; a private address is not reachable over the internet",
                fixes.create_route(step.ident, dst.network, self._intended_target(step.vpc_id, dst))))
            return None
        appliance = self.world.appliance_subnet(target)
        if appliance is None:
            walk.blockers.append(Blocker("UNSUPPORTED_ROUTE_TARGET", step.ident, f"path analysis does not follow "
                                         f"traffic through {target} (not in the snapshot, or not modelled)",
                                         "check this hop by hand or with AWS Reachability Analyzer"))
            return None
        found = self.table_of(step.vpc_id, appliance)
        if found is None:
            return None
        self._hop(walk, target, "AWS::EC2::NetworkInterface", scope, f"through the appliance in {appliance}")
        return Step("table", str(found[1]["RouteTableId"]), step.vpc_id, subnet=appliance)

    def _no_route(self, walk: Direction, scope: Scope, step: Step, dst: Endpoint, reply: bool) -> Step | None:
        target = self._intended_target(step.vpc_id, dst)
        destination = self._destination_block(dst)
        code = "NO_ROUTE_TO_DESTINATION"
        if reply and target and target.startswith("tgw-"):
            code = "RESPONSE_RTB_HAS_NO_ROUTE_TO_TRANSIT_GATEWAY"
        assumed = f"; the walk goes on through {target}, as if the route existed" if target else ""
        self._hop(walk, step.ident, "AWS::EC2::RouteTable", scope, f"no route to {dst.network}")
        walk.blockers.append(Blocker(code, step.ident, f"{step.ident} ({step.vpc_id}) has no route that holds "
                                     f"{dst.network}{assumed}", fixes.create_route(step.ident, destination, target)))
        if target is None or target.startswith("vgw-") and not dst.customer:
            return None
        return self._follow(walk, step, scope, target, dst)

    def _intended_target(self, vpc_id: str, dst: Endpoint) -> str | None:
        """The one gateway that plainly joins this VPC to the destination, if there is exactly one kind."""
        if dst.customer:
            vgw = self.world.vgw_id_of(vpc_id)
            if vgw:
                return vgw
            tgws = sorted({e[1].split("/", 1)[0] for e in dst.entries if e[0] != "vgw"})
            return next((t for t in tgws if (t, vpc_id) in self.world.tgw_vpc_attachments), None)
        for pcx_id in self.world.peerings_by_vpc.get(vpc_id, []):
            item = self.world.peerings[pcx_id].item
            sides = {(item.get(s) or {}).get("VpcId") for s in ("RequesterVpcInfo", "AccepterVpcInfo")}
            if dst.vpc_id in sides and lowered((item.get("Status") or {}).get("Code")) not in DOWN_PEERING:
                return pcx_id
        shared = sorted(tgw for (tgw, vpc) in self.world.tgw_vpc_attachments if vpc == vpc_id
                        and (tgw, dst.vpc_id) in self.world.tgw_vpc_attachments)
        return shared[0] if shared else None

    def _destination_block(self, dst: Endpoint) -> Network:
        """The destination as a route would name it: the VPC CIDR that holds it, else its own network."""
        if dst.vpc_id:
            for net in self.world.vpc_networks(dst.vpc_id):
                if within(dst.network, net):
                    return net
        return dst.network

    def _peering(self, walk: Direction, step: Step, dst: Endpoint, reply: bool) -> Step | None:
        located = self.world.peerings.get(step.ident)
        if located is None:
            walk.blockers.append(Blocker("BAD_STATE_ROUTE", step.ident, f"the route targets {step.ident}, which is "
                                         "not in the snapshot (deleted?)", "replace or delete the route"))
            return None
        item = located.item
        status = lowered((item.get("Status") or {}).get("Code"))
        requester, accepter = item.get("RequesterVpcInfo") or {}, item.get("AccepterVpcInfo") or {}
        peer = accepter if requester.get("VpcId") == step.vpc_id else requester
        peer_vpc = str(peer.get("VpcId"))
        self._hop(walk, step.ident, "AWS::EC2::VPCPeeringConnection", located.scope,
                  f"{step.vpc_id} -> {peer_vpc} ({status})")
        if status != "active":
            walk.blockers.append(Blocker("PCX_NOT_ACTIVE", step.ident, f"{step.ident} is {status}, so it carries no "
                                         "traffic", fixes.activate_peering(step.ident, status)))
        networks = self.world.vpc_networks(peer_vpc) or self.world.peer_networks(peer)
        if not any(within(dst.network, net) for net in networks):
            walk.blockers.append(Blocker(
                "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR", step.ident,
                f"{dst.network} is not in {peer_vpc}'s CIDRs ({', '.join(map(str, networks)) or 'none'}): a peering "
                "carries only traffic for the peer VPC's own addresses (no transitive peering, no edge-to-edge "
                "routing through the peer's gateways)", fixes.peer_vpcs(step.vpc_id, dst.vpc_id)))
            return None
        return Step("deliver", peer_vpc, peer_vpc)

    def _arrive(self, walk: Direction, step: Step, src: Endpoint, dst: Endpoint, traffic: Traffic, *,
                reply: bool, filters: bool) -> None:
        if step.kind == "customer":
            walk.delivered = dst.customer
            return
        if dst.customer or step.vpc_id != dst.vpc_id:
            walk.blockers.append(Blocker("DESTINATION_IN_OTHER_VPC", step.vpc_id, f"the packet is delivered in "
                                         f"{step.vpc_id}, not in {dst.vpc_id or 'the customer network'}: overlapping "
                                         "address space sends it to the wrong network", "give the VPCs distinct "
                                         "CIDRs, or route a more specific prefix"))
            return
        walk.delivered = True
        if filters and dst.subnet_id:
            self._acl(walk, dst.subnet_id, peer=src.network, traffic=traffic, egress=False)
        if filters and not reply and dst.groups:
            self._groups(walk, dst, src, traffic, egress=False)

    # filters
    def _acl(self, walk: Direction, subnet_id: str, *, peer: Network, traffic: Traffic, egress: bool) -> None:
        located = self.world.acl_for_subnet(subnet_id)
        if located is None:
            self._unread(walk, subnet_id, self.world.subnets[subnet_id].scope, "ec2:NetworkAcls", "network ACLs")
            return
        acl_id = str(located.item.get("NetworkAclId"))
        verdict = acl_verdict(located.item, egress=egress, peer=peer, traffic=traffic)
        way = "outbound" if egress else "inbound"
        self._hop(walk, acl_id, "AWS::EC2::NetworkAcl", located.scope,
                  f"{way} {traffic.describe()} {'to' if egress else 'from'} {peer}: {verdict.rule}")
        if not verdict.allowed:
            walk.blockers.append(Blocker("SUBNET_ACL_RESTRICTION", acl_id, f"{acl_id} of {subnet_id} denies {way} "
                                         f"{traffic.describe()} {'to' if egress else 'from'} {peer} "
                                         f"({verdict.rule})", fixes.acl_entry(acl_id, egress=egress, peer=peer,
                                                                             protocol=traffic.protocol,
                                                                             ports=traffic.ports)))

    def _groups(self, walk: Direction, own: Endpoint, peer: Endpoint, traffic: Traffic, *, egress: bool) -> None:
        """The security groups of an interface (or of a Client VPN endpoint's interfaces)."""
        groups = [self.world.security_groups[g].item for g in own.groups if g in self.world.security_groups]
        if not groups:
            place = self.world.subnets.get(str(own.subnet_id))
            if own.groups and place is not None:
                self._unread(walk, own.groups[0], place.scope, "ec2:SecurityGroups", "security groups")
            return
        holder = own.interface_id or own.text
        located = self.world.interfaces.get(holder) or self.world.security_groups[str(groups[0].get("GroupId"))]
        verdict = group_verdict(groups, egress=egress, peer=peer.network, peer_groups=frozenset(peer.groups),
                                traffic=traffic, prefix_list=self.world.prefix_list_networks)
        way = "egress" if egress else "ingress"
        kind = ("AWS::EC2::NetworkInterface" if own.interface_id else
                "AWS::EC2::VPCEndpoint" if own.kind == "vpc-endpoint" else "AWS::EC2::ClientVpnEndpoint")
        self._hop(walk, holder, kind, located.scope, f"security groups {way} {traffic.describe()}: {verdict.rule}")
        if not verdict.allowed:
            walk.blockers.append(Blocker("ENI_SG_RULES_MISMATCH", str(own.groups[0]), f"no security group of "
                                         f"{holder} allows {way} {traffic.describe()} "
                                         f"{'to' if egress else 'from'} {peer.network}",
                                         fixes.group_rule(own.groups[0], egress=egress, peer=peer.network,
                                                          protocol=traffic.protocol, ports=traffic.ports)))

    def _unread(self, walk: Direction, resource_id: str, scope: Scope, key: str, what: str) -> None:
        """A filter on the path whose data was not read: the walk cannot say the packet passes it."""
        error = self.world.missing(scope, key)
        if error is not None:
            walk.blockers.append(Blocker(
                "NOT_IN_SNAPSHOT", resource_id, f"the {what} of {scope.account_id} {scope.region} were not read "
                f"({error.get('code')}), so whether they let the packet pass cannot be judged",
                f"grant the read ({key}; see AUD001) and collect again"))

    @staticmethod
    def _hop(walk: Direction, resource_id: str, resource_type: str, scope: Scope | None, detail: str) -> None:
        walk.hops.append(Hop(resource_id, resource_type, scope.account_id if scope else "",
                             scope.region if scope else "", detail))
