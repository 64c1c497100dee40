"""Run the collectors of one account over its regions in a bounded thread pool.

Every failed read becomes an error record and collection goes on; a key whose read failed is
absent from the region (never an empty list that would read as "no resources").
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from auditor.aws import Clients
from auditor.collect import catalog  # noqa: F401  (registers every collector)
from auditor.collect.context import CallContext, CollectionError
from auditor.collect.registry import GLOBAL, GLOBAL_REGION_KEY, REGISTRY, Collector
from auditor.errors import ReadOnlyViolation

Items = list[dict[str, Any]]
Progress = Callable[[int, int], None]


@dataclass
class AccountCollection:
    """What one account's collection produced."""

    account_id: str
    regions: dict[str, dict[str, Items]] = field(default_factory=dict)
    errors: list[CollectionError] = field(default_factory=list)
    seconds: float = 0.0

    def resource_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for region_data in self.regions.values():
            for key, items in region_data.items():
                counts[key] += len(items)
        return dict(counts)


@dataclass(frozen=True)
class _Task:
    collector: Collector
    region: str  # the region the call is sent to
    store_region: str  # the region key the items are stored under ("global" for global keys)
    parents: Items | None = None


def _run(task: _Task, clients: Clients, account_id: str) -> tuple[Items | None, list[CollectionError]]:
    collector = task.collector
    ctx = CallContext(
        client=clients.get(collector.service, task.region), account_id=account_id,
        region=task.store_region, key=collector.key,
    )
    try:
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
    progress: Progress | None = None,
) -> AccountCollection:
    """Read every collector in every region of one account, concurrently, at most max_workers at once."""
    started = time.monotonic()
    selected = list(collectors if collectors is not None else REGISTRY.values())
    children: dict[str, list[Collector]] = defaultdict(list)
    for collector in selected:
        if collector.parent:
            children[collector.parent].append(collector)
    result = AccountCollection(account_id)
    roots: list[_Task] = []
    for collector in selected:
        if collector.parent:
            continue
        if collector.scope == GLOBAL:
            roots.append(_Task(collector, home_region, GLOBAL_REGION_KEY))
        else:
            roots.extend(_Task(collector, region, region) for region in regions)
    total = sum(1 for _ in _expand(roots, children))
    done = 0

    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="collect")
    pending: dict[Future[tuple[Items | None, list[CollectionError]]], _Task] = {}
    try:
        for task in roots:
            pending[pool.submit(_run, task, clients, account_id)] = task
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                items, errors = future.result()
                result.errors.extend(errors)
                done += 1
                if items is not None:
                    result.regions.setdefault(task.store_region, {})[task.collector.key] = items
                for child in children.get(task.collector.key, []):
                    if items is None:
                        skipped = _skipped(child, task, account_id)
                        result.errors.extend(skipped)
                        done += len(skipped)
                        continue
                    child_task = _Task(child, task.region, task.store_region, items)
                    pending[pool.submit(_run, child_task, clients, account_id)] = child_task
                if progress:
                    progress(done, total)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    for store_region in {task.store_region for task in roots}:
        result.regions.setdefault(store_region, {})
    result.errors.sort(key=lambda e: (e.region, e.key, e.resource_id or "", e.operation, e.code))
    result.seconds = time.monotonic() - started
    return result


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
