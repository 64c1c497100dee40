"""Servers for the tests that run the CLI out of process: moto on 127.0.0.1, and a fake STS.

Nothing here listens on any address but 127.0.0.1, and every port is chosen by the OS (port 0).
"""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import werkzeug.serving
from moto.server import ThreadedMotoServer

LOOPBACK = "127.0.0.1"
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
CLI_TIMEOUT = 120
# Connections a listening socket queues before it is accepted. socketserver's default is 5 and werkzeug's 128:
# the fault tests' collections open about a thousand at once. With the queue full, Linux answers with SYN
# cookies and may then drop a connection that the client sees as "closed before a response", on every attempt:
# a fault nobody injected, which failed CI. (The system caps it at net.core.somaxconn.)
LISTEN_QUEUE = 4096

# Fake credentials, distinctive enough that finding one in an output proves it leaked.
ACCESS_KEY_ID = "AKIAAUDITORTESTKEY01"
SECRET_ACCESS_KEY = "testing-secret-d41d8cd98f00b204"
SESSION_TOKEN = "testing-session-token-9e107d9d372bb682"
CREDENTIAL_VALUES = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN)


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 at a free port; yields its URL. Its state is reset first."""
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
    with pytest.MonkeyPatch.context() as patch:  # werkzeug takes the size from its class, as it starts listening
        patch.setattr(werkzeug.serving.BaseWSGIServer, "request_queue_size", LISTEN_QUEUE)
        server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(reset, timeout=10):
            pass
        yield url
    finally:
        server.stop()


@contextmanager
def no_local_aws_setup(scratch: Path) -> Iterator[None]:
    """This machine's AWS environment variables and config files hidden, for clients that seed a moto server."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            patch.delenv(name)
        patch.setenv("AWS_CONFIG_FILE", str(scratch / "no-config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(scratch / "no-credentials"))
        yield


@dataclass
class FakeSts:
    url: str
    requests: list[str]


@contextmanager
def expired_token_sts() -> Iterator[FakeSts]:
    """An HTTP server on 127.0.0.1 that answers every request as STS does for an expired token."""
    requests: list[str] = []
    body = (
        b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        b"<Error><Type>Sender</Type><Code>ExpiredToken</Code>"
        b"<Message>The security token included in the request is expired</Message></Error>"
        b"<RequestId>4e5b5c4a-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length") or 0)
            requests.append(self.rfile.read(length).decode("utf-8", errors="replace"))
            self.send_response(400)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST  # noqa: N815

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeSts(f"http://{LOOPBACK}:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def cli_env(endpoint_url: str, config_dir: Path) -> dict[str, str]:
    """The CLI's environment: this one without any AWS setting, plus fake keys and the endpoint."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config").touch()
    (config_dir / "credentials").touch()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("AWS_", "AUDITOR_")) and name != "PYTHONPATH"}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_SESSION_TOKEN=SESSION_TOKEN,
        AWS_DEFAULT_REGION=REGION,
        AWS_ENDPOINT_URL=endpoint_url,
        AWS_CONFIG_FILE=str(config_dir / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(config_dir / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        # moto's server answers what it does not implement with HTTP 500, which botocore retries;
        # two attempts keep the retry path exercised without waiting out the default eight.
        AWS_MAX_ATTEMPTS="2",
        NO_PROXY=LOOPBACK,
        no_proxy=LOOPBACK,
    )
    return env


def start_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """`python -m auditor ARGS` as a child process (wait with `.communicate(timeout=...)`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "auditor", *args], env=env, cwd=cwd, text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args], env=env, cwd=cwd, text=True,
        stdin=subprocess.DEVNULL, capture_output=True, timeout=CLI_TIMEOUT, check=False,
    )


def owner_client(url: str, service: str) -> Any:
    """An unguarded client of the account's owner, creating what the CLI will read."""
    return boto3.client(service, region_name=REGION, endpoint_url=url,
                        aws_access_key_id="seed", aws_secret_access_key="seed")


GATEWAY_ENDPOINT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ReadAuditBucket", "Effect": "Allow", "Principal": "*",
                   "Action": "s3:GetObject", "Resource": "arn:aws:s3:::audit-bucket/*"}],
}
ALLOWED_PRINCIPAL = "arn:aws:iam::111122223333:root"


