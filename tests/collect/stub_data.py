"""Response items shaped like the EC2, ELBv2 and Direct Connect API references, for botocore's Stubber.

One factory per snapshot key: `ITEMS[key](n)` is the n-th item of that key, with ids that sort in n's order.
Pure data: no AWS calls, no clients.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

ACCOUNT_ID = "111122223333"
PEER_ACCOUNT_ID = "444455556666"
HOME = "us-east-1"
OTHER = "eu-west-1"
WHEN = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)

Item = dict[str, Any]


def rid(prefix: str, n: int) -> str:
    """An EC2-style id with 17 hex digits: rid("vpc", 1) == "vpc-0123456789abcde01"."""
    return f"{prefix}-0123456789abcde{n:02x}"


def dx_gateway_id(n: int) -> str:
    return f"5f29fc3c-2b7e-4b4e-9a1d-0c2f8e5a{n:04x}"


def vpc(n: int) -> Item:
    return {"VpcId": rid("vpc", n), "CidrBlock": f"10.{n}.0.0/16", "State": "available",
            "OwnerId": ACCOUNT_ID, "IsDefault": False, "InstanceTenancy": "default",
            "DhcpOptionsId": rid("dopt", n),
            "CidrBlockAssociationSet": [{"AssociationId": rid("vpc-cidr-assoc", n),
                                         "CidrBlock": f"10.{n}.0.0/16",
                                         "CidrBlockState": {"State": "associated"}}]}


def subnet(n: int) -> Item:
    return {"SubnetId": rid("subnet", n), "VpcId": rid("vpc", 1), "CidrBlock": f"10.1.{n}.0/24",
            "AvailabilityZone": "us-east-1a", "AvailabilityZoneId": "use1-az4", "State": "available",
            "AvailableIpAddressCount": 251, "MapPublicIpOnLaunch": False, "DefaultForAz": False,
            "OwnerId": ACCOUNT_ID}


def route_table(n: int) -> Item:
    return {"RouteTableId": rid("rtb", n), "VpcId": rid("vpc", 1), "OwnerId": ACCOUNT_ID,
            "Routes": [{"DestinationCidrBlock": "10.1.0.0/16", "GatewayId": "local",
                        "Origin": "CreateRouteTable", "State": "active"}],
            "Associations": [{"Main": n == 1, "RouteTableAssociationId": rid("rtbassoc", n),
                              "RouteTableId": rid("rtb", n),
                              "AssociationState": {"State": "associated"}}]}


def network_acl(n: int) -> Item:
    return {"NetworkAclId": rid("acl", n), "VpcId": rid("vpc", 1), "IsDefault": n == 1,
            "OwnerId": ACCOUNT_ID,
            "Entries": [{"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False,
                         "CidrBlock": "0.0.0.0/0"}]}


def internet_gateway(n: int) -> Item:
    return {"InternetGatewayId": rid("igw", n), "OwnerId": ACCOUNT_ID,
            "Attachments": [{"VpcId": rid("vpc", n), "State": "available"}]}


def egress_only_internet_gateway(n: int) -> Item:
    return {"EgressOnlyInternetGatewayId": rid("eigw", n),
            "Attachments": [{"VpcId": rid("vpc", n), "State": "attached"}]}


def nat_gateway(n: int) -> Item:
    return {"NatGatewayId": rid("nat", n), "VpcId": rid("vpc", 1), "SubnetId": rid("subnet", n),
            "State": "available", "ConnectivityType": "public", "CreateTime": WHEN,
            "NatGatewayAddresses": [{"AllocationId": rid("eipalloc", n),
                                     "NetworkInterfaceId": rid("eni", n),
                                     "PrivateIp": f"10.1.{n}.10", "PublicIp": f"198.51.100.{n}"}]}


def managed_prefix_list(n: int) -> Item:
    return {"PrefixListId": rid("pl", n), "AddressFamily": "IPv4", "State": "create-complete",
            "PrefixListName": f"corp-ranges-{n}", "MaxEntries": 10, "Version": 3,
            "PrefixListArn": f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:prefix-list/{rid('pl', n)}",
            "OwnerId": ACCOUNT_ID}


def prefix_list_entry(n: int) -> Item:
    return {"Cidr": f"192.0.2.{n * 16}/28", "Description": f"branch office {n}"}


def flow_log(n: int) -> Item:
    return {"FlowLogId": rid("fl", n), "ResourceId": rid("vpc", n), "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs", "LogGroupName": f"/vpc/flow-logs-{n}",
            "FlowLogStatus": "ACTIVE", "DeliverLogsStatus": "SUCCESS", "CreationTime": WHEN,
            "MaxAggregationInterval": 600}


def security_group(n: int) -> Item:
    return {"GroupId": rid("sg", n), "GroupName": f"app-{n}", "Description": "application tier",
            "VpcId": rid("vpc", 1), "OwnerId": ACCOUNT_ID,
            "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                               "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
            "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}


def instance_interface(n: int) -> Item:
    """An instance's primary interface, as DescribeNetworkInterfaces returns it."""
    address = f"10.1.1.{10 + n}"
    dns_name = f"ip-10-1-1-{10 + n}.ec2.internal"
    return {"NetworkInterfaceId": rid("eni", n), "InterfaceType": "interface", "Status": "in-use",
            "SubnetId": rid("subnet", 1), "VpcId": rid("vpc", 1), "AvailabilityZone": "us-east-1a",
            "Description": "", "OwnerId": ACCOUNT_ID, "RequesterManaged": False, "SourceDestCheck": True,
            "MacAddress": f"0e:3f:5a:7b:9c:{n:02x}", "PrivateIpAddress": address, "PrivateDnsName": dns_name,
            "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": address, "PrivateDnsName": dns_name}],
            "Ipv6Addresses": [], "Groups": [{"GroupId": rid("sg", n), "GroupName": f"app-{n}"}],
            "Attachment": {"AttachmentId": rid("eni-attach", n), "AttachTime": WHEN, "DeleteOnTermination": True,
                           "DeviceIndex": 0, "NetworkCardIndex": 0, "InstanceId": rid("i", n),
                           "InstanceOwnerId": ACCOUNT_ID, "Status": "attached"},
            "TagSet": [{"Key": "Name", "Value": f"app-{n}"}]}


