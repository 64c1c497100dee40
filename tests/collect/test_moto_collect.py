"""Collection against an in-process moto account, for everything moto 5.2.5 models faithfully."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.awsrequest
import pytest
from moto import mock_aws

from auditor import aws, snapshot
from auditor.collect import collect
from auditor.collect.registry import REGISTRY
from auditor.errors import UserError
from tests.conftest import ACCOUNT_ID, FAKE_ENV, REGION, seed_client

FIXED_NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}]}


def _seed_network() -> dict[str, str]:
    """One of each resource type moto models, wired together as in a real account."""
    ec2, elbv2, logs = seed_client("ec2"), seed_client("elbv2"), seed_client("logs")
    ids: dict[str, str] = {}
    ids["vpc"] = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=ids["vpc"], CidrBlock="10.1.0.0/16")
    ec2.modify_vpc_attribute(VpcId=ids["vpc"], EnableDnsHostnames={"Value": True})
    ids["peer_vpc"] = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    ids["subnet_a"] = ec2.create_subnet(VpcId=ids["vpc"], CidrBlock="10.0.1.0/24",
                                        AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ids["subnet_b"] = ec2.create_subnet(VpcId=ids["vpc"], CidrBlock="10.1.1.0/24",
                                        AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    ids["rtb"] = ec2.create_route_table(VpcId=ids["vpc"])["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=ids["rtb"], SubnetId=ids["subnet_a"])
    ids["pcx"] = ec2.create_vpc_peering_connection(
        VpcId=ids["vpc"], PeerVpcId=ids["peer_vpc"])["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=ids["pcx"])
    ec2.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=ids["pcx"],
        RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    ec2.create_route(RouteTableId=ids["rtb"], DestinationCidrBlock="10.2.0.0/16",
                     VpcPeeringConnectionId=ids["pcx"])
    ids["igw"] = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=ids["vpc"])
    ids["eigw"] = ec2.create_egress_only_internet_gateway(
        VpcId=ids["vpc"])["EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"]
    ids["nat"] = ec2.create_nat_gateway(SubnetId=ids["subnet_a"], ConnectivityType="private")[
        "NatGateway"]["NatGatewayId"]
    ids["pl"] = ec2.create_managed_prefix_list(
        PrefixListName="onprem", MaxEntries=5, AddressFamily="IPv4",
        Entries=[{"Cidr": "192.168.0.0/16", "Description": "office"}])["PrefixList"]["PrefixListId"]
    ids["sg"] = ec2.create_security_group(GroupName="endpoints", Description="endpoints",
                                          VpcId=ids["vpc"])["GroupId"]
    ids["vpce_gw"] = ec2.create_vpc_endpoint(
        VpcId=ids["vpc"], ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway",
        RouteTableIds=[ids["rtb"]], PolicyDocument=json.dumps(POLICY))["VpcEndpoint"]["VpcEndpointId"]
    ids["vpce_if"] = ec2.create_vpc_endpoint(
        VpcId=ids["vpc"], ServiceName=f"com.amazonaws.{REGION}.ssm", VpcEndpointType="Interface",
        SubnetIds=[ids["subnet_a"]], SecurityGroupIds=[ids["sg"]], PrivateDnsEnabled=False,
    )["VpcEndpoint"]["VpcEndpointId"]
    ids["nlb"] = elbv2.create_load_balancer(Name="provider", Type="network", Scheme="internal",
                                            Subnets=[ids["subnet_a"], ids["subnet_b"]])[
        "LoadBalancers"][0]["LoadBalancerArn"]
    ids["service"] = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[ids["nlb"]], AcceptanceRequired=False)["ServiceConfiguration"]["ServiceId"]
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=ids["service"], AddAllowedPrincipals=["*"])
    ids["vgw"] = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=ids["vgw"], VpcId=ids["vpc"])
    ids["cgw"] = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65000)[
        "CustomerGateway"]["CustomerGatewayId"]
    ids["vpn"] = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=ids["cgw"],
                                           VpnGatewayId=ids["vgw"])["VpnConnection"]["VpnConnectionId"]
    ids["tgw"] = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    ids["tgw_attach"] = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=ids["tgw"], VpcId=ids["peer_vpc"], SubnetIds=[])[
        "TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    ids["tgw_rtb"] = ec2.create_transit_gateway_route_table(TransitGatewayId=ids["tgw"])[
        "TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=ids["tgw_rtb"], TransitGatewayAttachmentId=ids["tgw_attach"])
    ec2.create_transit_gateway_route(DestinationCidrBlock="10.99.0.0/16", Blackhole=True,
                                     TransitGatewayRouteTableId=ids["tgw_rtb"])
    logs.create_log_group(logGroupName="flows")
    ids["flow_log"] = ec2.create_flow_logs(
        ResourceIds=[ids["vpc"]], ResourceType="VPC", TrafficType="ALL", LogGroupName="flows",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT_ID}:role/flows")["FlowLogIds"][0]
    return ids


def _by_id(items: list[dict[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    return {item[field]: item for item in items}


@pytest.fixture(scope="module")
def collected() -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    """Seeded and collected once for the module: the tests below only read the document."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_ENV.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            ids = _seed_network()
            yield ids, collect(boto3.Session(region_name=REGION), [REGION], now=FIXED_NOW).document


