"""The graph's links to customer networks and services: VPN, Direct Connect, endpoints, Client VPN. Pure.

Where the far side is a customer network (a VPN's customer gateway, a Direct Connect location), its
routes are not in any snapshot, so those edges say routes "unknown" and show what the AWS side knows
(static routes, tunnels up, allowed prefixes) in their labels.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from auditor.graph import UNKNOWN, Edge, GraphBuilder, Node, label, name_tag, routes_both_ways, verdict
from auditor.index import Item, Scope
from auditor.items import ENDPOINT_GONE, lowered

VPN_GONE = frozenset({"deleting", "deleted"})
DX_GONE = frozenset({"deleting", "deleted", "rejected"})
SERVICE_GONE = frozenset({"deleted", "deleting", "failed"})
AWS_SERVICE_PREFIX, PARTNER_SERVICE_PREFIX = "com.amazonaws.", "com.amazonaws.vpce."
DX_GATEWAYS = "directconnect:directConnectGateways"
DX_ASSOCIATIONS = "directconnect:directConnectGatewayAssociations"
DX_ATTACHMENTS = "directconnect:directConnectGatewayAttachments"
CVPN_TARGETS = "ec2:ClientVpnTargetNetworks"
CVPN_ROUTES = "ec2:ClientVpnRoutes"


def _state(item: Item, *fields: str) -> str:
    for name in fields:
        value = item.get(name)
        if isinstance(value, dict):
            value = value.get("Code")
        if value:
            return str(value)
    return UNKNOWN


def _brief(values: list[str], shown: int = 3) -> str:
    return ", ".join(values[:shown]) + (f" +{len(values) - shown}" if len(values) > shown else "")


def vpns(builder: GraphBuilder) -> None:
    """VGWs (attached to their VPC), customer gateways, and each VPN connection from customer gateway to VGW or TGW."""
    attachments: dict[str, tuple[str, str]] = builder.context.get("vpn-attachments", {})
    for scope in builder.index.regional_scopes():
        where = (scope.account_id, scope.region)
        for gateway in scope.items("ec2:VpnGateways"):
            if lowered(gateway.get("State")) in VPN_GONE:
                continue
            vgw_id, asn = str(gateway["VpnGatewayId"]), gateway.get("AmazonSideAsn")
            builder.add_node(Node(vgw_id, "vpn-gateway", label(name_tag(gateway), vgw_id, asn and f"ASN {asn}"),
                                  *where, _state(gateway, "State")))
            for attachment in gateway.get("VpcAttachments") or []:
                vpc_id = str(attachment.get("VpcId") or "")
                if not vpc_id or lowered(attachment.get("State")) == "detached":
                    continue
                builder.placeholder(vpc_id, "vpc", *where)
                # AWS routes the VPC's CIDRs to its VGW by itself; the VPC needs a route (static or propagated).
                routes = routes_both_ways(builder.vpc_routes_to(vpc_id, vgw_id), True, vpc_id, vgw_id)
                builder.add_edge(Edge(f"{vgw_id}/{vpc_id}", "vgw-attachment", vpc_id, vgw_id, "VGW attachment", *where,
                                      _state(attachment, "State"), routes))
        for customer in scope.items("ec2:CustomerGateways"):
            if lowered(customer.get("State")) in VPN_GONE:
                continue
            cgw_id, asn = str(customer["CustomerGatewayId"]), customer.get("BgpAsn")
            builder.add_node(Node(cgw_id, "customer-gateway", label(
                name_tag(customer), cgw_id, ", ".join(filter(None, [customer.get("IpAddress"), asn and f"ASN {asn}"]))),
                *where, _state(customer, "State")))
        for connection in scope.items("ec2:VpnConnections"):
            _vpn_connection(builder, scope, connection, attachments)


def _vpn_connection(builder: GraphBuilder, scope: Scope, connection: Item,
                    attachments: dict[str, tuple[str, str]]) -> None:
    vpn_id, customer_id = str(connection["VpnConnectionId"]), str(connection.get("CustomerGatewayId") or "")
    gateway_id = str(connection.get("VpnGatewayId") or connection.get("TransitGatewayId") or "")
    if lowered(connection.get("State")) in VPN_GONE or not customer_id or not gateway_id:
        return
    where = (scope.account_id, scope.region)
    builder.placeholder(customer_id, "customer-gateway", *where)
    builder.placeholder(gateway_id, "vpn-gateway" if gateway_id.startswith("vgw-") else "transit-gateway", *where)
    options = connection.get("Options") or {}
    if options.get("StaticRoutesOnly"):
        static = [r for r in connection.get("Routes") or [] if lowered(r.get("State")) == "available"]
        routing = f"static, {len(static)} route(s)"
    else:
        routing = "BGP"
    telemetry = connection.get("VgwTelemetry") or []
    if telemetry:
        routing += f", {sum(lowered(t.get('Status')) == 'up' for t in telemetry)}/{len(telemetry)} tunnels up"
    attachment_id, attachment_text = attachments.get(vpn_id, ("", ""))
    text = label(name_tag(connection), vpn_id, routing, *attachment_text.splitlines()[-1:] if attachment_id else ())
    builder.add_edge(Edge(vpn_id, "vpn-connection", customer_id, gateway_id, text, *where,
                          _state(connection, "State"), UNKNOWN), [attachment_id])


def direct_connect(builder: GraphBuilder) -> None:
    """Direct Connect gateways with their associations (to VGWs and TGWs), virtual interfaces and connections."""
    scopes = sorted(builder.index.scopes, key=lambda s: (s.region != "global", s.account_id, s.region))
    for scope in scopes:
        if scope.region == "global":
            _dx_gateways(builder, scope)
            continue
        for connection in scope.items("directconnect:connections"):
            if lowered(connection.get("connectionState")) in DX_GONE:
                continue
            connection_id = str(connection["connectionId"])
            details = " at ".join(filter(None, [connection.get("bandwidth"), connection.get("location")]))
            name = connection.get("connectionName") or name_tag(connection)
            builder.add_node(Node(connection_id, "dx-connection", label(name, connection_id, details),
                                  str(connection.get("ownerAccount") or scope.account_id), scope.region,
                                  _state(connection, "connectionState")))
        for interface in scope.items("directconnect:virtualInterfaces"):
            _virtual_interface(builder, scope, interface)


def _dx_gateways(builder: GraphBuilder, scope: Scope) -> None:
    for gateway in scope.items(DX_GATEWAYS):
        if lowered(gateway.get("directConnectGatewayState")) in DX_GONE:
            continue
        gateway_id, asn = str(gateway["directConnectGatewayId"]), gateway.get("amazonSideAsn")
        builder.add_node(Node(gateway_id, "dx-gateway", label(
            gateway.get("directConnectGatewayName") or name_tag(gateway), gateway_id, asn and f"ASN {asn}"),
            str(gateway.get("ownerAccount") or scope.account_id), "global",
            _state(gateway, "directConnectGatewayState")))
    merged: dict[tuple[str, str], str] = builder.context.get("dx-tgw-attachments", {})
    for record in scope.items(DX_ASSOCIATIONS):
        for association in record.get("directConnectGatewayAssociations") or []:
            _dx_association(builder, scope, record, association, merged)
    for record in scope.items(DX_ATTACHMENTS):
        for attachment in record.get("directConnectGatewayAttachments") or []:
            if lowered(attachment.get("attachmentState")) == "detached":
                continue
            gateway_id = str(attachment.get("directConnectGatewayId") or record["directConnectGatewayId"])
            interface_id = str(attachment.get("virtualInterfaceId") or "?")
            builder.placeholder(interface_id, "dx-virtual-interface", attachment.get("virtualInterfaceOwnerAccount"),
                                attachment.get("virtualInterfaceRegion"))
            builder.placeholder(gateway_id, "dx-gateway", scope.account_id, "global")
            builder.add_edge(Edge(f"{interface_id}/{gateway_id}", "dx-virtual-interface", interface_id, gateway_id,
                                  str(attachment.get("attachmentType") or "virtual interface"), scope.account_id,
                                  "global", _state(attachment, "attachmentState"), UNKNOWN))


def _dx_association(builder: GraphBuilder, scope: Scope, record: Item, association: Item,
                    merged: dict[tuple[str, str], str]) -> None:
    if lowered(association.get("associationState")) == "disassociated":
        return
    gateway_id = str(association.get("directConnectGatewayId") or record["directConnectGatewayId"])
    side: dict[str, Any] = association.get("associatedGateway") or {
        "id": association.get("virtualGatewayId"), "type": "virtualPrivateGateway",
        "ownerAccount": association.get("virtualGatewayOwnerAccount"),
        "region": association.get("virtualGatewayRegion")}
    target = str(side.get("id") or "?")
    association_id = str(association.get("associationId") or f"{gateway_id}/{target}")
    if (gateway_id, target) in merged:  # the transit gateway's attachment edge already draws this link
        builder.add_ref(association_id, "edge", merged[(gateway_id, target)])
        return
    kind = "transit-gateway" if side.get("type") == "transitGateway" else "vpn-gateway"
    builder.placeholder(gateway_id, "dx-gateway", scope.account_id, "global")
    builder.placeholder(target, kind, side.get("ownerAccount"), side.get("region"))
    allowed = [str(p.get("cidr")) for p in association.get("allowedPrefixesToDirectConnectGateway") or []]
    builder.add_edge(Edge(association_id, "dx-gateway-association", gateway_id, target,
                          label("association", allowed and f"allowed {_brief(allowed)}"),
                          str(association.get("directConnectGatewayOwnerAccount") or scope.account_id), "global",
                          _state(association, "associationState"), UNKNOWN))


def _virtual_interface(builder: GraphBuilder, scope: Scope, interface: Item) -> None:
    state = _state(interface, "virtualInterfaceState")
    if state.lower() in DX_GONE:
        return
    interface_id = str(interface["virtualInterfaceId"])
    owner = str(interface.get("ownerAccount") or scope.account_id)
    bgp = sorted({str(p.get("bgpStatus")) for p in interface.get("bgpPeers") or [] if p.get("bgpStatus")})
    builder.add_node(Node(interface_id, "dx-virtual-interface", label(
        interface.get("virtualInterfaceName") or name_tag(interface), interface_id,
        f"{interface.get('virtualInterfaceType', '?')} VIF, VLAN {interface.get('vlan', '?')}",
        bgp and f"BGP {'/'.join(bgp)}"), owner, scope.region, state))
    connection_id = interface.get("connectionId")
    if connection_id:
        builder.placeholder(str(connection_id), "dx-connection", owner, scope.region)
        builder.add_edge(Edge(f"{connection_id}/{interface_id}", "dx-connection", str(connection_id), interface_id,
                              f"VLAN {interface.get('vlan', '?')}", owner, scope.region, state, None))
    gateway_id = interface.get("directConnectGatewayId") or interface.get("virtualGatewayId")
    if gateway_id:
        kind = "dx-gateway" if interface.get("directConnectGatewayId") else "vpn-gateway"
        builder.placeholder(str(gateway_id), kind, owner, "global" if kind == "dx-gateway" else scope.region)
        builder.add_edge(Edge(f"{interface_id}/{gateway_id}", "dx-virtual-interface", interface_id, str(gateway_id),
                              "virtual interface", owner, scope.region, state, UNKNOWN))


def endpoints(builder: GraphBuilder) -> None:
    """Endpoint services (to their load balancers' VPCs) and endpoints, consumer VPC to service, across accounts."""
    by_name: dict[str, str] = {}
    for scope in builder.index.regional_scopes():
        where = (scope.account_id, scope.region)
        balancers = scope.by_id("elbv2:LoadBalancers", "LoadBalancerArn")
        for service in scope.items("ec2:VpcEndpointServiceConfigurations"):
            if lowered(service.get("ServiceState")) in SERVICE_GONE:
                continue
            service_id, service_name = str(service["ServiceId"]), str(service.get("ServiceName") or "")
            kinds = ", ".join(str(t.get("ServiceType")) for t in service.get("ServiceType") or [])
            builder.add_node(Node(service_id, "endpoint-service", label(name_tag(service), service_id, kinds), *where,
                                  _state(service, "ServiceState")), [service_name])
            by_name[service_name] = service_id
            for arn in [*service.get("NetworkLoadBalancerArns", []), *service.get("GatewayLoadBalancerArns", [])]:
                balancer = balancers.get(arn) or {}
                if balancer.get("VpcId"):
                    vpc_id = builder.placeholder(str(balancer["VpcId"]), "vpc", *where)
                    builder.add_edge(Edge(f"{service_id}/{vpc_id}", "endpoint-service-backend", service_id, vpc_id,
                                          str(balancer.get("LoadBalancerName") or arn), *where,
                                          _state(balancer, "State"), None))
    for scope in builder.index.regional_scopes():
        for endpoint in scope.items("ec2:VpcEndpoints"):
            state = _state(endpoint, "State")
            if state.lower() in ENDPOINT_GONE:
                continue
            endpoint_id, vpc_id = str(endpoint["VpcEndpointId"]), str(endpoint.get("VpcId") or "?")
            service_name = str(endpoint.get("ServiceName") or "?")
            target = by_name.get(service_name) or _service_outside(builder, scope, service_name)
            builder.placeholder(vpc_id, "vpc", scope.account_id, scope.region)
            builder.add_edge(Edge(endpoint_id, "vpc-endpoint", vpc_id, target, label(
                name_tag(endpoint), endpoint_id, endpoint.get("VpcEndpointType")),
                str(endpoint.get("OwnerId") or scope.account_id), scope.region, state, None))
    for scope in builder.index.regional_scopes():  # the provider's view: consumers whose endpoint was not collected
        for connection in scope.items("ec2:VpcEndpointConnections"):
            endpoint_id, state = str(connection.get("VpcEndpointId") or "?"), _state(connection, "VpcEndpointState")
            if endpoint_id in builder.edges or state.lower() in ENDPOINT_GONE:
                continue
            owner = str(connection.get("VpcEndpointOwner") or UNKNOWN)
            region = str(connection.get("VpcEndpointRegion") or scope.region)
            service_id = builder.placeholder(str(connection.get("ServiceId") or "?"), "endpoint-service",
                                             scope.account_id, scope.region)
            account_node = f"account:{owner}"
            builder.add_node(Node(account_node, "account", label(f"account {owner}", "endpoint not in snapshot"),
                                  owner, region, UNKNOWN, in_snapshot=False))
            builder.add_edge(Edge(endpoint_id, "vpc-endpoint", account_node, service_id, endpoint_id, owner, region,
                                  state, None))


def _service_outside(builder: GraphBuilder, scope: Scope, service_name: str) -> str:
    """An endpoint's service that no collected account provides: an AWS service, or another account's."""
    if service_name.startswith(AWS_SERVICE_PREFIX) and not service_name.startswith(PARTNER_SERVICE_PREFIX):
        if service_name not in builder.nodes:
            builder.add_node(Node(service_name, "aws-service", service_name, None, scope.region, UNKNOWN,
                                  in_snapshot=False))
        return service_name
    return builder.placeholder(service_name, "endpoint-service", None, scope.region)


def client_vpn(builder: GraphBuilder) -> None:
    """Client VPN endpoints, to the VPCs of their target subnets; routes: does the endpoint route into that VPC."""
    for scope in builder.index.regional_scopes():
        where = (scope.account_id, scope.region)
        targets = scope.by_id(CVPN_TARGETS, "ClientVpnEndpointId")
        routes = scope.by_id(CVPN_ROUTES, "ClientVpnEndpointId")
        for endpoint in scope.items("ec2:ClientVpnEndpoints"):
            status = _state(endpoint, "Status")
            if status.lower() in VPN_GONE:
                continue
            endpoint_id, clients = str(endpoint["ClientVpnEndpointId"]), str(endpoint.get("ClientCidrBlock") or "")
            builder.add_node(Node(endpoint_id, "client-vpn-endpoint", label(
                name_tag(endpoint), endpoint_id, clients and f"clients {clients}"), *where, status,
                cidrs=(clients,) if clients else ()))
            by_vpc: dict[str, list[Item]] = defaultdict(list)
            for association in (targets.get(endpoint_id) or {}).get("ClientVpnTargetNetworks") or []:
                if lowered(_state(association, "Status")) not in ("disassociated", "disassociating"):
                    by_vpc[str(association.get("VpcId") or "?")].append(association)
            read = builder.complete(*where, CVPN_TARGETS, endpoint_id)
            if not read:  # the endpoint item still names the VPCs it is associated with
                for network in endpoint.get("AssociatedTargetNetworks") or []:
                    by_vpc.setdefault(str(network.get("NetworkId") or "?"), [])
            live = [r for r in (routes.get(endpoint_id) or {}).get("Routes") or []
                    if lowered(_state(r, "Status")) in ("active", "creating")]
            for vpc_id, associations in sorted(by_vpc.items()):
                subnets = {str(a.get("TargetNetworkId")) for a in associations}
                # Client traffic is translated to the endpoint's addresses in the VPC, so replies need no VPC route.
                routed = verdict(any(r.get("TargetSubnet") in subnets for r in live),
                                 read and builder.complete(*where, CVPN_ROUTES, endpoint_id))
                states = sorted({_state(a, "Status") for a in associations})
                builder.placeholder(vpc_id, "vpc", *where)
                builder.add_edge(Edge(
                    f"{endpoint_id}/{vpc_id}", "client-vpn-target", endpoint_id, vpc_id,
                    f"{len(subnets)} target subnet(s)" if associations else "target network", *where,
                    "associated" if "associated" in states else (states[0] if states else UNKNOWN),
                    UNKNOWN if routed is None else ("both" if routed else "none")),
                    [str(a.get("AssociationId") or "") for a in associations])