def vpc_peering_connection(n: int) -> Item:
    return {"VpcPeeringConnectionId": rid("pcx", n),
            "RequesterVpcInfo": {"VpcId": rid("vpc", 1), "CidrBlock": "10.1.0.0/16",
                                 "OwnerId": ACCOUNT_ID, "Region": HOME},
            "AccepterVpcInfo": {"VpcId": rid("vpc", 10 + n), "CidrBlock": f"10.{10 + n}.0.0/16",
                                "OwnerId": PEER_ACCOUNT_ID, "Region": HOME},
            "Status": {"Code": "active", "Message": "Active"}}


def vpc_endpoint(n: int) -> Item:
    return {"VpcEndpointId": rid("vpce", n), "VpcEndpointType": "Interface", "VpcId": rid("vpc", 1),
            "ServiceName": "com.amazonaws.us-east-1.sts", "State": "available",
            "PrivateDnsEnabled": True, "SubnetIds": [rid("subnet", n)],
            "Groups": [{"GroupId": rid("sg", n), "GroupName": f"app-{n}"}],
            "CreationTimestamp": WHEN, "OwnerId": ACCOUNT_ID}


def service_configuration(n: int) -> Item:
    service_id = rid("vpce-svc", n)
    return {"ServiceId": service_id, "ServiceName": f"com.amazonaws.vpce.us-east-1.{service_id}",
            "ServiceType": [{"ServiceType": "Interface"}], "ServiceState": "Available",
            "AcceptanceRequired": True, "ManagesVpcEndpoints": False,
            "NetworkLoadBalancerArns": [nlb_arn(n)], "AvailabilityZones": ["us-east-1a"]}


def allowed_principal(n: int) -> Item:
    return {"PrincipalType": "Account", "Principal": f"arn:aws:iam::{PEER_ACCOUNT_ID}:role/consumer-{n}",
            "ServicePermissionId": rid("vpce-svc-perm", n), "ServiceId": rid("vpce-svc", 1)}


def vpc_endpoint_connection(n: int) -> Item:
    return {"ServiceId": rid("vpce-svc", n), "VpcEndpointId": rid("vpce", 20 + n),
            "VpcEndpointOwner": PEER_ACCOUNT_ID, "VpcEndpointState": "available",
            "CreationTimestamp": WHEN, "NetworkLoadBalancerArns": [nlb_arn(n)]}


def nlb_arn(n: int) -> str:
    return f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT_ID}:loadbalancer/net/nlb-{n}/50dc6c495c0c918{n}"


