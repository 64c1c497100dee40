"""VPN and transit gateway rules on snapshots collected from an in-process moto account: what moto models faithfully.

moto 5.2.5 keeps VPN gateway attachments, customer gateways, transit gateway options, static (and blackhole)
transit gateway routes, propagation records, VPC attachments and VPC routes as AWS does. It returns no tunnel
options or telemetry, no PropagatingVgws and no propagated transit gateway routes: the cases that need them
are snapshot fragments in test_vpn.py and test_transit_gateway.py.
"""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from auditor.collect import collect
from auditor.engine import Finding, load_rules, run_audit
from auditor.index import Index
from tests.conftest import ACCOUNT_ID, REGION, seed_client
from tests.factories import NOW


def audit(*rule_ids: str) -> list[Finding]:
    """Collect the moto account's home region and run the named rules on the snapshot."""
    document = collect(boto3.Session(region_name=REGION), [REGION], now=NOW).document
    result = run_audit(Index(document), now=NOW, rules=[load_rules()[rule_id] for rule_id in rule_ids])
    return list(result.findings)


def main_table(ec2: Any, vpc_id: str) -> str:
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    return str(tables[0]["RouteTableId"])


def test_vgw_detached_from_its_vpc_and_an_unused_customer_gateway() -> None:
    with mock_aws():
        ec2 = seed_client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        detached = ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=64513)["VpnGateway"]["VpnGatewayId"]
        ec2.attach_vpn_gateway(VpnGatewayId=detached, VpcId=vpc)
        ec2.detach_vpn_gateway(VpnGatewayId=detached, VpcId=vpc)
        attached = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
        ec2.attach_vpn_gateway(VpnGatewayId=attached, VpcId=vpc)
        unused = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.7", BgpAsn=65020)
        used = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65010)
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=used["CustomerGateway"]["CustomerGatewayId"],
                                  VpnGatewayId=attached)

        findings = audit("VPN001", "VPN006")

    assert len(findings) == 2
    by_rule = {f.rule_id: f for f in findings}
    assert (by_rule["VPN001"].resource_id, by_rule["VPN001"].severity) == (detached, "low")
    assert (by_rule["VPN001"].account_id, by_rule["VPN001"].region) == (ACCOUNT_ID, REGION)
    assert f"virtual private gateway {detached} (ASN 64513) is attached to no VPC (formerly {vpc})" \
        in by_rule["VPN001"].message
    unused_id = unused["CustomerGateway"]["CustomerGatewayId"]
    assert (by_rule["VPN006"].resource_id, by_rule["VPN006"].severity) == (unused_id, "info")
    assert f"customer gateway {unused_id} (198.51.100.7, BGP ASN 65020) has no VPN connection" \
        in by_rule["VPN006"].message


def test_vpn_routes_missing_in_the_table_without_a_static_route() -> None:
    with mock_aws():
        ec2 = seed_client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")  # main table
        private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=private["Subnet"]["SubnetId"])
        gateway = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
        ec2.attach_vpn_gateway(VpnGatewayId=gateway, VpcId=vpc)
        customer = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65010)
        connection = ec2.create_vpn_connection(
            Type="ipsec.1", CustomerGatewayId=customer["CustomerGateway"]["CustomerGatewayId"], VpnGatewayId=gateway,
        )["VpnConnection"]["VpnConnectionId"]
        ec2.create_route(RouteTableId=main_table(ec2, vpc), DestinationCidrBlock="192.168.0.0/16",
                         GatewayId=gateway)

        findings = audit("VPN003", "VPN002", "VPN004", "VPN005")

    assert len(findings) == 1  # moto gives no tunnel options or telemetry: VPN002, VPN004, VPN005 do not judge
    finding = findings[0]
    assert (finding.rule_id, finding.resource_id, finding.severity) == ("VPN003", vpc, "high")
    assert f"connection(s) {connection}, but these route tables neither propagate nor route anything to it: " \
        f"route table {table} ({vpc}, used by {private['Subnet']['SubnetId']})" in finding.message