def seed_network(url: str) -> dict[str, str]:
    """Build a small connected network in moto; return the ids the tests look for, by name."""
    ec2 = owner_client(url, "ec2")
    ids: dict[str, str] = {}

    # Two VPCs (A has a secondary CIDR), peered with DNS resolution both ways.
    ids["vpc_a"] = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=ids["vpc_a"], CidrBlock="10.1.0.0/16")
    ec2.modify_vpc_attribute(VpcId=ids["vpc_a"], EnableDnsHostnames={"Value": True})
    ids["vpc_b"] = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    ids["subnet_a1"] = ec2.create_subnet(VpcId=ids["vpc_a"], CidrBlock="10.0.1.0/24",
                                         AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ids["subnet_a2"] = ec2.create_subnet(VpcId=ids["vpc_a"], CidrBlock="10.1.1.0/24",
                                         AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    ids["subnet_b1"] = ec2.create_subnet(VpcId=ids["vpc_b"], CidrBlock="10.2.1.0/24",
                                         AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    ids["pcx"] = ec2.create_vpc_peering_connection(
        VpcId=ids["vpc_a"], PeerVpcId=ids["vpc_b"])["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=ids["pcx"])
    ec2.modify_vpc_peering_connection_options(
        VpcPeeringConnectionId=ids["pcx"],
        RequesterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True},
        AccepterPeeringConnectionOptions={"AllowDnsResolutionFromRemoteVpc": True})
    ids["rtb_a"] = ec2.create_route_table(VpcId=ids["vpc_a"])["RouteTable"]["RouteTableId"]
    ids["rtb_b"] = ec2.create_route_table(VpcId=ids["vpc_b"])["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=ids["rtb_a"], DestinationCidrBlock="10.2.0.0/16",
                     VpcPeeringConnectionId=ids["pcx"])
    ec2.create_route(RouteTableId=ids["rtb_b"], DestinationCidrBlock="10.0.0.0/16",
                     VpcPeeringConnectionId=ids["pcx"])
    ec2.associate_route_table(RouteTableId=ids["rtb_a"], SubnetId=ids["subnet_a1"])

    # Internet, egress-only and NAT gateways; a customer-managed prefix list; flow logs.
    ids["igw"] = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=ids["igw"], VpcId=ids["vpc_a"])
    ids["eigw"] = ec2.create_egress_only_internet_gateway(
        VpcId=ids["vpc_a"])["EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"]
    ids["eip"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ids["nat"] = ec2.create_nat_gateway(SubnetId=ids["subnet_a1"],
                                        AllocationId=ids["eip"])["NatGateway"]["NatGatewayId"]
    ids["prefix_list"] = ec2.create_managed_prefix_list(
        PrefixListName="onprem", MaxEntries=5, AddressFamily="IPv4",
        Entries=[{"Cidr": "172.16.0.0/12", "Description": "datacenter"}])["PrefixList"]["PrefixListId"]
    owner_client(url, "logs").create_log_group(logGroupName="vpc-flow-logs")
    ids["flow_log"] = ec2.create_flow_logs(
        ResourceIds=[ids["vpc_a"]], ResourceType="VPC", TrafficType="REJECT", LogGroupName="vpc-flow-logs",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT_ID}:role/flow-logs")["FlowLogIds"][0]

    # Endpoints: an S3 gateway endpoint with a policy, an interface endpoint, a PrivateLink service.
    ids["vpce_gateway"] = ec2.create_vpc_endpoint(
        VpcId=ids["vpc_a"], ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway",
        RouteTableIds=[ids["rtb_a"]],
        PolicyDocument=json.dumps(GATEWAY_ENDPOINT_POLICY))["VpcEndpoint"]["VpcEndpointId"]
    ids["sg"] = ec2.create_security_group(GroupName="endpoints", Description="interface endpoints",
                                          VpcId=ids["vpc_a"])["GroupId"]
    ids["vpce_interface"] = ec2.create_vpc_endpoint(
        VpcId=ids["vpc_a"], ServiceName=f"com.amazonaws.{REGION}.sts", VpcEndpointType="Interface",
        SubnetIds=[ids["subnet_a1"]], SecurityGroupIds=[ids["sg"]],
        PrivateDnsEnabled=True)["VpcEndpoint"]["VpcEndpointId"]
    ids["nlb"] = owner_client(url, "elbv2").create_load_balancer(
        Name="audit-nlb", Type="network", Scheme="internal",
        Subnets=[ids["subnet_a1"], ids["subnet_a2"]])["LoadBalancers"][0]["LoadBalancerArn"]
    ids["endpoint_service"] = ec2.create_vpc_endpoint_service_configuration(
        NetworkLoadBalancerArns=[ids["nlb"]], AcceptanceRequired=True)["ServiceConfiguration"]["ServiceId"]
    ec2.modify_vpc_endpoint_service_permissions(ServiceId=ids["endpoint_service"],
                                                AddAllowedPrincipals=[ALLOWED_PRINCIPAL])

    # Site-to-site VPN on a virtual private gateway.
    ids["vgw"] = ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=64512)["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpcId=ids["vpc_a"], VpnGatewayId=ids["vgw"])
    ids["cgw"] = ec2.create_customer_gateway(Type="ipsec.1", BgpAsn=65000,
                                             PublicIp="203.0.113.10")["CustomerGateway"]["CustomerGatewayId"]
    vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=ids["cgw"], VpnGatewayId=ids["vgw"],
                                    Options={"StaticRoutesOnly": True})["VpnConnection"]
    ids["vpn"] = vpn["VpnConnectionId"]
    # The tunnels' pre-shared key, a secret that AWS (and moto) return in the connection's configuration.
    ids["vpn_psk"] = re.findall(r"<pre_shared_key>([^<]+)</pre_shared_key>", vpn["CustomerGatewayConfiguration"])[0]

    # A transit gateway with a VPC attachment, a route table (propagation, a static and a
    # blackhole route), and a peering attachment to a second transit gateway.
    tgw = ec2.create_transit_gateway(Description="audit hub", Options={"AmazonSideAsn": 64513})["TransitGateway"]
    ids["tgw"] = tgw["TransitGatewayId"]
    ids["tgw_default_rtb"] = tgw["Options"]["AssociationDefaultRouteTableId"]
    ids["tgw_attachment"] = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=ids["tgw"], VpcId=ids["vpc_b"],
        SubnetIds=[ids["subnet_b1"]])["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    ids["tgw_rtb"] = ec2.create_transit_gateway_route_table(
        TransitGatewayId=ids["tgw"])["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]
    ec2.enable_transit_gateway_route_table_propagation(TransitGatewayRouteTableId=ids["tgw_rtb"],
                                                       TransitGatewayAttachmentId=ids["tgw_attachment"])
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=ids["tgw_rtb"], DestinationCidrBlock="10.2.0.0/16",
                                     TransitGatewayAttachmentId=ids["tgw_attachment"])
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=ids["tgw_rtb"],
                                     DestinationCidrBlock="192.168.0.0/16", Blackhole=True)
    ids["tgw_peer"] = ec2.create_transit_gateway(Description="peer hub")["TransitGateway"]["TransitGatewayId"]
    ids["tgw_peering"] = ec2.create_transit_gateway_peering_attachment(
        TransitGatewayId=ids["tgw"], PeerTransitGatewayId=ids["tgw_peer"], PeerAccountId=ACCOUNT_ID,
        PeerRegion=REGION)["TransitGatewayPeeringAttachment"]["TransitGatewayAttachmentId"]

    # Direct Connect: moto models connections only.
    ids["dx_connection"] = owner_client(url, "directconnect").create_connection(
        location="EqDC2", bandwidth="1Gbps", connectionName="audit-dx")["connectionId"]
    return ids


def only_this_thread(wait: float = 15.0) -> None:
    """Only this thread runs, or the collection would not fork its workers (it reads in one process instead).

    Threads of earlier test modules can outlive them: a test server's thread serving a kept-alive connection
    of a client that is garbage but not yet collected ends only when the collector closes that connection. So
    the garbage is collected first, and those threads get a few seconds to end; any still running are named.
    """
    gc.collect()
    deadline = time.monotonic() + wait
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    others = [thread.name for thread in threading.enumerate() if thread is not threading.current_thread()]
    assert not others, f"threads left running in the test process, the workers cannot fork: {others}"
