"""Collection: the only stage that talks to AWS, and only through the read-only guard."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import boto3

from auditor import aws, snapshot
from auditor.account_request import AccountRequest
from auditor.accounts import (
    assume_role_fetcher,
    assumed_session,
    plan,
    refreshing_credentials,
    role_arn,
)
from auditor.collect import processes
from auditor.collect.context import CollectionError, describe_failure
from auditor.collect.registry import GLOBAL, GLOBAL_REGION_KEY, Collector, selected
from auditor.collect.runner import (
    AccountCollection,
    Outcome,
    Progress,
    Status,
    Tracker,
    collect_account,
    error_order,
)
from auditor.connections import POOL_SIZE
from auditor.errors import ReadOnlyViolation, UserError
from auditor.snapshot import ASSUME_ROLE_KEY, REGIONS_KEY

__all__ = ["DEFAULT_MAX_WORKERS", "DEFAULT_PER_PROCESS", "DEFAULT_PER_REGION", "MAX_WORKERS", "Collected", "Progress",
           "Status", "collect", "max_workers_default", "per_account_default", "per_region_default"]

# Per account and region, at most this many calls in flight unless --max-workers-per-region says otherwise: EC2
# limits each account's request rate in each region, so one region's burst stays under it while the account's
# other regions, and other accounts, run beside it.
DEFAULT_PER_REGION = 16
# In total, unless --max-workers says otherwise, when one process reads everything: four regions at their own bound
# (the request rates are each account's and region's, not shared); more would only wait for its CPU (README, Speed).
DEFAULT_MAX_WORKERS = 64
# ... and for each worker process when the run may fork several (two per CPU, see processes.count): as many as keep
# its half of a CPU busy at about 150 ms a call, as AWS's farther regions and slower Describe calls take. A fixed 64
# shared out between them left the CPUs idle, waiting on the network (bench/workers_bench.py, README, Speed).
DEFAULT_PER_PROCESS = 32
# The most calls in flight a run can have: the flag's and the config key's upper bound, and the connection pools'.
MAX_WORKERS = POOL_SIZE

# Called with (account id, that account's snapshot) as soon as each account is done: `--shard-dir` writes it.
ShardSink = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class Collected:
    """A run's outcome. With `on_shard` (the accounts of a run through a role), each account's data is in its
    shard only: `document` holds every error but no account, and `collections` keep each account's keys read,
    errors and counts, not its items, so a run does not hold the organization's data in memory."""

    document: dict[str, Any]
    collections: list[AccountCollection]
    api_calls: int
    seconds: float
    unread: list[str] = field(default_factory=list)  # accounts not read: role not assumed, no region to read
    skipped: str = ""  # with --org: the inactive accounts not read, counted by state
    processes: int = 1  # worker processes the accounts were read in (1: this process only)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for collection in self.collections:
            for key, count in collection.resource_counts().items():
                counts[key] = counts.get(key, 0) + count
        regions = {r for c in self.collections for r in c.regions if r != "global"}
        errors = len(self.document["errors"])
        per_type = ", ".join(f"{key.split(':', 1)[1]} {n}" for key, n in sorted(counts.items()) if n)
        unread = f", {len(self.unread)} not read ({', '.join(self.unread)})" if self.unread else ""
        skipped = f"; {self.skipped}" if self.skipped else ""
        workers = f" in {self.processes} processes" if self.processes > 1 else ""
        return (f"collected {len(self.collections)} account(s){unread}{workers}, {len(regions)} region(s): "
                f"{sum(counts.values())} resources ({per_type or 'none'}); "
                f"{self.api_calls} API calls, {errors} error(s){self._nothing_read()}, {self.seconds:.1f} s{skipped}")

    def _nothing_read(self) -> str:
        """The accounts' regions where every read failed (a region a policy denies, an endpoint not reached), if any:
        the errors' count alone does not say that a whole region is missing. (The global keys are not a region:
        AUD001 names them.)"""
        failed = {(e["account_id"], e["region"]) for e in self.document["errors"]}
        lost = sorted((c.account_id, region) for c in self.collections for region, data in c.regions.items()
                      if not data and (c.account_id, region) in failed and region != GLOBAL_REGION_KEY)
        if not lost:
            return ""
        named = ", ".join(f"{account_id}/{region}" for account_id, region in lost[:5])
        more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
        # A region lost in every account read is most likely one the organization denies (an SCP) or the network
        # drops: worth naming, as `--regions` can leave it out.
        accounts = len({c.account_id for c in self.collections})
        per_region = Counter(region for _, region in lost)
        everywhere = sorted(region for region, count in per_region.items() if count == accounts)
        common = (f"; in every account: {', '.join(everywhere)} (leave them out with --regions)"
                  if accounts > 1 and everywhere else "")
        return f" (nothing could be read in {len(lost)} region(s): {named}{more}{common})"


