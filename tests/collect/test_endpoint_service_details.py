"""ec2:ServiceDetails against botocore's Stubber: one DescribeVpcEndpointServices call for the AWS services the
region's endpoints name (every page of it), none when no endpoint names one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from auditor.aws import Clients
from auditor.collect.registry import REGISTRY
from auditor.collect.runner import AccountCollection, collect_account
from tests.collect.stub_data import ACCOUNT_ID, HOME, rid

SSM, S3 = f"com.amazonaws.{HOME}.ssm", f"com.amazonaws.{HOME}.s3"
PARTNER = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"


def endpoint(n: int, service: str, kind: str = "Interface") -> dict[str, Any]:
    return {"VpcEndpointId": rid("vpce", n), "VpcEndpointType": kind, "VpcId": rid("vpc", 1), "ServiceName": service,
            "State": "available"}


def detail(service: str, kind: str, supported: bool = True) -> dict[str, Any]:
    return {"ServiceName": service, "ServiceType": [{"ServiceType": kind}], "Owner": "amazon",
            "VpcEndpointPolicySupported": supported, "AvailabilityZones": [f"{HOME}a"]}


@pytest.fixture
def ec2() -> Iterator[tuple[Clients, Stubber]]:
    session = boto3.Session(botocore_session=botocore.session.Session(), region_name=HOME)
    clients = Clients(session)
    stubber = Stubber(clients.get("ec2", HOME))
    with stubber:
        yield clients, stubber
        stubber.assert_no_pending_responses()


def collect(clients: Clients) -> AccountCollection:
    keys = ("ec2:VpcEndpoints", "ec2:ServiceDetails")
    return collect_account(clients, ACCOUNT_ID, [HOME], HOME, collectors=[REGISTRY[k] for k in keys], max_workers=4)


def test_one_call_for_the_aws_services_the_endpoints_name(ec2: tuple[Clients, Stubber]) -> None:
    clients, stubber = ec2
    endpoints = [endpoint(1, SSM), endpoint(2, S3, "Gateway"), endpoint(3, PARTNER), endpoint(4, SSM)]
    stubber.add_response("describe_vpc_endpoints", {"VpcEndpoints": endpoints}, {})
    first, second = detail(SSM, "Interface", supported=False), detail(S3, "Gateway")
    stubber.add_response("describe_vpc_endpoint_services", {"ServiceDetails": [first], "NextToken": "page-2"},
                         {"ServiceNames": [S3, SSM]})
    stubber.add_response("describe_vpc_endpoint_services", {"ServiceDetails": [second]},
                         {"ServiceNames": [S3, SSM], "NextToken": "page-2"})

    result = collect(clients)

    assert result.regions[HOME]["ec2:ServiceDetails"] == [second, first]  # sorted by name, then type
    assert result.errors == []


def test_no_call_when_no_endpoint_names_an_aws_service(ec2: tuple[Clients, Stubber]) -> None:
    clients, stubber = ec2
    stubber.add_response("describe_vpc_endpoints", {"VpcEndpoints": [endpoint(1, PARTNER)]}, {})

    result = collect(clients)

    assert result.regions[HOME]["ec2:ServiceDetails"] == []
    assert result.errors == []
