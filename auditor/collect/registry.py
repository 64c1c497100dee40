"""What a collector is: a data row (key, operation, IAM action), or a small function. No AWS calls here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.collect.context import CallContext

# The IAM prefix of a service when it differs from its boto3 name.
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}

REGIONAL = "regional"
GLOBAL = "global"  # read once per account, stored under the region key "global"
GLOBAL_REGION_KEY = "global"

Fetch = Callable[["CallContext", list[dict[str, Any]]], Iterator[dict[str, Any]]]


@dataclass(frozen=True)
class Collector:
    """One snapshot key: how to read it, what it costs in IAM, and how its items are ordered.

    `key` is `<service>:<name>`; `result_key` is where the items sit in the API response.
    A collector with `parent` runs once per item of the parent key (`parent_id` names the
    field), and stores `{parent_id: id, result_key: [items]}` records.
    """

    key: str
    operation: str
    result_key: str
    sort_by: tuple[str, ...]
    params: tuple[tuple[str, Any], ...] = ()
    parent: str | None = None
    parent_id: str | None = None
    fetch: Fetch | None = None
    extra_operations: tuple[str, ...] = ()
    scope: str = REGIONAL
    batched: bool = False  # reads all its parent items in one call: never split into a task per parent
    notes: str = field(default="", compare=False)

    @property
    def service(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def iam_actions(self) -> tuple[str, ...]:
        prefix = IAM_PREFIX.get(self.service, self.service)
        return tuple(f"{prefix}:{op}" for op in (self.operation, *self.extra_operations))

    def sort_key(self, item: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(item.get(name, "")) for name in self.sort_by)


REGISTRY: dict[str, Collector] = {}


def selected(collectors: Iterable[Collector] | None) -> list[Collector]:
    """The collectors a run reads: those given (an empty list is none), or by default every registered one."""
    return list(REGISTRY.values() if collectors is None else collectors)


def register(collector: Collector) -> Collector:
    if collector.key in REGISTRY:
        raise ValueError(f"collector {collector.key} registered twice")
    if collector.parent and collector.parent not in REGISTRY:
        raise ValueError(f"collector {collector.key}: parent {collector.parent} is not registered")
    REGISTRY[collector.key] = collector
    return collector


def api(key: str, operation: str, sort_by: str | tuple[str, ...], *, result_key: str | None = None,
        scope: str = REGIONAL, **params: Any) -> Collector:
    """A collector that is one (paginated) API call: the declarative line."""
    return register(Collector(
        key=key, operation=operation, result_key=result_key or key.split(":", 1)[1],
        sort_by=(sort_by,) if isinstance(sort_by, str) else sort_by,
        params=tuple(sorted(params.items())), scope=scope,
    ))


def per_parent(key: str, operation: str, *, parent: str, parent_id: str, result_key: str,
               scope: str = REGIONAL) -> Collector:
    """A collector that is one (paginated) API call per item of its parent key."""
    return register(Collector(
        key=key, operation=operation, result_key=result_key, sort_by=(parent_id,),
        parent=parent, parent_id=parent_id, scope=scope,
    ))


def custom(key: str, operation: str, sort_by: str | tuple[str, ...], *, parent: str | None = None,
           extra_operations: tuple[str, ...] = (), batched: bool = False) -> Callable[[Fetch], Fetch]:
    """Register a function for the few keys that need more than one call shape. With a parent, the function
    gets the parent's items; `batched` when it reads them all in one call (else it may get one at a time)."""

    def decorate(fetch: Fetch) -> Fetch:
        register(Collector(
            key=key, operation=operation, result_key="",
            sort_by=(sort_by,) if isinstance(sort_by, str) else sort_by, parent=parent,
            fetch=fetch, extra_operations=extra_operations, batched=batched,
        ))
        return fetch

    return decorate