def max_workers_default(max_processes: int | None = None) -> int:
    """The bound on calls in flight in total when --max-workers is not given: DEFAULT_PER_PROCESS for each worker
    process the run may fork (processes.count: `max_processes`, by default two per CPU), at most MAX_WORKERS;
    DEFAULT_MAX_WORKERS when it reads in this process only."""
    workers = processes.count(max_processes, MAX_WORKERS)
    return DEFAULT_MAX_WORKERS if workers <= 1 else min(MAX_WORKERS, DEFAULT_PER_PROCESS * workers)


def per_account_default(max_workers: int, max_workers_per_account: int | None = None) -> int:
    """The per-account bound: the one given, else none of its own (the total); never more than the total."""
    return max(1, min(max_workers, max_workers_per_account or max_workers))


def per_region_default(max_workers: int, max_workers_per_region: int | None = None) -> int:
    """The bound per account and region: the one given, or DEFAULT_PER_REGION; never more than the total."""
    return max(1, min(max_workers, max_workers_per_region or DEFAULT_PER_REGION))


def collect(session: boto3.Session, regions: list[str] | None = None, *, max_workers: int | None = None,
            max_workers_per_account: int | None = None,
            progress: Progress | None = None, now: dt.datetime | None = None,
            collectors: Iterable[Collector] | None = None, accounts: AccountRequest | None = None,
            on_shard: ShardSink | None = None, max_processes: int | None = None,
            max_workers_per_region: int | None = None) -> Collected:
    """Collect the caller's account, or with `accounts` each account through its role, concurrently.

    At most `max_workers` calls are in flight in total (default: max_workers_default), `max_workers_per_account`
    (default: no bound of its own) per account and `max_workers_per_region` (default min(max_workers, 16)) per
    account and region; accounts share one pool. Results do not depend on the order in which accounts or calls
    finish. Regions: the requested ones (default: every enabled one), per account from its own
    DescribeRegions. A requested name that is no region of the partition is a UserError before anything is read;
    a region an account has not enabled is an `ec2:Regions` error there, and the other regions are read. An
    account whose role cannot be assumed is one `sts:AssumeRole` error and collection goes on; when nothing at
    all could be read, that is a UserError and nothing is handed to `on_shard`.

    Member accounts are read in up to `max_processes` worker processes (default: two per CPU; see
    processes.count), each with its share of `max_workers`; the snapshot is the same whatever their number.
    """
    max_workers = max_workers or max_workers_default(max_processes)
    per_account = per_account_default(max_workers, max_workers_per_account)
    per_region = per_region_default(max_workers, max_workers_per_region)
    clients = aws.Clients(session, max_pool_connections=max_workers)
    home = aws.home_region(session)
    identity = aws.caller_identity(clients, home)
    if regions:
        aws.check_region_names(session, regions, identity.partition)
    collected_at = now or dt.datetime.now(dt.UTC)
    if accounts is None:
        return _collect_caller(clients, identity, regions, home, collected_at, collectors=collectors,
                               max_workers=max_workers, per_account=per_account, per_region=per_region,
                               progress=progress, on_shard=on_shard, max_processes=max_processes)

    account_plan = plan(accounts, clients, home)
    if not account_plan.account_ids:
        raise UserError(f"no active account to read ({account_plan.skipped_summary() or 'the list is empty'})")
    trusted = account_plan.organization_accounts if accounts.organization else None
    partitions = dict.fromkeys(account_plan.account_ids, identity.partition)
    tracker = Tracker(progress, accounts=len(account_plan.account_ids))
    outcomes: dict[str, Outcome] = {}
    started = time.monotonic()

    def done(account_id: str, outcome: Outcome) -> None:
        collection = outcome[0]
        if on_shard and collection is not None and collection.read_anything():
            on_shard(account_id, snapshot.build([collection], collected_at, partitions, trusted_accounts=trusted))
            outcome = (collection.without_items(), *outcome[1:])  # written: its items are the shard's now
        outcomes[account_id] = outcome
        tracker.update(accounts_done=1)

    def read(account_ids: list[str], budget: int, forward: Tracker, report: Callable[[str, Outcome], None],
             more: processes.Take | None = None) -> None:
        _read_members(session, clients, identity, accounts, account_ids, regions, home, collectors=collectors,
                      max_workers=budget, per_account=min(per_account, budget), per_region=min(per_region, budget),
                      tracker=forward, on_outcome=report, more=more)

    workers = processes.count(max_processes, min(len(account_plan.account_ids), max_workers))  # a call each at least
    member_setup_calls = 0
    if len(account_plan.account_ids) == 1 or _fewer_than_workers(len(account_plan.account_ids), max_processes,
                                                                 max_workers, per_account):
        # Its regions (theirs) are the parts to share out, as for the caller's account.
        member_setup_calls, workers = _members_in_parts(
            session, clients, identity, accounts, account_plan.account_ids, regions, home, collectors=collectors,
            max_workers=max_workers, per_account=per_account, per_region=per_region, tracker=tracker,
            max_processes=max_processes, on_outcome=done)
    elif workers > 1:
        _load_models(clients, selected(collectors), home)
        member_setup_calls, workers = processes.read_in_processes(
            account_plan.account_ids, workers, max_workers, read, [clients], on_outcome=done, tracker=tracker)
    else:
        read(account_plan.account_ids, max_workers, tracker, done)
    collections: list[AccountCollection] = []
    failures: list[CollectionError] = []
    member_calls = 0
    for account_id in account_plan.account_ids:  # in account order, whatever order they finished in
        collection, failed, calls = outcomes[account_id]
        member_calls += calls
        if collection is None:
            failures.extend(failed)
        else:
            collections.append(collection)
    if not any(collection.read_anything() for collection in collections):
        errors = sorted([*failures, *(error for collection in collections for error in collection.errors)],
                        key=lambda error: error.account_id)
        raise UserError(f"could not read any of the {len(account_plan.account_ids)} account(s){_first(errors)}")
    if on_shard:  # the accounts held back above: a shard of their errors, so the merged shards hold every error
        for collection in collections:
            if not collection.read_anything():
                on_shard(collection.account_id,
                         snapshot.build([collection], collected_at, partitions, trusted_accounts=trusted))
        for account_id in sorted({failure.account_id for failure in failures}):
            mine = [failure for failure in failures if failure.account_id == account_id]
            on_shard(account_id, snapshot.build([], collected_at, errors=mine, trusted_accounts=trusted))
    if on_shard:  # the data is in the shards; this document keeps only what went wrong
        document = snapshot.build([], collected_at, errors=[*failures, *(e for c in collections for e in c.errors)],
                                  trusted_accounts=trusted)
    else:
        document = snapshot.build(collections, collected_at, partitions, errors=failures, trusted_accounts=trusted)
    return Collected(document, collections, clients.calls + member_setup_calls + member_calls,
                     time.monotonic() - started, unread=sorted({failure.account_id for failure in failures}),
                     skipped=account_plan.skipped_summary(), processes=workers)


