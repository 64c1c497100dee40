"""Reading API items the same way in every rule: final states, ownership, names for messages. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditor.index import Item, Scope

# States after which a resource carries no more traffic (AWS mixes cases: compare lower-cased).
PEERING_GONE = frozenset({"deleted", "deleting", "rejected", "failed", "expired"})
ENDPOINT_GONE = frozenset({"deleted", "deleting", "rejected", "failed", "expired"})
GATEWAY_GONE = frozenset({"deleted", "deleting", "failed"})
ATTACHMENT_GONE = frozenset({"deleted", "deleting", "failed", "failing", "rejected", "rejecting"})
# Attachment states of an IGW, egress-only IGW or VGW that still carry (or are about to carry) traffic.
ATTACHED = frozenset({"attached", "attaching", "available"})


def lowered(value: Any) -> str:
    return str(value or "").lower()


def listed(names: Iterable[str], limit: int = 5) -> str:
    """Names for a message, at most `limit` of them, then how many more."""
    names = list(names)
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def owned(item: Item, scope: Scope) -> bool:
    """Whether this account owns the item; a VPC or route table shared by RAM is judged in its owner's account."""
    return item.get("OwnerId", scope.account_id) == scope.account_id