def load_balancer(n: int) -> Item:
    return {"LoadBalancerArn": nlb_arn(n), "LoadBalancerName": f"nlb-{n}", "Scheme": "internal",
            "DNSName": f"nlb-{n}-50dc6c495c0c918{n}.elb.us-east-1.amazonaws.com",
            "VpcId": rid("vpc", 1), "Type": "network", "State": {"Code": "active"},
            "IpAddressType": "ipv4", "CreatedTime": WHEN}


def transit_gateway(n: int) -> Item:
    return {"TransitGatewayId": rid("tgw", n), "State": "available", "OwnerId": ACCOUNT_ID,
            "TransitGatewayArn": f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:transit-gateway/{rid('tgw', n)}",
            "CreationTime": WHEN,
            "Options": {"AmazonSideAsn": 64512, "DefaultRouteTableAssociation": "enable",
                        "DefaultRouteTablePropagation": "enable", "AutoAcceptSharedAttachments": "disable",
                        "DnsSupport": "enable", "VpnEcmpSupport": "enable"}}


def transit_gateway_attachment(n: int) -> Item:
    return {"TransitGatewayAttachmentId": rid("tgw-attach", n), "TransitGatewayId": rid("tgw", 1),
            "TransitGatewayOwnerId": ACCOUNT_ID, "ResourceOwnerId": ACCOUNT_ID, "ResourceType": "vpc",
            "ResourceId": rid("vpc", n), "State": "available",
            "Association": {"TransitGatewayRouteTableId": rid("tgw-rtb", 1), "State": "associated"}}


def transit_gateway_vpc_attachment(n: int) -> Item:
    return {"TransitGatewayAttachmentId": rid("tgw-attach", n), "TransitGatewayId": rid("tgw", 1),
            "VpcId": rid("vpc", n), "VpcOwnerId": ACCOUNT_ID, "State": "available",
            "SubnetIds": [rid("subnet", n)], "CreationTime": WHEN,
            "Options": {"DnsSupport": "enable", "Ipv6Support": "disable", "ApplianceModeSupport": "disable"}}


def transit_gateway_peering_attachment(n: int) -> Item:
    return {"TransitGatewayAttachmentId": rid("tgw-attach", 30 + n),
            "RequesterTgwInfo": {"TransitGatewayId": rid("tgw", 1), "OwnerId": ACCOUNT_ID, "Region": HOME},
            "AccepterTgwInfo": {"TransitGatewayId": rid("tgw", 40 + n), "OwnerId": PEER_ACCOUNT_ID,
                                "Region": OTHER},
            "Status": {"Code": "available", "Message": "Available"}, "State": "available",
            "CreationTime": WHEN}


def transit_gateway_route_table(n: int) -> Item:
    return {"TransitGatewayRouteTableId": rid("tgw-rtb", n), "TransitGatewayId": rid("tgw", 1),
            "State": "available", "DefaultAssociationRouteTable": n == 1,
            "DefaultPropagationRouteTable": n == 1, "CreationTime": WHEN}


def transit_gateway_route_table_association(n: int) -> Item:
    return {"TransitGatewayAttachmentId": rid("tgw-attach", n), "ResourceId": rid("vpc", n),
            "ResourceType": "vpc", "State": "associated"}


def transit_gateway_route_table_propagation(n: int) -> Item:
    return {"TransitGatewayAttachmentId": rid("tgw-attach", n), "ResourceId": rid("vpc", n),
            "ResourceType": "vpc", "State": "enabled"}


def client_vpn_endpoint_id(n: int) -> str:
    return rid("cvpn-endpoint", n)


def client_vpn_endpoint(n: int) -> Item:
    endpoint_id = client_vpn_endpoint_id(n)
    return {"ClientVpnEndpointId": endpoint_id, "Description": f"remote access {n}",
            "Status": {"Code": "available"}, "CreationTime": "2026-03-04T10:15:00",
            "DnsName": f"*.{endpoint_id}.prod.clientvpn.us-east-1.amazonaws.com",
            "ClientCidrBlock": f"172.16.{4 * n}.0/22", "DnsServers": ["10.1.0.2"], "SplitTunnel": True,
            "VpnProtocol": "openvpn", "TransportProtocol": "udp", "VpnPort": 443,
            "ServerCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/"
                                    "0f6b1c1e-7d0d-4a5b-9a36-4f5d2c8e1a01",
            "AuthenticationOptions": [{"Type": "certificate-authentication", "MutualAuthentication": {
                "ClientRootCertificateChain": f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/"
                                              "7c1f3c52-1e0b-4f0e-8d7b-2a9e6b3f4c02"}}],
            "ConnectionLogOptions": {"Enabled": False}, "SecurityGroupIds": [rid("sg", n)],
            "VpcId": rid("vpc", 1), "SessionTimeoutHours": 24,
            "ClientConnectOptions": {"Enabled": False, "Status": {"Code": "applied"}},
            "ClientLoginBannerOptions": {"Enabled": False}}


