"""Member accounts, and the regions of the caller's own account, read in forked worker processes: the same
snapshot, calls and progress as one process; a worker that dies costs its accounts (or regions) only; a failure
anywhere stops every worker.

moto runs in process: the workers are copies of the test process, so they read the same simulated accounts.
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import itertools
import multiprocessing
import os
import signal
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import auditor.collect as collection
from auditor import cli
from auditor.account_request import AccountRequest
from auditor.collect import Status, collect, processes
from auditor.engine import run_audit
from auditor.errors import ReadOnlyViolation, Terminated, UserError
from auditor.index import Index
from tests.cli import run_cli
from tests.conftest import REGION
from tests.servers import no_local_aws_setup, only_this_thread

ROLE = "NetworkAudit"
MEMBERS = ("111111111111", "222222222222", "333333333333")
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.skipif(not processes.usable() and threading.active_count() == 1,
                                reason="fork is not offered here (not Linux)")


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Each member account with one VPC of its own: account id -> its CIDR. One moto for the module."""
    with no_local_aws_setup(tmp_path_factory.mktemp("aws-config")), pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with mock_aws():
            yield _seed()


def _seed() -> dict[str, str]:
    return {account_id: _member_vpc(account_id, REGION, f"10.{n}.0.0/16") for n, account_id in enumerate(MEMBERS, 1)}


def _member_vpc(account_id: str, region: str, cidr: str) -> str:
    """A VPC made in a member account (through its role), in that region: its CIDR."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    ec2 = boto3.client("ec2", region_name=region, aws_access_key_id=credentials["AccessKeyId"],
                       aws_secret_access_key=credentials["SecretAccessKey"],
                       aws_session_token=credentials["SessionToken"])
    return str(ec2.create_vpc(CidrBlock=cidr)["Vpc"]["CidrBlock"])


def _collect(max_processes: int, accounts: tuple[str, ...] = MEMBERS, regions: list[str] | None = None,
             **kwargs: Any) -> collection.Collected:
    only_this_thread()
    return collect(boto3.Session(region_name=REGION), regions or [REGION], now=NOW, max_processes=max_processes,
                   accounts=AccountRequest(role_name=ROLE, account_ids=accounts), **kwargs)


def _cidrs(document: dict[str, Any], account_id: str) -> set[str]:
    return {vpc["CidrBlock"] for vpc in document["accounts"][account_id]["regions"][REGION]["ec2:Vpcs"]}


def test_workers_give_the_same_snapshot_calls_and_progress_as_one_process(members: dict[str, str]) -> None:
    seen: dict[int, list[Status]] = {1: [], 2: [], 3: []}
    alone = _collect(1, progress=seen[1].append)
    forked = _collect(3, progress=seen[3].append)
    taking = _collect(2, progress=seen[2].append)  # fewer workers than accounts: the third is taken by one
    assert (alone.processes, forked.processes, taking.processes) == (1, 3, 2)
    assert forked.document == alone.document == taking.document
    assert forked.api_calls == alone.api_calls == taking.api_calls
    assert seen[2][-1] == seen[1][-1]
    for account_id, cidr in members.items():
        assert cidr in _cidrs(forked.document, account_id)
    assert seen[3][-1] == seen[1][-1]
    assert seen[3][-1].accounts_done == seen[3][-1].accounts_total == 3
    assert seen[3][-1].regions_done == seen[3][-1].regions_total == 3  # one region in each account
    assert "3 account(s) in 3 processes" in forked.summary()
    assert multiprocessing.active_children() == []


CALLER_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


@pytest.fixture(scope="module")
def callers_regions(members: dict[str, str]) -> dict[str, str]:
    """The caller's own account (no role) with a VPC in each of three regions: region -> its CIDR."""
    return {region: boto3.client("ec2", region_name=region).create_vpc(CidrBlock=f"10.{50 + n}.0.0/16")[
        "Vpc"]["CidrBlock"] for n, region in enumerate(CALLER_REGIONS)}


@pytest.fixture(scope="module")
def members_regions(members: dict[str, str]) -> dict[str, str]:
    """The first member account with a VPC in each region of CALLER_REGIONS: region -> its CIDR."""
    return {region: members[MEMBERS[0]] if region == REGION else _member_vpc(MEMBERS[0], region, f"10.{60 + n}.0.0/16")
            for n, region in enumerate(CALLER_REGIONS)}


def _collect_callers(max_processes: int, **kwargs: Any) -> collection.Collected:
    only_this_thread()
    return collect(boto3.Session(region_name=REGION), list(CALLER_REGIONS), now=NOW, max_processes=max_processes,
                   **kwargs)


def _collect_one_member(max_processes: int, **kwargs: Any) -> collection.Collected:
    return _collect(max_processes, (MEMBERS[0],), regions=list(CALLER_REGIONS), **kwargs)


