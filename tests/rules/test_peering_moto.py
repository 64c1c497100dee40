"""PCX001 end to end on moto: a peering accepted in an in-process account, collected, indexed and audited."""

from __future__ import annotations

import datetime as dt

import boto3
from moto import mock_aws

from auditor.collect import collect
from auditor.engine import load_rules, run_audit
from auditor.index import Index
from tests.conftest import ACCOUNT_ID, REGION, seed_client

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


def _main_table(ec2, vpc_id: str) -> str:  # noqa: ANN001 - a boto3 EC2 client
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    return str(tables[0]["RouteTableId"])


def test_pcx001_reports_only_the_side_without_a_route() -> None:
    with mock_aws():
        ec2 = seed_client("ec2")
        requester = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        accepter = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        ec2.create_subnet(VpcId=requester, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
        ec2.create_subnet(VpcId=accepter, CidrBlock="10.1.1.0/24", AvailabilityZone="us-east-1a")
        pcx = ec2.create_vpc_peering_connection(
            VpcId=requester, PeerVpcId=accepter)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        ec2.create_route(RouteTableId=_main_table(ec2, requester), DestinationCidrBlock="10.1.0.0/16",
                         VpcPeeringConnectionId=pcx)
        accepter_table = _main_table(ec2, accepter)
        document = collect(boto3.Session(region_name=REGION), [REGION], now=NOW).document

        result = run_audit(Index(document), now=NOW, rules=[load_rules()["PCX001"]])

    assert len(result.findings) == 1
    finding = result.findings[0]
    assert (finding.rule_id, finding.severity, finding.resource_id) == ("PCX001", "high", pcx)
    assert (finding.account_id, finding.region) == (ACCOUNT_ID, REGION)
    assert f"on the accepter side no route table in use in {accepter} ({accepter_table} (subnets" in finding.message
    assert "10.0.0.0/16" in finding.message