def client_vpn_authorization_rule(n: int, endpoint: int = 1) -> Item:
    return {"ClientVpnEndpointId": client_vpn_endpoint_id(endpoint), "Description": f"engineers to VPC {n}",
            "GroupId": f"S-1-5-21-3623811015-3361044348-30300820-10{n:02d}", "AccessAll": False,
            "DestinationCidr": f"10.{n}.0.0/16", "Status": {"Code": "active"}}


def client_vpn_route(n: int, endpoint: int = 1) -> Item:
    return {"ClientVpnEndpointId": client_vpn_endpoint_id(endpoint), "DestinationCidr": f"10.{n}.0.0/16",
            "TargetSubnet": rid("subnet", n), "Type": "Nat", "Origin": "add-route",
            "Status": {"Code": "active"}, "Description": f"to VPC {n}"}


def client_vpn_target_network(n: int, endpoint: int = 1) -> Item:
    return {"AssociationId": rid("cvpn-assoc", n), "VpcId": rid("vpc", 1), "TargetNetworkId": rid("subnet", n),
            "ClientVpnEndpointId": client_vpn_endpoint_id(endpoint), "Status": {"Code": "associated"},
            "SecurityGroups": [rid("sg", n)]}


def dx_connection(n: int, region: str = HOME) -> Item:
    return {"ownerAccount": ACCOUNT_ID, "connectionId": f"dxcon-fg{n:02d}34ab", "connectionName": f"dc-{n}",
            "connectionState": "available", "region": region, "location": "EqDC2", "bandwidth": "10Gbps",
            "awsDeviceV2": "EqDC2-123h49s71dabc", "awsLogicalDeviceId": "EqDC2-2qrctgafuq5yp",
            "hasLogicalRedundancy": "yes", "jumboFrameCapable": True, "macSecCapable": False,
            "providerName": "Equinix", "tags": [{"key": "site", "value": f"dc-{n}"}]}


def dx_virtual_interface(n: int, region: str = HOME) -> Item:
    return {"ownerAccount": ACCOUNT_ID, "virtualInterfaceId": f"dxvif-ffabc1{n:02d}", "location": "EqDC2",
            "connectionId": "dxcon-fg0134ab", "virtualInterfaceType": "transit",
            "virtualInterfaceName": f"transit-vif-{n}", "vlan": 100 + n, "asn": 65000, "asnLong": 65000,
            "amazonSideAsn": 64512, "amazonAddress": f"169.254.{n}.1/30",
            "customerAddress": f"169.254.{n}.2/30", "addressFamily": "ipv4",
            "virtualInterfaceState": "available", "mtu": 8500, "jumboFrameCapable": True,
            "directConnectGatewayId": dx_gateway_id(1), "routeFilterPrefixes": [], "region": region,
            "awsDeviceV2": "EqDC2-123h49s71dabc",
            "bgpPeers": [{"bgpPeerId": f"dxpeer-fgq8{n:02d}ab", "asn": 65000, "asnLong": 65000,
                          "addressFamily": "ipv4", "amazonAddress": f"169.254.{n}.1/30",
                          "customerAddress": f"169.254.{n}.2/30", "bgpPeerState": "available",
                          "bgpStatus": "up" if n == 1 else "down", "awsDeviceV2": "EqDC2-123h49s71dabc"}]}


def dx_gateway(n: int) -> Item:
    return {"directConnectGatewayId": dx_gateway_id(n), "directConnectGatewayName": f"dxgw-{n}",
            "amazonSideAsn": 64512 + n, "ownerAccount": ACCOUNT_ID, "directConnectGatewayState": "available"}