@pytest.mark.parametrize("whose", ["the caller's", "one member's"])
def test_one_accounts_regions_in_workers_give_the_same_snapshot_calls_and_progress(
        callers_regions: dict[str, str], members_regions: dict[str, str], whose: str) -> None:
    read = _collect_callers if whose == "the caller's" else _collect_one_member
    seen: dict[int, list[Status]] = {1: [], 2: [], 3: []}
    alone = read(1, progress=seen[1].append)
    forked = read(3, progress=seen[3].append)
    taking = read(2, progress=seen[2].append)  # the global keys and three regions, for two workers
    assert (alone.processes, forked.processes, taking.processes) == (1, 3, 2)
    assert forked.document == alone.document == taking.document
    assert forked.api_calls == alone.api_calls == taking.api_calls
    [account] = forked.document["accounts"].values()
    assert sorted(account["regions"]) == sorted(["global", *CALLER_REGIONS])
    for region, cidr in (callers_regions if whose == "the caller's" else members_regions).items():
        assert cidr in {vpc["CidrBlock"] for vpc in account["regions"][region]["ec2:Vpcs"]}
    assert seen[3][-1] == seen[2][-1] == seen[1][-1]
    assert seen[3][-1].regions_done == seen[3][-1].regions_total == 3
    assert seen[3][-1].accounts_done == seen[3][-1].accounts_total == 1
    assert "collected 1 account(s) in 3 processes, 3 region(s)" in forked.summary()
    assert "collected 1 account(s), 3 region(s)" in alone.summary()
    assert multiprocessing.active_children() == []


def test_one_region_of_the_caller_is_read_in_this_process(callers_regions: dict[str, str]) -> None:
    one = collect(boto3.Session(region_name=REGION), [REGION], now=NOW, max_processes=4)
    assert one.processes == 1


@pytest.mark.usefixtures("eight_cpus")
def test_one_region_of_one_member_is_read_in_this_process(members: dict[str, str]) -> None:
    assert _collect(4, (MEMBERS[0],)).processes == 1
    assert _collect(4, MEMBERS[:2]).processes == 2  # a region each: never more processes than regions


@pytest.mark.parametrize(("whose", "lost"), [("the caller's", "eu-west-1"), ("the caller's", "global"),
                                             ("one member's", "ap-southeast-2")])
def test_a_worker_that_dies_costs_only_the_regions_it_held(callers_regions: dict[str, str],
                                                           members_regions: dict[str, str],
                                                           monkeypatch: pytest.MonkeyPatch, whose: str,
                                                           lost: str) -> None:
    read = _collect_callers if whose == "the caller's" else _collect_one_member
    collect_account = collection.collect_account

    def dying(clients: Any, account_id: str, regions: list[str], *args: Any, **kwargs: Any) -> Any:
        if (regions or ["global"]) == [lost]:
            os._exit(5)
        return collect_account(clients, account_id, regions, *args, **kwargs)

    alone = read(1)
    monkeypatch.setattr(collection, "collect_account", dying)
    forked = read(2)
    [(account_id, account)] = forked.document["accounts"].items()
    # The worker that died held that part, and perhaps others it had taken: each is one error, where it was to be
    # stored; every other part is as one process reads it.
    gone = {e["region"]: e for e in forked.document["errors"] if e["key"] == processes.WORKER_KEY}
    assert lost in gone
    assert {(e["code"], "code 5" in e["message"]) for e in gone.values()} == {("WorkerExited", True)}
    assert len(gone) < len(alone.document["accounts"][account_id]["regions"])
    for region, data in alone.document["accounts"][account_id]["regions"].items():
        assert account["regions"].get(region) == (None if region in gone else data)
    findings = {f.region: f.message for f in run_audit(Index(forked.document), now=NOW).findings
                if f.rule_id == "AUD001" and f.resource_id == processes.WORKER_KEY}
    assert findings.keys() == gone.keys()
    expected = "reading the account's global keys exited" if lost == "global" else "reading the region exited"
    assert expected in findings[lost]
    assert multiprocessing.active_children() == []


def _collect_members_regions(max_processes: int, **kwargs: Any) -> collection.Collected:
    return _collect(max_processes, regions=list(CALLER_REGIONS), **kwargs)


@pytest.fixture(scope="module")
def members_regions_alone(members_regions: dict[str, str]) -> collection.Collected:
    """The three member accounts in CALLER_REGIONS, read in this process: what every split run must give."""
    return _collect_members_regions(1)


@pytest.fixture
def eight_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """More CPUs than the 3 member accounts, wherever the tests run."""
    monkeypatch.setattr(processes, "cpus", lambda: 8)


