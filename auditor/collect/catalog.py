"""Every snapshot key and how it is read: one declarative line each, a function where one call is not enough.

Dumb by design: items are stored as the API returns them; no judgement, no reshaping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.collect.context import CallContext
from auditor.collect.registry import GLOBAL, api, custom, per_parent
from auditor.collect.tgw_routes import search_all_routes

# VPCs, subnets, routing and gateways
api("ec2:Vpcs", "DescribeVpcs", "VpcId")
api("ec2:Subnets", "DescribeSubnets", "SubnetId")
api("ec2:RouteTables", "DescribeRouteTables", "RouteTableId")
api("ec2:NetworkAcls", "DescribeNetworkAcls", "NetworkAclId")
api("ec2:InternetGateways", "DescribeInternetGateways", "InternetGatewayId")
api("ec2:EgressOnlyInternetGateways", "DescribeEgressOnlyInternetGateways", "EgressOnlyInternetGatewayId")
api("ec2:NatGateways", "DescribeNatGateways", "NatGatewayId")
api("ec2:ManagedPrefixLists", "DescribeManagedPrefixLists", "PrefixListId", result_key="PrefixLists")
per_parent("ec2:ManagedPrefixListEntries", "GetManagedPrefixListEntries",
           parent="ec2:ManagedPrefixLists", parent_id="PrefixListId", result_key="Entries")
api("ec2:FlowLogs", "DescribeFlowLogs", "FlowLogId")
api("ec2:SecurityGroups", "DescribeSecurityGroups", "GroupId")
api("ec2:NetworkInterfaces", "DescribeNetworkInterfaces", "NetworkInterfaceId")

# Peering and endpoints (PrivateLink consumer and provider sides)
api("ec2:VpcPeeringConnections", "DescribeVpcPeeringConnections", "VpcPeeringConnectionId")
api("ec2:VpcEndpoints", "DescribeVpcEndpoints", "VpcEndpointId")
api("ec2:VpcEndpointServiceConfigurations", "DescribeVpcEndpointServiceConfigurations", "ServiceId",
    result_key="ServiceConfigurations")
per_parent("ec2:VpcEndpointServicePermissions", "DescribeVpcEndpointServicePermissions",
           parent="ec2:VpcEndpointServiceConfigurations", parent_id="ServiceId",
           result_key="AllowedPrincipals")
api("ec2:VpcEndpointConnections", "DescribeVpcEndpointConnections", ("ServiceId", "VpcEndpointId"))
api("elbv2:LoadBalancers", "DescribeLoadBalancers", "LoadBalancerArn")

# Virtual private gateways and site-to-site VPN (telemetry and tunnel options are in the items)
api("ec2:VpnGateways", "DescribeVpnGateways", "VpnGatewayId")
api("ec2:CustomerGateways", "DescribeCustomerGateways", "CustomerGatewayId")
api("ec2:VpnConnections", "DescribeVpnConnections", "VpnConnectionId")

# Transit gateways
api("ec2:TransitGateways", "DescribeTransitGateways", "TransitGatewayId")
api("ec2:TransitGatewayAttachments", "DescribeTransitGatewayAttachments", "TransitGatewayAttachmentId")
api("ec2:TransitGatewayVpcAttachments", "DescribeTransitGatewayVpcAttachments",
    "TransitGatewayAttachmentId")
api("ec2:TransitGatewayPeeringAttachments", "DescribeTransitGatewayPeeringAttachments",
    "TransitGatewayAttachmentId")
api("ec2:TransitGatewayRouteTables", "DescribeTransitGatewayRouteTables", "TransitGatewayRouteTableId")
per_parent("ec2:TransitGatewayRouteTableAssociations", "GetTransitGatewayRouteTableAssociations",
           parent="ec2:TransitGatewayRouteTables", parent_id="TransitGatewayRouteTableId",
           result_key="Associations")
per_parent("ec2:TransitGatewayRouteTablePropagations", "GetTransitGatewayRouteTablePropagations",
           parent="ec2:TransitGatewayRouteTables", parent_id="TransitGatewayRouteTableId",
           result_key="TransitGatewayRouteTablePropagations")

# Client VPN
api("ec2:ClientVpnEndpoints", "DescribeClientVpnEndpoints", "ClientVpnEndpointId")
per_parent("ec2:ClientVpnAuthorizationRules", "DescribeClientVpnAuthorizationRules",
           parent="ec2:ClientVpnEndpoints", parent_id="ClientVpnEndpointId", result_key="AuthorizationRules")
per_parent("ec2:ClientVpnRoutes", "DescribeClientVpnRoutes",
           parent="ec2:ClientVpnEndpoints", parent_id="ClientVpnEndpointId", result_key="Routes")
per_parent("ec2:ClientVpnTargetNetworks", "DescribeClientVpnTargetNetworks",
           parent="ec2:ClientVpnEndpoints", parent_id="ClientVpnEndpointId",
           result_key="ClientVpnTargetNetworks")

# Direct Connect: connections and virtual interfaces are regional, its gateways are global
api("directconnect:connections", "DescribeConnections", "connectionId")
api("directconnect:virtualInterfaces", "DescribeVirtualInterfaces", "virtualInterfaceId")
api("directconnect:directConnectGateways", "DescribeDirectConnectGateways", "directConnectGatewayId",
    scope=GLOBAL)
per_parent("directconnect:directConnectGatewayAssociations", "DescribeDirectConnectGatewayAssociations",
           parent="directconnect:directConnectGateways", parent_id="directConnectGatewayId",
           result_key="directConnectGatewayAssociations", scope=GLOBAL)
per_parent("directconnect:directConnectGatewayAttachments", "DescribeDirectConnectGatewayAttachments",
           parent="directconnect:directConnectGateways", parent_id="directConnectGatewayId",
           result_key="directConnectGatewayAttachments", scope=GLOBAL)


@custom("ec2:VpcDnsAttributes", "DescribeVpcAttribute", "VpcId", parent="ec2:Vpcs")
def vpc_dns_attributes(ctx: CallContext, vpcs: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Per VPC, enableDnsSupport and enableDnsHostnames, under the API's own field names."""
    for vpc in vpcs:
        record: dict[str, Any] = {"VpcId": vpc["VpcId"]}
        try:
            for attribute, field in (("enableDnsSupport", "EnableDnsSupport"),
                                     ("enableDnsHostnames", "EnableDnsHostnames")):
                response = ctx.client.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)
                record[field] = response[field]["Value"]
        except Exception as error:  # noqa: BLE001 - every failure is recorded, none is fatal
            ctx.record("DescribeVpcAttribute", error, vpc["VpcId"])
            continue
        yield record