def test_snapshot_header_and_layout(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    _, document = collected

    account = document["accounts"][ACCOUNT_ID]

    assert document["schema_version"] == 1
    assert document["collected_at"] == "2026-11-26T10:00:00Z"
    assert account["partition"] == "aws"
    assert set(account["regions"]) == {REGION, "global"}


def test_vpcs_with_every_cidr_and_dns_attributes(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    vpc = _by_id(region["ec2:Vpcs"], "VpcId")[ids["vpc"]]
    dns = _by_id(region["ec2:VpcDnsAttributes"], "VpcId")

    assert {a["CidrBlock"] for a in vpc["CidrBlockAssociationSet"]} == {"10.0.0.0/16", "10.1.0.0/16"}
    assert dns[ids["vpc"]] == {"VpcId": ids["vpc"], "EnableDnsSupport": True, "EnableDnsHostnames": True}
    assert dns[ids["peer_vpc"]]["EnableDnsHostnames"] is False
    assert set(dns) == {v["VpcId"] for v in region["ec2:Vpcs"]}


def test_subnets_route_tables_and_gateways(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    table = _by_id(region["ec2:RouteTables"], "RouteTableId")[ids["rtb"]]
    routes = {r.get("DestinationCidrBlock") or r.get("DestinationPrefixListId"): r for r in table["Routes"]}

    assert {ids["subnet_a"], ids["subnet_b"]} <= {s["SubnetId"] for s in region["ec2:Subnets"]}
    assert [a["SubnetId"] for a in table["Associations"]] == [ids["subnet_a"]]
    assert routes["10.2.0.0/16"]["VpcPeeringConnectionId"] == ids["pcx"]
    assert routes["10.0.0.0/16"]["GatewayId"] == "local"
    assert all("State" in r and "Origin" in r for r in table["Routes"])
    assert ids["igw"] in {g["InternetGatewayId"] for g in region["ec2:InternetGateways"]}
    assert [g["EgressOnlyInternetGatewayId"] for g in region["ec2:EgressOnlyInternetGateways"]] == [ids["eigw"]]
    assert [g["NatGatewayId"] for g in region["ec2:NatGateways"]] == [ids["nat"]]
    assert ids["vpc"] in {a["VpcId"] for acl in region["ec2:NetworkAcls"] for a in [acl]}


def test_prefix_lists_with_entries(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    entries = _by_id(region["ec2:ManagedPrefixListEntries"], "PrefixListId")

    assert entries[ids["pl"]]["Entries"] == [{"Cidr": "192.168.0.0/16", "Description": "office"}]
    aws_s3 = next(p for p in region["ec2:ManagedPrefixLists"] if p["PrefixListName"].endswith(".s3"))
    assert entries[aws_s3["PrefixListId"]]["Entries"], "AWS-managed lists are read with their entries"


def test_peering_with_both_sides_and_options(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    peering = _by_id(region["ec2:VpcPeeringConnections"], "VpcPeeringConnectionId")[ids["pcx"]]

    assert peering["Status"]["Code"] == "active"
    assert peering["RequesterVpcInfo"]["VpcId"] == ids["vpc"]
    assert peering["AccepterVpcInfo"]["VpcId"] == ids["peer_vpc"]
    assert peering["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert peering["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False
    assert peering["AccepterVpcInfo"]["OwnerId"] == ACCOUNT_ID


def test_endpoints_with_policies_and_security_groups(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    endpoints = _by_id(region["ec2:VpcEndpoints"], "VpcEndpointId")

    assert json.loads(endpoints[ids["vpce_gw"]]["PolicyDocument"]) == POLICY
    assert endpoints[ids["vpce_gw"]]["RouteTableIds"] == [ids["rtb"]]
    assert endpoints[ids["vpce_if"]]["VpcEndpointType"] == "Interface"
    assert [g["GroupId"] for g in endpoints[ids["vpce_if"]]["Groups"]] == [ids["sg"]]
    assert endpoints[ids["vpce_if"]]["PrivateDnsEnabled"] is False
    assert ids["sg"] in {g["GroupId"] for g in region["ec2:SecurityGroups"]}


def test_endpoint_services_permissions_and_load_balancers(
        collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    service = _by_id(region["ec2:VpcEndpointServiceConfigurations"], "ServiceId")[ids["service"]]
    permissions = _by_id(region["ec2:VpcEndpointServicePermissions"], "ServiceId")[ids["service"]]
    balancer = _by_id(region["elbv2:LoadBalancers"], "LoadBalancerArn")[ids["nlb"]]

    assert service["AcceptanceRequired"] is False
    assert service["NetworkLoadBalancerArns"] == [ids["nlb"]]
    assert [p["Principal"] for p in permissions["AllowedPrincipals"]] == ["*"]
    assert {z["ZoneName"] for z in balancer["AvailabilityZones"]} == {"us-east-1a", "us-east-1b"}


def test_vpn_gateways_and_connections(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    vgw = _by_id(region["ec2:VpnGateways"], "VpnGatewayId")[ids["vgw"]]
    vpn = _by_id(region["ec2:VpnConnections"], "VpnConnectionId")[ids["vpn"]]

    assert vgw["VpcAttachments"] == [{"State": "attached", "VpcId": ids["vpc"]}]
    assert _by_id(region["ec2:CustomerGateways"], "CustomerGatewayId")[ids["cgw"]]["IpAddress"] == "203.0.113.10"
    assert (vpn["CustomerGatewayId"], vpn["VpnGatewayId"]) == (ids["cgw"], ids["vgw"])


def test_transit_gateway_attachments_tables_and_routes(
        collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    attachment = _by_id(region["ec2:TransitGatewayAttachments"], "TransitGatewayAttachmentId")[ids["tgw_attach"]]
    propagations = _by_id(region["ec2:TransitGatewayRouteTablePropagations"], "TransitGatewayRouteTableId")
    routes = _by_id(region["ec2:TransitGatewayRoutes"], "TransitGatewayRouteTableId")[ids["tgw_rtb"]]["Routes"]

    assert attachment["ResourceType"] == "vpc"
    assert attachment["ResourceId"] == ids["peer_vpc"]
    assert ids["tgw_attach"] in {a["TransitGatewayAttachmentId"] for a in region["ec2:TransitGatewayVpcAttachments"]}
    assert ids["tgw"] in {t["TransitGatewayId"] for t in region["ec2:TransitGateways"]}
    assert [p["TransitGatewayAttachmentId"]
            for p in propagations[ids["tgw_rtb"]]["TransitGatewayRouteTablePropagations"]] == [ids["tgw_attach"]]
    assert [(r["DestinationCidrBlock"], r["State"]) for r in routes] == [("10.99.0.0/16", "blackhole")]


def test_flow_logs(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    ids, document = collected
    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]

    flow_log = _by_id(region["ec2:FlowLogs"], "FlowLogId")[ids["flow_log"]]

    assert flow_log["ResourceId"] == ids["vpc"]
    assert flow_log["TrafficType"] == "ALL"


def test_what_moto_lacks_is_an_error_never_an_empty_list(
        collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    _, document = collected
    regions = document["accounts"][ACCOUNT_ID]["regions"]

    failed = {(e["region"], e["key"]): e for e in document["errors"]}

    for region, key in [(REGION, "ec2:ClientVpnEndpoints"), (REGION, "ec2:ClientVpnRoutes"),
                        (REGION, "directconnect:virtualInterfaces"), ("global", "directconnect:directConnectGateways")]:
        assert key not in regions[region]
        assert failed[(region, key)]["code"] in {"NotImplemented", "DependencyFailed"}
        assert failed[(region, key)]["account_id"] == ACCOUNT_ID


def test_snapshot_is_deterministic(collected: tuple[dict[str, str], dict[str, Any]]) -> None:
    session = boto3.Session(region_name=REGION)  # the module's seeded moto account is still active

    first = snapshot.dumps(collect(session, [REGION], now=FIXED_NOW).document)
    second = snapshot.dumps(collect(session, [REGION], max_workers=1, now=FIXED_NOW).document)

    assert first == second


def test_default_is_every_enabled_region_and_not_the_opt_in_ones(moto_account: None) -> None:
    session = boto3.Session(region_name=REGION)
    everything = seed_client("ec2").describe_regions(AllRegions=True)["Regions"]
    opted_out = {r["RegionName"] for r in everything if r["OptInStatus"] == "not-opted-in"}

    document = collect(session, None, max_workers=32, collectors=[REGISTRY["ec2:Vpcs"]]).document

    collected_regions = set(document["accounts"][ACCOUNT_ID]["regions"]) - {"global"}
    assert opted_out, "moto lists opt-in regions; the collector must leave them out"
    assert collected_regions == {r["RegionName"] for r in everything} - opted_out


@pytest.mark.parametrize(("requested", "message"), [
    (["xx-nowhere-1"], "unknown region 'xx-nowhere-1': not a region of the aws partition"),
    (["us-east-1", "us-eats-1"], "unknown region 'us-eats-1'"),
    (["us-east-1", "not a region"], "unknown region 'not a region'"),
    # moto's DescribeRegions lists China's regions in every partition; botocore knows they are not in `aws`.
    (["cn-north-1"], "unknown region 'cn-north-1': not a region of the aws partition"),
])
def test_a_region_that_does_not_exist_is_a_user_error(moto_account: None, requested: list[str], message: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    monkeypatch.setattr(boto3.Session, "client", _recording_client(sent))

    with pytest.raises(UserError, match=message):
        collect(boto3.Session(region_name=REGION), requested)

    assert sent == ["sts"]  # the name is checked against botocore's endpoint data: no read was made


def _recording_client(sent: list[str]) -> Any:
    original = boto3.Session.client

    def client(self: boto3.Session, service: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(service)
        return original(self, service, *args, **kwargs)

    return client


def _opted_out_region() -> str:
    everything = seed_client("ec2").describe_regions(AllRegions=True)["Regions"]
    return next(r["RegionName"] for r in everything if r["OptInStatus"] == "not-opted-in")


def test_a_region_not_enabled_is_an_error_entry_and_the_other_regions_are_read(moto_account: None) -> None:
    opted_out = _opted_out_region()

    document = collect(boto3.Session(region_name=REGION), [REGION, opted_out],
                       collectors=[REGISTRY["ec2:Vpcs"]]).document

    regions = document["accounts"][ACCOUNT_ID]["regions"]
    assert set(regions) == {REGION}
    assert "172.31.0.0/16" in {v["CidrBlock"] for v in regions[REGION]["ec2:Vpcs"]}  # the default VPC
    assert document["errors"] == [{
        "account_id": ACCOUNT_ID, "region": opted_out, "key": "ec2:Regions", "operation": "DescribeRegions",
        "code": "OptInRequired",
        "message": f"region {opted_out} is not enabled for account {ACCOUNT_ID} (opt-in required): not read"}]


def test_when_no_requested_region_is_enabled_nothing_is_collected_and_it_is_a_user_error(moto_account: None) -> None:
    opted_out = _opted_out_region()

    with pytest.raises(UserError, match=f"none of the requested regions is enabled for account {ACCOUNT_ID} "
                                        rf"\({opted_out}\): not read"):
        collect(boto3.Session(region_name=REGION), [opted_out])


def _unauthorized(params: dict[str, Any], **_: Any) -> Any:
    response = botocore.awsrequest.AWSResponse("https://ec2.amazonaws.com/", 403, {}, None)
    return response, {"Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"},
                      "ResponseMetadata": {"HTTPStatusCode": 403}}


def test_denied_describe_regions_with_regions_given_reads_them_and_records_the_denial(moto_account: None) -> None:
    session = boto3.Session(region_name=REGION)
    session.events.register("before-call.ec2.DescribeRegions", _unauthorized)

    document = collect(session, [REGION], collectors=[REGISTRY["ec2:Vpcs"]]).document

    assert set(document["accounts"][ACCOUNT_ID]["regions"]) == {REGION}
    assert document["accounts"][ACCOUNT_ID]["regions"][REGION]["ec2:Vpcs"]
    assert [(e["region"], e["key"], e["operation"], e["code"]) for e in document["errors"]] == [
        ("global", "ec2:Regions", "DescribeRegions", "UnauthorizedOperation")]
    assert "read without knowing which ones the account has enabled" in document["errors"][0]["message"]


def test_denied_describe_regions_without_regions_is_a_user_error(moto_account: None) -> None:
    session = boto3.Session(region_name=REGION)
    session.events.register("before-call.ec2.DescribeRegions", _unauthorized)

    with pytest.raises(UserError, match=r"cannot list the account's regions \(DescribeRegions\): "
                                        "UnauthorizedOperation"):
        collect(session, None, collectors=[REGISTRY["ec2:Vpcs"]])


def test_when_every_read_fails_nothing_is_collected_and_it_is_a_user_error(moto_account: None) -> None:
    session = boto3.Session(region_name=REGION)
    session.events.register("before-call.ec2.DescribeVpcs", _unauthorized)

    with pytest.raises(UserError, match=f"could not read anything in account {ACCOUNT_ID}; {REGION}: "
                                        "DescribeVpcs UnauthorizedOperation: not authorized"):
        collect(session, [REGION], collectors=[REGISTRY["ec2:Vpcs"]])


def test_a_region_describe_regions_does_not_list_is_an_error_entry(moto_account: None,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore knows eu-west-1, but this account's DescribeRegions does not offer it.
    monkeypatch.setattr(aws, "describe_regions", lambda *_: ([REGION], [REGION]))

    document = collect(boto3.Session(region_name=REGION), [REGION, "eu-west-1"],
                       collectors=[REGISTRY["ec2:Vpcs"]]).document

    assert set(document["accounts"][ACCOUNT_ID]["regions"]) == {REGION}
    assert [(e["region"], e["key"], e["code"]) for e in document["errors"]] == [
        ("eu-west-1", "ec2:Regions", "RegionNotAvailable")]


def test_a_client_that_cannot_be_made_fails_only_its_keys(moto_account: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # botocore refuses the malformed endpoint when the client is made; until 2026-11-27 that ended the whole run
    # as an internal error ("ValueError: Invalid endpoint"), nothing written.
    monkeypatch.setenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "not a url")

    document = collect(boto3.Session(region_name=REGION), [REGION],
                       collectors=[REGISTRY["ec2:Vpcs"], REGISTRY["elbv2:LoadBalancers"]]).document

    region = document["accounts"][ACCOUNT_ID]["regions"][REGION]
    assert "172.31.0.0/16" in {v["CidrBlock"] for v in region["ec2:Vpcs"]}
    assert "elbv2:LoadBalancers" not in region
    assert [(e["region"], e["key"], e["operation"], e["code"]) for e in document["errors"]] == [
        (REGION, "elbv2:LoadBalancers", "DescribeLoadBalancers", "ValueError")]
    assert "not a url" in document["errors"][0]["message"]
