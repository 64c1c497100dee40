"""Endpoint rules on a snapshot collected from an in-process moto account: what moto models faithfully.

moto 5.2.5 returns the default full-access policy for an endpoint created without one, and keeps a
gateway endpoint's route tables as given; both are what VPCE001 and VPCE005 judge.
"""

from __future__ import annotations

import boto3
from moto import mock_aws

from auditor.collect import collect
from auditor.engine import load_rules, run_audit
from auditor.index import Index
from tests.conftest import REGION, seed_client
from tests.factories import NOW


def test_gateway_endpoint_without_policy_on_one_of_two_used_tables() -> None:
    with mock_aws():
        ec2 = seed_client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
        public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")  # main table
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=private["Subnet"]["SubnetId"])
        endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3",
                                           VpcEndpointType="Gateway", RouteTableIds=[table])["VpcEndpoint"]
        document = collect(boto3.Session(region_name=REGION), [REGION], now=NOW).document
    rules = [load_rules()[rule_id] for rule_id in ("VPCE001", "VPCE005")]

    findings = run_audit(Index(document), now=NOW, rules=rules).findings

    on_endpoint = {f.rule_id: f for f in findings if f.resource_id == endpoint["VpcEndpointId"]}
    assert sorted(on_endpoint) == ["VPCE001", "VPCE005"]
    assert len(findings) == 2
    assert on_endpoint["VPCE001"].severity == "high"
    assert "the default full-access policy applies" not in on_endpoint["VPCE001"].message  # moto fills the default in
    assert "statement 1 allows principal '*' to do '*' on '*'" in on_endpoint["VPCE001"].message
    assert on_endpoint["VPCE005"].severity == "medium"
    assert f"(used by {public['Subnet']['SubnetId']})" in on_endpoint["VPCE005"].message