def dx_gateway_association(n: int, gateway: int = 1) -> Item:
    return {"directConnectGatewayId": dx_gateway_id(gateway), "directConnectGatewayOwnerAccount": ACCOUNT_ID,
            "associationState": "associated", "associationId": f"9a3e6c1d-77f0-4e38-b7b1-5c0a2d4e{n:04x}",
            "associatedGateway": {"id": rid("tgw", n), "type": "transitGateway", "ownerAccount": ACCOUNT_ID,
                                  "region": HOME},
            "allowedPrefixesToDirectConnectGateway": [{"cidr": f"10.{n}.0.0/16"}]}


def dx_gateway_attachment(n: int, gateway: int = 1) -> Item:
    return {"directConnectGatewayId": dx_gateway_id(gateway), "virtualInterfaceId": f"dxvif-ffabc1{n:02d}",
            "virtualInterfaceRegion": HOME, "virtualInterfaceOwnerAccount": ACCOUNT_ID,
            "attachmentState": "attached", "attachmentType": "TransitVirtualInterface"}


def tunnel_options(outside_ip: str, inside_cidr: str) -> Item:
    return {"OutsideIpAddress": outside_ip, "TunnelInsideCidr": inside_cidr,
            "Phase1LifetimeSeconds": 28800, "Phase2LifetimeSeconds": 3600, "RekeyMarginTimeSeconds": 540,
            "RekeyFuzzPercentage": 100, "ReplayWindowSize": 1024, "DpdTimeoutSeconds": 30,
            "DpdTimeoutAction": "clear", "StartupAction": "add",
            "Phase1EncryptionAlgorithms": [{"Value": "AES256"}], "Phase2EncryptionAlgorithms": [{"Value": "AES256"}],
            "Phase1IntegrityAlgorithms": [{"Value": "SHA2-256"}], "Phase2IntegrityAlgorithms": [{"Value": "SHA2-256"}],
            "Phase1DHGroupNumbers": [{"Value": 14}], "Phase2DHGroupNumbers": [{"Value": 14}],
            "IkeVersions": [{"Value": "ikev2"}],
            "LogOptions": {"CloudWatchLogOptions": {"LogEnabled": False}},
            "EnableTunnelLifecycleControl": False}


def vpn_connection(n: int) -> Item:
    """A VGW VPN with both tunnels' telemetry: tunnel 1 UP, tunnel 2 DOWN with the reason AWS gives."""
    return {"VpnConnectionId": rid("vpn", n), "State": "available", "Type": "ipsec.1", "Category": "VPN",
            "CustomerGatewayId": rid("cgw", n), "VpnGatewayId": rid("vgw", n),
            "Options": {"EnableAcceleration": False, "StaticRoutesOnly": False,
                        "LocalIpv4NetworkCidr": "0.0.0.0/0", "RemoteIpv4NetworkCidr": "0.0.0.0/0",
                        "OutsideIpAddressType": "PublicIpv4", "TunnelInsideIpVersion": "ipv4",
                        "TunnelOptions": [tunnel_options("203.0.113.10", "169.254.10.0/30"),
                                          tunnel_options("203.0.113.20", "169.254.11.0/30")]},
            "VgwTelemetry": [
                {"OutsideIpAddress": "203.0.113.10", "Status": "UP", "LastStatusChange": WHEN,
                 "StatusMessage": "2 BGP ROUTES", "AcceptedRouteCount": 2},
                {"OutsideIpAddress": "203.0.113.20", "Status": "DOWN",
                 "LastStatusChange": WHEN + dt.timedelta(minutes=7),
                 "StatusMessage": "IPSEC IS DOWN", "AcceptedRouteCount": 0}],
            "Routes": [], "Tags": [{"Key": "Name", "Value": f"dc-{n}"}]}


SECRET = "Ex4mple.SecretKey_7f3a"


def vpn_connection_with_pre_shared_key() -> Item:
    """As DescribeVpnConnections returns it to a caller allowed to see the tunnels' pre-shared keys."""
    connection = vpn_connection(1)
    connection["Options"]["TunnelOptions"][0]["PreSharedKey"] = SECRET
    connection["CustomerGatewayConfiguration"] = (
        f"<vpn_connection id=\"{rid('vpn', 1)}\"><ipsec_tunnel><ike><pre_shared_key>{SECRET}"
        "</pre_shared_key></ike></ipsec_tunnel></vpn_connection>")
    return connection


def virtual_interface_with_bgp_auth_key() -> Item:
    """As DescribeVirtualInterfaces returns it: the BGP MD5 key on the interface and on its peer."""
    interface = dx_virtual_interface(1)
    interface["authKey"] = SECRET
    interface["bgpPeers"][0]["authKey"] = SECRET
    return interface


