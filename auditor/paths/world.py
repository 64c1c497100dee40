"""The snapshot as path analysis sees it: every account and region at once, joined by id. Pure, built once.

Ids of VPCs, subnets, peerings, transit gateways and their attachments are unique across AWS, so one
dictionary per kind spans the whole snapshot; each entry keeps the scope (account, region) it came from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cached_property
from typing import Any, NamedTuple

from auditor.cidrs import CidrIndex
from auditor.index import Index, Item, Network, Scope, network
from auditor.items import lowered

IPV4_ANY = network("0.0.0.0/0")


class Located(NamedTuple):
    """An item and the scope it was collected in."""

    item: Item
    scope: Scope


def _items(index: Index, key: str) -> Iterable[Located]:
    for scope in index.scopes:
        for item in scope.items(key):
            yield Located(item, scope)


def _all_by(index: Index, key: str, field: str) -> dict[str, list[Located]]:
    """Every item under its `field`, from every account and region (several share one id)."""
    grouped: dict[str, list[Located]] = defaultdict(list)
    for located in _items(index, key):
        grouped[str(located.item.get(field))].append(located)
    return grouped


def _first_by(index: Index, key: str, field: str) -> dict[str, Located]:
    """Each item by id, from its owner's account when that was collected: a VPC, subnet or transit gateway
    shared through RAM shows in its participants' snapshots too, but its route tables are the owner's."""
    found: dict[str, Located] = {}
    for located in _items(index, key):
        value = located.item.get(field)
        if not value:
            continue
        held = found.get(str(value))
        if held is None or (_owned(located) and not _owned(held)):
            found[str(value)] = located
    return found


def _owned(located: Located) -> bool:
    return located.item.get("OwnerId") == located.scope.account_id


class World:
    """Cross-account joins for path analysis: what each id is, where it lives, and what connects to what."""

    def __init__(self, index: Index) -> None:
        self.index = index

    # what was read
    def missing(self, scope: Scope, key: str) -> dict[str, Any] | None:
        """The error that kept `key` out of `scope`, or None when it was read."""
        if scope.has(key) or self.index._read_elsewhere(scope.account_id, key):  # noqa: SLF001
            return None
        for error in self.index.errors:
            if (error.get("account_id"), error.get("region"), error.get("key")) == (scope.account_id, scope.region,
                                                                                     key):
                return error
        return {"account_id": scope.account_id, "region": scope.region, "key": key, "code": "NotCollected",
                "message": f"{key} is not in the snapshot"}

    # VPCs, subnets, interfaces
    @cached_property
    def vpcs(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:Vpcs", "VpcId")

    def vpc_networks(self, vpc_id: str) -> list[Network]:
        located = self.vpcs.get(vpc_id)
        return located.scope.vpc_cidrs(vpc_id) if located else []

    @cached_property
    def vpc_cidrs(self) -> CidrIndex[str]:
        return CidrIndex((net, vpc_id) for vpc_id in self.vpcs for net in self.vpc_networks(vpc_id))

    @cached_property
    def subnets(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:Subnets", "SubnetId")

    @cached_property
    def subnet_cidrs(self) -> CidrIndex[str]:
        entries = []
        for subnet_id, located in self.subnets.items():
            for cidr in [located.item.get("CidrBlock")] + [a.get("Ipv6CidrBlock") for a in
                                                           located.item.get("Ipv6CidrBlockAssociationSet") or []]:
                parsed = network(cidr)
                if parsed is not None:
                    entries.append((parsed, subnet_id))
        return CidrIndex(entries)

    def subnet_networks(self, subnet_id: str) -> list[Network]:
        located = self.subnets[subnet_id]
        cidrs = [located.item.get("CidrBlock")] + [a.get("Ipv6CidrBlock") for a in
                                                   located.item.get("Ipv6CidrBlockAssociationSet") or []]
        return [n for n in (network(c) for c in cidrs) if n is not None]

    @cached_property
    def interfaces(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:NetworkInterfaces", "NetworkInterfaceId")

    @cached_property
    def interface_by_address(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for eni_id, located in sorted(self.interfaces.items()):
            for address in located.item.get("PrivateIpAddresses") or []:
                found.setdefault(str(address.get("PrivateIpAddress")), eni_id)
            for address in located.item.get("Ipv6Addresses") or []:
                found.setdefault(str(address.get("Ipv6Address")), eni_id)
            if located.item.get("PrivateIpAddress"):
                found.setdefault(str(located.item["PrivateIpAddress"]), eni_id)
        return found

    def interface_addresses(self, eni_id: str) -> list[str]:
        item = self.interfaces[eni_id].item
        addresses = [a.get("PrivateIpAddress") for a in item.get("PrivateIpAddresses") or []]
        addresses = [a for a in addresses if a] or ([item["PrivateIpAddress"]] if item.get("PrivateIpAddress") else [])
        return addresses + [a["Ipv6Address"] for a in item.get("Ipv6Addresses") or [] if a.get("Ipv6Address")]

    # filters
    @cached_property
    def acl_by_subnet(self) -> dict[str, Located]:
        found: dict[str, Located] = {}
        for located in _items(self.index, "ec2:NetworkAcls"):
            for association in located.item.get("Associations") or []:
                if association.get("SubnetId"):
                    found[str(association["SubnetId"])] = located
        return found

    @cached_property
    def default_acl_by_vpc(self) -> dict[str, Located]:
        return {str(found.item.get("VpcId")): found for found in _items(self.index, "ec2:NetworkAcls")
                if found.item.get("IsDefault")}

    def acl_for_subnet(self, subnet_id: str) -> Located | None:
        """The network ACL a subnet uses: its association, else its VPC's default ACL."""
        found = self.acl_by_subnet.get(subnet_id)
        if found is None:
            subnet = self.subnets.get(subnet_id)
            found = self.default_acl_by_vpc.get(str(subnet.item.get("VpcId"))) if subnet else None
        return found

    @cached_property
    def security_groups(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:SecurityGroups", "GroupId")

    def prefix_list_networks(self, prefix_list_id: str) -> list[Network]:
        for located in self.prefix_lists.get(prefix_list_id, []):
            return [n for n in (network(e.get("Cidr")) for e in located.item.get("Entries") or []) if n]
        return []

    @cached_property
    def prefix_lists(self) -> dict[str, list[Located]]:
        return _all_by(self.index, "ec2:ManagedPrefixListEntries", "PrefixListId")

    # peering
    @cached_property
    def peerings(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:VpcPeeringConnections", "VpcPeeringConnectionId")

    @cached_property
    def peerings_by_vpc(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = defaultdict(list)
        for pcx_id, located in sorted(self.peerings.items()):
            for side in ("RequesterVpcInfo", "AccepterVpcInfo"):
                grouped[str((located.item.get(side) or {}).get("VpcId"))].append(pcx_id)
        return grouped

    # transit gateways
    @cached_property
    def tgw_attachments(self) -> dict[str, list[Located]]:
        """Attachment id -> its items: a peering attachment appears once on each transit gateway's side."""
        return _all_by(self.index, "ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId")

    @cached_property
    def tgw_vpc_attachments(self) -> dict[tuple[str, str], list[str]]:
        """(transit gateway, VPC) -> ids of the attachments between them that are not deleted."""
        found: dict[tuple[str, str], list[str]] = defaultdict(list)
        for key in ("ec2:TransitGatewayVpcAttachments", "ec2:TransitGatewayAttachments"):
            for located in _items(self.index, key):
                item = located.item
                vpc_id = item.get("VpcId") or (item.get("ResourceId") if lowered(item.get("ResourceType")) == "vpc"
                                               else None)
                attachment_id = str(item.get("TransitGatewayAttachmentId"))
                pair = (str(item.get("TransitGatewayId")), str(vpc_id))
                if vpc_id and lowered(item.get("State")) not in ("deleted", "deleting", "failed", "rejected") \
                        and attachment_id not in found[pair]:
                    found[pair].append(attachment_id)
        return found

    @cached_property
    def tgw_vpc_subnets(self) -> dict[str, list[str]]:
        return {str(found.item.get("TransitGatewayAttachmentId")): list(found.item.get("SubnetIds") or [])
                for found in _items(self.index, "ec2:TransitGatewayVpcAttachments")}

    @cached_property
    def tgw_association(self) -> dict[tuple[str, str], str]:
        """(transit gateway, attachment) -> the route table the attachment is associated with on that gateway."""
        found: dict[tuple[str, str], str] = {}
        for located in _items(self.index, "ec2:TransitGatewayRouteTableAssociations"):
            table_id = str(located.item.get("TransitGatewayRouteTableId"))
            table = self.tgw_route_tables.get(table_id)
            gateway = str(table.item.get("TransitGatewayId")) if table else ""
            for association in located.item.get("Associations") or []:
                if lowered(association.get("State")) in ("associated", "associating", ""):
                    found[(gateway, str(association.get("TransitGatewayAttachmentId")))] = table_id
        for attachment_id, items in self.tgw_attachments.items():
            for located in items:
                association = located.item.get("Association") or {}
                if association.get("TransitGatewayRouteTableId") and \
                        lowered(association.get("State")) in ("associated", "associating", ""):
                    found.setdefault((str(located.item.get("TransitGatewayId")), attachment_id),
                                     str(association["TransitGatewayRouteTableId"]))
        return found

    @cached_property
    def tgw_route_tables(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:TransitGatewayRouteTables", "TransitGatewayRouteTableId")

    @cached_property
    def tgw_routes(self) -> dict[str, list[Item]]:
        return {str(found.item.get("TransitGatewayRouteTableId")): list(found.item.get("Routes") or [])
                for found in _items(self.index, "ec2:TransitGatewayRoutes")}

    @cached_property
    def transit_gateways(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:TransitGateways", "TransitGatewayId")

    @cached_property
    def tgw_peer(self) -> dict[tuple[str, str], str]:
        """(transit gateway, peering attachment) -> the transit gateway at the attachment's other end."""
        found: dict[tuple[str, str], str] = {}
        for located in _items(self.index, "ec2:TransitGatewayPeeringAttachments"):
            item = located.item
            attachment_id = str(item.get("TransitGatewayAttachmentId"))
            requester = str((item.get("RequesterTgwInfo") or {}).get("TransitGatewayId"))
            accepter = str((item.get("AccepterTgwInfo") or {}).get("TransitGatewayId"))
            found[(requester, attachment_id)] = accepter
            found[(accepter, attachment_id)] = requester
        return found

    # gateways to customer networks
    @cached_property
    def vgw_by_vpc(self) -> dict[str, Located]:
        found: dict[str, Located] = {}
        for located in _items(self.index, "ec2:VpnGateways"):
            for attachment in located.item.get("VpcAttachments") or []:
                if lowered(attachment.get("State")) == "attached":
                    found[str(attachment.get("VpcId"))] = located
        return found

    @cached_property
    def vpn_connections(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:VpnConnections", "VpnConnectionId")

    def vpns_on(self, gateway_id: str) -> list[Located]:
        return [found for _, found in sorted(self.vpn_connections.items())
                if gateway_id in (found.item.get("VpnGatewayId"), found.item.get("TransitGatewayId"))]

    @cached_property
    def dx_gateways_by_vgw(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = defaultdict(list)
        for located in _items(self.index, "directconnect:directConnectGatewayAssociations"):
            for association in located.item.get("directConnectGatewayAssociations") or []:
                gateway = (association.get("associatedGateway") or {}).get("id") or association.get("virtualGatewayId")
                if gateway and lowered(association.get("associationState")) in ("associated", "updating"):
                    grouped[str(gateway)].append(str(association.get("directConnectGatewayId")))
        return grouped

    @cached_property
    def vpc_endpoints(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:VpcEndpoints", "VpcEndpointId")

    @cached_property
    def edge_tables(self) -> dict[str, Located]:
        """Gateway id -> the route table associated with the gateway itself (ingress routing)."""
        found: dict[str, Located] = {}
        for located in _items(self.index, "ec2:RouteTables"):
            for association in located.item.get("Associations") or []:
                state = lowered((association.get("AssociationState") or {}).get("State")) or "associated"
                if association.get("GatewayId") and state == "associated":
                    found[str(association["GatewayId"])] = located
        return found

    @cached_property
    def vpn_gateways(self) -> dict[str, Located]:
        return _first_by(self.index, "ec2:VpnGateways", "VpnGatewayId")

    def vpn_gateway(self, gateway_id: str) -> Located | None:
        return self.vpn_gateways.get(gateway_id)

    def vgw_id_of(self, vpc_id: str) -> str | None:
        located = self.vgw_by_vpc.get(vpc_id)
        return str(located.item["VpnGatewayId"]) if located else None

    @staticmethod
    def peer_networks(info: Item) -> list[Network]:
        """The CIDRs a peering item records for one side (when that VPC itself was not collected)."""
        blocks = [e.get("CidrBlock") for e in info.get("CidrBlockSet") or []] or [info.get("CidrBlock")]
        blocks += [e.get("Ipv6CidrBlock") for e in info.get("Ipv6CidrBlockSet") or []]
        return [n for n in (network(b) for b in blocks) if n is not None]

    @cached_property
    def _appliances(self) -> dict[str, str]:
        """Route target id (NAT gateway, interface, instance, endpoint) -> the subnet it sits in."""
        found: dict[str, str] = {}
        for eni_id, located in self.interfaces.items():
            subnet = str(located.item.get("SubnetId"))
            found[eni_id] = subnet
            instance = (located.item.get("Attachment") or {}).get("InstanceId")
            if instance:
                found.setdefault(str(instance), subnet)
        for located in _items(self.index, "ec2:NatGateways"):
            found[str(located.item.get("NatGatewayId"))] = str(located.item.get("SubnetId"))
        for located in _items(self.index, "ec2:VpcEndpoints"):
            subnets = located.item.get("SubnetIds") or []
            if subnets:
                found[str(located.item.get("VpcEndpointId"))] = str(sorted(subnets)[0])
        return found

    def appliance_subnet(self, target: str) -> str | None:
        return self._appliances.get(target)
