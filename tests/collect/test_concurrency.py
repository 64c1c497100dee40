"""Accounts, regions and collectors run side by side: bounded in total and per account, same results as in turn.

moto in process plays three member accounts. A `before-send` hook on every client the collection builds
holds each request for a few milliseconds and counts the requests in flight at once, in total and per
account (each account has its own aws.Clients), so the bounds are measured on real calls.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import CancelledError, ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditor import aws, snapshot
from auditor.account_request import AccountRequest
from auditor.collect import Status, collect
from auditor.collect.runner import Tracker, collect_account
from auditor.config import parse
from auditor.errors import UserError
from tests.cli import run_cli
from tests.conftest import REGION

ROLE = "NetworkAudit"
MEMBERS = ("111111111111", "222222222222", "333333333333")
REGIONS = [REGION, "eu-west-1"]
FIXED_NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
HOLD_SECONDS = 0.01


def _member_ec2(account_id: str, region: str) -> Any:
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    return boto3.client("ec2", region_name=region, aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


@pytest.fixture
def members() -> Iterator[None]:
    """Three member accounts, each with two VPCs (so per-VPC calls), a prefix list and a TGW in two regions."""
    with mock_aws():
        for n, account_id in enumerate(MEMBERS, 1):
            for r, region in enumerate(REGIONS):
                ec2 = _member_ec2(account_id, region)
                for v in range(2):
                    ec2.create_vpc(CidrBlock=f"10.{n * 10 + r}.{v}.0/24")
                ec2.create_managed_prefix_list(PrefixListName="onprem", MaxEntries=2, AddressFamily="IPv4",
                                               Entries=[{"Cidr": f"172.{16 + n}.0.0/16"}])
                ec2.create_transit_gateway(Description=f"hub {account_id}")
        yield


class InFlight:
    """Counts requests in flight, in total, per aws.Clients (one per account) and per account and region, and keeps
    the maxima."""

    def __init__(self, hold: float = HOLD_SECONDS) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.now: dict[Any, int] = defaultdict(int)
        self.total = 0
        self.max_per_account: dict[int, int] = defaultdict(int)
        self.max_per_region: dict[tuple[int, str], int] = defaultdict(int)
        self.max_total = 0
        self.requests = 0

    def hook(self, owner: int, region: str = "") -> Any:
        def before_send(**_: Any) -> None:
            with self.lock:
                self.requests += 1
                self.now[owner] += 1
                self.now[(owner, region)] += 1
                self.total += 1
                self.max_per_account[owner] = max(self.max_per_account[owner], self.now[owner])
                self.max_per_region[(owner, region)] = max(self.max_per_region[(owner, region)],
                                                           self.now[(owner, region)])
                self.max_total = max(self.max_total, self.total)
            time.sleep(self.hold)  # the request is "on the wire"
            with self.lock:
                self.now[owner] -= 1
                self.now[(owner, region)] -= 1
                self.total -= 1

        return before_send


@pytest.fixture
def in_flight(monkeypatch: pytest.MonkeyPatch) -> InFlight:
    counter = InFlight()
    original = aws.Clients.get

    def get(self: aws.Clients, service: str, region: str) -> Any:
        client = original(self, service, region)
        if not getattr(client, "_in_flight_hooked", False):
            # Registered first, so it runs before moto answers the request in process.
            client.meta.events.register_first("before-send", counter.hook(id(self), region))
            client._in_flight_hooked = True  # noqa: SLF001
        return client

    monkeypatch.setattr(aws.Clients, "get", get)
    return counter


def _collect(max_workers: int, per_account: int | None = None, progress: Any = None,
             per_region: int | None = None) -> Any:
    return collect(boto3.Session(region_name=REGION), REGIONS, max_workers=max_workers,
                   max_workers_per_account=per_account, max_workers_per_region=per_region, progress=progress,
                   now=FIXED_NOW,
                   accounts=AccountRequest(role_name=ROLE, account_ids=MEMBERS),
                   max_processes=1)  # the bounds within one process; tests/test_processes.py shares them out


def test_each_account_stays_within_its_bound_while_accounts_run_side_by_side(members, in_flight) -> None:
    _collect(max_workers=6, per_account=2)

    member_maxima = [m for owner, m in in_flight.max_per_account.items() if m]
    assert max(member_maxima) <= 2
    assert in_flight.max_total <= 6
    assert in_flight.max_total > 2  # more than one account had calls in flight at once


def test_each_region_of_an_account_stays_within_its_bound(members, in_flight) -> None:
    _collect(max_workers=12, per_account=6, per_region=2)

    assert max(m for (owner, region), m in in_flight.max_per_region.items() if region) <= 2
    assert max(in_flight.max_per_account.values()) <= 6
    # an account had calls in flight in both regions at once: more than one region's bound
    assert max(in_flight.max_per_account.values()) > 2


def test_by_default_an_account_is_bound_per_region_not_as_a_whole(members, in_flight) -> None:
    in_flight.hold = 0.2  # long enough on the wire for every task let out to be in flight at once
    _collect(max_workers=64)

    assert max(m for (owner, region), m in in_flight.max_per_region.items() if region) <= 16
    assert max(in_flight.max_per_account.values()) > 16  # both regions of an account at their bound


def test_the_total_bound_holds_across_accounts(members, in_flight) -> None:
    _collect(max_workers=3, per_account=3)

    assert in_flight.max_total <= 3
    assert max(in_flight.max_per_account.values()) <= 3


def test_one_worker_is_one_call_at_a_time(members, in_flight) -> None:
    _collect(max_workers=1)

    assert in_flight.max_total == 1


def test_many_accounts_at_once_give_the_same_snapshot_and_calls_as_one_call_at_a_time(members) -> None:
    sequential = _collect(max_workers=1)
    concurrent = _collect(max_workers=32, per_account=8)

    assert snapshot.dumps(concurrent.document) == snapshot.dumps(sequential.document)
    assert concurrent.api_calls == sequential.api_calls
    assert sorted(concurrent.document["accounts"]) == sorted(MEMBERS)
    for account_id in MEMBERS:
        regions = concurrent.document["accounts"][account_id]["regions"]
        assert len(regions[REGION]["ec2:VpcDnsAttributes"]) == 3  # two VPCs and the default one


def test_progress_counts_accounts_and_regions_done(members) -> None:
    seen: list[Status] = []
    lock = threading.Lock()

    def progress(status: Status) -> None:
        with lock:
            seen.append(status)

    _collect(max_workers=8, per_account=4, progress=progress)

    last = seen[-1]
    assert (last.accounts_done, last.accounts_total) == (3, 3)
    assert (last.regions_done, last.regions_total) == (6, 6)
    assert all(s.regions_done <= s.regions_total and s.accounts_done <= s.accounts_total for s in seen)
    assert [s.reads_done for s in seen] == sorted(s.reads_done for s in seen)


def test_a_region_is_done_when_all_its_reads_are(moto_account) -> None:
    """One account alone: regions are counted as each finishes, never before, and all of them by the end."""
    statuses: list[Status] = []
    tracker = Tracker(statuses.append)
    clients = aws.Clients(boto3.Session(region_name=REGION))

    result = collect_account(clients, "123456789012", REGIONS, REGION, max_workers=4, progress=tracker)

    assert statuses[-1].regions_done == statuses[-1].regions_total == 2
    reads = sum(1 for _ in result.regions) and statuses[-1].reads_done
    assert reads > 2 * 30
    first_region_done = next(s for s in statuses if s.regions_done == 1)
    assert first_region_done.reads_done >= reads // 2  # a region's reads are about half of them


@pytest.mark.parametrize("key", ["max_workers_per_account", "max_workers_per_region"])
def test_the_per_account_and_per_region_bounds_are_checked_config_keys(key: str) -> None:
    assert parse({key: 4}).flag_defaults[key] == 4
    with pytest.raises(UserError, match=f"{key} must be a whole number from 1 to 256"):
        parse({key: 0})


def test_the_reads_of_one_key_per_parent_run_side_by_side(moto_account, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child key is one task per parent item: the DNS attribute reads of several VPCs overlap in time, and
    the key is stored once, sorted, as one task would have stored it."""
    ec2 = boto3.client("ec2", region_name=REGION)
    for v in range(4):
        ec2.create_vpc(CidrBlock=f"10.9{v}.0.0/16")
    counter = InFlight()
    original = aws.Clients.get

    def get(self: aws.Clients, service: str, region: str) -> Any:
        client = original(self, service, region)
        if not getattr(client, "_attribute_hooked", False):
            client.meta.events.register_first("before-send.ec2.DescribeVpcAttribute", counter.hook(0))
            client._attribute_hooked = True  # noqa: SLF001
        return client

    monkeypatch.setattr(aws.Clients, "get", get)
    clients = aws.Clients(boto3.Session(region_name=REGION))

    together = collect_account(clients, "123456789012", [REGION], REGION, max_workers=8)
    alone = collect_account(clients, "123456789012", [REGION], REGION, max_workers=1)

    records = together.regions[REGION]["ec2:VpcDnsAttributes"]
    assert counter.max_total > 1
    assert counter.requests == 2 * 2 * 5  # two attributes of five VPCs (four and the default one), twice
    assert [r["VpcId"] for r in records] == sorted(r["VpcId"] for r in records) and len(records) == 5
    assert together.regions == alone.regions