def of_type(*types: str) -> Item:
    return {"Name": "type", "Values": list(types)}


def exact(cidr: str) -> Item:
    return {"Name": "route-search.exact-match", "Values": [cidr]}


def subnet_of(cidr: str) -> Item:
    return {"Name": "route-search.subnet-of-match", "Values": [cidr]}


def tgw_route(cidr: str, route_type: str = "static", n: int = 1) -> Item:
    return {"DestinationCidrBlock": cidr, "Type": route_type, "State": "active",
            "TransitGatewayAttachments": [{"ResourceId": rid("vpc", n), "ResourceType": "vpc",
                                           "TransitGatewayAttachmentId": rid("tgw-attach", n)}]}


def prefix_list_id(n: int) -> str:
    return rid("pl", n)


def prefix_list_filter(*ids: str) -> Item:
    return {"Name": "prefix-list-id", "Values": list(ids)}


def tgw_prefix_list_route(n: int) -> Item:
    """A static route whose destination is a prefix list: it has no DestinationCidrBlock."""
    return {"PrefixListId": prefix_list_id(n), "Type": "static", "State": "active",
            "TransitGatewayAttachments": [{"ResourceId": rid("vpc", n), "ResourceType": "vpc",
                                           "TransitGatewayAttachmentId": rid("tgw-attach", n)}]}


def prefix_list_reference(n: int, table_id: str) -> Item:
    """A GetTransitGatewayPrefixListReferences item (EC2 API reference: TransitGatewayPrefixListReference)."""
    return {"TransitGatewayRouteTableId": table_id, "PrefixListId": prefix_list_id(n),
            "PrefixListOwnerId": "111122223333", "State": "available", "Blackhole": False,
            "TransitGatewayAttachment": {"TransitGatewayAttachmentId": rid("tgw-attach", n), "ResourceType": "vpc",
                                         "ResourceId": rid("vpc", n)}}


# The n-th item of every key a collector pages through; a new paging collector needs a line here.
ITEMS: dict[str, Callable[[int], Item]] = {
    "ec2:Vpcs": vpc,
    "ec2:Subnets": subnet,
    "ec2:RouteTables": route_table,
    "ec2:NetworkAcls": network_acl,
    "ec2:NetworkInterfaces": instance_interface,
    "ec2:InternetGateways": internet_gateway,
    "ec2:EgressOnlyInternetGateways": egress_only_internet_gateway,
    "ec2:NatGateways": nat_gateway,
    "ec2:ManagedPrefixLists": managed_prefix_list,
    "ec2:ManagedPrefixListEntries": prefix_list_entry,
    "ec2:FlowLogs": flow_log,
    "ec2:SecurityGroups": security_group,
    "ec2:VpcPeeringConnections": vpc_peering_connection,
    "ec2:VpcEndpoints": vpc_endpoint,
    "ec2:VpcEndpointServiceConfigurations": service_configuration,
    "ec2:VpcEndpointServicePermissions": allowed_principal,
    "ec2:VpcEndpointConnections": vpc_endpoint_connection,
    "elbv2:LoadBalancers": load_balancer,
    "ec2:VpnConnections": vpn_connection,
    "ec2:TransitGateways": transit_gateway,
    "ec2:TransitGatewayAttachments": transit_gateway_attachment,
    "ec2:TransitGatewayVpcAttachments": transit_gateway_vpc_attachment,
    "ec2:TransitGatewayPeeringAttachments": transit_gateway_peering_attachment,
    "ec2:TransitGatewayRouteTables": transit_gateway_route_table,
    "ec2:TransitGatewayRouteTableAssociations": transit_gateway_route_table_association,
    "ec2:TransitGatewayRouteTablePropagations": transit_gateway_route_table_propagation,
    "ec2:ClientVpnEndpoints": client_vpn_endpoint,
    "ec2:ClientVpnAuthorizationRules": client_vpn_authorization_rule,
    "ec2:ClientVpnRoutes": client_vpn_route,
    "ec2:ClientVpnTargetNetworks": client_vpn_target_network,
    "directconnect:connections": dx_connection,
    "directconnect:virtualInterfaces": dx_virtual_interface,
    "directconnect:directConnectGateways": dx_gateway,
    "directconnect:directConnectGatewayAssociations": dx_gateway_association,
    "directconnect:directConnectGatewayAttachments": dx_gateway_attachment,
}
