"""Run the collectors of one account over its regions in a bounded thread pool.

Every failed read becomes an error record and collection goes on; a key whose read failed is
absent from the region (never an empty list that would read as "no resources").

Several accounts can share one pool (the bound on calls in flight in total) while each account keeps
at most `max_in_flight` of its tasks submitted (the bound per account), and at most
`max_in_flight_per_region` in any one region (EC2 limits each account's request rate per region). A
task makes one call at a time, so tasks in flight bound calls in flight.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from auditor.aws import Clients
from auditor.collect import catalog  # noqa: F401  (registers every collector)
from auditor.collect.context import CallContext, CollectionError
from auditor.collect.registry import GLOBAL, GLOBAL_REGION_KEY, REGISTRY, Collector, selected
from auditor.errors import ReadOnlyViolation

Items = list[dict[str, Any]]
STOPPED_POLL_SECONDS = 0.5  # how often an account waiting on its calls checks that the pool was not shut down


@dataclass(frozen=True)
class Status:
    """Where a collection stands: accounts and regions done (a region is done when all its reads are)."""

    accounts_done: int = 0
    accounts_total: int = 0
    regions_done: int = 0
    regions_total: int = 0
    reads_done: int = 0


Progress = Callable[[Status], None]


class Tracker:
    """Thread-safe counters of a collection's progress, reported to a Progress callback on every change."""

    def __init__(self, progress: Progress | None = None, accounts: int = 1) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._status = Status(accounts_total=accounts)

    @property
    def status(self) -> Status:
        return self._status

    def update(self, *, accounts_done: int = 0, regions_done: int = 0, regions_total: int = 0,
               reads_done: int = 0) -> None:
        with self._lock:
            s = self._status
            self._status = Status(s.accounts_done + accounts_done, s.accounts_total, s.regions_done + regions_done,
                                  s.regions_total + regions_total, s.reads_done + reads_done)
            if self._progress:
                self._progress(self._status)


@dataclass
class AccountCollection:
    """What one account's collection produced."""

    account_id: str
    regions: dict[str, dict[str, Items]] = field(default_factory=dict)
    errors: list[CollectionError] = field(default_factory=list)
    seconds: float = 0.0
    counted: dict[str, int] | None = field(default=None, repr=False)  # set when the items were let go

    def read_anything(self) -> bool:
        """Whether at least one read succeeded (a key stored, even an empty one) in any region."""
        return any(self.regions.values())

    def without_items(self) -> AccountCollection:
        """The same collection with its items let go (they are in its shard): which keys each region read, its
        errors, its time and its counts of resources stay. Not a snapshot's data: every key reads as empty."""
        kept = AccountCollection(self.account_id, {region: {key: [] for key in data} for region, data in
                                                   self.regions.items()}, list(self.errors), self.seconds)
        kept.counted = self.resource_counts()
        return kept

    def resource_counts(self) -> dict[str, int]:
        if self.counted is not None:
            return dict(self.counted)
        counts: dict[str, int] = defaultdict(int)
        for region_data in self.regions.values():
            for key, items in region_data.items():
                counts[key] += len(items)
        return dict(counts)


# One account's (or one part's) outcome: its collection (None when not read), the errors that stopped it, and the
# calls it made through clients of its own (the calls through the caller's clients are counted by those).
Outcome = tuple[AccountCollection | None, list[CollectionError], int]


@dataclass(frozen=True)
class _Task:
    collector: Collector
    region: str  # the region the call is sent to
    store_region: str  # the region key the items are stored under ("global" for global keys)
    parents: Items | None = None
    part_of: _Parts | None = None  # a child key read one parent per task: where the parts are gathered


@dataclass
class _Parts:
    """A child key split into one task per parent item, so that its calls run side by side rather than one
    after another (they are the longest chains of a region: the DNS attributes of every VPC, the three reads of
    every transit gateway route table). The key is stored once every part is back."""

    waiting: int
    items: Items = field(default_factory=list)
    failed: bool = False