@custom("ec2:TransitGatewayRoutes", "SearchTransitGatewayRoutes", "TransitGatewayRouteTableId",
        parent="ec2:TransitGatewayRouteTables", extra_operations=("GetTransitGatewayPrefixListReferences",))
def transit_gateway_routes(ctx: CallContext, tables: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Per transit gateway route table, every route (SearchTransitGatewayRoutes, split until complete)."""
    for table in tables:
        table_id = table["TransitGatewayRouteTableId"]
        try:
            routes, complete, reason = search_all_routes(ctx, table_id)
        except Exception as error:  # noqa: BLE001
            ctx.record("SearchTransitGatewayRoutes", error, table_id)
            continue
        if not complete:
            ctx.errors.append(ctx.truncation(table_id, reason))
        yield {"TransitGatewayRouteTableId": table_id, "Routes": routes}


# The AWS services a region's endpoints use, for whether each takes an endpoint policy (VPCE001). Only the
# services named by endpoints, in one call: the full list is hundreds of services in every region.
PARTNER_SERVICE_PREFIX = "com.amazonaws.vpce."


@custom("ec2:ServiceDetails", "DescribeVpcEndpointServices", ("ServiceName", "ServiceType"),
        parent="ec2:VpcEndpoints", batched=True)
def endpoint_service_details(ctx: CallContext, endpoints: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """DescribeVpcEndpointServices for the AWS services the region's endpoints name (another account's
    PrivateLink service, com.amazonaws.vpce.*, is left out: it may no longer exist, which fails the call)."""
    names = sorted({str(e["ServiceName"]) for e in endpoints
                    if e.get("ServiceName") and not str(e["ServiceName"]).startswith(PARTNER_SERVICE_PREFIX)})
    if names:
        yield from ctx.items("DescribeVpcEndpointServices", "ServiceDetails", ServiceNames=names)
