"""Reading API items the same way in every rule: final states, names for messages. Pure.

Who owns an item (a VPC or transit gateway shared through RAM) is not the rules' concern: the engine keeps each
finding only in its owner's account (auditor.sharing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any


def parse_time(value: Any) -> dt.datetime | None:
    """An API timestamp (ISO 8601, or a datetime already) with its time zone (UTC when it names none), or None
    when it is missing or unreadable."""
    try:
        parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    try:
        moment.astimezone(dt.UTC)
    except OverflowError:  # the calendar's edge (0001-01-01 east of UTC): no time in UTC; was an internal error
        return None
    return moment


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