@pytest.mark.usefixtures("eight_cpus")
def test_fewer_accounts_than_workers_are_read_a_region_at_a_time(members_regions: dict[str, str]) -> None:
    seen: dict[int, list[Status]] = {1: [], 3: [], 6: []}
    alone = _collect_members_regions(1, progress=seen[1].append)
    by_account = _collect_members_regions(3, progress=seen[3].append)  # as many accounts as workers: whole
    by_region = _collect_members_regions(6, progress=seen[6].append)  # 3 accounts x (3 regions + global keys)
    assert (alone.processes, by_account.processes, by_region.processes) == (1, 3, 6)
    assert by_region.document == by_account.document == alone.document
    assert by_region.api_calls == by_account.api_calls == alone.api_calls
    for region, cidr in members_regions.items():
        assert cidr in {vpc["CidrBlock"] for vpc in
                        by_region.document["accounts"][MEMBERS[0]]["regions"][region]["ec2:Vpcs"]}
    for account_id in MEMBERS:
        assert sorted(by_region.document["accounts"][account_id]["regions"]) == sorted(["global", *CALLER_REGIONS])
    assert seen[6][-1] == seen[3][-1] == seen[1][-1]
    assert seen[6][-1].accounts_done == seen[6][-1].accounts_total == 3
    assert seen[6][-1].regions_done == seen[6][-1].regions_total == 9
    assert "collected 3 account(s) in 6 processes, 3 region(s)" in by_region.summary()
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(("cpus", "bound"), [
    (8, 8),      # split, each worker would have a share of the bound for all it reads: 8 // 6 = 1 call in flight
    (3, None),   # a CPU for each account already
])
def test_an_account_stays_whole_in_one_worker(members_regions_alone: collection.Collected,
                                              monkeypatch: pytest.MonkeyPatch, cpus: int, bound: int | None) -> None:
    monkeypatch.setattr(processes, "cpus", lambda: cpus)
    whole = _collect_members_regions(6, max_workers_per_account=bound)
    assert whole.processes == 3
    assert whole.document == members_regions_alone.document


@pytest.mark.usefixtures("eight_cpus")
def test_an_account_not_assumed_leaves_the_others_read_a_region_at_a_time(
        members_regions_alone: collection.Collected, monkeypatch: pytest.MonkeyPatch) -> None:
    denied = MEMBERS[1]
    fetcher = collection.assume_role_fetcher

    def refusing(client: Callable[[], Any], arn: str, request: AccountRequest) -> Any:
        if denied not in arn:
            return fetcher(client, arn, request)

        def fetch() -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": f"not authorized: {arn}"}}, "AssumeRole")
        return fetch

    alone = members_regions_alone
    monkeypatch.setattr(collection, "assume_role_fetcher", refusing)
    split = _collect_members_regions(10)
    assert split.processes == 6  # a worker for each region of the two accounts read
    assert sorted(split.document["accounts"]) == [MEMBERS[0], MEMBERS[2]]
    assert [(e["account_id"], e["key"], e["code"]) for e in split.document["errors"]
            if e["account_id"] == denied] == [(denied, "sts:AssumeRole", "AccessDenied")]
    assert split.unread == [denied]
    for account_id in (MEMBERS[0], MEMBERS[2]):
        assert split.document["accounts"][account_id] == alone.document["accounts"][account_id]
    assert multiprocessing.active_children() == []


