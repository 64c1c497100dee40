"""A service that a service control policy denies in a region is given up there after a few denials (in the run's
next accounts, after their first call), and no sooner.

No test here connects anywhere but to a moto server on 127.0.0.1: tests/scp.py's `before-send` handler answers
the requests to the denied region as AWS answers a call an SCP (or the role's own policy) denies.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

import auditor.collect as collect_package
from auditor import aws
from auditor.account_request import AccountRequest
from auditor.collect import collect, processes
from auditor.collect.registry import GLOBAL, REGISTRY
from auditor.scp_denied import DENIALS, DeniedByServiceControlPolicy, scp_denial
from tests.conftest import REGION
from tests.scp import BY_ROLE, BY_SCP, ROLE, Organization
from tests.servers import moto_server, only_this_thread

OTHER = "eu-west-1"
MEMBERS = ("111111111111", "222222222222")


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
    assert (f"not sent: ec2 calls in {OTHER} were denied by a service control policy: {DENIALS} different calls "
            "(DescribeVpcs, DescribeSubnets, DescribeRouteTables in this account), and none was allowed") \
        in str(raised.value)
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


EC2_ACTIONS = ("DescribeVpcs", "DescribeSubnets", "DescribeRouteTables", "DescribeVpnGateways",
               "DescribeInternetGateways")  # EC2_READS as the API names them


def clients_beside(run: aws.Clients, organization: Organization) -> aws.Clients:
    """Another account's clients in the same run as `run`, its requests meeting `organization`."""
    session = boto3.Session(region_name=REGION, aws_access_key_id="member", aws_secret_access_key="member")
    session.events.register("before-send", organization)
    return aws.Clients(session, same_run=run)


def given_up_in_one_account(monkeypatch: pytest.MonkeyPatch) -> aws.Clients:
    caller = clients_in(Organization(OTHER), monkeypatch)
    assert [call(caller, method) for method in EC2_READS[:DENIALS]] == ["UnauthorizedOperation"] * DENIALS
    return caller


def test_in_the_runs_next_account_a_denied_service_asks_one_call_and_gives_up_on_its_denial(monkeypatch) -> None:
    caller = given_up_in_one_account(monkeypatch)
    network = Organization(OTHER, latency=0.2)
    member = clients_beside(caller, network)

    with ThreadPoolExecutor(len(EC2_READS)) as pool:
        ended = list(pool.map(lambda method: call(member, method), EC2_READS))

    assert Counter(ended) == {"UnauthorizedOperation": 1, "DeniedByServiceControlPolicy": len(EC2_READS) - 1}
    assert network.sent == {"ec2": 1}
    with pytest.raises(DeniedByServiceControlPolicy) as raised:
        member.get("ec2", OTHER).describe_vpcs()
    assert re.search(rf"ec2 calls in {OTHER} were denied by a service control policy: Describe\w+ in this account, "
                     r"as in 1 other account\(s\) of this run that gave the service up there, and none was allowed",
                     str(raised.value))
    assert caller.denials.suspect(OTHER, "ec2") == 2
    caller.forget()  # as a worker does with what it inherits
    assert caller.denials.suspect(OTHER, "ec2") == 0


def test_in_the_runs_next_account_the_other_calls_go_ahead_once_the_first_is_answered(monkeypatch) -> None:
    caller = given_up_in_one_account(monkeypatch)
    network = Organization(OTHER, allowed=EC2_ACTIONS, latency=0.2)
    member = clients_beside(caller, network)

    with ThreadPoolExecutor(len(EC2_READS)) as pool:
        ended = list(pool.map(lambda method: call(member, method), EC2_READS))

    assert ended == ["answered"] * len(EC2_READS)
    first, *others = sorted(network.spans)
    assert first[1] <= min(start for start, _ in others)  # sent once the first was answered, not before
    assert caller.denials.suspect(OTHER, "ec2") == 0  # an account answered there: the next ones ask as usual


def test_a_service_given_up_goes_ahead_again_once_a_call_in_flight_is_answered(monkeypatch) -> None:
    """The first answers of a region can come in any order: three denials (a policy that denies some operations)
    before the first call allowed. Its answer lifts the give-up, here and for the run's next accounts."""
    clients = clients_in(Organization("nowhere"), monkeypatch)  # every call sent is answered
    events = clients.get("ec2", OTHER).meta.events
    model = clients.get("ec2", OTHER).meta.service_model
    for action in EC2_ACTIONS[:DENIALS]:
        events.emit(f"after-call.ec2.{action}", http_response=_Answer(403), model=model.operation_model(action),
                    parsed={"Error": {"Code": "UnauthorizedOperation", "Message": f"... {BY_SCP}"}}, context={})
    given_up = call(clients, "describe_vpn_gateways")

    events.emit("after-call.ec2.DescribeInternetGateways", http_response=_Answer(200), parsed={},
                model=model.operation_model("DescribeInternetGateways"), context={})

    assert given_up == "DeniedByServiceControlPolicy"
    assert call(clients, "describe_vpn_gateways") == "answered"
    assert clients.denials.suspect(OTHER, "ec2") == 0


