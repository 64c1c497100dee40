"""`auditor collect` end to end: a moto server on 127.0.0.1, the CLI as a child process, the snapshot.

Also every kind of bad input: one `auditor: error:` line, exit code 2, nothing written or lost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import auditor
import auditor.collect.runner  # noqa: F401  (registers the catalog)
from auditor.cli import cli, main
from auditor.collect import Collected
from auditor.collect.registry import GLOBAL, GLOBAL_REGION_KEY, REGISTRY
from auditor.collect.runner import AccountCollection
from tests.servers import (
    ACCOUNT_ID,
    ALLOWED_PRINCIPAL,
    CLI_TIMEOUT,
    CREDENTIAL_VALUES,
    GATEWAY_ENDPOINT_POLICY,
    REGION,
    cli_env,
    expired_token_sts,
    moto_server,
    no_local_aws_setup,
    owner_client,
    run_cli,
    seed_network,
    start_cli,
)

Items = list[dict[str, Any]]
Region = dict[str, Items]
SUMMARY = re.compile(
    r"^collected 1 account\(s\), 1 region\(s\): (?P<resources>\d+) resources \(.*\); "
    r"(?P<calls>\d+) API calls, (?P<errors>\d+) error\(s\), [0-9.]+ s -> (?P<destination>.+)$"
)

# What moto 5.2.5 does not implement: each must be an error record, never an empty list.
# None: the call itself fails (its code depends on the transport); a code: a child never read.
NOT_IN_MOTO: dict[str, str | None] = {
    "ec2:VpcEndpointConnections": None,
    "ec2:ClientVpnEndpoints": None,
    "ec2:ClientVpnAuthorizationRules": "DependencyFailed",
    "ec2:ClientVpnRoutes": "DependencyFailed",
    "ec2:ClientVpnTargetNetworks": "DependencyFailed",
    "directconnect:virtualInterfaces": None,
    "directconnect:directConnectGateways": None,
    "directconnect:directConnectGatewayAssociations": "DependencyFailed",
    "directconnect:directConnectGatewayAttachments": "DependencyFailed",
}


# ---------------------------------------------------------------------------------------------
# The end-to-end run: one seeded server, three CLI processes run side by side.


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Runs:
    ids: dict[str, str]
    started: dt.datetime
    ended: dt.datetime
    fresh: Finished  # --output <new file>
    fresh_dir: Path
    replaced: Finished  # --output <existing 0644 file>
    replaced_dir: Path
    to_stdout: Finished  # --output -
    stdout_dir: Path

    @property
    def snapshot_path(self) -> Path:
        return self.fresh_dir / "snap.json"

    @property
    def text(self) -> str:
        return self.snapshot_path.read_text(encoding="utf-8")

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.text)

    def region(self, name: str = REGION) -> Region:
        return self.document["accounts"][ACCOUNT_ID]["regions"][name]


# moto does not look an instance's image up: any well-formed AMI id will do.
INSTANCE_IMAGE_ID = "ami-0a1b2c3d4e5f60718"


def seed_network_interface(url: str, ids: dict[str, str]) -> dict[str, str]:
    """An ENI in subnet A1 with two private addresses and the endpoints' group, attached to an instance."""
    ec2 = owner_client(url, "ec2")
    eni = ec2.create_network_interface(
        SubnetId=ids["subnet_a1"], Groups=[ids["sg"]], Description="app server",
        PrivateIpAddresses=[{"PrivateIpAddress": "10.0.1.50", "Primary": True},
                            {"PrivateIpAddress": "10.0.1.51", "Primary": False}],
        TagSpecifications=[{"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "app-server"}]}],
    )["NetworkInterface"]["NetworkInterfaceId"]
    instance = ec2.run_instances(
        ImageId=INSTANCE_IMAGE_ID, InstanceType="t3.micro", MinCount=1, MaxCount=1,
        NetworkInterfaces=[{"DeviceIndex": 0, "NetworkInterfaceId": eni}],
    )["Instances"][0]["InstanceId"]
    return {"eni": eni, "instance": instance}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def runs(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("collect-e2e")
    with no_local_aws_setup(base):
        ids = seed_network(moto_url)
        ids.update(seed_network_interface(moto_url, ids))
    env = cli_env(moto_url, base / "aws-config")
    fresh_dir, replaced_dir, stdout_dir = (base / "fresh", base / "replaced", base / "stdout")
    for directory in (fresh_dir, replaced_dir, stdout_dir):
        directory.mkdir()
    (replaced_dir / "snap.json").write_text("an older snapshot\n", encoding="utf-8")
    os.chmod(replaced_dir / "snap.json", 0o644)
    collect = ["collect", "--regions", REGION, "--output"]

    started = dt.datetime.now(dt.UTC)
    processes = [
        start_cli([*collect, str(fresh_dir / "snap.json")], env, fresh_dir),
        start_cli([*collect, str(replaced_dir / "snap.json")], env, replaced_dir),
        start_cli([*collect, "-"], env, stdout_dir),
    ]
    finished = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=CLI_TIMEOUT)
            finished.append(Finished(process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    ended = dt.datetime.now(dt.UTC)

    return Runs(ids, started, ended, finished[0], fresh_dir, finished[1], replaced_dir, finished[2], stdout_dir)


def only(items: Items, field: str, value: Any) -> dict[str, Any]:
    """The one item whose `field` equals `value` (fails if there are none or several)."""
    matches = [item for item in items if item.get(field) == value]
    assert len(matches) == 1, f"{len(matches)} items with {field}={value!r} in {items!r}"
    return matches[0]


def unsorted_objects(text: str) -> list[list[str]]:
    """The key lists of every JSON object in `text` whose keys are not in sorted order."""
    found: list[list[str]] = []

    def check(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if keys != sorted(keys):
            found.append(keys)
        return dict(pairs)

    json.loads(text, object_pairs_hook=check)
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.server
def test_collect_exits_zero_and_writes_only_a_private_snapshot(runs: Runs) -> None:
    result = runs.fresh

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert mode(runs.snapshot_path) == 0o600
    assert sorted(os.listdir(runs.fresh_dir)) == ["snap.json"]  # no temp or probe file left


@pytest.mark.server
def test_collect_replaces_an_existing_world_readable_file_with_a_private_one(runs: Runs) -> None:
    target = runs.replaced_dir / "snap.json"

    document = json.loads(target.read_text(encoding="utf-8"))

    vpcs = document["accounts"][ACCOUNT_ID]["regions"][REGION]["ec2:Vpcs"]
    assert runs.replaced.returncode == 0, runs.replaced.stderr
    assert mode(target) == 0o600
    assert runs.ids["vpc_a"] in {vpc["VpcId"] for vpc in vpcs}
    assert sorted(os.listdir(runs.replaced_dir)) == ["snap.json"]


@pytest.mark.server
def test_snapshot_header_names_the_schema_the_tool_and_the_account(runs: Runs) -> None:
    document = runs.document

    collected_at = dt.datetime.strptime(document["collected_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)

    assert document["schema_version"] == 1
    assert document["tool_version"] == auditor.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["collected_at"])
    assert runs.started.replace(microsecond=0) <= collected_at <= runs.ended
    assert list(document["accounts"]) == [ACCOUNT_ID]
    assert document["accounts"][ACCOUNT_ID]["partition"] == "aws"
    assert sorted(document["accounts"][ACCOUNT_ID]["regions"]) == [GLOBAL_REGION_KEY, REGION]
    assert unsorted_objects(runs.text) == []


@pytest.mark.server
def test_every_collector_is_either_stored_or_reported_as_an_error(runs: Runs) -> None:
    document = runs.document
    regions = document["accounts"][ACCOUNT_ID]["regions"]
    failed = {(error["region"], error["key"]) for error in document["errors"]}

    unaccounted = [
        key for key, collector in REGISTRY.items()
        if (region := GLOBAL_REGION_KEY if collector.scope == GLOBAL else REGION) not in regions
        or (key not in regions[region] and (region, key) not in failed)
    ]

    assert unaccounted == []


@pytest.mark.server
def test_a_key_whose_read_failed_is_absent_never_an_empty_list(runs: Runs) -> None:
    document = runs.document
    regions = document["accounts"][ACCOUNT_ID]["regions"]

    whole_key_failures = [error for error in document["errors"] if "resource_id" not in error]

    assert whole_key_failures, "moto leaves some keys unimplemented, so some reads must fail"
    for error in whole_key_failures:
        assert error["key"] not in regions.get(error["region"], {}), error


@pytest.mark.server
@pytest.mark.parametrize(("key", "expected_code"), sorted(NOT_IN_MOTO.items()))
def test_a_key_moto_does_not_implement_is_an_error_with_a_code(runs: Runs, key: str, expected_code: str | None) -> None:
    collector = REGISTRY[key]
    region = GLOBAL_REGION_KEY if collector.scope == GLOBAL else REGION

    errors = [error for error in runs.document["errors"] if error["key"] == key]

    assert key not in runs.region(region)
    assert len(errors) == 1, errors
    error = errors[0]
    assert error["account_id"] == ACCOUNT_ID
    assert error["region"] == region
    assert error["operation"] == collector.operation
    assert error["code"]
    assert error["message"]
    if expected_code is None:
        assert error["code"] != "DependencyFailed"
    else:
        assert error["code"] == expected_code
        assert collector.parent is not None and collector.parent in error["message"]


# ---------------------------------------------------------------------------------------------
# What moto models: the seeded resources, read back verbatim. One check per snapshot key.

Check = Callable[[Region, dict[str, str]], None]
CONTENT_CHECKS: dict[str, Check] = {}


def checks(key: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        CONTENT_CHECKS[key] = check
        return check
    return register


@checks("ec2:Vpcs")
def _vpcs(region: Region, ids: dict[str, str]) -> None:
    vpc_a = only(region["ec2:Vpcs"], "VpcId", ids["vpc_a"])
    assert vpc_a["CidrBlock"] == "10.0.0.0/16"
    assert sorted((a["CidrBlock"], a["CidrBlockState"]["State"]) for a in vpc_a["CidrBlockAssociationSet"]) == [
        ("10.0.0.0/16", "associated"), ("10.1.0.0/16", "associated")]
    assert only(region["ec2:Vpcs"], "VpcId", ids["vpc_b"])["CidrBlock"] == "10.2.0.0/16"
    assert only(region["ec2:Vpcs"], "IsDefault", True)["CidrBlock"] == "172.31.0.0/16"


@checks("ec2:Subnets")
def _subnets(region: Region, ids: dict[str, str]) -> None:
    in_secondary = only(region["ec2:Subnets"], "SubnetId", ids["subnet_a2"])
    assert (in_secondary["VpcId"], in_secondary["CidrBlock"], in_secondary["AvailabilityZone"]) == (
        ids["vpc_a"], "10.1.1.0/24", "us-east-1b")
    assert only(region["ec2:Subnets"], "SubnetId", ids["subnet_b1"])["VpcId"] == ids["vpc_b"]


@checks("ec2:RouteTables")
def _route_tables(region: Region, ids: dict[str, str]) -> None:
    table_a = only(region["ec2:RouteTables"], "RouteTableId", ids["rtb_a"])
    routes_a = table_a["Routes"]
    assert table_a["VpcId"] == ids["vpc_a"]
    assert only(routes_a, "DestinationCidrBlock", "10.2.0.0/16")["VpcPeeringConnectionId"] == ids["pcx"]
    assert only(routes_a, "DestinationCidrBlock", "10.0.0.0/16")["GatewayId"] == "local"
    assert only(routes_a, "DestinationCidrBlock", "10.1.0.0/16")["GatewayId"] == "local"
    assert only(routes_a, "GatewayId", ids["vpce_gateway"])["DestinationPrefixListId"].startswith("pl-")
    assert [a["SubnetId"] for a in table_a["Associations"]] == [ids["subnet_a1"]]
    table_b = only(region["ec2:RouteTables"], "RouteTableId", ids["rtb_b"])
    assert only(table_b["Routes"], "DestinationCidrBlock", "10.0.0.0/16")["VpcPeeringConnectionId"] == ids["pcx"]


@checks("ec2:NetworkAcls")
def _network_acls(region: Region, ids: dict[str, str]) -> None:
    acls_a = [acl for acl in region["ec2:NetworkAcls"] if acl["VpcId"] == ids["vpc_a"]]
    default = only(acls_a, "IsDefault", True)
    assert sorted((e["RuleNumber"], e["Egress"], e["RuleAction"]) for e in default["Entries"]) == [
        (100, False, "allow"), (100, True, "allow"), (32767, False, "deny"), (32767, True, "deny")]


@checks("ec2:InternetGateways")
def _internet_gateways(region: Region, ids: dict[str, str]) -> None:
    igw = only(region["ec2:InternetGateways"], "InternetGatewayId", ids["igw"])
    assert [a["VpcId"] for a in igw["Attachments"]] == [ids["vpc_a"]]


@checks("ec2:EgressOnlyInternetGateways")
def _egress_only_internet_gateways(region: Region, ids: dict[str, str]) -> None:
    eigw = only(region["ec2:EgressOnlyInternetGateways"], "EgressOnlyInternetGatewayId", ids["eigw"])
    assert [a["VpcId"] for a in eigw["Attachments"]] == [ids["vpc_a"]]


@checks("ec2:NatGateways")
def _nat_gateways(region: Region, ids: dict[str, str]) -> None:
    nat = only(region["ec2:NatGateways"], "NatGatewayId", ids["nat"])
    assert (nat["SubnetId"], nat["VpcId"]) == (ids["subnet_a1"], ids["vpc_a"])
    assert [a["AllocationId"] for a in nat["NatGatewayAddresses"]] == [ids["eip"]]


@checks("ec2:ManagedPrefixLists")
def _managed_prefix_lists(region: Region, ids: dict[str, str]) -> None:
    lists = region["ec2:ManagedPrefixLists"]
    ours = only(lists, "PrefixListId", ids["prefix_list"])
    assert (ours["PrefixListName"], ours["MaxEntries"], ours["OwnerId"]) == ("onprem", 5, ACCOUNT_ID)
    assert only(lists, "PrefixListName", f"com.amazonaws.{REGION}.s3")["OwnerId"] == "AWS"


@checks("ec2:ManagedPrefixListEntries")
def _managed_prefix_list_entries(region: Region, ids: dict[str, str]) -> None:
    records = region["ec2:ManagedPrefixListEntries"]
    assert [r["PrefixListId"] for r in records] == [pl["PrefixListId"] for pl in region["ec2:ManagedPrefixLists"]]
    assert only(records, "PrefixListId", ids["prefix_list"])["Entries"] == [
        {"Cidr": "172.16.0.0/12", "Description": "datacenter"}]


@checks("ec2:FlowLogs")
def _flow_logs(region: Region, ids: dict[str, str]) -> None:
    flow_log = only(region["ec2:FlowLogs"], "FlowLogId", ids["flow_log"])
    assert (flow_log["ResourceId"], flow_log["TrafficType"], flow_log["LogGroupName"]) == (
        ids["vpc_a"], "REJECT", "vpc-flow-logs")
    assert flow_log["DeliverLogsPermissionArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/flow-logs"


@checks("ec2:SecurityGroups")
def _security_groups(region: Region, ids: dict[str, str]) -> None:
    group = only(region["ec2:SecurityGroups"], "GroupId", ids["sg"])
    assert (group["GroupName"], group["VpcId"]) == ("endpoints", ids["vpc_a"])


@checks("ec2:NetworkInterfaces")
def _network_interfaces(region: Region, ids: dict[str, str]) -> None:
    interfaces = region["ec2:NetworkInterfaces"]
    eni = only(interfaces, "NetworkInterfaceId", ids["eni"])
    assert (eni["SubnetId"], eni["VpcId"], eni["AvailabilityZone"]) == (ids["subnet_a1"], ids["vpc_a"], "us-east-1a")
    assert (eni["InterfaceType"], eni["Status"], eni["Description"]) == ("interface", "in-use", "app server")
    assert (eni["PrivateIpAddress"], [(a["PrivateIpAddress"], a["Primary"]) for a in eni["PrivateIpAddresses"]]) == (
        "10.0.1.50", [("10.0.1.50", True), ("10.0.1.51", False)])
    assert eni["Groups"] == [{"GroupId": ids["sg"], "GroupName": "endpoints"}]
    attachment = eni["Attachment"]
    assert (attachment["InstanceId"], attachment["DeviceIndex"], attachment["Status"]) == (
        ids["instance"], 0, "attached")
    assert eni["TagSet"] == [{"Key": "Name", "Value": "app-server"}]
    # moto also creates the interfaces of the NAT gateway and the interface endpoint: present, never counted.
    nat = only(region["ec2:NatGateways"], "NatGatewayId", ids["nat"])
    endpoint = only(region["ec2:VpcEndpoints"], "VpcEndpointId", ids["vpce_interface"])
    implicit = {*(a["NetworkInterfaceId"] for a in nat["NatGatewayAddresses"]), *endpoint["NetworkInterfaceIds"]}
    assert implicit and ids["eni"] not in implicit
    assert implicit <= {interface["NetworkInterfaceId"] for interface in interfaces}
    subnets = {subnet["SubnetId"]: subnet["VpcId"] for subnet in region["ec2:Subnets"]}
    assert all(subnets.get(interface["SubnetId"]) == interface["VpcId"] for interface in interfaces)


@checks("ec2:VpcPeeringConnections")
def _peering(region: Region, ids: dict[str, str]) -> None:
    pcx = only(region["ec2:VpcPeeringConnections"], "VpcPeeringConnectionId", ids["pcx"])
    requester, accepter = pcx["RequesterVpcInfo"], pcx["AccepterVpcInfo"]
    assert pcx["Status"]["Code"] == "active"
    assert (requester["VpcId"], requester["CidrBlock"], requester["OwnerId"]) == (
        ids["vpc_a"], "10.0.0.0/16", ACCOUNT_ID)
    assert (accepter["VpcId"], accepter["CidrBlock"], accepter["Region"]) == (ids["vpc_b"], "10.2.0.0/16", REGION)
    assert requester["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert accepter["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True


@checks("ec2:VpcEndpoints")
def _endpoints(region: Region, ids: dict[str, str]) -> None:
    gateway = only(region["ec2:VpcEndpoints"], "VpcEndpointId", ids["vpce_gateway"])
    assert (gateway["VpcEndpointType"], gateway["ServiceName"]) == ("Gateway", f"com.amazonaws.{REGION}.s3")
    assert json.loads(gateway["PolicyDocument"]) == GATEWAY_ENDPOINT_POLICY
    assert gateway["RouteTableIds"] == [ids["rtb_a"]]
    interface = only(region["ec2:VpcEndpoints"], "VpcEndpointId", ids["vpce_interface"])
    assert (interface["VpcEndpointType"], interface["PrivateDnsEnabled"]) == ("Interface", True)
    assert interface["SubnetIds"] == [ids["subnet_a1"]]
    assert [group["GroupId"] for group in interface["Groups"]] == [ids["sg"]]


@checks("ec2:ServiceDetails")
def _endpoint_service_details(region: Region, ids: dict[str, str]) -> None:
    """Only the services the region's endpoints name, each with whether it takes an endpoint policy."""
    details = region["ec2:ServiceDetails"]
    assert sorted({d["ServiceName"] for d in details}) == [f"com.amazonaws.{REGION}.s3", f"com.amazonaws.{REGION}.sts"]
    assert all(isinstance(d["VpcEndpointPolicySupported"], bool) for d in details)
    assert {t["ServiceType"] for d in details if d["ServiceName"].endswith(".s3") for t in d["ServiceType"]} >= \
        {"Gateway"}


@checks("ec2:VpcEndpointServiceConfigurations")
def _endpoint_services(region: Region, ids: dict[str, str]) -> None:
    service = only(region["ec2:VpcEndpointServiceConfigurations"], "ServiceId", ids["endpoint_service"])
    assert service["NetworkLoadBalancerArns"] == [ids["nlb"]]
    assert service["AcceptanceRequired"] is True


@checks("ec2:VpcEndpointServicePermissions")
def _endpoint_service_permissions(region: Region, ids: dict[str, str]) -> None:
    record = only(region["ec2:VpcEndpointServicePermissions"], "ServiceId", ids["endpoint_service"])
    assert [principal["Principal"] for principal in record["AllowedPrincipals"]] == [ALLOWED_PRINCIPAL]


@checks("elbv2:LoadBalancers")
def _load_balancers(region: Region, ids: dict[str, str]) -> None:
    nlb = only(region["elbv2:LoadBalancers"], "LoadBalancerArn", ids["nlb"])
    assert (nlb["LoadBalancerName"], nlb["Type"], nlb["Scheme"], nlb["VpcId"]) == (
        "audit-nlb", "network", "internal", ids["vpc_a"])


@checks("ec2:VpnGateways")
def _vpn_gateways(region: Region, ids: dict[str, str]) -> None:
    vgw = only(region["ec2:VpnGateways"], "VpnGatewayId", ids["vgw"])
    assert vgw["AmazonSideAsn"] == 64512
    assert [(a["VpcId"], a["State"]) for a in vgw["VpcAttachments"]] == [(ids["vpc_a"], "attached")]


@checks("ec2:CustomerGateways")
def _customer_gateways(region: Region, ids: dict[str, str]) -> None:
    cgw = only(region["ec2:CustomerGateways"], "CustomerGatewayId", ids["cgw"])
    assert (cgw["BgpAsn"], cgw["IpAddress"], cgw["Type"]) == ("65000", "203.0.113.10", "ipsec.1")


@checks("ec2:VpnConnections")
def _vpn_connections(region: Region, ids: dict[str, str]) -> None:
    vpn = only(region["ec2:VpnConnections"], "VpnConnectionId", ids["vpn"])
    assert (vpn["CustomerGatewayId"], vpn["VpnGatewayId"], vpn["Type"]) == (ids["cgw"], ids["vgw"], "ipsec.1")


@checks("ec2:TransitGateways")
def _transit_gateways(region: Region, ids: dict[str, str]) -> None:
    tgw = only(region["ec2:TransitGateways"], "TransitGatewayId", ids["tgw"])
    assert (tgw["Description"], tgw["Options"]["AmazonSideAsn"]) == ("audit hub", 64513)
    assert only(region["ec2:TransitGateways"], "TransitGatewayId", ids["tgw_peer"])["Description"] == "peer hub"


@checks("ec2:TransitGatewayAttachments")
def _transit_gateway_attachments(region: Region, ids: dict[str, str]) -> None:
    vpc_attachment = only(region["ec2:TransitGatewayAttachments"], "TransitGatewayAttachmentId", ids["tgw_attachment"])
    assert (vpc_attachment["ResourceType"], vpc_attachment["ResourceId"], vpc_attachment["TransitGatewayId"]) == (
        "vpc", ids["vpc_b"], ids["tgw"])
    peering = only(region["ec2:TransitGatewayAttachments"], "TransitGatewayAttachmentId", ids["tgw_peering"])
    assert peering["ResourceType"] == "peering"


@checks("ec2:TransitGatewayVpcAttachments")
def _transit_gateway_vpc_attachments(region: Region, ids: dict[str, str]) -> None:
    attachment = only(region["ec2:TransitGatewayVpcAttachments"], "TransitGatewayAttachmentId", ids["tgw_attachment"])
    assert (attachment["VpcId"], attachment["SubnetIds"]) == (ids["vpc_b"], [ids["subnet_b1"]])


@checks("ec2:TransitGatewayPeeringAttachments")
def _transit_gateway_peering_attachments(region: Region, ids: dict[str, str]) -> None:
    # moto also lists the VPC attachment here (a stub without TgwInfo): only the peering is checked.
    peering = only(region["ec2:TransitGatewayPeeringAttachments"], "TransitGatewayAttachmentId", ids["tgw_peering"])
    assert peering["RequesterTgwInfo"]["TransitGatewayId"] == ids["tgw"]
    assert peering["AccepterTgwInfo"]["TransitGatewayId"] == ids["tgw_peer"]


@checks("ec2:TransitGatewayRouteTables")
def _transit_gateway_route_tables(region: Region, ids: dict[str, str]) -> None:
    tables = region["ec2:TransitGatewayRouteTables"]
    assert only(tables, "TransitGatewayRouteTableId", ids["tgw_rtb"])["TransitGatewayId"] == ids["tgw"]
    assert only(tables, "TransitGatewayRouteTableId", ids["tgw_default_rtb"])["DefaultAssociationRouteTable"] is True


@checks("ec2:TransitGatewayRouteTableAssociations")
def _transit_gateway_associations(region: Region, ids: dict[str, str]) -> None:
    records = region["ec2:TransitGatewayRouteTableAssociations"]
    tables = [t["TransitGatewayRouteTableId"] for t in region["ec2:TransitGatewayRouteTables"]]
    assert [r["TransitGatewayRouteTableId"] for r in records] == tables
    default = only(records, "TransitGatewayRouteTableId", ids["tgw_default_rtb"])
    association = only(default["Associations"], "TransitGatewayAttachmentId", ids["tgw_attachment"])
    assert (association["ResourceId"], association["State"]) == (ids["vpc_b"], "associated")


@checks("ec2:TransitGatewayRouteTablePropagations")
def _transit_gateway_propagations(region: Region, ids: dict[str, str]) -> None:
    record = only(region["ec2:TransitGatewayRouteTablePropagations"], "TransitGatewayRouteTableId", ids["tgw_rtb"])
    propagation = only(record["TransitGatewayRouteTablePropagations"], "TransitGatewayAttachmentId",
                       ids["tgw_attachment"])
    assert (propagation["ResourceId"], propagation["State"]) == (ids["vpc_b"], "enabled")


@checks("ec2:TransitGatewayRoutes")
def _transit_gateway_routes(region: Region, ids: dict[str, str]) -> None:
    record = only(region["ec2:TransitGatewayRoutes"], "TransitGatewayRouteTableId", ids["tgw_rtb"])
    assert [(r["DestinationCidrBlock"], r["Type"], r["State"]) for r in record["Routes"]] == [
        ("10.2.0.0/16", "static", "active"), ("192.168.0.0/16", "static", "blackhole")]


@checks("ec2:VpcDnsAttributes")
def _vpc_dns_attributes(region: Region, ids: dict[str, str]) -> None:
    records = region["ec2:VpcDnsAttributes"]
    assert [r["VpcId"] for r in records] == [vpc["VpcId"] for vpc in region["ec2:Vpcs"]]
    assert only(records, "VpcId", ids["vpc_a"]) == {"VpcId": ids["vpc_a"], "EnableDnsSupport": True,
                                                    "EnableDnsHostnames": True}
    assert only(records, "VpcId", ids["vpc_b"])["EnableDnsHostnames"] is False


@checks("directconnect:connections")
def _dx_connections(region: Region, ids: dict[str, str]) -> None:
    connection = only(region["directconnect:connections"], "connectionId", ids["dx_connection"])
    assert (connection["connectionName"], connection["location"], connection["bandwidth"]) == (
        "audit-dx", "EqDC2", "1Gbps")


def test_every_snapshot_key_has_a_content_check_or_is_known_missing_from_moto() -> None:
    checked, missing = set(CONTENT_CHECKS), set(NOT_IN_MOTO)

    registered = set(REGISTRY)

    assert checked.isdisjoint(missing)
    assert checked | missing == registered


@pytest.mark.server
@pytest.mark.parametrize("key", sorted(CONTENT_CHECKS))
def test_a_key_moto_models_holds_the_seeded_resources_verbatim(runs: Runs, key: str) -> None:
    region = runs.region()
    check = CONTENT_CHECKS[key]

    items = region[key]

    assert items == sorted(items, key=REGISTRY[key].sort_key)  # stable order
    check(region, runs.ids)


# ---------------------------------------------------------------------------------------------
# The summary, stdout, and secrets.


@pytest.mark.server
def test_summary_line_counts_resources_api_calls_and_errors(runs: Runs) -> None:
    document = runs.document
    regions = document["accounts"][ACCOUNT_ID]["regions"]
    roots = [collector for collector in REGISTRY.values() if collector.parent is None]

    lines = runs.fresh.stderr.splitlines()
    summary = SUMMARY.match(lines[-1]) if lines else None

    assert len(lines) == 1, runs.fresh.stderr
    assert summary is not None, lines
    assert int(summary["resources"]) == sum(len(items) for data in regions.values() for items in data.values())
    assert int(summary["errors"]) == len(document["errors"]) > 0
    assert int(summary["calls"]) >= len(roots) + 2  # GetCallerIdentity and DescribeRegions too
    assert summary["destination"] == str(runs.snapshot_path)


@pytest.mark.parametrize(("lost", "hint"), [
    pytest.param({"111111111111": ["eu-west-1", "ap-south-1"], "222222222222": ["eu-west-1"]},
                 "; in every account: eu-west-1 (leave them out with --regions))", id="a_region_lost_in_every_account"),
    pytest.param({"111111111111": ["eu-west-1"], "222222222222": ["ap-south-1"]}, ")", id="none_lost_everywhere"),
    pytest.param({"111111111111": ["eu-west-1"]}, ")", id="one_account_only"),
])
def test_the_summary_names_the_regions_no_account_could_read(lost: dict[str, list[str]], hint: str) -> None:
    accounts = sorted({"111111111111", "222222222222"} if len(lost) > 1 else lost)
    collections = [AccountCollection(account_id, {"us-east-1": {"ec2:Vpcs": []},
                                                  **{region: {} for region in lost.get(account_id, [])}})
                   for account_id in accounts]
    errors = [{"account_id": account_id, "region": region, "key": "ec2:Vpcs", "code": "UnauthorizedOperation"}
              for account_id, regions in lost.items() for region in regions]

    summary = Collected({"errors": errors}, collections, api_calls=0, seconds=0.0).summary()

    assert f"(nothing could be read in {len(errors)} region(s): " in summary
    assert summary.split("region(s): ", 1)[1].split(", 0.0 s")[0].endswith(hint)


@pytest.mark.server
def test_output_dash_writes_the_snapshot_to_stdout_and_no_file(runs: Runs) -> None:
    result = runs.to_stdout

    document = json.loads(result.stdout)

    assert result.returncode == 0, result.stderr
    assert result.stderr.rstrip("\n").endswith("-> stdout")
    assert len(result.stderr.splitlines()) == 1
    assert os.listdir(runs.stdout_dir) == []
    assert document["schema_version"] == 1
    vpcs = document["accounts"][ACCOUNT_ID]["regions"][REGION]["ec2:Vpcs"]
    assert runs.ids["vpc_a"] in {vpc["VpcId"] for vpc in vpcs}


@pytest.mark.server
def test_two_runs_of_the_same_account_give_the_same_snapshot(runs: Runs) -> None:
    from_file = runs.document
    from_stdout = json.loads(runs.to_stdout.stdout)

    for document in (from_file, from_stdout):
        del document["collected_at"]

    assert from_stdout == from_file


@pytest.mark.server
def test_no_credential_is_written_or_printed(runs: Runs) -> None:
    outputs = {
        "snapshot": runs.text,
        "replaced snapshot": (runs.replaced_dir / "snap.json").read_text(encoding="utf-8"),
        "stdout": runs.to_stdout.stdout,
        "stderr": runs.fresh.stderr + runs.replaced.stderr + runs.to_stdout.stderr,
    }

    leaks = [(name, secret) for name, text in outputs.items() for secret in CREDENTIAL_VALUES if secret in text]

    assert leaks == []


@pytest.mark.server
def test_snapshot_stores_no_vpn_pre_shared_key(runs: Runs) -> None:
    # DescribeVpnConnections returns the tunnels' pre-shared keys; DESIGN.md section 8: never store them.
    pre_shared_key = runs.ids["vpn_psk"]

    outputs = (runs.text, runs.to_stdout.stdout, runs.fresh.stderr)

    assert runs.ids["vpn"] in runs.text
    assert not any(pre_shared_key in text for text in outputs)


# ---------------------------------------------------------------------------------------------
# Bad input: one line on stderr, exit code 2, and nothing written or lost.


def run_main(args: list[str]) -> int | str | None:
    """auditor.cli.main as the console script runs it; returns its exit code (None: it returned)."""
    try:
        main(args)
    except SystemExit as exit_:
        return exit_.code
    return None


def error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("auditor: error: "), lines[0]
    return lines[0]


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def tree(root: Path) -> list[str]:
    """Every file and folder under root, hidden ones included."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_unknown_region_is_one_line_and_exit_2(moto_account: None, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "snap.json"

    code = run_main(["collect", "--regions", "xx-nowhere-1", "--output", str(output)])

    line = error_line(capsys.readouterr().err)
    assert code == 2
    assert "'xx-nowhere-1'" in line
    assert listing(tmp_path) == []


def test_one_unknown_region_among_good_ones_fails_the_whole_run(moto_account: None, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "snap.json"

    code = run_main(["collect", "--regions", f"{REGION},xx-nowhere-1", "--output", str(output)])

    line = error_line(capsys.readouterr().err)
    assert code == 2
    assert "'xx-nowhere-1'" in line
    assert listing(tmp_path) == []


def test_unknown_profile_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out" / "snap.json"
    output.parent.mkdir()

    code = run_main(["collect", "--profile", "nope", "--output", str(output)])

    line = error_line(capsys.readouterr().err)
    assert code == 2
    assert "'nope'" in line
    assert listing(output.parent) == []


def test_missing_credentials_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    config_dir = tmp_path / "aws"
    config_dir.mkdir()
    (config_dir / "config").write_text("", encoding="utf-8")
    (config_dir / "credentials").write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_dir / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config_dir / "credentials"))
    output_dir = tmp_path / "out"
    output_dir.mkdir()

    code = run_main(["collect", "--regions", REGION, "--output", str(output_dir / "snap.json")])

    line = error_line(capsys.readouterr().err)
    assert code == 2
    assert "no AWS credentials" in line
    assert listing(output_dir) == []


def _missing_directory(tmp_path: Path) -> Path:
    return tmp_path / "does-not-exist" / "snap.json"


def _file_as_directory(tmp_path: Path) -> Path:
    (tmp_path / "regular-file").write_text("not a directory\n", encoding="utf-8")
    return tmp_path / "regular-file" / "snap.json"


def _existing_directory(tmp_path: Path) -> Path:
    (tmp_path / "a-directory").mkdir()
    return tmp_path / "a-directory"


def _read_only_filesystem(_tmp_path: Path) -> Path:
    return Path("/proc/auditor-test-snap.json")  # no file can be created in /proc, even by root


@pytest.mark.parametrize("make_output", [_missing_directory, _file_as_directory, _existing_directory,
                                         _read_only_filesystem])
def test_unwritable_output_is_one_line_and_exit_2_before_any_collection(
        make_output: Callable[[Path], Path], moto_account: None, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    output = make_output(tmp_path)
    before = tree(tmp_path)

    code = run_main(["collect", "--regions", REGION, "--output", str(output)])

    line = error_line(capsys.readouterr().err)
    assert code == 2
    assert str(output) in line
    assert tree(tmp_path) == before
    assert not output.is_file()


def test_existing_output_is_left_untouched_when_collection_fails(moto_account: None, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "snap.json"
    output.write_text("the last good snapshot\n", encoding="utf-8")
    os.chmod(output, 0o640)
    modified = output.stat().st_mtime_ns

    code = run_main(["collect", "--regions", "xx-nowhere-1", "--output", str(output)])

    error_line(capsys.readouterr().err)
    assert code == 2
    assert output.read_text(encoding="utf-8") == "the last good snapshot\n"
    assert mode(output) == 0o640
    assert output.stat().st_mtime_ns == modified
    assert listing(tmp_path) == ["snap.json"]


def test_invalid_max_workers_is_a_usage_error_before_anything_is_written(tmp_path: Path) -> None:
    output = tmp_path / "snap.json"

    result = CliRunner().invoke(cli, ["collect", "--max-workers", "0", "--output", str(output)])

    assert result.exit_code == 2
    assert "--max-workers" in result.output
    assert listing(tmp_path) == []


@pytest.mark.server
def test_expired_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    (output_dir / "snap.json").write_text("the last good snapshot\n", encoding="utf-8")

    with expired_token_sts() as sts:
        env = cli_env(sts.url, tmp_path / "aws")
        result = run_cli(["collect", "--regions", REGION, "--output", str(output_dir / "snap.json")], env, output_dir)

    line = error_line(result.stderr)
    assert result.returncode == 2
    assert "ExpiredToken" in line
    assert result.stdout == ""
    assert len(sts.requests) == 1  # a credential error is not retried
    assert "Action=GetCallerIdentity" in sts.requests[0]
    assert not any(secret in result.stderr for secret in CREDENTIAL_VALUES)
    assert listing(output_dir) == ["snap.json"]
    assert (output_dir / "snap.json").read_text(encoding="utf-8") == "the last good snapshot\n"


@pytest.mark.server
def test_unknown_region_through_the_console_entry_point(moto_url: str, tmp_path: Path) -> None:
    env = cli_env(moto_url, tmp_path / "aws")

    result = run_cli(["collect", "--regions", "xx-nowhere-1", "--output", str(tmp_path / "snap.json")], env, tmp_path)

    line = error_line(result.stderr)
    assert result.returncode == 2
    assert "'xx-nowhere-1'" in line
    assert listing(tmp_path) == ["aws"]
