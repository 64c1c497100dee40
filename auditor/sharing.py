"""Who owns what a finding is about, so that a resource shared through AWS RAM is judged once, in its owner's account.

A VPC shared through RAM shows in each participant's snapshot with OwnerId = the owner's account, and so do its
shared subnets and any of its route tables the participant can see; its route tables, gateways, peerings, flow logs
and DNS attributes are the owner's alone to change. A transit gateway shared through RAM shows in each participant's
DescribeTransitGateways with OwnerId = the owner, whose account alone holds (and may change) its route tables,
associations, propagations and options. The engine asks `owned_elsewhere` about every finding of a rule and keeps
only those filed under the account that owns their resource: the owner's own copy of a shared resource gives the
finding, once, and a participant is never reported for what it cannot change.

Pure: reads the indexed snapshot only. Each lookup is a dict access on a per-scope index that is built once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from auditor.index import Index, Item, Scope
from auditor.peerings import Peering, peerings

VPCS = "ec2:Vpcs"
TRANSIT_GATEWAYS = "ec2:TransitGateways"
GONE = frozenset({"deleted", "deleting", "failed"})  # states of a VPC or transit gateway nobody judges any more

OwnerOf = Callable[[Scope, str], str | None]


def _owner(item: Item | None, field: str = "OwnerId") -> str | None:
    value = (item or {}).get(field)
    return str(value) if value else None


def _item_owner(key: str, id_field: str) -> OwnerOf:
    def owner_of_item(scope: Scope, resource_id: str) -> str | None:
        return _owner(scope.by_id(key, id_field).get(resource_id))
    return owner_of_item


_vpc_owner = _item_owner(VPCS, "VpcId")
_gateway_owner = _item_owner(TRANSIT_GATEWAYS, "TransitGatewayId")


def _route_table_owner(scope: Scope, table_id: str) -> str | None:
    """A route table's own OwnerId, else its VPC's: the tables of a shared VPC are its owner's."""
    table = scope.by_id("ec2:RouteTables", "RouteTableId").get(table_id)
    return None if table is None else _owner(table) or _vpc_owner(scope, str(table.get("VpcId", "")))


def _tgw_route_table_owner(scope: Scope, table_id: str) -> str | None:
    """A transit gateway route table belongs to its transit gateway's owner (the API gives the table no owner)."""
    table = scope.by_id("ec2:TransitGatewayRouteTables", "TransitGatewayRouteTableId").get(table_id)
    return None if table is None else _gateway_owner(scope, str(table.get("TransitGatewayId", "")))


def _attachment_judge(scope: Scope, attachment_id: str) -> str | None:
    """The transit gateway's owner: an attachment's association, propagations, acceptance, and whether it may be
    there at all are decided on the transit gateway, whoever owns the VPC or VPN attached."""
    attachment = scope.by_id("ec2:TransitGatewayAttachments", "TransitGatewayAttachmentId").get(attachment_id)
    if attachment is None:
        return None
    return _owner(attachment, "TransitGatewayOwnerId") or _gateway_owner(scope, str(attachment.get("TransitGatewayId")))


# The account that a finding about a resource of each type belongs to, as the scope it is filed under shows the
# resource. Types that RAM does not share (VPN, Client VPN, Direct Connect, endpoint services) are not listed:
# their findings stay where the rule files them. Peerings are apart (see `owned_elsewhere`).
OWNERS: dict[str, OwnerOf] = {
    "AWS::EC2::VPC": _vpc_owner,
    "AWS::EC2::Subnet": _item_owner("ec2:Subnets", "SubnetId"),
    "AWS::EC2::RouteTable": _route_table_owner,
    "AWS::EC2::SecurityGroup": _item_owner("ec2:SecurityGroups", "GroupId"),
    "AWS::EC2::VPCEndpoint": _item_owner("ec2:VpcEndpoints", "VpcEndpointId"),
    "AWS::EC2::TransitGateway": _gateway_owner,
    "AWS::EC2::TransitGatewayRouteTable": _tgw_route_table_owner,
    "AWS::EC2::TransitGatewayAttachment": _attachment_judge,
}


def owner_of(index: Index, resource_type: str, account_id: str, region: str, resource_id: str) -> str | None:
    """The account that owns a resource as the snapshot of (account, region) shows it; None when that scope does
    not hold it, the item names no owner, or the type is not one RAM shares."""
    resolve = OWNERS.get(resource_type)
    if resolve is None:
        return None
    scope = index.scope(account_id, region)
    return None if scope is None else resolve(scope, resource_id)


PEERING = "AWS::EC2::VPCPeeringConnection"


def owned_elsewhere(index: Index, resource_type: str, account_id: str, region: str, resource_id: str) -> bool:
    """Whether a finding filed under `account_id` belongs to another account's audit: it is about a resource that
    another account owns (shared through RAM), or about a peering that no account owning one of its VPCs was
    collected to show (the peering rules file each finding under a side's OwnerId, which names the VPC's owner, never
    a participant; but a participant's copy of its owner's peering is all the snapshot has of it then)."""
    if resource_type == PEERING:
        peering = _peerings_by_id(index).get(resource_id)
        return peering is not None and peering.requester.scope is None and peering.accepter.scope is None
    owner = owner_of(index, resource_type, account_id, region, resource_id)
    return owner is not None and owner != account_id


def _peerings_by_id(index: Index) -> dict[str, Peering]:
    return index.memo(("sharing-peerings",), lambda: {p.id: p for p in peerings(index)})  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Shared:
    """A VPC or transit gateway that another account shares with the scope's account through RAM."""

    scope: Scope
    item: Item
    resource_type: str
    resource_id: str
    owner: str


SHAREABLE = ((VPCS, "VpcId", "AWS::EC2::VPC"), (TRANSIT_GATEWAYS, "TransitGatewayId", "AWS::EC2::TransitGateway"))


def shared_with(scope: Scope) -> Iterator[Shared]:
    """The VPCs and transit gateways of a scope that another account owns (not those deleted), in snapshot order."""
    for key, id_field, resource_type in SHAREABLE:
        for item in scope.items(key):
            owner = _owner(item)
            if owner and owner != scope.account_id and str(item.get("State", "")).lower() not in GONE:
                yield Shared(scope, item, resource_type, str(item[id_field]), owner)