def _read_members(session: boto3.Session, clients: aws.Clients, identity: aws.Identity, request: AccountRequest,
                  account_ids: list[str], regions: list[str] | None, home: str, *,
                  collectors: Iterable[Collector] | None, max_workers: int, per_account: int, per_region: int,
                  tracker: Tracker, on_outcome: Callable[[str, Outcome], None],
                  more: processes.Take | None = None) -> None:
    """Read these member accounts in this process, handing each outcome to `on_outcome` as it is done.

    One pool makes every call (the total bound); a driver thread per account in progress schedules that
    account's tasks into it (at most per_account submitted at once) and mostly waits. With `more` (in a worker
    process), at most _at_once accounts are in progress: as one is done, the next comes from `more`. Without (one
    process reads every account: not Linux, --processes 1, or a caller with threads of its own), at most
    _at_once_alone, the next from `account_ids`. Until 2026-11-27 that process started every account at once:
    the clients of all of them were alive together (about 5 MB an account in 17 regions), and the first account
    was done, its shard written, late in the run (40 accounts in two regions, 50 ms a call, medians of two runs:
    7.1 s into 11.8 s; now 3.2 s into 12.2 s; Python's allocations at their peak 44 MB instead of 79 MB).
    """
    at_once = _at_once(max_workers, per_region) if more else _at_once_alone(max_workers, per_region)
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect")
    # AssumeRole calls, all to the home region of the caller's account: that account and region are bound too.
    caller_limit = threading.BoundedSemaphore(min(per_account, per_region))

    def read_one(account_id: str) -> Outcome:
        def read_regions(member: aws.Clients, chosen: list[str]) -> tuple[AccountCollection, int]:
            return collect_account(member, account_id, chosen, home, collectors=collectors, max_workers=per_account,
                                   progress=tracker, pool=pool, max_in_flight=per_account,
                                   max_in_flight_per_region=per_region), 0

        return _collect_member(session, clients, role_arn(identity.partition, account_id, request.role_name),
                               request, account_id, regions, home, run=lambda call: pool.submit(call).result(),
                               read_regions=read_regions, caller_limit=caller_limit,
                               max_pool_connections=min(per_account, per_region), submit=pool.submit,
                               meanwhile=lambda member: make_clients(
                                   member, selected(collectors), regions, home))

    _each_in_turn(account_ids, more, min(at_once, max_workers), pool, read_one, on_outcome)