def test_transit_gateway_options_auto_accept_and_default_route_table() -> None:
    with mock_aws():
        ec2 = seed_client("ec2")
        open_hub = ec2.create_transit_gateway(Options={"AutoAcceptSharedAttachments": "enable"})["TransitGateway"]
        default_hub = ec2.create_transit_gateway(Description="defaults")["TransitGateway"]
        ec2.create_transit_gateway(Options={"DefaultRouteTablePropagation": "disable"})

        findings = audit("TGW001", "TGW002")

    assert sorted((f.rule_id, f.resource_id) for f in findings) == sorted([
        ("TGW001", open_hub["TransitGatewayId"]), ("TGW002", open_hub["TransitGatewayId"]),
        ("TGW002", default_hub["TransitGatewayId"])])
    auto_accept = next(f for f in findings if f.rule_id == "TGW001")
    assert auto_accept.severity == "high"
    assert "accepts attachments from every account it is shared with automatically" in auto_accept.message
    flat = next(f for f in findings if f.resource_id == default_hub["TransitGatewayId"])
    assert flat.severity == "medium"
    assert f"associates every new attachment with {default_hub['Options']['AssociationDefaultRouteTableId']} and " \
        "propagates every attachment's routes into it" in flat.message


def test_static_blackhole_route_and_a_vpc_without_a_route_to_its_transit_gateway() -> None:
    with mock_aws():
        ec2 = seed_client("ec2")
        hub = ec2.create_transit_gateway(Description="hub")["TransitGateway"]
        tgw, table = hub["TransitGatewayId"], hub["Options"]["AssociationDefaultRouteTableId"]
        routed = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        lost = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
        attachments = {}
        for vpc, cidr in ((routed, "10.1.1.0/24"), (lost, "10.2.1.0/24")):
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
            attachments[vpc] = ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])["TransitGatewayVpcAttachment"]
        ec2.create_route(RouteTableId=main_table(ec2, routed), DestinationCidrBlock="10.0.0.0/8", TransitGatewayId=tgw)
        lost_table = main_table(ec2, lost)
        ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table, DestinationCidrBlock="10.66.0.0/16",
                                         Blackhole=True)
        ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table, DestinationCidrBlock="10.100.0.0/16",
                                         TransitGatewayAttachmentId=attachments[routed]["TransitGatewayAttachmentId"])

        findings = audit("TGW003", "TGW005")

    assert len(findings) == 2
    by_rule = {f.rule_id: f for f in findings}
    assert (by_rule["TGW003"].resource_id, by_rule["TGW003"].severity) == (table, "medium")
    assert f"transit gateway route table {table} ({tgw}): the static route to 10.66.0.0/16 is a blackhole" \
        in by_rule["TGW003"].message
    assert (by_rule["TGW005"].resource_id, by_rule["TGW005"].severity) == (lost, "medium")
    assert f"VPC {lost} is attached to transit gateway {tgw} " \
        f"({attachments[lost]['TransitGatewayAttachmentId']}) but no route table its subnets use routes anything " \
        f"to it: route table {lost_table} ({lost}, main table, used by subnet-" in by_rule["TGW005"].message


def test_overlapping_vpcs_propagating_into_one_transit_gateway_route_table() -> None:
    with mock_aws():
        ec2 = seed_client("ec2")
        hub = ec2.create_transit_gateway(Description="hub")["TransitGateway"]
        tgw, table = hub["TransitGatewayId"], hub["Options"]["AssociationDefaultRouteTableId"]
        attachment_ids = []
        for cidr in ("10.1.0.0/16", "10.1.0.0/20"):
            vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24",
                                       AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
            attachment_id = ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])["TransitGatewayVpcAttachment"][
                "TransitGatewayAttachmentId"]
            ec2.enable_transit_gateway_route_table_propagation(TransitGatewayRouteTableId=table,
                                                               TransitGatewayAttachmentId=attachment_id)
            attachment_ids.append(attachment_id)

        findings = audit("TGW006")

    assert len(findings) == 1
    finding = findings[0]
    assert (finding.resource_id, finding.severity) == (table, "high")
    assert f"transit gateway route table {table} ({tgw}): vpc attachment" in finding.message
    assert "propagate overlapping CIDRs into it (" in finding.message
    assert "10.1.0.0/16" in finding.message and "10.1.0.0/20" in finding.message
    assert set(finding.related_resources) == {tgw, *attachment_ids}