class _Answer:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


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


def test_the_runs_next_account_asks_a_denied_region_one_call_a_service_given_up(monkeypatch) -> None:
    """Two member accounts, read one after the other with one call in flight, so that the count is exact: the
    first sends each service's first three operations to the denied region; the second, for a service the first
    gave up (EC2), one call."""
    organization = Organization(OTHER, passing=True)
    assume = collect_package.assumed_session

    def assumed_session(*args: Any, **kwargs: Any) -> Any:  # an account's session meets the organization too
        session = assume(*args, **kwargs)
        session.events.register("before-send", organization)
        return session

    monkeypatch.setattr(collect_package, "assumed_session", assumed_session)
    monkeypatch.setattr(processes, "AT_ONCE", 1)
    with moto_server() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")

        collected = collect(session, [REGION, OTHER], max_workers=1, max_processes=1,
                            accounts=AccountRequest(role_name="NetworkAudit", account_ids=MEMBERS))

    roots = Counter(c.service for c in REGISTRY.values() if c.scope != GLOBAL and c.parent is None)
    signing_names = {"elbv2": "elasticloadbalancing"}
    assert organization.sent == {signing_names.get(service, service): min(DENIALS, n) + (1 if n >= DENIALS else n)
                                 for service, n in roots.items()}
    for account_id in MEMBERS:
        lost = [e for e in collected.document["errors"] if (e["account_id"], e["region"]) == (account_id, OTHER)]
        assert len(lost) == len([c for c in REGISTRY.values() if c.scope != GLOBAL])
        assert "ec2:Vpcs" in collected.document["accounts"][account_id]["regions"][REGION]
    second = Counter(e["code"] for e in collected.document["errors"]
                     if (e["account_id"], e["region"]) == (MEMBERS[1], OTHER) and e["key"].startswith("ec2:")
                     and REGISTRY[e["key"]].parent is None)
    assert second == {"UnauthorizedOperation": 1, "DeniedByServiceControlPolicy": roots["ec2"] - 1}


def test_each_worker_process_gives_up_a_denied_service_for_its_next_accounts(monkeypatch) -> None:
    """Four member accounts in two worker processes, each reading one account at a time with one call in flight:
    each worker's first account sends EC2's first three operations to the denied region, and its second one
    call. The record of what was given up is each process's own: made there, and learnt from nowhere else.

    moto runs in process here (a server's threads would keep the run from forking its workers): the
    organization's handler comes before moto's, and moto answers what it lets pass."""
    if not (processes.usable() or threading.active_count() > 1):
        pytest.skip("fork is not offered here (not Linux)")
    only_this_thread()
    organization = Organization(OTHER, passing=True)
    assume = collect_package.assumed_session

    def assumed_session(*args: Any, **kwargs: Any) -> Any:  # inherited by the workers, which are forked
        session = assume(*args, **kwargs)
        session.events.register_first("before-send", organization)
        return session

    accounts = ("111111111111", "222222222222", "333333333333", "444444444444")
    monkeypatch.setattr(collect_package, "assumed_session", assumed_session)
    monkeypatch.setattr(processes, "AT_ONCE", 1)
    monkeypatch.setattr(processes, "cpus", lambda: 2)  # a worker per account, not per region
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with mock_aws():
        session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        collected = collect(session, [REGION, OTHER], max_workers=2, max_processes=2,
                            accounts=AccountRequest(role_name="NetworkAudit", account_ids=accounts))

    assert collected.processes == 2
    roots = [c.key for c in REGISTRY.values() if c.scope != GLOBAL and c.parent is None and c.service == "ec2"]
    sent = []
    for account_id in accounts:
        lost = {e["key"]: e["code"] for e in collected.document["errors"]
                if (e["account_id"], e["region"]) == (account_id, OTHER)}
        assert len(lost) == len([c for c in REGISTRY.values() if c.scope != GLOBAL])
        assert "ec2:Vpcs" in collected.document["accounts"][account_id]["regions"][REGION]
        codes = Counter(lost[key] for key in roots)
        assert codes == {"UnauthorizedOperation": codes["UnauthorizedOperation"],
                         "DeniedByServiceControlPolicy": len(roots) - codes["UnauthorizedOperation"]}
        sent.append(codes["UnauthorizedOperation"])
    assert sorted(sent) == [1, 1, DENIALS, DENIALS]  # per worker: its first account, then its second
    assert sent[:2] == [DENIALS, DENIALS]  # each worker starts with one of the first two accounts