@pytest.mark.usefixtures("eight_cpus")
def test_a_worker_that_dies_costs_only_the_parts_of_accounts_it_held(members_regions_alone: collection.Collected,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    lost = (MEMBERS[1], "eu-west-1")
    collect_account = collection.collect_account

    def dying(clients: Any, account_id: str, regions: list[str], *args: Any, **kwargs: Any) -> Any:
        if (account_id, *regions) == lost:
            os._exit(6)
        return collect_account(clients, account_id, regions, *args, **kwargs)

    alone = members_regions_alone
    monkeypatch.setattr(collection, "collect_account", dying)
    split = _collect_members_regions(6)
    gone = {(e["account_id"], e["region"]) for e in split.document["errors"] if e["key"] == processes.WORKER_KEY}
    assert lost in gone
    assert len(gone) < 12  # the parts that worker had taken, of any account; not the others
    for account_id in MEMBERS:
        for region, data in alone.document["accounts"][account_id]["regions"].items():
            kept = split.document["accounts"][account_id]["regions"].get(region)
            assert kept == (None if (account_id, region) in gone else data)
    assert split.unread == []  # every account kept what its other parts read
    assert multiprocessing.active_children() == []


class _CallerClients:
    """What a worker uses of the caller's clients: forget the pooled connections, count the calls."""

    calls = 100  # made by the caller before the workers start

    def forget(self) -> None:
        pass


def test_each_worker_starts_with_one_account_and_the_free_one_takes_the_rest() -> None:
    drained = multiprocessing.get_context("fork").Event()  # inherited by both workers

    def read(first: list[str], budget: int, forward: Any, report: Any, more: Any) -> None:
        forward.update(regions_total=1, regions_done=1, reads_done=2)
        if first == ["a"]:  # a large account: its worker is busy until the other has taken every account left
            assert drained.wait(30)
        mine = list(first)
        while (account_id := more()) is not None:
            mine.append(account_id)
        drained.set()
        _CallerClients.calls += len(mine)  # one AssumeRole an account, in the worker's copy
        for account_id in mine:
            report(account_id, (None, [], (os.getpid(), budget, tuple(mine))))

    outcomes: dict[str, Any] = {}
    tracker = collection.Tracker(accounts=5)
    calls, _ = processes.read_in_processes(["a", "b", "c", "d", "e"], 2, 10, read, [_CallerClients()],
                                        on_outcome=outcomes.__setitem__, tracker=tracker)
    assert sorted(outcomes) == ["a", "b", "c", "d", "e"]
    assert {outcome[2][2] for outcome in outcomes.values()} == {("a",), ("b", "c", "d", "e")}
    assert {outcome[2][1] for outcome in outcomes.values()} == {5}  # max_workers shared out
    assert len({outcome[2][0] for outcome in outcomes.values()} | {os.getpid()}) == 3  # two workers, not this one
    assert tracker.status == Status(0, 5, 2, 2, 4)
    assert calls == 5  # the workers' calls only: the caller's 100 are counted once, by the caller
    assert _CallerClients.calls == 100
    assert gc.get_freeze_count() == 0  # the objects frozen for the workers are the collector's again


class _Counted:
    """Clients a worker must forget (its connections are the caller's) and whose calls it must count."""

    def __init__(self) -> None:
        self.calls = 0
        self.forgotten = False

    def forget(self) -> None:
        self.forgotten = True


def test_every_clients_given_is_forgotten_in_the_worker_and_its_calls_counted() -> None:
    caller, account = _Counted(), _Counted()

    def read(first: list[str], budget: int, forward: Any, report: Any, more: Any) -> None:
        caller.calls += 1  # an AssumeRole renewing the account's credentials, say
        account.calls += 10
        report(first[0], (None, [], (caller.forgotten, account.forgotten)))

    outcomes: dict[str, Any] = {}
    calls, _ = processes.read_in_processes(["a"], 1, 10, read, [caller, account], on_outcome=outcomes.__setitem__,
                                        tracker=collection.Tracker(accounts=1))
    assert outcomes["a"][2] == (True, True)
    assert calls == 11
    assert (caller.calls, account.calls, caller.forgotten) == (0, 0, False)  # this process's own are untouched


def test_an_account_given_to_a_worker_that_dies_is_one_error() -> None:
    def read(first: list[str], budget: int, forward: Any, report: Any, more: Any) -> None:
        report(first[0], (None, [], 0))
        if first == ["b"]:  # "a"'s worker asks for nothing more: "c" is this one's
            assert more() == "c"
            os._exit(9)

    outcomes: dict[str, Any] = {}
    processes.read_in_processes(["a", "b", "c"], 2, 10, read, [_CallerClients()], on_outcome=outcomes.__setitem__,
                                tracker=collection.Tracker(accounts=3))
    assert outcomes["a"] == outcomes["b"] == (None, [], 0)
    [error] = outcomes["c"][1]
    assert (error.account_id, error.key, error.code) == ("c", processes.WORKER_KEY, "WorkerExited")
    assert "code 9" in error.message
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_before_reading_the_account_it_asked_for_is_one_error_each() -> None:
    """The caller's answer unread in the dead worker's end of the pipe: Linux then resets the connection, and the
    caller's next read of it raised ConnectionResetError, which stopped the whole run (seen once in the suite, from
    test_a_worker_that_dies_costs_only_the_regions_it_held: a worker's thread died while another asked for more)."""
    def read(first: list[str], budget: int, forward: Any, report: Any, more: Any) -> None:
        if first == ["b"]:
            forward.send(("take",))  # what `more` sends, without reading the answer
            time.sleep(1)  # the answer ("c") arrives, unread
            os._exit(9)
        report(first[0], (None, [], 0))

    outcomes: dict[str, Any] = {}
    processes.read_in_processes(["a", "b", "c"], 2, 10, read, [_CallerClients()], on_outcome=outcomes.__setitem__,
                                tracker=collection.Tracker(accounts=3))
    assert outcomes["a"] == (None, [], 0)
    for account_id in ("b", "c"):
        [error] = outcomes[account_id][1]
        assert (error.account_id, error.key, error.code) == (account_id, processes.WORKER_KEY, "WorkerExited")
        assert "code 9" in error.message
    assert multiprocessing.active_children() == []


def test_a_worker_killed_while_it_sends_an_account_is_one_error_and_the_run_goes_on() -> None:
    """Killed part way through a message (the OOM killer picks a worker at its largest, which is when it pickles
    and sends a large account): the caller read a message cut short, OSError("got end of file during message"),
    which stopped the whole run until 2026-11-27."""
    def read(first: list[str], budget: int, forward: Any, report: Any, more: Any) -> None:
        if first == ["b"]:
            # What Connection.send writes (a length, then the pickle), cut short: the worker dies mid-message.
            os.write(forward._connection.fileno(), struct.pack("!i", 1 << 20) + b"\x80\x04\x95partial")
            os._exit(9)
        report(first[0], (None, [], 0))

    outcomes: dict[str, Any] = {}
    processes.read_in_processes(["a", "b"], 2, 10, read, [_CallerClients()], on_outcome=outcomes.__setitem__,
                                tracker=collection.Tracker(accounts=2))
    assert outcomes["a"] == (None, [], 0)
    [error] = outcomes["b"][1]
    assert (error.account_id, error.key, error.code) == ("b", processes.WORKER_KEY, "WorkerExited")
    assert "code 9" in error.message
    assert multiprocessing.active_children() == []


def _no_fork_from(call: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forks from the `call`th on (0: the first) fail, as under a container's limit on processes."""
    start, calls = multiprocessing.context.ForkProcess.start, itertools.count()

    def start_or_fail(process: Any) -> None:
        if next(calls) >= call:
            raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
        start(process)

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", start_or_fail)


def _read_all(first: list[str], budget: int, forward: Any, report: Any, more: Any) -> None:
    """Each account's outcome names the process that read it (in place of its call count)."""
    for account_id in first:
        report(account_id, (None, [], os.getpid()))
    while more is not None and (account_id := more()) is not None:
        report(account_id, (None, [], os.getpid()))


def test_when_no_worker_can_be_forked_this_process_reads_every_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until 2026-11-27 a failed fork (EAGAIN, ENOMEM) was an internal error: the run wrote nothing."""
    _no_fork_from(0, monkeypatch)

    outcomes: dict[str, Any] = {}
    forked = processes.read_in_processes(["a", "b", "c"], 2, 10, _read_all, [_CallerClients()],
                                         on_outcome=outcomes.__setitem__, tracker=collection.Tracker(accounts=3))

    assert outcomes == {account_id: (None, [], os.getpid()) for account_id in ("a", "b", "c")}
    assert forked == (0, 1)  # no call made in a worker (the caller's own clients count them here); one process
    assert multiprocessing.active_children() == []


def test_when_a_second_worker_cannot_be_forked_the_first_reads_its_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_fork_from(1, monkeypatch)

    outcomes: dict[str, Any] = {}
    forked = processes.read_in_processes(["a", "b", "c"], 3, 12, _read_all, [_CallerClients()],
                                         on_outcome=outcomes.__setitem__, tracker=collection.Tracker(accounts=3))

    readers = {outcome[2] for outcome in outcomes.values()}
    assert sorted(outcomes) == ["a", "b", "c"]
    assert forked.processes == 1
    assert len(readers) == 1 and os.getpid() not in readers  # the one worker took "b" and "c" too
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_costs_only_its_accounts(members: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    lost = MEMBERS[1]
    collect_member = collection._collect_member

    def dying(*args: Any, **kwargs: Any) -> Any:
        if args[4] == lost:
            os._exit(7)
        return collect_member(*args, **kwargs)

    monkeypatch.setattr(collection, "_collect_member", dying)
    forked = _collect(3)
    errors = [e for e in forked.document["errors"] if e["account_id"] == lost]
    assert [(e["key"], e["code"]) for e in errors] == [(processes.WORKER_KEY, "WorkerExited")]
    assert "code 7" in errors[0]["message"]
    assert forked.unread == [lost]
    findings = [f for f in run_audit(Index(forked.document), now=NOW).findings if f.rule_id == "AUD001"
                and f.account_id == lost]
    assert [f.resource_id for f in findings] == [processes.WORKER_KEY]
    assert "worker process reading the account exited" in findings[0].message
    for account_id in (MEMBERS[0], MEMBERS[2]):
        assert members[account_id] in _cidrs(forked.document, account_id)
    assert multiprocessing.active_children() == []


def test_a_worker_stopped_alone_by_sigterm_costs_only_its_accounts(members: dict[str, str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The program's SIGTERM handler (cli.main) is not the workers': there it would fail the whole run."""
    lost = MEMBERS[1]
    collect_member = collection._collect_member

    def terminated(*args: Any, **kwargs: Any) -> Any:
        if args[4] == lost:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)  # the signal ends this worker before this ends
        return collect_member(*args, **kwargs)

    monkeypatch.setattr(collection, "_collect_member", terminated)
    previous = signal.signal(signal.SIGTERM, cli._terminate)  # noqa: SLF001 - as the program runs
    try:
        forked = _collect(3)
    finally:
        signal.signal(signal.SIGTERM, previous)

    errors = [e for e in forked.document["errors"] if e["account_id"] == lost]
    assert [(e["key"], e["code"]) for e in errors] == [(processes.WORKER_KEY, "WorkerExited")]
    assert f"code {-signal.SIGTERM}" in errors[0]["message"]
    for account_id in (MEMBERS[0], MEMBERS[2]):
        assert members[account_id] in _cidrs(forked.document, account_id)
    assert multiprocessing.active_children() == []


_STOP_AFTER_THE_NEXT_FORK: list[bool] = []  # armed by a test: the next fork in this process sends it SIGTERM


def _stop_after_a_fork() -> None:
    if _STOP_AFTER_THE_NEXT_FORK:
        _STOP_AFTER_THE_NEXT_FORK.clear()
        os.kill(os.getpid(), signal.SIGTERM)


if hasattr(os, "register_at_fork"):  # once for the module: a hook cannot be taken back
    os.register_at_fork(after_in_parent=_stop_after_a_fork)


def test_a_sigterm_that_lands_while_workers_are_forked_stops_the_run() -> None:
    # Handled inside a hook the fork runs, Terminated was printed and dropped there: the run went on to the end.
    outcomes: dict[str, Any] = {}
    previous = signal.signal(signal.SIGTERM, cli._terminate)  # noqa: SLF001 - as the program runs
    try:
        _STOP_AFTER_THE_NEXT_FORK.append(True)
        with pytest.raises(Terminated):
            processes.read_in_processes(["a", "b", "c"], 2, 10, _read_all, [_CallerClients()],
                                        on_outcome=outcomes.__setitem__, tracker=collection.Tracker(accounts=3))
    finally:
        _STOP_AFTER_THE_NEXT_FORK.clear()
        signal.signal(signal.SIGTERM, previous)

    assert len(outcomes) < 3  # stopped, not read to the end
    assert multiprocessing.active_children() == []


def test_a_write_refused_in_a_worker_is_raised_here(members: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    def refusing(*args: Any, **_: Any) -> Any:
        raise ReadOnlyViolation(f"refused ec2:CreateVpc in {args[4]}")

    monkeypatch.setattr(collection, "_collect_member", refusing)
    with pytest.raises(ReadOnlyViolation, match="refused ec2:CreateVpc"):
        _collect(3)
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("cpus", [2, 8])  # the workers read accounts; regions of accounts
def test_an_interrupt_here_stops_every_worker(members_regions: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                              cpus: int) -> None:
    def interrupted(account_id: str, document: dict[str, Any]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(processes, "cpus", lambda: cpus)
    with pytest.raises(KeyboardInterrupt):
        _collect_members_regions(6, on_shard=interrupted)
    assert multiprocessing.active_children() == []


@pytest.mark.usefixtures("eight_cpus")
def test_accounts_with_no_key_to_read_are_done_at_once(members_regions: dict[str, str]) -> None:
    with pytest.raises(UserError, match="could not read any of the 3 account"):  # not a worker waited on forever
        _collect_members_regions(6, collectors=[])


@pytest.mark.usefixtures("eight_cpus")
def test_a_write_refused_in_a_worker_reading_a_region_is_raised_here(members_regions: dict[str, str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    collect_account = collection.collect_account

    def refusing(clients: Any, account_id: str, regions: list[str], *args: Any, **kwargs: Any) -> Any:
        if regions == ["eu-west-1"]:
            raise ReadOnlyViolation(f"refused ec2:CreateVpc in {account_id}")
        return collect_account(clients, account_id, regions, *args, **kwargs)

    monkeypatch.setattr(collection, "collect_account", refusing)
    with pytest.raises(ReadOnlyViolation, match="refused ec2:CreateVpc"):
        _collect_members_regions(6)
    assert multiprocessing.active_children() == []


@pytest.mark.usefixtures("eight_cpus")
def test_accounts_read_a_region_at_a_time_give_the_same_shards(members_regions: dict[str, str]) -> None:
    shards: dict[int, dict[str, dict[str, Any]]] = {1: {}, 6: {}}
    for processes_ in shards:
        collected = _collect_members_regions(processes_, on_shard=shards[processes_].__setitem__)
        assert collected.processes == processes_
        assert collected.document["accounts"] == {}  # the data is in the shards
    assert sorted(shards[6]) == sorted(MEMBERS)
    assert shards[6] == shards[1]


@pytest.mark.parametrize(("requested", "cpus", "accounts", "expected"), [
    (None, 2, 3, 3),   # two per CPU, never more than the accounts
    (None, 2, 10, 4),
    (None, 16, 100, processes.DEFAULT_MAX_PROCESSES),
    (None, 4, 1, 1),   # one account: no worker
    (1, 8, 10, 1),     # --processes 1: this process only
    (6, 1, 10, 6),     # asked for: as asked, up to the accounts
    (6, 1, 4, 4),
])
def test_how_many_workers(monkeypatch: pytest.MonkeyPatch, requested: int | None, cpus: int, accounts: int,
                          expected: int) -> None:
    monkeypatch.setattr(processes, "usable", lambda: True)
    monkeypatch.setattr(processes, "cpus", lambda: cpus)
    assert processes.count(requested, accounts) == expected


def test_the_cpus_are_those_this_process_may_run_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # the machine's
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)  # a container's two
    assert processes.cpus() == 2
    assert processes.count(None, 10) == 4

    def unknown(pid: int) -> set[int]:
        raise OSError("not offered")

    monkeypatch.setattr(os, "sched_getaffinity", unknown, raising=False)
    assert processes.cpus() == 64


def test_no_worker_while_another_thread_runs() -> None:
    only_this_thread()
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert processes.usable() is False
        assert processes.count(4, 10) == 1
    finally:
        stop.set()
        thread.join()
    assert processes.usable() is True


@pytest.mark.parametrize(("flags", "config", "expected"), [
    ((), "", " in 3 processes"),  # two per CPU, up to the 3 accounts
    (("--processes", "2"), "", " in 2 processes"),
    (("--processes", "1"), "", ""),
    ((), "processes = 1\n", ""),
    (("--processes", "2"), "processes = 1\n", " in 2 processes"),  # the flag wins
])
def test_processes_from_the_flag_or_the_config_file(members: dict[str, str], tmp_path: Any,
                                                    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                                    flags: tuple[str, ...], config: str, expected: str) -> None:
    monkeypatch.setattr(processes, "cpus", lambda: 2)  # the default: two per CPU, up to the 3 accounts
    only_this_thread()
    settings = tmp_path / "auditor.toml"
    settings.write_text(config)
    code, _, err = run_cli(capsys, "collect", "--config", str(settings), "--role-name", ROLE,
                           "--accounts", ",".join(MEMBERS), "--regions", REGION, "--output",
                           str(tmp_path / "snapshot.json"), *flags)
    assert code == 0, err
    assert err.startswith(f"collected 3 account(s){expected}, 1 region(s):"), err


@pytest.mark.parametrize("value", ["0", "65", "two"])
def test_a_bad_number_of_processes_is_one_line_and_exit_2(tmp_path: Any, capsys: pytest.CaptureFixture[str],
                                                          value: str) -> None:
    code, out, err = run_cli(capsys, "collect", "--role-name", ROLE, "--accounts", MEMBERS[0],
                             "--processes", value, "--output", str(tmp_path / "snapshot.json"))
    assert (code, out) == (2, "")
    assert err.startswith("auditor: error: Invalid value for '--processes'") and len(err.splitlines()) == 1, err
    assert not (tmp_path / "snapshot.json").exists()


def test_a_bad_processes_key_in_the_config_file_is_one_line_and_exit_2(tmp_path: Any,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "auditor.toml"
    settings.write_text("processes = 0\n")
    code, _, err = run_cli(capsys, "collect", "--config", str(settings))
    assert code == 2
    assert "processes" in err and "1 to 64" in err and len(err.strip().splitlines()) == 1


def test_the_flags_default_is_the_collections() -> None:
    """--max-workers not given is None on every command that collects: collect() then works out the default."""
    import inspect

    from auditor.cli import cli
    from auditor.config import WHOLE_NUMBERS

    for command in ("collect", "audit", "graph"):
        flag = next(p for p in cli.commands[command].params if p.name == "max_workers")
        assert flag.default is None, command
        assert "32 per worker process" in (flag.help or ""), command
        assert flag.type.max == WHOLE_NUMBERS["max_workers"] == collection.MAX_WORKERS  # type: ignore[attr-defined]
    assert inspect.signature(collect).parameters["max_workers"].default is None
    assert collection.per_account_default(collection.DEFAULT_MAX_WORKERS) == collection.DEFAULT_MAX_WORKERS
    assert collection.per_region_default(collection.DEFAULT_PER_PROCESS) == collection.DEFAULT_PER_REGION


@pytest.mark.parametrize(("cpus", "max_processes", "expected"), [
    (1, None, 64),  # two worker processes
    (2, None, 128),  # four: this VM
    (3, None, 192),
    (4, None, 256),  # eight, processes.DEFAULT_MAX_PROCESSES
    (64, None, 256),
    (8, 1, 64),  # --processes 1: this process only
    (8, 3, 96),
    (2, 64, 256),  # never more than the flag allows
])
def test_the_default_bound_is_32_calls_per_worker_process_or_64_in_one(
        monkeypatch: pytest.MonkeyPatch, cpus: int, max_processes: int | None, expected: int) -> None:
    monkeypatch.setattr(processes, "cpus", lambda: cpus)
    monkeypatch.setattr(processes, "usable", lambda: True)
    assert collection.max_workers_default(max_processes) == expected


def test_without_fork_the_default_bound_is_one_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "cpus", lambda: 8)
    monkeypatch.setattr(processes, "usable", lambda: False)  # not Linux, or threads of the caller's running
    assert collection.max_workers_default() == collection.DEFAULT_MAX_WORKERS == 64


@pytest.mark.parametrize(("given", "shared"), [(None, 128), (20, 20)])
def test_the_workers_share_the_default_bound_unless_one_is_given(
        callers_regions: dict[str, str], monkeypatch: pytest.MonkeyPatch, given: int | None, shared: int) -> None:
    """Two CPUs (four worker processes may be forked): 128 calls in flight in all, shared out between the three
    workers that read the caller's three regions and its global keys; or what --max-workers says."""
    monkeypatch.setattr(processes, "cpus", lambda: 2)
    seen: list[tuple[int, int]] = []
    fork = processes.read_in_processes

    def spied(parts: list[str], workers: int, max_workers: int, *args: Any, **kwargs: Any) -> int:
        seen.append((workers, max_workers))
        return fork(parts, workers, max_workers, *args, **kwargs)

    monkeypatch.setattr(processes, "read_in_processes", spied)
    collected = _collect_callers(None, max_workers=given)  # type: ignore[arg-type]
    assert seen == [(3, shared)]
    assert collected.processes == 3
    [account] = collected.document["accounts"].values()
    assert sorted(account["regions"]) == sorted(["global", *CALLER_REGIONS])


CALLER_SCRIPT = """
import sys, time
from auditor.collect import processes
from auditor.collect.runner import Tracker

class Clients:
    calls = 0
    def forget(self):
        pass

def read(account_ids, budget, forward, report, more):
    forward.update(reads_done=1)  # the caller prints its pid, then sleeps past the test
    time.sleep(60)

def started(status):
    import multiprocessing
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)

processes.read_in_processes(["a", "b"], 2, 4, read, [Clients()], on_outcome=lambda *a: None, tracker=Tracker(started))
"""


def test_workers_end_when_the_caller_is_killed(tmp_path: Any) -> None:
    import signal
    import subprocess
    import sys

    caller = subprocess.Popen([sys.executable, "-c", CALLER_SCRIPT], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in caller.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(workers) == 2
        os.kill(caller.pid, signal.SIGKILL)
        caller.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_running(pid) for pid in workers):
            time.sleep(0.05)
        assert not [pid for pid in workers if _running(pid)]
    finally:
        caller.kill()


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphaned worker is reaped by init, not by the test)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


UNTIL_ALONE_SCRIPT = """
import os, ssl, threading
from auditor.collect import processes

def tasks():
    return len(os.listdir("/proc/self/task"))

release = threading.Event()
held = threading.Thread(target=release.wait)
held.start()
processes._until_alone(timeout=0.2)  # a thread still running: it gives up, and the fork would go ahead
print(tasks())
release.set()
held.join()
threads = [threading.Thread(target=ssl.create_default_context) for _ in range(8)]  # OpenSSL, as clients use it
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
processes._until_alone()
print(tasks())
"""


def test_the_fork_waits_until_ended_threads_are_gone_from_the_system() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", UNTIL_ALONE_SCRIPT], capture_output=True, text=True, timeout=60,
                          check=True)
    assert done.stdout.split() == ["2", "1"]


@pytest.mark.usefixtures("members", "callers_regions")
def test_with_no_fork_to_be_had_a_run_gives_the_one_process_snapshot_and_calls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    alone, callers_alone = _collect(1), _collect_callers(1)
    _no_fork_from(0, monkeypatch)

    unforked, callers_unforked = _collect(3), _collect_callers(3)

    assert (unforked.document, unforked.api_calls) == (alone.document, alone.api_calls)
    assert (callers_unforked.document, callers_unforked.api_calls) == (callers_alone.document, callers_alone.api_calls)
    # Until 2026-11-27 the summary still said "in 3 processes": the processes asked for, not those that ran.
    assert unforked.processes == callers_unforked.processes == 1
    assert " processes" not in unforked.summary() and " processes" not in callers_unforked.summary()
    assert multiprocessing.active_children() == []


def test_the_summary_counts_the_workers_that_ran_when_a_fork_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _collect(1)
    _no_fork_from(2, monkeypatch)

    two = _collect(3)

    assert (two.document, two.api_calls) == (alone.document, alone.api_calls)
    assert two.processes == 2 and "3 account(s) in 2 processes" in two.summary()
    assert multiprocessing.active_children() == []