def _run(task: _Task, clients: Clients, account_id: str) -> tuple[Items | None, list[CollectionError]]:
    collector = task.collector
    ctx = CallContext(client=None, account_id=account_id, region=task.store_region, key=collector.key)
    try:
        # A client that cannot be made (a malformed AWS_ENDPOINT_URL_<SERVICE>, say) fails this key, recorded as
        # any failed read is: until 2026-11-27 it ended the whole run as an internal error.
        ctx.client = clients.get(collector.service, task.region)
        if collector.fetch is not None:
            items = list(collector.fetch(ctx, task.parents or []))
        elif collector.parent is not None:
            items = list(_per_parent(ctx, collector, task.parents or []))
        else:
            items = ctx.items(collector.operation, collector.result_key, **dict(collector.params))
    except ReadOnlyViolation:
        raise
    except Exception as error:  # noqa: BLE001 - recorded, never fatal, never silently empty
        ctx.record(collector.operation, error)
        return None, ctx.errors
    return sorted((redact(item) for item in items), key=collector.sort_key), ctx.errors


# Secrets some network APIs return in their items: VPN pre-shared keys (in TunnelOptions and in the
# customer gateway configuration XML) and Direct Connect BGP MD5 keys. They never reach a snapshot.
SECRET_FIELDS = frozenset({"PreSharedKey", "CustomerGatewayConfiguration", "authKey"})
REDACTED = "REDACTED"


def redact(value: Any) -> Any:
    """The item with every secret field's value replaced (the field stays, so its presence is known)."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_FIELDS and v else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _per_parent(ctx: CallContext, collector: Collector, parents: Items) -> Iterable[dict[str, Any]]:
    assert collector.parent_id is not None
    for parent in parents:
        parent_id = parent[collector.parent_id]
        try:
            found = ctx.items(collector.operation, collector.result_key, **{collector.parent_id: parent_id})
        except ReadOnlyViolation:
            raise
        except Exception as error:  # noqa: BLE001
            ctx.record(collector.operation, error, parent_id)
            continue
        yield {collector.parent_id: parent_id, collector.result_key: found}


def collect_account(
    clients: Clients,
    account_id: str,
    regions: list[str],
    home_region: str,
    *,
    collectors: Iterable[Collector] | None = None,
    max_workers: int = 16,
    progress: Progress | Tracker | None = None,
    pool: Executor | None = None,
    max_in_flight: int | None = None,
    max_in_flight_per_region: int | None = None,
) -> AccountCollection:
    """Read every collector in every region of one account, concurrently.

    Without `pool`, a pool of max_workers threads of its own; with one (shared by several accounts), at most
    `max_in_flight` (default max_workers) of this account's tasks are submitted to it at once. At most
    `max_in_flight_per_region` (default: no bound of its own) of them are calls to any one region (global keys
    are calls to the home region).
    """
    started = time.monotonic()
    tracker = progress if isinstance(progress, Tracker) else Tracker(progress)
    read_keys = selected(collectors)
    children: dict[str, list[Collector]] = defaultdict(list)
    for collector in read_keys:
        if collector.parent:
            children[collector.parent].append(collector)
    result = AccountCollection(account_id)
    roots: list[_Task] = []
    for collector in read_keys:
        if collector.parent:
            continue
        if collector.scope == GLOBAL:
            roots.append(_Task(collector, home_region, GLOBAL_REGION_KEY))
        else:
            roots.extend(_Task(collector, region, region) for region in regions)
    remaining: dict[str, int] = defaultdict(int)  # tasks not yet done, per stored region
    for task in _expand(roots, children):
        remaining[task.store_region] += 1
    counted_regions = [region for region in remaining if region != GLOBAL_REGION_KEY]
    tracker.update(regions_total=len(counted_regions))

    def finish(store_region: str, tasks: int) -> None:
        remaining[store_region] -= tasks
        region_done = int(remaining[store_region] == 0 and store_region != GLOBAL_REGION_KEY)
        tracker.update(reads_done=tasks, regions_done=region_done)

    own_pool = pool is None
    executor = pool or ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect")
    limit = max(1, max_in_flight or max_workers)
    region_limit = max(1, max_in_flight_per_region or limit)
    ready: deque[_Task] = deque(roots)
    pending: dict[Future[tuple[Items | None, list[CollectionError]]], _Task] = {}
    in_region: dict[str, int] = defaultdict(int)  # tasks in flight per region called

    def fill() -> None:
        waiting: list[_Task] = []  # their region is at its bound: they keep their place at the front
        while ready and len(pending) < limit:
            task = ready.popleft()
            if in_region[task.region] >= region_limit:
                waiting.append(task)
                continue
            in_region[task.region] += 1
            pending[executor.submit(_run, task, clients, account_id)] = task
        ready.extendleft(reversed(waiting))

    try:
        fill()
        while pending:
            finished, _ = wait(pending, timeout=STOPPED_POLL_SECONDS, return_when=FIRST_COMPLETED)
            if not finished:
                # A shared pool shut down with its queued calls cancelled (Ctrl-C, or a failure in another
                # account) never wakes wait() for them (Future.cancel notifies no waiter): stop this account here,
                # or its thread would wait forever and the process could not exit.
                if any(future.cancelled() for future in pending):
                    raise CancelledError("the collection was stopped")
                continue
            for future in finished:
                task = pending.pop(future)
                in_region[task.region] -= 1
                items, errors = future.result()
                result.errors.extend(errors)
                if task.part_of is not None:
                    items = _gathered(task.part_of, items, task.collector)
                    if task.part_of.waiting:
                        continue  # other parts of this key are still out
                if items is not None:
                    result.regions.setdefault(task.store_region, {})[task.collector.key] = items
                # Children go first: they are the longer chains, which bound the region's time.
                for child in reversed(children.get(task.collector.key, [])):
                    if items is None:
                        result.errors.extend(_skipped(child, task, account_id))
                        skipped = _Task(child, task.region, task.store_region)
                        finish(task.store_region, sum(1 for _ in _expand([skipped], children)))
                        continue
                    ready.extendleft(reversed(_child_tasks(child, task, items)))
                finish(task.store_region, 1)
            fill()
    except BaseException:
        for future in pending:
            future.cancel()
        if own_pool:
            executor.shutdown(wait=False, cancel_futures=True)
        raise
    if own_pool:
        executor.shutdown(wait=True)
    for store_region in {task.store_region for task in roots}:
        result.regions.setdefault(store_region, {})
    result.errors.sort(key=error_order)
    result.seconds = time.monotonic() - started
    return result


def error_order(error: CollectionError) -> tuple[str, str, str, str, str]:
    """The order of an account's errors in its collection: by region, key, resource, operation and code."""
    return error.region, error.key, error.resource_id or "", error.operation, error.code