def _fewer_than_workers(accounts: int, max_processes: int | None, max_workers: int, per_account: int) -> bool:
    """Whether several member accounts are fewer than the CPUs (and than the worker processes the run may use),
    with no bound per account of its own: their regions are then the parts given out (_members_in_parts), or some
    CPUs would have no account to read.

    Where every CPU has an account, a worker each is faster: split, each account makes its clients again in each
    worker that reads a part of it, and its AssumeRole and DescribeRegions are made before the workers start
    (bench/collect_bench.py on 2 CPUs, 2026-11-27, eight runs each, interleaved, medians: 3 accounts in 4 processes
    by region 1.57 s, in 3 by account 1.40 s; 2 accounts, 4 by region 1.32 s, 2 by account 1.12 s). With a bound
    per account, each worker would have only its share of it for every part it reads: an account stays whole."""
    return 1 < accounts < min(processes.cpus(), processes.count(max_processes, max_workers)) and (
        per_account >= max_workers)


@dataclass
class _Member:
    """A member account ready to be read: its clients (through its role), the regions chosen, and an error for
    each requested region that cannot be read there."""

    account_id: str
    clients: aws.Clients
    chosen: list[str]
    region_errors: list[CollectionError]

    def outcome(self, collection: AccountCollection, other_calls: int = 0) -> Outcome:
        collection.errors.extend(self.region_errors)
        return collection, [], self.clients.calls + other_calls


def _members_in_parts(session: boto3.Session, clients: aws.Clients, identity: aws.Identity, request: AccountRequest,
                      account_ids: list[str], regions: list[str] | None, home: str, *,
                      collectors: Iterable[Collector] | None, max_workers: int, per_account: int, per_region: int,
                      tracker: Tracker, max_processes: int | None,
                      on_outcome: Callable[[str, Outcome], None]) -> tuple[int, int]:
    """A single member account, or fewer than the worker processes the run could use: (the calls worker processes
    made, the processes the accounts were read in: 1 is this one).

    Each account's AssumeRole and DescribeRegions are made here, side by side (they all go to the caller's home
    region: at most its bound at once); then the parts given out are every account's regions and its global
    keys, as for the caller's account (_parts_in_processes): with 2 accounts and 8 worker processes, 6 would
    otherwise have nothing to read. An account's outcome goes to `on_outcome` once all its parts are back.
    """
    bound = min(per_account, per_region)
    caller_limit = threading.BoundedSemaphore(bound)

    def prepare(account_id: str) -> _Member | Outcome:
        return _prepare_member(session, clients, role_arn(identity.partition, account_id, request.role_name),
                               request, account_id, regions, home, run=lambda call: call(), caller_limit=caller_limit,
                               max_pool_connections=bound)

    if len(account_ids) == 1:  # nothing to make beside it: in this thread
        prepared = [prepare(account_ids[0])]
    else:  # joined before any worker is forked
        with ThreadPoolExecutor(max_workers=min(len(account_ids), bound), thread_name_prefix="account") as pool:
            prepared = list(pool.map(prepare, account_ids))
    ready: list[_Member] = []
    for account_id, each in zip(account_ids, prepared, strict=True):
        if isinstance(each, _Member):
            ready.append(each)
        else:
            on_outcome(account_id, each)
    if not ready:
        return 0, 1
    # A region each at least (the global keys are little beside one): one account in one region is read here.
    workers = processes.count(max_processes, min(sum(len(member.chosen) for member in ready), max_workers))
    if workers <= 1:
        for member in ready:
            on_outcome(member.account_id, member.outcome(collect_account(
                member.clients, member.account_id, member.chosen, home, collectors=collectors,
                max_workers=per_account, max_in_flight_per_region=per_region, progress=tracker)))
        return 0, 1
    return _parts_in_processes(
        [(member.account_id, member.clients, member.chosen) for member in ready], home, collectors=collectors,
        workers=workers, max_workers=max_workers, per_account=per_account, per_region=per_region, tracker=tracker,
        also=(clients,),
        on_account=lambda index, collection: on_outcome(ready[index].account_id, ready[index].outcome(collection)))


