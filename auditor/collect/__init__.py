"""Collection: the only stage that talks to AWS, and only through the read-only guard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3

from auditor import aws, snapshot
from auditor.collect.registry import Collector
from auditor.collect.runner import AccountCollection, Progress, collect_account


@dataclass(frozen=True)
class Collected:
    document: dict[str, Any]
    collections: list[AccountCollection]
    api_calls: int
    seconds: float

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for collection in self.collections:
            for key, count in collection.resource_counts().items():
                counts[key] = counts.get(key, 0) + count
        regions = {r for c in self.collections for r in c.regions if r != "global"}
        errors = sum(len(c.errors) for c in self.collections)
        per_type = ", ".join(f"{key.split(':', 1)[1]} {n}" for key, n in sorted(counts.items()) if n)
        return (f"collected {len(self.collections)} account(s), {len(regions)} region(s): "
                f"{sum(counts.values())} resources ({per_type or 'none'}); "
                f"{self.api_calls} API calls, {errors} error(s), {self.seconds:.1f} s")


def collect(session: boto3.Session, regions: list[str] | None = None, *, max_workers: int = 16,
            progress: Progress | None = None, now: dt.datetime | None = None,
            collectors: Iterable[Collector] | None = None) -> Collected:
    """Collect the caller's account in the requested (default: every enabled) region."""
    clients = aws.Clients(session, max_pool_connections=max_workers)
    home = aws.home_region(session)
    identity = aws.caller_identity(clients, home)
    enabled, known = aws.enabled_regions(clients, home)
    chosen = aws.choose_regions(regions, enabled, known)
    collected_at = now or dt.datetime.now(dt.UTC)
    collection = collect_account(
        clients, identity.account_id, chosen, home, collectors=collectors, max_workers=max_workers,
        progress=progress,
    )
    document = snapshot.build([collection], collected_at, {identity.account_id: identity.partition})
    return Collected(document, [collection], clients.calls, collection.seconds)
