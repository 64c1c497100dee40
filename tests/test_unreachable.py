"""An endpoint a run cannot connect to is given up after a few attempts, in that process, and no sooner.

No test here connects anywhere: a `before-send` handler registered on the session stands for the network, failing
to connect (botocore's ConnectTimeoutError, as a dropped SYN gives), cutting a response short, or answering.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import botocore.awsrequest
import botocore.exceptions
import pytest

from auditor import aws
from auditor.collect import collect
from auditor.collect.registry import GLOBAL, REGISTRY
from auditor.unreachable import CONNECT_FAILURES, EndpointUnreachable
from tests.conftest import REGION

OTHER = "eu-west-1"
EMPTY_VPCS = b'<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcSet/></DescribeVpcsResponse>'


class Network:
    """What each request to `region` meets, in turn (the last one again and again); a request elsewhere is answered
    (`passing`: left to the next handler, moto's). Nothing is ever sent."""

    def __init__(self, region: str, *outcomes: str, passing: bool = False) -> None:
        self.region, self.outcomes, self.sent, self.passing = region, list(outcomes), 0, passing

    def __call__(self, request: Any, **_: Any) -> Any:
        if f"/{self.region}/" not in str(request.headers.get("Authorization", b""), "latin-1"):
            return None if self.passing else botocore.awsrequest.AWSResponse(request.url, 200, {}, _Raw(EMPTY_VPCS))
        outcome = self.outcomes[min(self.sent, len(self.outcomes) - 1)]
        self.sent += 1
        if outcome == "drop":
            raise botocore.exceptions.ConnectTimeoutError(endpoint_url=request.url)
        if outcome == "cut":
            raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)
        return botocore.awsrequest.AWSResponse(request.url, 200, {}, _Raw(EMPTY_VPCS))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def clients_behind(network: Network, attempts: int, monkeypatch: pytest.MonkeyPatch) -> aws.Clients:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(attempts))
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    session = boto3.Session(region_name=REGION)
    session.events.register("before-send", network)
    return aws.Clients(session)


def call(clients: aws.Clients, region: str = OTHER) -> str:
    """What one DescribeVpcs call ended with: 'answered', or the error's name."""
    try:
        clients.get("ec2", region).describe_vpcs()
    except botocore.exceptions.BotoCoreError as error:
        return type(error).__name__
    return "answered"


def test_after_three_attempts_that_failed_to_connect_the_endpoints_calls_are_not_sent(monkeypatch) -> None:
    network = Network(OTHER, "drop")
    clients = clients_behind(network, 1, monkeypatch)

    outcomes = [call(clients) for _ in range(CONNECT_FAILURES + 2)]

    assert outcomes == ["ConnectTimeoutError"] * CONNECT_FAILURES + ["EndpointUnreachable"] * 2
    assert network.sent == CONNECT_FAILURES
    assert clients.calls == CONNECT_FAILURES  # the calls not sent are not counted as made
    with pytest.raises(EndpointUnreachable) as raised:
        clients.get("ec2", OTHER).describe_vpcs()
    assert f"({OTHER}) could not be connected to in {CONNECT_FAILURES} attempts" in str(raised.value)
    assert "the first: ConnectTimeoutError: Connect timeout" in str(raised.value)
    assert call(clients, REGION) == "answered"  # another region's endpoint is another endpoint


def test_a_call_stops_retrying_once_its_endpoint_is_given_up(monkeypatch) -> None:
    network = Network(OTHER, "drop")
    clients = clients_behind(network, 8, monkeypatch)

    assert call(clients) == "EndpointUnreachable"  # not retried: its attempt after the third is never sent
    assert network.sent == CONNECT_FAILURES


@pytest.mark.parametrize("outcomes", [
    pytest.param(("answer", "drop"), id="an_endpoint_that_answered_once"),
    pytest.param(("cut",), id="responses_cut_short_after_connecting"),
])
def test_an_endpoint_is_never_given_up_when_it_was_reached(monkeypatch, outcomes: tuple[str, ...]) -> None:
    network = Network(OTHER, *outcomes)
    clients = clients_behind(network, 1, monkeypatch)

    ended = Counter(call(clients) for _ in range(CONNECT_FAILURES + 3))

    assert "EndpointUnreachable" not in ended
    assert network.sent == CONNECT_FAILURES + 3


def test_the_accounts_of_a_run_share_what_was_learned_and_a_forked_worker_forgets_it(monkeypatch) -> None:
    network = Network(OTHER, "drop")
    caller = clients_behind(network, 1, monkeypatch)
    for _ in range(CONNECT_FAILURES):
        call(caller)
    member = aws.Clients(caller.session, same_run=caller)

    assert call(member) == "EndpointUnreachable"
    caller.forget()  # as a worker does with what it inherits
    assert call(caller) == "ConnectTimeoutError"
    assert network.sent == CONNECT_FAILURES + 1


def test_a_region_that_cannot_be_connected_to_costs_a_few_attempts_not_one_per_key(moto_account, monkeypatch) -> None:
    """27 keys, one call in flight a region, so that the count is exact: each endpoint there (EC2's, ELB's,
    Direct Connect's) gets the first three attempts, which fail to connect, and no other. (With 16 in flight, the
    first attempts of all 16 are sent before any has failed, and a retry may be sent before the third failure is
    counted.)"""
    network = Network(OTHER, "drop", passing=True)  # us-east-1 is moto's
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    session = boto3.Session(region_name=REGION)
    session.events.register("before-send", network)

    collected = collect(session, [REGION, OTHER], max_processes=1, max_workers_per_region=1)

    regional = sorted(key for key, collector in REGISTRY.items() if collector.scope != GLOBAL)
    lost = [e for e in collected.document["errors"] if e["region"] == OTHER]
    assert sorted(e["key"] for e in lost) == regional
    codes = Counter(e["code"] for e in lost if not REGISTRY[e["key"]].parent)
    # (NotImplemented: the keys moto in process refuses before the network is asked)
    assert set(codes) <= {"ConnectTimeoutError", "EndpointUnreachable", "NotImplemented"}
    assert codes["EndpointUnreachable"]  # the first calls too, once their retries found it given up
    assert all("ConnectTimeoutError" in e["message"] for e in lost if e["code"] == "EndpointUnreachable")
    endpoints = {collector.service for collector in REGISTRY.values() if collector.scope != GLOBAL}
    assert network.sent == CONNECT_FAILURES * len(endpoints)
    assert "ec2:Vpcs" in collected.document["accounts"][collected.collections[0].account_id]["regions"][REGION]
    assert "(nothing could be read in 1 region(s)" in collected.summary()
