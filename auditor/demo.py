"""The embedded simulated account: moto in process, seeded like a real network, read by the real collector.

Never talks to a real account: the environment is replaced by fake credentials (and no profile, no
endpoint override) for as long as the simulated account exists, and restored afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import click
from tabulate import tabulate

from auditor.collect import Collected, collect
from auditor.collect.registry import GLOBAL_REGION_KEY
from auditor.errors import UserError

HOME_REGION = "us-east-1"
PEER_REGION = "eu-west-1"
DEMO_REGIONS = [HOME_REGION, PEER_REGION]
PARTNER_ACCOUNT_ID = "444455556666"  # another company: a pending peering and a PrivateLink consumer
ON_PREMISES_CIDR = "192.168.0.0/16"

# For the simulated account's lifetime, every AWS_* variable is replaced by exactly these: no profile,
# no endpoint override and no config file of the machine can send a demo call to a real endpoint.
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "demo-access-key",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-key",
    "AWS_DEFAULT_REGION": HOME_REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # saves seconds; moto does not look up an instance's image
}


@dataclass(frozen=True)
class VpcPlan:
    """A VPC to seed; each subnet is (name, availability zone, CIDR, its route table or None for main)."""

    name: str
    region: str
    cidrs: tuple[str, ...]
    subnets: tuple[tuple[str, str, str, str | None], ...]


VPCS = (
    VpcPlan("app", HOME_REGION, ("10.10.0.0/16", "10.11.0.0/16"), (
        ("app-a", "us-east-1a", "10.10.1.0/24", "app-private-a"),
        ("app-b", "us-east-1b", "10.10.2.0/24", "app-private-b"),
        ("app-batch-a", "us-east-1a", "10.11.1.0/24", None),
    )),
    VpcPlan("shared-services", HOME_REGION, ("10.20.0.0/16",), (
        ("shared-services-a", "us-east-1a", "10.20.1.0/24", "shared-services-private"),
        ("shared-services-b", "us-east-1b", "10.20.2.0/24", None),
    )),
    VpcPlan("data", HOME_REGION, ("10.30.0.0/16",), (
        ("data-a", "us-east-1a", "10.30.1.0/24", "data-private"),
        ("data-b", "us-east-1b", "10.30.2.0/24", None),
    )),
    VpcPlan("payments-api", HOME_REGION, ("10.40.0.0/16",), (
        ("payments-api-a", "us-east-1a", "10.40.1.0/24", None),
        ("payments-api-b", "us-east-1b", "10.40.2.0/24", None),
    )),
    VpcPlan("sandbox", HOME_REGION, ("10.60.0.0/16",), (
        ("sandbox-a", "us-east-1a", "10.60.1.0/24", None),
        ("sandbox-b", "us-east-1b", "10.60.2.0/24", None),
    )),
    VpcPlan("analytics-eu", PEER_REGION, ("10.50.0.0/16",), (
        ("analytics-eu-a", "eu-west-1a", "10.50.1.0/24", "analytics-eu-private"),
        ("analytics-eu-b", "eu-west-1b", "10.50.2.0/24", None),
    )),
)

# (name, requester VPC, accepter VPC, AllowDnsResolutionFromRemoteVpc of requester, of accepter)
PEERINGS = (
    ("app-to-shared-services", "app", "shared-services", True, True),
    ("app-to-data", "app", "data", True, False),
    ("shared-services-to-analytics-eu", "shared-services", "analytics-eu", False, False),
)

# (VPC, destination, target name): added to every route table of the VPC. shared-services has no
# route back to app over their peering (only the app side routes), so that peering is one-way.
ROUTES = (
    ("app", "10.20.0.0/16", "app-to-shared-services"),
    ("app", "10.30.0.0/16", "app-to-data"),
    ("data", "10.10.0.0/16", "app-to-data"),
    ("data", "10.11.0.0/16", "app-to-data"),
    ("data", ON_PREMISES_CIDR, "data-vgw"),
    ("data", "10.20.0.0/16", "hub"),
    ("shared-services", "10.30.0.0/16", "hub"),
    ("shared-services", "10.50.0.0/16", "shared-services-to-analytics-eu"),
    ("analytics-eu", "10.20.0.0/16", "shared-services-to-analytics-eu"),
)
ROUTE_TARGET_PARAMETER = {"pcx": "VpcPeeringConnectionId", "vgw": "GatewayId", "tgw": "TransitGatewayId"}

TGW_SPOKES = ("shared-services", "data", "sandbox")  # sandbox's route tables never point at the hub
TGW_STATIC_ROUTES = (("10.100.0.0/16", "shared-services"),)  # (destination, spoke VPC)
TGW_BLACKHOLE_ROUTES = ("10.66.0.0/16",)
FLOW_LOGGED_VPCS = ("app", "data")

# (Name, VPC, description, ingress rule (protocol, port, source CIDR)): groups of the network interfaces below.
SECURITY_GROUPS = (
    ("app-web", "app", "app servers: HTTPS from the private networks", ("tcp", 443, "10.0.0.0/8")),
    ("data-postgres", "data", "PostgreSQL from the app VPC", ("tcp", 5432, "10.10.0.0/16")),
)
# (Name, subnet, primary private address, security group or None for the VPC's default group, whether it is
# the primary interface of an instance of the same Name; if not, it is attached to nothing).
NETWORK_INTERFACES = (
    ("app-server", "app-a", "10.10.1.10", "app-web", True),
    ("data-db", "data-a", "10.30.1.20", "data-postgres", True),
    ("analytics-eu-worker", "analytics-eu-a", "10.50.1.10", None, True),
    ("shared-services-spare", "shared-services-b", "10.20.2.30", None, False),
)
DEMO_IMAGE_ID = "ami-0de30a1b2c3d4e5f6"  # moto keeps an instance as a record and does not look its image up


@dataclass(frozen=True)
class EndpointInterface:
    """A network interface that AWS manages for an interface endpoint (moto makes it a plain one)."""

    endpoint_id: str
    group_id: str
    group_name: str


@dataclass(frozen=True)
class DemoAccount:
    """What was seeded: the account id and every resource's id by its Name tag."""

    account_id: str
    ids: dict[str, str] = field(default_factory=dict)
    default_security_groups: dict[str, str] = field(default_factory=dict)  # by VPC name
    route_tables: dict[str, list[str]] = field(default_factory=dict)  # by VPC name, main table first
    endpoint_interfaces: dict[str, EndpointInterface] = field(default_factory=dict)  # by the interface's id


