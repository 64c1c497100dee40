"""The read-only guard: a write is refused before anything is sent; reads pass and are counted."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest

from auditor.aws import Clients, ReadOnlyGuard, is_allowed, is_read_only
from auditor.errors import ReadOnlyViolation


@pytest.mark.parametrize(("operation", "allowed"), [
    ("DescribeVpcs", True),
    ("ListAccounts", True),
    ("GetManagedPrefixListEntries", True),
    ("SearchTransitGatewayRoutes", True),
    ("CreateVpc", False),
    ("DeleteVpcPeeringConnection", False),
    ("ModifyVpcEndpoint", False),
    ("AcceptVpcPeeringConnection", False),
    ("AssumeRole", False),
    ("describeVpcs", False),  # operation names are case-sensitive
])
def test_only_reads_are_allowed(operation: str, allowed: bool) -> None:
    assert is_read_only(operation) is allowed


@pytest.mark.parametrize(("service", "operation", "allowed"), [
    ("sts", "AssumeRole", True),  # the one non-read: member accounts' credentials
    ("sts", "GetCallerIdentity", True),
    ("sts", "AssumeRoleWithSAML", False),  # the allowlist names one operation, not a family
    ("sts", "AssumeRoleWithWebIdentity", False),
    ("ec2", "AssumeRole", False),  # and one service: the same name elsewhere is refused
    ("iam", "AssumeRole", False),
    ("ec2", "CreateVpc", False),
    ("ec2", "DescribeVpcs", True),
])
def test_only_reads_and_sts_assume_role_pass_the_guard(service: str, operation: str, allowed: bool) -> None:
    assert is_allowed(service, operation) is allowed


def test_the_guard_refuses_assume_role_on_any_other_service() -> None:
    guard = ReadOnlyGuard()
    model = SimpleNamespace(name="AssumeRole", service_model=SimpleNamespace(service_name="ec2"))

    with pytest.raises(ReadOnlyViolation, match="ec2:AssumeRole"):
        guard(model)

    assert guard.counter.value == 0


def _record_sends(client) -> list[str]:  # noqa: ANN001
    """Record every request that reaches the send stage and answer it locally (nothing leaves)."""
    sent: list[str] = []

    def capture(request, **_):  # noqa: ANN001, ANN003
        sent.append(request.url)
        raise RuntimeError("stop: request reached the network layer")

    client.meta.events.register("before-send", capture)
    return sent


def test_write_is_refused_before_it_leaves_the_process() -> None:
    clients = Clients(boto3.Session(region_name="us-east-1"))
    ec2 = clients.get("ec2", "us-east-1")
    sent = _record_sends(ec2)

    with pytest.raises(ReadOnlyViolation, match="ec2:CreateVpc"):
        ec2.create_vpc(CidrBlock="10.0.0.0/16")

    assert sent == []
    assert clients.calls == 0


def test_read_passes_the_guard_and_is_counted() -> None:
    clients = Clients(boto3.Session(region_name="us-east-1"))
    ec2 = clients.get("ec2", "us-east-1")
    sent = _record_sends(ec2)

    with pytest.raises(RuntimeError, match="reached the network layer"):
        ec2.describe_vpcs()

    assert len(sent) == 1
    assert clients.calls == 1


@pytest.mark.parametrize("service", ["ec2", "directconnect", "elbv2", "sts"])
def test_every_client_of_the_session_is_guarded(service: str) -> None:
    clients = Clients(boto3.Session(region_name="us-east-1"))
    client = clients.get(service, "eu-west-1")
    sent = _record_sends(client)
    write = {"ec2": ("delete_vpc", {"VpcId": "vpc-1"}),
             "directconnect": ("delete_connection", {"connectionId": "dxcon-1"}),
             "elbv2": ("delete_load_balancer", {"LoadBalancerArn": "arn:aws:elasticloadbalancing:x"}),
             "sts": ("assume_role_with_saml", {"RoleArn": "arn:aws:iam::111122223333:role/x",
                                               "PrincipalArn": "arn:aws:iam::111122223333:saml-provider/x",
                                               "SAMLAssertion": "assertion"})}
    method, params = write[service]

    with pytest.raises(ReadOnlyViolation):
        getattr(client, method)(**params)

    assert sent == []


def test_sts_assume_role_passes_the_guard_and_is_counted() -> None:
    clients = Clients(boto3.Session(region_name="us-east-1"))
    sts = clients.get("sts", "us-east-1")
    sent = _record_sends(sts)

    with pytest.raises(RuntimeError, match="reached the network layer"):
        sts.assume_role(RoleArn="arn:aws:iam::111122223333:role/NetworkAudit", RoleSessionName="session")

    assert len(sent) == 1
    assert clients.calls == 1


def test_an_in_process_responder_cannot_let_a_write_past_the_guard() -> None:
    from botocore.stub import Stubber

    clients = Clients(boto3.Session(region_name="us-east-1"))
    ec2 = clients.get("ec2", "us-east-1")
    stubber = Stubber(ec2)
    stubber.add_response("create_vpc", {"Vpc": {"VpcId": "vpc-0123456789abcdef0"}})
    stubber.activate()

    with pytest.raises(ReadOnlyViolation, match="ec2:CreateVpc"):
        ec2.create_vpc(CidrBlock="10.0.0.0/16")


def test_a_second_clients_on_one_session_shares_its_guard_and_counts_only_its_own_calls() -> None:
    """botocore keeps one handler per unique_id: a second guard would have refused nothing and counted nothing."""
    session = boto3.Session(region_name="us-east-1")
    first = Clients(session)
    sent_first = _record_sends(first.get("ec2", "us-east-1"))
    with pytest.raises(RuntimeError, match="reached the network layer"):
        first.get("ec2", "us-east-1").describe_vpcs()
    again = Clients(boto3.Session(botocore_session=session._session))  # another wrapper of the same session
    ec2 = again.get("ec2", "eu-west-1")
    sent = _record_sends(ec2)

    with pytest.raises(ReadOnlyViolation, match="ec2:CreateVpc"):
        ec2.create_vpc(CidrBlock="10.0.0.0/16")
    with pytest.raises(RuntimeError, match="reached the network layer"):
        ec2.describe_vpcs()

    assert again.guard is first.guard
    assert (len(sent_first), len(sent)) == (1, 1)  # the write never left
    assert (first.calls, again.calls) == (2, 1)  # each read counted once; the second Clients' own: one
    handlers = [h for h in session._session._events._emitter._handlers.prefix_search("before-parameter-build")
                if isinstance(h, ReadOnlyGuard)]
    assert handlers == [first.guard]


@pytest.mark.usefixtures("moto_account")
def test_two_collections_through_one_session_each_count_their_calls() -> None:
    from auditor.collect import collect

    session = boto3.Session(region_name="us-east-1")
    runs = [collect(session, ["us-east-1"], max_processes=1) for _ in range(2)]

    assert runs[0].api_calls > 0
    assert runs[1].api_calls == runs[0].api_calls
    assert runs[1].document["accounts"] == runs[0].document["accounts"]