class _CountingPool(ThreadPoolExecutor):
    """A pool that tells how many calls were submitted to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.count = 0
        self.changed = threading.Condition()

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        future = super().submit(*args, **kwargs)
        with self.changed:
            self.count += 1
            self.changed.notify_all()
        return future


def test_an_account_stops_when_its_shared_pool_is_shut_down_with_its_calls_queued(moto_account) -> None:
    """Ctrl-C (or a failure in another account) shuts the shared pool down and cancels the calls it had queued.
    Future.cancel wakes no wait(), so an account whose calls were all queued waited forever, and the process,
    which joins the pool's threads at exit, could not exit."""
    pool = _CountingPool()
    release = threading.Event()
    pool.submit(release.wait)  # the pool's one thread is busy: the account's calls queue behind it
    clients = aws.Clients(boto3.Session(region_name=REGION))
    stopped: list[BaseException] = []

    def read() -> None:
        try:
            collect_account(clients, "123456789012", [REGION], REGION, pool=pool, max_in_flight=4)
        except BaseException as error:  # noqa: BLE001 - what ended it is the test's answer
            stopped.append(error)

    account = threading.Thread(target=read, name="account-under-test", daemon=True)  # a regression fails, not hangs
    account.start()
    with pool.changed:
        assert pool.changed.wait_for(lambda: pool.count >= 1 + 4, timeout=10)  # its first calls are queued
    pool.shutdown(wait=False, cancel_futures=True)
    release.set()
    account.join(timeout=10)

    assert not account.is_alive()
    assert [type(error) for error in stopped] == [CancelledError]


@pytest.mark.parametrize("command", ["collect", "audit", "graph", "reach"])
@pytest.mark.parametrize("value", ["0", "257", "many"])
def test_a_bad_bound_per_region_is_one_line_and_exit_2(command: str, value: str, tmp_path: Any,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.json"
    code, out, err = run_cli(capsys, command, "--max-workers-per-region", value, "--output", str(output))

    assert (code, out) == (2, "")
    assert err.startswith("auditor: error: Invalid value for '--max-workers-per-region'"), err
    assert len(err.splitlines()) == 1, err
    assert not output.exists()


def test_a_bad_bound_per_region_in_the_config_file_is_one_line_and_exit_2(tmp_path: Any,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    settings = tmp_path / "auditor.toml"
    settings.write_text("max_workers_per_region = 0\n")

    code, out, err = run_cli(capsys, "collect", "--config", str(settings), "--output", str(tmp_path / "out.json"))

    assert (code, out) == (2, "")
    assert err == (f"auditor: error: config {settings}: max_workers_per_region must be a whole number from 1 to 256, "
                   "not 0\n"), err
    assert not (tmp_path / "out.json").exists()
