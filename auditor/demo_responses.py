"""Simulated answers for the reads moto 5.2.5 lacks, shaped like the EC2 and Direct Connect API references.

Installed as botocore event handlers on the demo's session only, never in front of the read-only
guard: they answer on `before-call`, which botocore emits after `before-parameter-build`, where the
guard (registered first) refuses writes and counts reads; they only read the request's parameters
on `before-parameter-build`, after the guard. Every id they mention is one moto generated for the
seeded account.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.awsrequest import AWSResponse

from auditor.demo import HOME_REGION, PARTNER_ACCOUNT_ID, TGW_SPOKES, TGW_STATIC_ROUTES, VPCS

if TYPE_CHECKING:
    from auditor.demo import DemoAccount

PARAMS_KEY = "auditor_demo_params"

# The simulated resources' own ids: fixed, so the simulated account has the same shape every run.
CLIENT_VPN_ENDPOINT_ID = "cvpn-endpoint-0a5c3e9d41b7f2c68"
CLIENT_VPN_ASSOCIATION_ID = "cvpn-assoc-07d2e4b1a9c3f5e60"
VIRTUAL_INTERFACE_ID = "dxvif-fg4k7q2m"
BGP_PEER_ID = "dxpeer-fh9x2c5w"
DX_GATEWAY_ID = "5f1d2c3b-8a4e-4b6f-9c7d-0e1a2b3c4d5e"
DX_GATEWAY_ASSOCIATION_ID = "c2b7e0a4-3d5f-4e81-a6b9-7f8e9d0c1b2a"
PARTNER_ENDPOINT_ID = "vpce-0e4f1a2b3c4d5e6f7"
VPCE_HOSTED_ZONE_ID = "Z7HUB22UULQXV"  # the us-east-1 zone of vpce.amazonaws.com names
# AWS's side of the two VPN tunnels: (outside address, inside CIDR)
TUNNELS = (("198.51.100.10", "169.254.44.40/30"), ("198.51.100.20", "169.254.45.8/30"))
DX_DEVICE = "EqDC2-2k6pz3nq1ol0s"
ENDPOINT_INTERFACE_HOST = 200  # the host number, in its subnet, of an interface endpoint's network interface

Params = dict[str, Any]
Items = list[dict[str, Any]]


class SimulatedError(Exception):
    """An API error, answered as AWS would (HTTP status, Error.Code, Error.Message)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _metadata(status: int) -> dict[str, Any]:
    return {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}


def _select(items: Items, params: Params, by: dict[str, str]) -> Items:
    """The items that match every identifier the request names (parameter -> dotted item field)."""
    for parameter, path in by.items():
        wanted = params.get(parameter)
        if wanted is None:
            continue
        accepted = set(wanted) if isinstance(wanted, list) else {wanted}
        items = [item for item in items if _field(item, path) in accepted]
    return items