def _name(name: str) -> list[dict[str, str]]:
    return [{"Key": "Name", "Value": name}]


class _Seeder:
    """Creates the account with plain (unguarded) clients: it plays the account's owner."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self.ec2 = {region: session.client("ec2", region_name=region) for region in DEMO_REGIONS}
        account_id = session.client("sts", region_name=HOME_REGION).get_caller_identity()["Account"]
        self.account = DemoAccount(account_id)
        self.ids = self.account.ids
        self.region_of: dict[str, str] = {}  # VPC name -> region

    def tag(self, region: str, resource_id: str, name: str) -> str:
        self.ec2[region].create_tags(Resources=[resource_id], Tags=_name(name))
        self.ids[name] = resource_id
        return resource_id

    def seed(self) -> DemoAccount:
        for plan in VPCS:
            self.vpc(plan)
        self.transit_gateway()
        self.vpn()
        self.peerings()
        self.routes()
        self.private_link()
        self.s3_gateway_endpoint()
        self.flow_logs()
        self.network_interfaces()
        self.direct_connect()
        self.pending_partner_peering()
        return self.account

    def vpc(self, plan: VpcPlan) -> None:
        ec2 = self.ec2[plan.region]
        vpc_id = ec2.create_vpc(CidrBlock=plan.cidrs[0])["Vpc"]["VpcId"]
        self.tag(plan.region, vpc_id, plan.name)
        self.region_of[plan.name] = plan.region
        for cidr in plan.cidrs[1:]:
            ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock=cidr)
        vpc_filter = [{"Name": "vpc-id", "Values": [vpc_id]}]
        main = ec2.describe_route_tables(Filters=[*vpc_filter, {"Name": "association.main", "Values": ["true"]}])
        tables = [self.tag(plan.region, main["RouteTables"][0]["RouteTableId"], f"{plan.name}-main")]
        groups = ec2.describe_security_groups(Filters=[*vpc_filter, {"Name": "group-name", "Values": ["default"]}])
        self.account.default_security_groups[plan.name] = groups["SecurityGroups"][0]["GroupId"]
        for subnet_name, zone, cidr, table_name in plan.subnets:
            subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
            self.tag(plan.region, subnet_id, subnet_name)
            if table_name is None:
                continue
            if table_name not in self.ids:
                table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
                tables.append(self.tag(plan.region, table_id, table_name))
            ec2.associate_route_table(RouteTableId=self.ids[table_name], SubnetId=subnet_id)
        self.account.route_tables[plan.name] = tables

    def transit_gateway(self) -> None:
        ec2 = self.ec2[HOME_REGION]
        hub = ec2.create_transit_gateway(Description="hub", Options={
            "AmazonSideAsn": 64600, "AutoAcceptSharedAttachments": "enable",
            "DefaultRouteTableAssociation": "enable", "DefaultRouteTablePropagation": "enable",
            "DnsSupport": "enable", "VpnEcmpSupport": "enable",
        })["TransitGateway"]
        self.tag(HOME_REGION, hub["TransitGatewayId"], "hub")
        table_id = hub["Options"]["AssociationDefaultRouteTableId"]
        self.tag(HOME_REGION, table_id, "hub-default")
        for spoke in TGW_SPOKES:
            subnets = [self.ids[subnet[0]] for plan in VPCS if plan.name == spoke for subnet in plan.subnets]
            attachment = ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=hub["TransitGatewayId"], VpcId=self.ids[spoke], SubnetIds=subnets,
            )["TransitGatewayVpcAttachment"]
            attachment_id = self.tag(HOME_REGION, attachment["TransitGatewayAttachmentId"], f"hub-{spoke}")
            # AWS propagates to the default table by itself (DefaultRouteTablePropagation); moto does not.
            ec2.enable_transit_gateway_route_table_propagation(
                TransitGatewayRouteTableId=table_id, TransitGatewayAttachmentId=attachment_id,
            )
        for destination, spoke in TGW_STATIC_ROUTES:
            ec2.create_transit_gateway_route(
                TransitGatewayRouteTableId=table_id, DestinationCidrBlock=destination,
                TransitGatewayAttachmentId=self.ids[f"hub-{spoke}"],
            )
        for destination in TGW_BLACKHOLE_ROUTES:
            ec2.create_transit_gateway_route(
                TransitGatewayRouteTableId=table_id, DestinationCidrBlock=destination, Blackhole=True,
            )

    def vpn(self) -> None:
        ec2 = self.ec2[HOME_REGION]
        customer_gateway = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65010)
        self.tag(HOME_REGION, customer_gateway["CustomerGateway"]["CustomerGatewayId"], "dc1-router")
        gateway = ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=64512)["VpnGateway"]["VpnGatewayId"]
        self.tag(HOME_REGION, gateway, "data-vgw")
        ec2.attach_vpn_gateway(VpnGatewayId=gateway, VpcId=self.ids["data"])
        connection = ec2.create_vpn_connection(
            Type="ipsec.1", CustomerGatewayId=self.ids["dc1-router"], VpnGatewayId=gateway,
            Options={"StaticRoutesOnly": False},
        )["VpnConnection"]["VpnConnectionId"]
        self.tag(HOME_REGION, connection, "data-to-dc1")
        leftover = ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=64513)["VpnGateway"]["VpnGatewayId"]
        self.tag(HOME_REGION, leftover, "legacy-vgw")  # attached to nothing

    def peerings(self) -> None:
        for name, requester, accepter, requester_dns, accepter_dns in PEERINGS:
            home, peer_region = self.region_of[requester], self.region_of[accepter]
            peering_id = self.ec2[home].create_vpc_peering_connection(
                VpcId=self.ids[requester], PeerVpcId=self.ids[accepter], PeerRegion=peer_region,
            )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
            self.tag(home, peering_id, name)
            self.ec2[peer_region].accept_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
            if requester_dns or accepter_dns:
                self.ec2[home].modify_vpc_peering_connection_options(
                    VpcPeeringConnectionId=peering_id,
                    RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": requester_dns},
                    AccepterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": accepter_dns},
                )

    def routes(self) -> None:
        for vpc, destination, target in ROUTES:
            region = self.region_of[vpc]
            target_id = self.ids[target]
            parameter = ROUTE_TARGET_PARAMETER[target_id.split("-", 1)[0]]
            for table_id in self.account.route_tables[vpc]:
                self.ec2[region].create_route(
                    RouteTableId=table_id, DestinationCidrBlock=destination, **{parameter: target_id}
                )

    def private_link(self) -> None:
        """A provider VPC's NLB (one AZ only) as an endpoint service open to everyone, and a consumer."""
        ec2 = self.ec2[HOME_REGION]
        balancer = self.session.client("elbv2", region_name=HOME_REGION).create_load_balancer(
            Name="payments-api-nlb", Type="network", Scheme="internal",
            Subnets=[self.ids["payments-api-a"]], Tags=_name("payments-api-nlb"),
        )["LoadBalancers"][0]
        self.ids["payments-api-nlb"] = balancer["LoadBalancerArn"]
        service = ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[balancer["LoadBalancerArn"]], AcceptanceRequired=False,
        )["ServiceConfiguration"]
        self.tag(HOME_REGION, service["ServiceId"], "payments-api-service")
        ec2.modify_vpc_endpoint_service_permissions(ServiceId=service["ServiceId"], AddAllowedPrincipals=["*"])
        group_name = "app-payments-endpoint"
        group_id = ec2.create_security_group(
            GroupName=group_name, Description="payments API endpoint", VpcId=self.ids["app"],
        )["GroupId"]
        self.tag(HOME_REGION, group_id, group_name)
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS from anywhere"}],
        }])
        endpoint = ec2.create_vpc_endpoint(
            VpcEndpointType="Interface", VpcId=self.ids["app"], ServiceName=service["ServiceName"],
            SubnetIds=[self.ids["app-a"], self.ids["app-b"]], SecurityGroupIds=[group_id],
            PrivateDnsEnabled=False,
        )["VpcEndpoint"]
        self.tag(HOME_REGION, endpoint["VpcEndpointId"], "app-payments-api")
        for interface_id in endpoint["NetworkInterfaceIds"]:  # AWS does not tag an endpoint's interfaces
            self.account.endpoint_interfaces[interface_id] = EndpointInterface(
                endpoint["VpcEndpointId"], group_id, group_name)

    def s3_gateway_endpoint(self) -> None:
        """No policy (full access), and on one of app's route tables only."""
        endpoint_id = self.ec2[HOME_REGION].create_vpc_endpoint(
            VpcEndpointType="Gateway", VpcId=self.ids["app"], ServiceName=f"com.amazonaws.{HOME_REGION}.s3",
            RouteTableIds=[self.ids["app-private-a"]],
        )["VpcEndpoint"]["VpcEndpointId"]
        self.tag(HOME_REGION, endpoint_id, "app-s3")

    def flow_logs(self) -> None:
        for vpc in FLOW_LOGGED_VPCS:
            response = self.ec2[HOME_REGION].create_flow_logs(
                ResourceType="VPC", ResourceIds=[self.ids[vpc]], TrafficType="ALL",
                LogDestinationType="cloud-watch-logs", LogGroupName=f"/vpc/flow-logs/{vpc}",
                DeliverLogsPermissionArn=f"arn:aws:iam::{self.account.account_id}:role/vpc-flow-logs",
            )
            self.tag(HOME_REGION, response["FlowLogIds"][0], f"{vpc}-flow-logs")

    def network_interfaces(self) -> None:
        """Interfaces in the account's subnets, most of them an instance's, so that paths start somewhere."""
        subnet_vpc = {subnet[0]: plan.name for plan in VPCS for subnet in plan.subnets}
        for name, vpc, description, (protocol, port, source) in SECURITY_GROUPS:
            region = self.region_of[vpc]
            group_id = self.ec2[region].create_security_group(
                GroupName=name, Description=description, VpcId=self.ids[vpc],
            )["GroupId"]
            self.tag(region, group_id, name)
            self.ec2[region].authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
                "IpProtocol": protocol, "FromPort": port, "ToPort": port,
                "IpRanges": [{"CidrIp": source, "Description": description}],
            }])
        for name, subnet, address, group, on_instance in NETWORK_INTERFACES:
            vpc = subnet_vpc[subnet]
            region = self.region_of[vpc]
            interface_id = self.ec2[region].create_network_interface(
                SubnetId=self.ids[subnet], PrivateIpAddress=address, Description=name,
                Groups=[self.ids[group] if group else self.account.default_security_groups[vpc]],
            )["NetworkInterface"]["NetworkInterfaceId"]
            self.tag(region, interface_id, f"{name}-eni")
            if on_instance:
                instance_id = self.ec2[region].run_instances(
                    ImageId=DEMO_IMAGE_ID, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                    NetworkInterfaces=[{"DeviceIndex": 0, "NetworkInterfaceId": interface_id}],
                )["Instances"][0]["InstanceId"]
                self.tag(region, instance_id, name)

    def direct_connect(self) -> None:
        connection = self.session.client("directconnect", region_name=HOME_REGION).create_connection(
            location="EqDC2", bandwidth="1Gbps", connectionName="dc1-dx-1g",
            tags=[{"key": "Name", "value": "dc1-dx-1g"}],
        )
        self.ids["dc1-dx-1g"] = connection["connectionId"]

    def pending_partner_peering(self) -> None:
        """A request to the partner's account, not yet accepted (the partner's VPC exists in its account)."""
        credentials = self.session.client("sts", region_name=HOME_REGION).assume_role(
            RoleArn=f"arn:aws:iam::{PARTNER_ACCOUNT_ID}:role/demo-partner", RoleSessionName="demo-seed",
        )["Credentials"]
        partner = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"], region_name=HOME_REGION,
        ).client("ec2")
        partner_vpc = partner.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
        peering_id = self.ec2[HOME_REGION].create_vpc_peering_connection(
            VpcId=self.ids["shared-services"], PeerVpcId=partner_vpc, PeerOwnerId=PARTNER_ACCOUNT_ID,
        )["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        self.tag(HOME_REGION, peering_id, "shared-services-to-partner")


def _replaced(name: str) -> bool:
    return name.startswith("AWS_") or name in FAKE_ENVIRONMENT


@contextmanager
def _fake_aws_environment() -> Iterator[None]:
    """Every AWS_* variable replaced by FAKE_ENVIRONMENT; the environment restored exactly afterwards."""
    saved = {name: value for name, value in os.environ.items() if _replaced(name)}
    for name in saved:
        del os.environ[name]
    os.environ.update(FAKE_ENVIRONMENT)
    try:
        yield
    finally:
        for name in [name for name in os.environ if _replaced(name)]:
            del os.environ[name]
        os.environ.update(saved)


@contextmanager
def simulated_account() -> Iterator[boto3.Session]:
    """A seeded in-process moto account; yields the session the auditor collects (region us-east-1)."""
    try:
        from moto import mock_aws
    except ImportError:
        raise UserError("the demo needs moto: pip install 'aws-network-auditor[demo]'") from None
    from auditor import demo_responses

    with _fake_aws_environment(), mock_aws():
        account = _Seeder(boto3.Session(region_name=HOME_REGION)).seed()
        session = boto3.Session(region_name=HOME_REGION)
        demo_responses.install(session, account)
        yield session


def demo_collection() -> Collected:
    """The simulated account read by the real collector, in both of its regions."""
    with simulated_account() as session:
        return collect(session, DEMO_REGIONS)


def demo_snapshot() -> dict[str, Any]:
    """The simulated account's snapshot document, as `auditor collect` would write it."""
    return demo_collection().document


def resource_table(document: dict[str, Any], account_id: str) -> str:
    """Items per snapshot key (rows) and region (columns) of one account; '-' where a key is not read."""
    regions = document["accounts"][account_id]["regions"]
    names = sorted(regions, key=lambda region: (region == GLOBAL_REGION_KEY, region))
    keys = sorted({key for data in regions.values() for key in data})
    rows = [[key, *(len(regions[name][key]) if key in regions[name] else "-" for name in names)]
            for key in keys]
    return tabulate(rows, headers=["snapshot key", *names], tablefmt="simple", disable_numparse=True)


def run_demo(report_format: str = "table", show_resources: bool = False, save_snapshot: Path | None = None) -> None:
    """Collect the simulated account with the real collector, audit it with every rule, print the report.

    The report goes to stdout; the collection summary and the findings summary to stderr.
    """
    import datetime as dt

    from auditor import snapshot
    from auditor.engine import run_audit
    from auditor.index import Index
    from auditor.reports import RENDERERS, Report

    click.echo("demo: a simulated account (moto in process, plus simulated API responses); "
               "nothing is sent to AWS", err=True)
    collected = demo_collection()
    click.echo(collected.summary(), err=True)
    if save_snapshot is not None:
        snapshot.write_private(save_snapshot, snapshot.dumps(collected.document))
        click.echo(f"demo: snapshot written to {save_snapshot}", err=True)
    if show_resources:
        for collection in collected.collections:
            click.echo(resource_table(collected.document, collection.account_id), err=True)
    now = dt.datetime.now(dt.UTC)
    result = run_audit(Index(collected.document), now=now)
    report = Report(result, collected.document, snapshot.utc_timestamp(now))
    click.echo(RENDERERS[report_format](report), nl=False)
    click.echo(report.stderr_summary(), err=True)