def _at_once(budget: int, per_region: int) -> int:
    """Parts a worker reads at once: processes.AT_ONCE, or as many as it takes to fill its budget at per_region
    calls each."""
    return max(processes.AT_ONCE, -(-budget // per_region))


def _at_once_alone(budget: int, per_region: int) -> int:
    """Accounts one process reading them all keeps in progress: as many as fill its budget at
    processes.SMALL_ACCOUNT_IN_FLIGHT calls each (per_region, when that bound is lower), at least processes.AT_ONCE.
    More than a worker takes (_at_once): no other process waits for the accounts it has not started. (Workers
    taking as many did not help an uneven organization, and may make their shares coarser: bench/uneven_bench.py,
    2 processes, six runs each, interleaved: best 2.85 s against 2.82 s, median 3.31 s against 2.96 s.)"""
    return _at_once(budget, min(per_region, processes.SMALL_ACCOUNT_IN_FLIGHT))


def _each_in_turn(first: list[str], more: processes.Take | None, at_once: int, pool: ThreadPoolExecutor,
                  read_one: Callable[[str], Outcome], on_outcome: Callable[[str, Outcome], None]) -> None:
    """Read `first`, then what `more` gives, at most `at_once` at a time (each in a driver thread that schedules
    its calls into `pool` and mostly waits), handing each outcome to `on_outcome` as it is done. Shuts `pool`
    down at the end; on any failure, without waiting for its calls."""
    given = iter(first)
    drivers = ThreadPoolExecutor(max_workers=max(1, at_once), thread_name_prefix="account")
    futures: dict[Future[Outcome], str] = {}

    def start() -> None:
        while len(futures) < at_once:
            part = next(given, None) or (more() if more else None)
            if part is None:
                return
            futures[drivers.submit(read_one, part)] = part

    try:
        start()
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                on_outcome(futures.pop(future), future.result())
            start()
    except BaseException:
        drivers.shutdown(wait=False, cancel_futures=True)
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    drivers.shutdown(wait=True)
    pool.shutdown(wait=True)


def _collect_caller(clients: aws.Clients, identity: aws.Identity, regions: list[str] | None, home: str,
                    collected_at: dt.datetime, *, collectors: Iterable[Collector] | None, max_workers: int,
                    per_account: int, per_region: int, progress: Progress | None, on_shard: ShardSink | None,
                    max_processes: int | None) -> Collected:
    """The caller's own account (no --role-name): as a member account, but with its own credentials.

    Its regions are read in up to `max_processes` worker processes (see processes.count), as member accounts
    are: one account's regions are as much CPU as several accounts' (see _parts_in_processes).

    Without --regions, a failed DescribeRegions leaves nothing to read: a UserError. When nothing at all can be
    read (no requested region is enabled, or every read failed), that is a UserError too and nothing is written.
    """
    account_id = identity.account_id
    if not regions:
        enabled, _ = aws.enabled_regions(clients, home)
        chosen, region_errors = enabled, []
    else:
        chosen, region_errors = _regions_to_read(clients, account_id, regions, home)
    if not chosen:
        raise UserError(f"none of the requested regions is enabled for account {account_id} "
                        f"({', '.join(error.region for error in region_errors)}): not read")
    tracker = Tracker(progress, accounts=1)
    collection, worker_calls, workers = _one_account(
        clients, account_id, chosen, home, collectors=collectors, max_workers=max_workers, per_account=per_account,
        per_region=per_region, tracker=tracker, max_processes=max_processes)
    collection.errors.extend(region_errors)
    tracker.update(accounts_done=1)
    if not collection.read_anything():
        raise UserError(f"could not read anything in account {account_id}{_first(collection.errors, account=False)}")
    document = snapshot.build([collection], collected_at, {account_id: identity.partition})
    if on_shard:
        on_shard(account_id, document)
    return Collected(document, [collection], clients.calls + worker_calls, collection.seconds, processes=workers)


def _one_account(clients: aws.Clients, account_id: str, chosen: list[str], home: str, *,
                 collectors: Iterable[Collector] | None, max_workers: int, per_account: int, per_region: int,
                 tracker: Tracker, max_processes: int | None) -> tuple[AccountCollection, int, int]:
    """The caller's own account, in its chosen regions: (its collection, the calls worker processes made, the
    worker processes it was read in: 1 is this one). Its regions are shared out between workers when there are
    several and fork is usable (see _parts_in_processes)."""
    workers = processes.count(max_processes, min(len(chosen), max_workers))  # a region each at least
    if workers > 1:
        collections: list[AccountCollection] = []
        calls, workers = _parts_in_processes(
            [(account_id, clients, chosen)], home, collectors=collectors, workers=workers, max_workers=max_workers,
            per_account=per_account, per_region=per_region, tracker=tracker,
            on_account=lambda _, collection: collections.append(collection))
        return collections[0], calls, workers
    return collect_account(clients, account_id, chosen, home, collectors=collectors, max_workers=per_account,
                           max_in_flight_per_region=per_region, progress=tracker), 0, 1


def make_clients(clients: aws.Clients, collectors: Iterable[Collector], regions: list[str] | None,
                 home: str) -> None:
    """Make the clients an account's read will ask for: its global keys' in `home`, its regional keys' in each
    requested region (only `home` when none were requested: the others are not known before DescribeRegions).

    Only to have them made while a call is in flight (about 3 ms of CPU a client); the read asks for each client
    again. A client that cannot be made here (a region botocore has no endpoint for, say) is left for that
    request to fail on, where it is recorded as the error of what it would have read."""
    wanted: dict[tuple[str, str], None] = {}
    for collector in collectors:
        for region in [home] if collector.scope == GLOBAL else (regions or [home]):
            wanted[(collector.service, region)] = None
    for service, region in wanted:
        try:
            clients.get(service, region)
        except ReadOnlyViolation:
            raise
        except Exception:  # noqa: BLE001, S112 - recorded where the read asks for it (see above)
            continue


def _load_models(clients: aws.Clients, collectors: Iterable[Collector], home: str) -> None:
    """The API models every worker needs, loaded here once (a client each), before the workers are forked as copies
    of this process."""
    for service in sorted({"ec2", *(collector.service for collector in collectors)}):
        clients.get(service, home)


def _parts_in_processes(accounts: list[tuple[str, aws.Clients, list[str]]], home: str, *,
                        collectors: Iterable[Collector] | None, workers: int, max_workers: int, per_account: int,
                        per_region: int, tracker: Tracker, on_account: Callable[[int, AccountCollection], None],
                        also: tuple[aws.Clients, ...] = ()) -> processes.Forked:
    """Accounts (id, clients, regions chosen) read in `workers` worker processes, a region of an account at a
    time, and put back together: each account's collection goes to `on_account` (with its index in `accounts`)
    as soon as all its parts are back. Returns the calls the workers made and the processes that ran.

    The parts given out are each account's global keys (read once, in the home region) and its regions, in the
    order given. Each worker reads its parts with the account's clients (processes._work lets it open
    connections of its own, for them and for `also`: the caller's, which renew an assumed role's credentials),
    its share of max_workers, and of the per-account bound: the bound holds for each account as a whole. A part
    whose worker died is one `auditor:Worker` error where it would have been stored; the rest of the account is
    kept. Each collection is the one a single process makes (tested).
    """
    started = time.monotonic()
    chosen_keys = selected(collectors)
    global_keys = [collector for collector in chosen_keys if collector.scope == GLOBAL]
    regional_keys = [collector for collector in chosen_keys if collector.scope != GLOBAL]
    owner: dict[str, tuple[int, str]] = {}  # part -> (the account's index, its region or GLOBAL_REGION_KEY)
    for index, (_, _, chosen) in enumerate(accounts):
        for region in ([GLOBAL_REGION_KEY] if global_keys else []) + (list(chosen) if regional_keys else []):
            owner[f"{index}/{region}"] = (index, region)
    _load_models(accounts[0][1], chosen_keys, home)
    share = max(1, per_account // workers)

    def read(first: list[str], budget: int, forward: Tracker, report: Callable[[str, Outcome], None],
             more: processes.Take | None = None) -> None:
        bound = min(budget, share)  # the worker's pool: no account has more than its share in flight here
        pool = ThreadPoolExecutor(max_workers=bound, thread_name_prefix="collect")

        def read_one(part: str) -> Outcome:
            index, region = owner[part]
            account_id, clients, _ = accounts[index]
            is_global = region == GLOBAL_REGION_KEY
            collection = collect_account(clients, account_id, [] if is_global else [region], home,
                                         collectors=global_keys if is_global else regional_keys, progress=forward,
                                         pool=pool, max_in_flight=bound,
                                         max_in_flight_per_region=min(per_region, bound))
            return collection, [], 0  # its calls are the worker's, through the clients: counted once, at its end

        _each_in_turn(first, more, _at_once(bound, per_region), pool, read_one, report)

    wholes = [AccountCollection(account_id) for account_id, _, _ in accounts]
    left = [0] * len(accounts)
    for index, _ in owner.values():
        left[index] += 1
    for index, parts in enumerate(left):
        if not parts:  # no key to read (collectors given): done as it is
            on_account(index, wholes[index])

    def back(part: str, outcome: Outcome) -> None:
        index, _ = owner[part]
        collection, errors, _ = outcome
        whole = wholes[index]
        whole.errors.extend(errors)
        if collection is not None:
            whole.regions.update(collection.regions)
            whole.errors.extend(collection.errors)
        left[index] -= 1
        if not left[index]:
            whole.errors.sort(key=error_order)
            whole.seconds = time.monotonic() - started
            on_account(index, whole)

    def lost(part: str, exitcode: int | None) -> Outcome:
        index, region = owner[part]
        return None, [processes.worker_exited(accounts[index][0], exitcode, region)], 0

    return processes.read_in_processes(
        list(owner), workers, max_workers, read, [*(clients for _, clients, _ in accounts), *also],
        on_outcome=back, tracker=tracker, lost=lost)


def _regions_to_read(clients: aws.Clients, account_id: str, requested: list[str] | None,
                    home: str) -> tuple[list[str], list[CollectionError]]:
    """(the regions to read in an account, an error for each requested region that cannot be read there).

    From the account's DescribeRegions: every enabled region, or the requested ones it has enabled; a requested
    region it has not enabled is an `ec2:Regions` error there. When DescribeRegions fails and regions were
    requested, they are read as given (their names are checked already) and the failure is one `ec2:Regions`
    error of the account; when none were requested, the failure is raised.
    """
    try:
        enabled, listed = aws.describe_regions(clients, home)
    except ReadOnlyViolation:
        raise
    except Exception as error:  # noqa: BLE001 - recorded: the requested regions are still read
        if not requested:
            raise
        code, message = describe_failure(error)
        return sorted(set(requested)), [CollectionError(
            account_id, GLOBAL_REGION_KEY, REGIONS_KEY, "DescribeRegions", code,
            f"{message} (the requested regions were read without knowing which ones the account has enabled)")]
    if not requested:
        return enabled, []
    not_enabled = sorted(set(requested) - set(enabled))
    return sorted(set(requested) & set(enabled)), [_region_not_enabled(account_id, region, region in listed)
                                                   for region in not_enabled]


def _region_not_enabled(account_id: str, region: str, listed: bool) -> CollectionError:
    if listed:
        return CollectionError(account_id, region, REGIONS_KEY, "DescribeRegions", "OptInRequired",
                               f"region {region} is not enabled for account {account_id} (opt-in required): not read")
    return CollectionError(account_id, region, REGIONS_KEY, "DescribeRegions", "RegionNotAvailable",
                           f"region {region} is not offered to account {account_id} (DescribeRegions does not list "
                           "it): not read")


def _collect_member(session: boto3.Session, clients: aws.Clients, arn: str, request: AccountRequest, account_id: str,
                    regions: list[str] | None, home: str, *, run: Callable[[Callable[[], Any]], Any],
                    read_regions: Callable[[aws.Clients, list[str]], tuple[AccountCollection, int]],
                    caller_limit: AbstractContextManager[Any], max_pool_connections: int,
                    submit: Callable[[Callable[[], Any]], Future[Any]] | None = None,
                    meanwhile: Callable[[aws.Clients], None] | None = None) -> Outcome:
    """(collection or None, the error that stopped it, API calls made with the account's role) for one account:
    made ready (_prepare_member), then its regions read by `read_regions`, with the account's clients, which says
    how many calls it made that those clients did not count."""
    member = _prepare_member(session, clients, arn, request, account_id, regions, home, run=run,
                             caller_limit=caller_limit, max_pool_connections=max_pool_connections, submit=submit,
                             meanwhile=meanwhile)
    if not isinstance(member, _Member):
        return member
    return member.outcome(*read_regions(member.clients, member.chosen))


def _prepare_member(session: boto3.Session, clients: aws.Clients, arn: str, request: AccountRequest, account_id: str,
                    regions: list[str] | None, home: str, *, run: Callable[[Callable[[], Any]], Any],
                    caller_limit: AbstractContextManager[Any], max_pool_connections: int,
                    submit: Callable[[Callable[[], Any]], Future[Any]] | None = None,
                    meanwhile: Callable[[aws.Clients], None] | None = None) -> _Member | Outcome:
    """One account ready to be read, or its outcome when it cannot be.

    AssumeRole and the account's DescribeRegions come first, each made through `run` (with several accounts in a
    process, through the shared pool, so they count against the total bound; AssumeRole calls, made in the
    caller's account, also against `caller_limit`). When AssumeRole fails, or DescribeRegions fails without
    --regions, or none of the requested regions is enabled, the account is not read and those are its errors
    (see _regions_to_read).

    With `submit` (a pool's), DescribeRegions is submitted instead, and `meanwhile(the account's clients)` runs in
    this thread while it is in flight (make_clients: CPU the call's round trip would otherwise leave idle).
    """
    try:
        with caller_limit:
            credentials = run(
                lambda: refreshing_credentials(assume_role_fetcher(lambda: clients.get("sts", home), arn, request)))
    except ReadOnlyViolation:
        raise
    except Exception as error:  # noqa: BLE001 - this account is not read; the others go on
        return None, [_failure(account_id, ASSUME_ROLE_KEY, "AssumeRole", error)], 0
    # A client is one service in one region: it never has more calls in flight than the bound per region.
    # The accounts of a process take turns on its connections, and skip the endpoints it could not connect to.
    member = aws.Clients(assumed_session(session, credentials, home), max_pool_connections=max_pool_connections,
                         same_run=clients)
    try:
        if submit is None or meanwhile is None:
            chosen, region_errors = run(lambda: _regions_to_read(member, account_id, regions, home))
        else:
            member.get("ec2", home)  # DescribeRegions' own client, before the others
            describing = submit(lambda: _regions_to_read(member, account_id, regions, home))
            time.sleep(0)  # the pool's thread to send it before this one takes the interpreter back
            meanwhile(member)
            chosen, region_errors = describing.result()
    except ReadOnlyViolation:
        raise
    except Exception as error:  # noqa: BLE001
        return None, [_failure(account_id, REGIONS_KEY, "DescribeRegions", error)], member.calls
    if not chosen:  # every requested region is one the account has not enabled: nothing to read there
        return None, region_errors, member.calls
    return _Member(account_id, member, chosen, region_errors)


def _first(errors: list[CollectionError], *, account: bool = True) -> str:
    """The first error (with its account, unless there is only one), to end the line that says nothing was read."""
    if not errors:
        return ""
    first = errors[0]
    where = [first.account_id] if account else []
    where += [first.region] if first.region != GLOBAL_REGION_KEY else []
    return f"; {' '.join(where) + ': ' if where else ''}{first.operation} {first.code}: {first.message}"


def _failure(account_id: str, key: str, operation: str, error: BaseException) -> CollectionError:
    code, message = describe_failure(error)
    return CollectionError(account_id, GLOBAL_REGION_KEY, key, operation, code, message)