def _child_tasks(child: Collector, parent_task: _Task, parents: Items) -> list[_Task]:
    """One task per parent item (gathered into one key), or one task when there is at most one parent or the
    child reads all its parents in one call."""
    if len(parents) <= 1 or child.batched:
        return [_Task(child, parent_task.region, parent_task.store_region, parents)]
    parts = _Parts(waiting=len(parents))
    return [_Task(child, parent_task.region, parent_task.store_region, [parent], parts) for parent in parents]


def _gathered(parts: _Parts, items: Items | None, collector: Collector) -> Items | None:
    """One part back: its items joined to the others'; the key's items (sorted) once the last part is back.
    A part that failed as a whole fails the key, as the single task would have."""
    parts.waiting -= 1
    if items is None:
        parts.failed = True
    else:
        parts.items.extend(items)
    if parts.waiting or parts.failed:
        return None
    return sorted(parts.items, key=collector.sort_key)


def _expand(tasks: list[_Task], children: dict[str, list[Collector]]) -> Iterable[_Task]:
    for task in tasks:
        yield task
        yield from _expand([_Task(c, task.region, task.store_region) for c in children.get(task.collector.key, [])],
                           children)


def _skipped(child: Collector, parent_task: _Task, account_id: str) -> list[CollectionError]:
    """A child key whose parent could not be read: recorded as not collected, with its own children."""
    message = f"not read because {parent_task.collector.key} could not be read"
    skipped = [CollectionError(account_id, parent_task.store_region, child.key, child.operation,
                               "DependencyFailed", message, depends_on=parent_task.collector.key)]
    for grandchild in REGISTRY.values():
        if grandchild.parent == child.key:
            skipped.extend(_skipped(grandchild, _Task(child, parent_task.region, parent_task.store_region),
                                    account_id))
    return skipped