def _field(item: dict[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _values(*values: str | int) -> list[dict[str, str | int]]:
    return [{"Value": value} for value in values]


class SimulatedResponses:
    """The answers, per (service, operation), for the seeded account."""

    def __init__(self, account: DemoAccount, now: dt.datetime) -> None:
        self.account = account
        self.now = now.replace(microsecond=0)
        self._answers: dict[tuple[str, str], Callable[[str, Params], dict[str, Any]]] = {
            ("ec2", "DescribeClientVpnEndpoints"): self.client_vpn_endpoints,
            ("ec2", "DescribeClientVpnAuthorizationRules"): self.client_vpn_authorization_rules,
            ("ec2", "DescribeClientVpnRoutes"): self.client_vpn_routes,
            ("ec2", "DescribeClientVpnTargetNetworks"): self.client_vpn_target_networks,
            ("ec2", "DescribeVpcEndpointConnections"): self.vpc_endpoint_connections,
            ("directconnect", "DescribeVirtualInterfaces"): self.virtual_interfaces,
            ("directconnect", "DescribeDirectConnectGateways"): self.direct_connect_gateways,
            ("directconnect", "DescribeDirectConnectGatewayAssociations"): self.direct_connect_associations,
            ("directconnect", "DescribeDirectConnectGatewayAttachments"): self.direct_connect_attachments,
        }

    # -- botocore event handlers -------------------------------------------------------------

    def remember_params(self, params: Params, model: Any, context: dict[str, Any], **_: Any) -> None:
        """`before-parameter-build`: keep the caller's parameters (the wire body may be CBOR)."""
        operation = (model.service_model.service_name, model.name)
        if operation in self._answers or operation == ("ec2", "SearchTransitGatewayRoutes"):
            context[PARAMS_KEY] = copy.deepcopy(params)

    def answer(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """`before-call`: the (HTTP response, parsed response) pair botocore uses instead of sending."""
        respond = self._answers.get((model.service_model.service_name, model.name))
        if respond is None:
            return None
        params = context.get(PARAMS_KEY, {})
        try:
            if params.get("Filters"):
                raise SimulatedError("InvalidParameterValue",
                                     f"the demo's simulated {model.name} does not implement Filters")
            parsed = respond(context["client_region"], params)
        except SimulatedError as error:
            return AWSResponse(None, error.status, {}, None), {
                "Error": {"Code": error.code, "Message": error.message},
                "ResponseMetadata": _metadata(error.status),
            }
        return AWSResponse(None, 200, {}, None), {**copy.deepcopy(parsed), "ResponseMetadata": _metadata(200)}

    def add_vpn_details(self, parsed: dict[str, Any], **_: Any) -> None:
        """`after-call` of DescribeVpnConnections: the tunnel telemetry and options moto leaves out."""
        for connection in parsed.get("VpnConnections", []):
            connection.setdefault("Category", "VPN")
            connection.setdefault("VgwTelemetry", [
                {"AcceptedRouteCount": 2, "LastStatusChange": self._ago(days=9),
                 "OutsideIpAddress": TUNNELS[0][0], "Status": "UP", "StatusMessage": "2 BGP ROUTES"},
                {"AcceptedRouteCount": 0, "LastStatusChange": self._ago(days=3),
                 "OutsideIpAddress": TUNNELS[1][0], "Status": "DOWN", "StatusMessage": ""},
            ])
            options = connection.setdefault("Options", {})
            for name, value in (("EnableAcceleration", False), ("StaticRoutesOnly", False),
                                ("LocalIpv4NetworkCidr", "0.0.0.0/0"), ("RemoteIpv4NetworkCidr", "0.0.0.0/0"),
                                ("OutsideIpAddressType", "PublicIpv4"), ("TunnelInsideIpVersion", "ipv4")):
                options.setdefault(name, value)
            options.setdefault("TunnelOptions", [_default_tunnel(*tunnel) for tunnel in TUNNELS])

    # -- where moto answers, but thinner than AWS: completed as AWS would answer -------------

    def complete_peerings(self, parsed: dict[str, Any], **_: Any) -> None:
        """`after-call` of DescribeVpcPeeringConnections: each side's CidrBlockSet, ExpirationTime if pending."""
        cidrs = {self.account.ids[plan.name]: plan.cidrs for plan in VPCS}
        for peering in parsed.get("VpcPeeringConnections", []):
            for side in ("RequesterVpcInfo", "AccepterVpcInfo"):
                info = peering.get(side, {})
                if info.get("VpcId") in cidrs:
                    info.setdefault("CidrBlockSet", [{"CidrBlock": cidr} for cidr in cidrs[info["VpcId"]]])
            if peering.get("Status", {}).get("Code") == "pending-acceptance":
                peering.setdefault("ExpirationTime", self.now + dt.timedelta(days=7))

    def drop_peering_stubs(self, parsed: dict[str, Any], **_: Any) -> None:
        """`after-call` of DescribeTransitGatewayPeeringAttachments: moto lists the VPC attachments too."""
        if "TransitGatewayPeeringAttachments" in parsed:
            parsed["TransitGatewayPeeringAttachments"] = [
                attachment for attachment in parsed["TransitGatewayPeeringAttachments"]
                if "RequesterTgwInfo" in attachment
            ]

    def complete_hub_routes(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """`after-call` of SearchTransitGatewayRoutes: static routes' targets and the propagated routes."""
        params = context.get(PARAMS_KEY, {})
        if "Routes" not in parsed or params.get("TransitGatewayRouteTableId") != self.account.ids["hub-default"]:
            return
        expected = self._hub_routes()
        for route in parsed["Routes"]:
            if route.get("Type") == "static" and not route.get("TransitGatewayAttachments"):
                known = expected.get((route.get("DestinationCidrBlock"), "static"))
                if known:
                    route["TransitGatewayAttachments"] = copy.deepcopy(known["TransitGatewayAttachments"])
        present = {(route.get("DestinationCidrBlock"), route.get("Type")) for route in parsed["Routes"]}
        parsed["Routes"].extend(
            copy.deepcopy(route) for key, route in sorted(expected.items())
            if key[1] == "propagated" and key not in present and _route_matches(route, params.get("Filters", []))
        )

    def complete_endpoint_interfaces(self, parsed: dict[str, Any], **_: Any) -> None:
        """`after-call` of DescribeNetworkInterfaces: an interface endpoint's interfaces as AWS describes them.

        moto calls them `interface`, puts them in the VPC's default group (not the endpoint's) and on an address
        outside their subnet; AWS manages them for the endpoint, in its groups, on an address of the subnet.
        """
        subnet_cidrs = {self.account.ids[subnet[0]]: subnet[2] for plan in VPCS for subnet in plan.subnets}
        for interface in parsed.get("NetworkInterfaces", []):
            managed = self.account.endpoint_interfaces.get(interface.get("NetworkInterfaceId", ""))
            if managed is None:
                continue
            address = str(ipaddress.ip_network(subnet_cidrs[interface["SubnetId"]])[ENDPOINT_INTERFACE_HOST])
            interface.update({
                "InterfaceType": "vpc_endpoint",
                "Description": f"VPC Endpoint Interface {managed.endpoint_id}",
                "RequesterManaged": True,
                "Status": "in-use",
                "Groups": [{"GroupId": managed.group_id, "GroupName": managed.group_name}],
                "PrivateIpAddress": address,
                "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": address}],
                "Attachment": {
                    "AttachmentId": "ela-attach-" + interface["NetworkInterfaceId"].split("-", 1)[1],
                    "AttachTime": self._ago(days=41), "DeleteOnTermination": False, "DeviceIndex": 1,
                    "NetworkCardIndex": 0, "InstanceOwnerId": "amazon-aws", "Status": "attached",
                },
            })

    def _hub_routes(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The hub table's routes that target an attachment, by (destination, type)."""
        ids = self.account.ids
        cidrs = {plan.name: plan.cidrs for plan in VPCS}

        def route(destination: str, spoke: str, route_type: str) -> dict[str, Any]:
            return {"DestinationCidrBlock": destination, "Type": route_type, "State": "active",
                    "TransitGatewayAttachments": [{"ResourceId": ids[spoke], "ResourceType": "vpc",
                                                   "TransitGatewayAttachmentId": ids[f"hub-{spoke}"]}]}

        routes = [route(cidr, spoke, "propagated") for spoke in TGW_SPOKES for cidr in cidrs[spoke]]
        routes += [route(destination, spoke, "static") for destination, spoke in TGW_STATIC_ROUTES]
        return {(item["DestinationCidrBlock"], item["Type"]): item for item in routes}

    # -- Client VPN: one endpoint in the app VPC --------------------------------------------

    def client_vpn_endpoints(self, region: str, params: Params) -> dict[str, Any]:
        endpoints = [self._client_vpn_endpoint(region)] if region == HOME_REGION else []
        return {"ClientVpnEndpoints": _select(endpoints, params, {"ClientVpnEndpointIds": "ClientVpnEndpointId"})}

    def client_vpn_authorization_rules(self, region: str, params: Params) -> dict[str, Any]:
        endpoint_id = self._client_vpn_endpoint_id(region, params)
        return {"AuthorizationRules": [{
            "ClientVpnEndpointId": endpoint_id, "Description": "everyone, to everywhere", "GroupId": "",
            "AccessAll": True, "DestinationCidr": "0.0.0.0/0", "Status": {"Code": "active"},
        }]}

    def client_vpn_routes(self, region: str, params: Params) -> dict[str, Any]:
        endpoint_id = self._client_vpn_endpoint_id(region, params)
        subnet_id = self.account.ids["app-a"]
        return {"Routes": [
            {"ClientVpnEndpointId": endpoint_id, "DestinationCidr": "10.10.0.0/16", "TargetSubnet": subnet_id,
             "Type": "Nat", "Origin": "associate", "Status": {"Code": "active"}, "Description": "Default Route"},
            {"ClientVpnEndpointId": endpoint_id, "DestinationCidr": "0.0.0.0/0", "TargetSubnet": subnet_id,
             "Type": "Nat", "Origin": "add-route", "Status": {"Code": "active"},
             "Description": "internet through the app VPC"},
        ]}

    def client_vpn_target_networks(self, region: str, params: Params) -> dict[str, Any]:
        endpoint_id = self._client_vpn_endpoint_id(region, params)
        return {"ClientVpnTargetNetworks": [{
            "AssociationId": CLIENT_VPN_ASSOCIATION_ID, "VpcId": self.account.ids["app"],
            "TargetNetworkId": self.account.ids["app-a"], "ClientVpnEndpointId": endpoint_id,
            "Status": {"Code": "associated"}, "SecurityGroups": [self.account.default_security_groups["app"]],
        }]}

    def _client_vpn_endpoint_id(self, region: str, params: Params) -> str:
        endpoint_id = params.get("ClientVpnEndpointId", "")
        if region != HOME_REGION or endpoint_id != CLIENT_VPN_ENDPOINT_ID:
            raise SimulatedError("InvalidClientVpnEndpointId.NotFound",
                                 f"The Client VPN endpoint ID '{endpoint_id}' does not exist")
        return endpoint_id

    def _client_vpn_endpoint(self, region: str) -> dict[str, Any]:
        account_id = self.account.account_id
        certificate = f"arn:aws:acm:{region}:{account_id}:certificate/8d3f0c2e-4b1a-4c5d-9e6f-7a8b9c0d1e2f"
        return {
            "ClientVpnEndpointId": CLIENT_VPN_ENDPOINT_ID,
            "Description": "remote access to the app VPC",
            "Status": {"Code": "available"},
            "CreationTime": self._ago(days=200).strftime("%Y-%m-%d %H:%M:%S"),
            "DnsName": f"*.{CLIENT_VPN_ENDPOINT_ID}.prod.clientvpn.{region}.amazonaws.com",
            "ClientCidrBlock": "172.16.0.0/22",
            "SplitTunnel": False,
            "VpnProtocol": "openvpn",
            "TransportProtocol": "udp",
            "VpnPort": 443,
            "AssociatedTargetNetworks": [{"NetworkId": self.account.ids["app"], "NetworkType": "vpc"}],
            "ServerCertificateArn": certificate,
            "AuthenticationOptions": [{"Type": "certificate-authentication",
                                       "MutualAuthentication": {"ClientRootCertificateChain": certificate}}],
            "ConnectionLogOptions": {"Enabled": False},
            "Tags": [{"Key": "Name", "Value": "app-remote-access"}],
            "SecurityGroupIds": [self.account.default_security_groups["app"]],
            "VpcId": self.account.ids["app"],
            "ClientConnectOptions": {"Enabled": False, "Status": {"Code": "applied"}},
            "SessionTimeoutHours": 24,
            "ClientLoginBannerOptions": {"Enabled": False},
            "ClientRouteEnforcementOptions": {"Enforced": False},
            "DisconnectOnSessionTimeout": False,
            "EndpointIpAddressType": "ipv4",
            "TrafficIpAddressType": "ipv4",
        }

    # -- PrivateLink provider side: who is connected to the payments API service -------------

    def vpc_endpoint_connections(self, region: str, _params: Params) -> dict[str, Any]:
        if region != HOME_REGION:
            return {"VpcEndpointConnections": []}
        ids = self.account.ids
        consumers = ((ids["app-payments-api"], self.account.account_id, 41),
                     (PARTNER_ENDPOINT_ID, PARTNER_ACCOUNT_ID, 17))
        return {"VpcEndpointConnections": [{
            "ServiceId": ids["payments-api-service"],
            "VpcEndpointId": endpoint_id,
            "VpcEndpointOwner": owner,
            "VpcEndpointState": "available",
            "CreationTimestamp": self._ago(days=days),
            "DnsEntries": [{"DnsName": f"{endpoint_id}.{ids['payments-api-service']}.{region}.vpce.amazonaws.com",
                            "HostedZoneId": VPCE_HOSTED_ZONE_ID}],
            "NetworkLoadBalancerArns": [ids["payments-api-nlb"]],
            "IpAddressType": "ipv4",
            "Tags": [],
            "VpcEndpointRegion": region,
        } for endpoint_id, owner, days in consumers]}

    # -- Direct Connect: a private VIF (BGP down) to a gateway associated with the data VGW --

    def virtual_interfaces(self, region: str, params: Params) -> dict[str, Any]:
        interfaces = [self._virtual_interface(region)] if region == HOME_REGION else []
        return {"virtualInterfaces": _select(interfaces, params, {
            "connectionId": "connectionId", "virtualInterfaceId": "virtualInterfaceId"})}

    def direct_connect_gateways(self, _region: str, params: Params) -> dict[str, Any]:
        gateway = {
            "directConnectGatewayId": DX_GATEWAY_ID, "directConnectGatewayName": "dc1-dxgw",
            "amazonSideAsn": 64700, "ownerAccount": self.account.account_id,
            "directConnectGatewayState": "available", "tags": [{"key": "Name", "value": "dc1-dxgw"}],
        }
        return {"directConnectGateways": _select([gateway], params, {
            "directConnectGatewayId": "directConnectGatewayId"})}

    def direct_connect_associations(self, _region: str, params: Params) -> dict[str, Any]:
        self._known_gateway(params)
        account_id, gateway_id = self.account.account_id, self.account.ids["data-vgw"]
        association = {
            "directConnectGatewayId": DX_GATEWAY_ID,
            "directConnectGatewayOwnerAccount": account_id,
            "associationState": "associated",
            "associatedGateway": {"id": gateway_id, "type": "virtualPrivateGateway",
                                  "ownerAccount": account_id, "region": HOME_REGION},
            "associationId": DX_GATEWAY_ASSOCIATION_ID,
            "allowedPrefixesToDirectConnectGateway": [{"cidr": "10.30.0.0/16"}, {"cidr": "0.0.0.0/0"}],
            "virtualGatewayId": gateway_id,
            "virtualGatewayRegion": HOME_REGION,
            "virtualGatewayOwnerAccount": account_id,
        }
        return {"directConnectGatewayAssociations": _select([association], params, {
            "directConnectGatewayId": "directConnectGatewayId", "associationId": "associationId",
            "associatedGatewayId": "associatedGateway.id", "virtualGatewayId": "virtualGatewayId"})}

    def direct_connect_attachments(self, _region: str, params: Params) -> dict[str, Any]:
        self._known_gateway(params)
        attachment = {
            "directConnectGatewayId": DX_GATEWAY_ID, "virtualInterfaceId": VIRTUAL_INTERFACE_ID,
            "virtualInterfaceRegion": HOME_REGION, "virtualInterfaceOwnerAccount": self.account.account_id,
            "attachmentState": "attached", "attachmentType": "PrivateVirtualInterface",
        }
        return {"directConnectGatewayAttachments": _select([attachment], params, {
            "directConnectGatewayId": "directConnectGatewayId", "virtualInterfaceId": "virtualInterfaceId"})}

    def _known_gateway(self, params: Params) -> None:
        gateway_id = params.get("directConnectGatewayId")
        if gateway_id is not None and gateway_id != DX_GATEWAY_ID:
            raise SimulatedError("DirectConnectClientException",
                                 f"Direct Connect Gateway {gateway_id} does not exist in account")

    def _virtual_interface(self, region: str) -> dict[str, Any]:
        return {
            "ownerAccount": self.account.account_id,
            "virtualInterfaceId": VIRTUAL_INTERFACE_ID,
            "location": "EqDC2",
            "connectionId": self.account.ids["dc1-dx-1g"],
            "virtualInterfaceType": "private",
            "virtualInterfaceName": "dc1-private-vif",
            "vlan": 101,
            "asn": 65010,
            "amazonSideAsn": 64700,
            "amazonAddress": "169.254.100.1/30",
            "customerAddress": "169.254.100.2/30",
            "addressFamily": "ipv4",
            "virtualInterfaceState": "down",
            "mtu": 1500,
            "jumboFrameCapable": False,
            "directConnectGatewayId": DX_GATEWAY_ID,
            "routeFilterPrefixes": [],
            "bgpPeers": [{
                "bgpPeerId": BGP_PEER_ID, "asn": 65010, "addressFamily": "ipv4",
                "amazonAddress": "169.254.100.1/30", "customerAddress": "169.254.100.2/30",
                "bgpPeerState": "available", "bgpStatus": "down", "awsDeviceV2": DX_DEVICE,
                "awsLogicalDeviceId": DX_DEVICE,
            }],
            "region": region,
            "awsDeviceV2": DX_DEVICE,
            "awsLogicalDeviceId": DX_DEVICE,
            "tags": [{"key": "Name", "value": "dc1-private-vif"}],
            "siteLinkEnabled": False,
        }

    def _ago(self, *, days: int) -> dt.datetime:
        return self.now - dt.timedelta(days=days)


def _route_matches(route: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    """Whether a route passes SearchTransitGatewayRoutes filters; a filter not simulated here never passes."""
    destination = ipaddress.ip_network(route["DestinationCidrBlock"])

    def passes(name: str, values: list[str]) -> bool:
        if name == "type":
            return route["Type"] in values
        if name == "state":
            return route["State"] in values
        if name == "route-search.exact-match":
            return route["DestinationCidrBlock"] in values
        if name == "route-search.subnet-of-match":
            networks = [ipaddress.ip_network(value) for value in values]
            return any(network.version == destination.version
                       and destination.subnet_of(network)  # type: ignore[arg-type]
                       for network in networks)
        return False

    return all(passes(search["Name"], search["Values"]) for search in filters)


def _default_tunnel(outside_ip: str, inside_cidr: str) -> dict[str, Any]:
    """A tunnel left at AWS's defaults: IKEv1 still allowed, SHA-1 and DH group 2 accepted, no logging."""
    return {
        "OutsideIpAddress": outside_ip,
        "TunnelInsideCidr": inside_cidr,
        "Phase1LifetimeSeconds": 28800,
        "Phase2LifetimeSeconds": 3600,
        "RekeyMarginTimeSeconds": 270,
        "RekeyFuzzPercentage": 100,
        "ReplayWindowSize": 1024,
        "DpdTimeoutSeconds": 30,
        "DpdTimeoutAction": "clear",
        "Phase1EncryptionAlgorithms": _values("AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16"),
        "Phase2EncryptionAlgorithms": _values("AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16"),
        "Phase1IntegrityAlgorithms": _values("SHA1", "SHA2-256", "SHA2-384", "SHA2-512"),
        "Phase2IntegrityAlgorithms": _values("SHA1", "SHA2-256", "SHA2-384", "SHA2-512"),
        "Phase1DHGroupNumbers": _values(2, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24),
        "Phase2DHGroupNumbers": _values(2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24),
        "IkeVersions": _values("ikev1", "ikev2"),
        "StartupAction": "add",
        "EnableTunnelLifecycleControl": False,
    }


def install(session: boto3.Session, account: DemoAccount, now: dt.datetime | None = None) -> SimulatedResponses:
    """Answer the reads moto lacks on every client the session creates from now on, behind the guard."""
    responses = SimulatedResponses(account, now or dt.datetime.now(dt.UTC))
    session.events.register("before-parameter-build", responses.remember_params,
                            unique_id="auditor-demo-remember-params")
    session.events.register("before-call", responses.answer, unique_id="auditor-demo-simulated-responses")
    for operation, complete in (("DescribeVpnConnections", responses.add_vpn_details),
                                ("DescribeVpcPeeringConnections", responses.complete_peerings),
                                ("DescribeTransitGatewayPeeringAttachments", responses.drop_peering_stubs),
                                ("DescribeNetworkInterfaces", responses.complete_endpoint_interfaces),
                                ("SearchTransitGatewayRoutes", responses.complete_hub_routes)):
        session.events.register(f"after-call.ec2.{operation}", complete, unique_id=f"auditor-demo-{operation}")
    return responses
