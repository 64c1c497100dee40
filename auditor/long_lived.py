"""Bulk allocations that live long, kept out of the cyclic garbage collector's scans.

Loading a snapshot makes millions of objects, and an audit millions more; they live as long as the snapshot
does, and neither makes reference cycles worth collecting. Left to CPython's collector, every 700 allocations
it scans the youngest objects again, and once it is switched back on after a bulk allocation, its next
collection scans every object made during it: on bench/audit_bench.py's large snapshot (39 MB) that one scan
took 0.11 s after the load and 0.19 s after the audit, of about 2.8 s in all (2026-11-27).

`made_to_last` switches the collector off while the block runs and, at its end, when the block made more than
BULK objects, moves them into the oldest generation without scanning them (`gc.freeze` then `gc.unfreeze`),
as if they had already survived the young generations' collections. Nothing is kept alive: memory is freed by
reference counting as before, and any cycle among those objects is found by the next full collection. A
smaller block's objects are left to the young generation's next collection, which is quick: moving them all
made the rule tests (hundreds of small audits in one process) about 10% slower, with more garbage left for the
full collections.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Objects made (counted by the youngest generation) past which scanning them all once costs more than moving them:
# a scan of 100,000 takes a few milliseconds.
BULK = 100_000


@contextlib.contextmanager
def made_to_last() -> Iterator[None]:
    """No cyclic collection while the block runs, and no scan of what it made once it is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Not while objects are frozen for another reason (the collection's worker processes): unfreezing
            # would hand those back too.
            if gc.get_count()[0] > BULK and not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()
