"""A service that a service control policy denies in a region is given up there after a few denials, and no sooner.

No test here connects anywhere but to a moto server on 127.0.0.1: tests/scp.py's `before-send` handler answers
the requests to the denied region as AWS answers a call an SCP (or the role's own policy) denies.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import botocore.exceptions
import pytest

from auditor import aws
from auditor.collect import collect
from auditor.collect.registry import GLOBAL, REGISTRY
from auditor.scp_denied import DENIALS, DeniedByServiceControlPolicy, scp_denial
from tests.conftest import REGION
from tests.scp import BY_ROLE, BY_SCP, ROLE, Organization
from tests.servers import moto_server

OTHER = "eu-west-1"


def clients_in(organization: Organization, monkeypatch: pytest.MonkeyPatch) -> aws.Clients:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    session.events.register("before-send", organization)
    return aws.Clients(session)


EC2_READS = ("describe_vpcs", "describe_subnets", "describe_route_tables", "describe_vpn_gateways",
             "describe_internet_gateways")


def call(clients: aws.Clients, method: str, region: str = OTHER) -> str:
    """What one call ended with: 'answered', or the error's code or name."""
    try:
        getattr(clients.get("ec2", region), method)()
    except botocore.exceptions.ClientError as error:
        return error.response["Error"]["Code"]
    except botocore.exceptions.BotoCoreError as error:
        return type(error).__name__
    return "answered"


def test_after_three_operations_denied_by_an_scp_the_services_other_calls_there_are_not_sent(monkeypatch) -> None:
    organization = Organization(OTHER)
    clients = clients_in(organization, monkeypatch)

    outcomes = [call(clients, method) for method in EC2_READS]

    assert outcomes == ["UnauthorizedOperation"] * DENIALS + ["DeniedByServiceControlPolicy"] * 2
    assert organization.sent["ec2"] == DENIALS
    assert clients.calls == DENIALS  # the calls not sent are not counted as made
    with pytest.raises(DeniedByServiceControlPolicy) as raised:
        clients.get("ec2", OTHER).describe_vpcs()
    assert (f"{DENIALS} other ec2 calls in {OTHER} (DescribeVpcs, DescribeSubnets, DescribeRouteTables) were denied "
            "by a service control policy") in str(raised.value)
    assert str(raised.value).endswith(f"(the first: You are not authorized to perform this operation. User: {ROLE} "
                                      f"is not authorized to perform: ec2:DescribeVpcs {BY_SCP}.)")
    assert call(clients, "describe_vpcs", REGION) == "answered"  # another region is another client


@pytest.mark.parametrize(("organization", "methods"), [
    pytest.param(Organization(OTHER, BY_ROLE), EC2_READS, id="denied_by_the_roles_own_policy"),
    pytest.param(Organization(OTHER, allowed=("DescribeVpcs",)), EC2_READS, id="a_call_of_the_service_answered"),
    pytest.param(Organization(OTHER), ("describe_subnets",) * (DENIALS + 2), id="one_operation_denied_again"),
])
def test_a_service_is_never_given_up_on_other_evidence(monkeypatch, organization: Organization,
                                                       methods: tuple[str, ...]) -> None:
    clients = clients_in(organization, monkeypatch)

    ended = Counter(call(clients, method) for method in methods)

    assert "DeniedByServiceControlPolicy" not in ended
    assert organization.sent["ec2"] == len(methods)


@pytest.mark.parametrize(("parsed", "expected"), [
    pytest.param({"Error": {"Code": "UnauthorizedOperation", "Message": f"... {BY_SCP}."}}, True, id="ec2"),
    pytest.param({"Error": {"Code": "AccessDeniedException", "Message": "... in a Service Control Policy"}}, True,
                 id="any_case"),
    pytest.param({"Error": {"Code": "UnauthorizedOperation", "Message": BY_ROLE}}, False, id="the_roles_policy"),
    pytest.param({"Error": {"Code": "Throttling", "Message": f"... {BY_SCP}"}}, False, id="not_a_denial"),
    pytest.param({"Error": {"Code": "AccessDenied"}}, False, id="no_message"),
    pytest.param({"Vpcs": []}, False, id="an_answer"),
    pytest.param(None, False, id="nothing_parsed"),
])
def test_what_counts_as_a_denial_by_an_scp(parsed: Any, expected: bool) -> None:
    assert (scp_denial(parsed) is not None) == expected


def test_a_region_an_scp_denies_costs_a_few_calls_a_service_not_one_per_key(monkeypatch) -> None:
    """One call in flight a region, so that the count is exact: each service there (EC2, ELB, Direct Connect)
    gets the calls of its first three operations, denied, and no other. The other region is a moto server's
    (on 127.0.0.1), read whole."""
    organization = Organization(OTHER, passing=True)
    with moto_server() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        session.events.register("before-send", organization)

        collected = collect(session, [REGION, OTHER], max_processes=1, max_workers_per_region=1)

    regional = [collector for collector in REGISTRY.values() if collector.scope != GLOBAL]
    lost = [e for e in collected.document["errors"] if e["region"] == OTHER]
    assert sorted(e["key"] for e in lost) == sorted(collector.key for collector in regional)
    roots = Counter(collector.service for collector in regional if collector.parent is None)
    signing_names = {"elbv2": "elasticloadbalancing"}  # in a request's credential scope
    assert organization.sent == {signing_names.get(service, service): min(DENIALS, count)
                                 for service, count in roots.items()}
    codes = Counter(e["code"] for e in lost if REGISTRY[e["key"]].parent is None)
    assert codes == {"UnauthorizedOperation": DENIALS, "AccessDenied": min(DENIALS, roots["elbv2"]),
                     "AccessDeniedException": min(DENIALS, roots["directconnect"]),
                     "DeniedByServiceControlPolicy": sum(roots.values()) - sum(organization.sent.values())}
    assert all("service control policy" in e["message"] for e in lost if REGISTRY[e["key"]].parent is None)
    account = collected.collections[0].account_id
    assert "ec2:Vpcs" in collected.document["accounts"][account]["regions"][REGION]
    assert "(nothing could be read in 1 region(s)" in collected.summary()
