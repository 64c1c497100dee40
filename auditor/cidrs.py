"""CIDRs found by containment in logarithmic time: the index layer's lookup for "which network holds this"."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from typing import Generic, TypeVar

from auditor.index import Network, span

T = TypeVar("T")


class CidrIndex(Generic[T]):
    """CIDRs, each with a payload, found by containment in O(log n + answers): built once, queried often.

    `inside` bisects the spans sorted by first address; `containing` looks up each supernet of the query.
    """

    def __init__(self, entries: Iterable[tuple[Network, T]]) -> None:
        self._exact: dict[tuple[int, int, int], list[tuple[Network, T]]] = defaultdict(list)
        rows = []
        for net, payload in entries:
            version, first, last = span(net)
            self._exact[(version, first, net.prefixlen)].append((net, payload))
            rows.append((version, first, last, net, payload))
        rows.sort(key=lambda row: row[:3])
        self._rows = rows
        self._starts = [(row[0], row[1]) for row in rows]

    def inside(self, net: Network) -> list[tuple[Network, T]]:
        """Entries whose every address is in `net` (equal ones included)."""
        version, first, last = span(net)
        found, rows = [], self._rows
        position = bisect.bisect_left(self._starts, (version, first))
        while position < len(rows) and rows[position][0] == version and rows[position][1] <= last:
            if rows[position][2] <= last:
                found.append((rows[position][3], rows[position][4]))
            position += 1
        return found

    def containing(self, net: Network) -> list[tuple[Network, T]]:
        """Entries that hold every address of `net` (equal ones included)."""
        version, first, _ = span(net)
        bits = net.max_prefixlen
        found = []
        for length in range(net.prefixlen, -1, -1):
            base = (first >> (bits - length)) << (bits - length)
            found += self._exact.get((version, base, length), [])
        return found

    def overlapping(self, net: Network) -> list[tuple[Network, T]]:
        """Entries that share an address with `net` (aligned CIDRs overlap only by one holding the other)."""
        return self.containing(net) + [(n, p) for n, p in self.inside(net) if n.prefixlen != net.prefixlen]
