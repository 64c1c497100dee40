"""Member accounts read in several worker processes, each a copy of this one made by fork.

One interpreter runs one thread of Python at a time, and reading an account is mostly botocore's Python:
signing, events, parsing, about 1.5 ms of CPU a call. Past a few accounts a run is bound by that CPU, not by
the calls in flight, so the accounts are split between worker processes, two per CPU by default. When there is
one account only (the caller's own, or a single member account), or fewer accounts than CPUs, the parts given
out are each account's regions instead (and its global keys): one account in every region is as much CPU as
several accounts (see collect._parts_in_processes and collect._fewer_than_workers).

The workers are made with fork, after the caller's identity, the account list and the API models are ready,
so they start at once, with nothing to load and nothing to pickle on the way in. fork is only safe while this
process runs a single thread, and only Linux offers it without caveats: anywhere else, or when the caller has
threads of its own running, the accounts are read in this process (`count` says 1).

Each worker starts with one account and asks the caller for the next one not yet taken as soon as it has fewer
than `AT_ONCE` in progress: a worker that drew small accounts reads more of them, rather than
wait for one that drew the large ones, and accounts are done, and their shards written, one after another rather
than all near the end. Each account is read exactly as the single-process run reads it; its outcome goes back as
soon as it is done, with the worker's progress; the caller merges them in account order, so the snapshot does
not depend on the number of workers or on who took what. A worker that dies costs only the accounts it had
taken and not sent back: each is one error. Ctrl-C (or any failure in the caller) stops every worker before it
is raised.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, NamedTuple

from auditor import aws
from auditor.collect.context import CollectionError
from auditor.collect.registry import GLOBAL_REGION_KEY
from auditor.collect.runner import Outcome, Tracker
from auditor.snapshot import WORKER_KEY

DEFAULT_MAX_PROCESSES = 8
# Accounts a worker reads at once (more when its share of the calls exceeds this many regions' bound): enough
# that their waits (AssumeRole, DescribeRegions, the reads that wait for their parents) leave little of its
# share idle: an account read in one region, with little in it, averages about 7 calls in flight over its 5
# round trips, so three fill the default share of 16; few enough that the accounts not yet taken go to
# whichever worker is free first.
AT_ONCE = 3
# Calls an account keeps in flight on average while it is read, when it holds little (as above).
SMALL_ACCOUNT_IN_FLIGHT = 7

STOPS = frozenset({signal.SIGINT, signal.SIGTERM})  # Ctrl-C, and a scheduler's stop (cli.main's handler)

Take = Callable[[], str | None]  # the next account not yet taken by any worker, or None when none is left
# read(first accounts, call budget, tracker, report an outcome, take more (or None: only the first ones))
ReadGroup = Callable[[list[str], int, Tracker, Callable[[str, Outcome], None], Take | None], None]


def usable() -> bool:
    """Whether worker processes can be forked here and now: Linux, and this process runs one thread."""
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


def cpus() -> int:
    """The CPUs this process may run on: those of its affinity mask where the system has one (a container or
    `taskset` limits it; os.cpu_count counts the machine's), else the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def count(requested: int | None, accounts: int) -> int:
    """Worker processes for `accounts` accounts: as requested, by default two per CPU (a worker waits on the
    network part of the time) and at most DEFAULT_MAX_PROCESSES; never more than the accounts; 1 (no workers)
    when fork is not usable."""
    wanted = requested if requested is not None else min(2 * cpus(), DEFAULT_MAX_PROCESSES)
    wanted = min(wanted, accounts)
    return wanted if wanted > 1 and usable() else 1


class _Forward(Tracker):
    """A worker's tracker: every change goes to the caller, who keeps the counts."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self._connection = connection
        self._send_lock = threading.Lock()

    def update(self, *, accounts_done: int = 0, regions_done: int = 0, regions_total: int = 0,
               reads_done: int = 0) -> None:
        self.send(("progress", {"regions_done": regions_done, "regions_total": regions_total,
                                "reads_done": reads_done}))

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:  # the account threads all send through the one pipe
            self._connection.send(message)


def _work(connection: Connection, first: str, budget: int, read: ReadGroup, clients: list[aws.Clients]) -> None:
    """In a worker: read `first`, then the accounts the caller gives it when it asks, sending each outcome, then
    the calls made through `clients`."""
    # SIGTERM as the program's handler makes it (cli.main) would stop this worker as a failure of the run; with
    # the default, a worker killed alone costs only its accounts (WorkerExited), and the caller's stop stops it.
    # Only then are the stops the caller held back while it forked (_held_stops) let through here.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
    _exit_with_the_caller()
    for each in clients:
        each.forget()  # the caller's pooled connections are the caller's: open new ones here
    before = sum(each.calls for each in clients)
    forward = _Forward(connection)

    def take() -> str | None:  # only ever called by the thread that called read: the one that receives
        forward.send(("take",))
        answer: str | None = connection.recv()
        return answer

    try:
        read([first], budget, forward, lambda account_id, outcome: forward.send(("account", account_id, outcome)),
             take)
        forward.send(("done", sum(each.calls for each in clients) - before))
    except BaseException as error:  # noqa: BLE001 - handed to the caller, who raises it
        try:
            forward.send(("failed", error))
        except Exception:  # noqa: BLE001 - an error that does not pickle: its text
            forward.send(("failed", RuntimeError(f"{type(error).__name__}: {error}")))
    finally:
        connection.close()


def _exit_with_the_caller() -> None:
    """In a worker: end at once when the caller is gone (killed outright, say), rather than read on for nobody."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="auditor-caller-watch", daemon=True).start()


class Forked(NamedTuple):
    """What reading in worker processes made: the calls the workers made through the clients given (each worker's
    own copies: the caller's, for AssumeRole; an account's, when the parts are its regions), and the worker
    processes that ran (fewer than asked for when a fork failed; 1 when none could be forked and this process
    read everything)."""

    calls: int
    processes: int


def read_in_processes(account_ids: list[str], workers: int, max_workers: int, read: ReadGroup,
                      clients: list[aws.Clients], *, on_outcome: Callable[[str, Outcome], None],
                      tracker: Tracker, lost: Callable[[str, int | None], Outcome] | None = None) -> Forked:
    """Read the accounts in `workers` forked processes (one account each to start with, the others given out as
    workers ask; max_workers shared out); each outcome goes to `on_outcome` in this process as it arrives.
    Returns the calls the workers made and how many workers ran (Forked).

    The ids may name other parts than accounts (the regions of a run's only account): `lost` then makes the
    outcome of a part whose worker died (by default, an account not read)."""
    lost = lost or _lost
    context = multiprocessing.get_context("fork")
    workers = max(1, min(workers, len(account_ids)))
    left = deque(account_ids[workers:])  # not taken yet: each goes to the first worker that asks
    budget = max(1, max_workers // workers)
    running: dict[Connection, tuple[Any, list[str]]] = {}  # our end of each worker's pipe -> (it, its accounts)
    calls = 0
    for stream in (sys.stdout, sys.stderr):  # or a worker would write out what this process had buffered
        stream.flush()
    # Every object made so far (the API models above all) out of the collector's reach: a worker's collections
    # would otherwise visit them all, and each page they touch is copied into the worker (a third of its CPU).
    gc.freeze()
    _until_alone()
    try:
        with _held_stops():
            for position, first in enumerate(account_ids[:workers]):
                ours, theirs = context.Pipe(duplex=True)  # the worker's messages in; the accounts it asks for out
                process = context.Process(target=_work, args=(theirs, first, budget, read, clients),
                                          name="auditor-collect", daemon=True)
                try:
                    process.start()
                except OSError:  # no fork to be had (a container's limit on processes, memory): the workers there
                    ours.close()
                    theirs.close()
                    left.extendleft(reversed(account_ids[position:workers]))  # ... take these too, first
                    break
                theirs.close()
                running[ours] = (process, [first])
        forked = len(running)
        if not running:  # not one worker: this process reads every account, as where fork is not usable
            read(list(left), max_workers, tracker, on_outcome, None)
            return Forked(calls, 1)
        while running:
            for receiver in wait(list(running)):
                process, waiting = running[receiver]
                try:
                    message = receiver.recv()
                # The worker is gone: what it had not sent is lost, one error an account. A worker that died with
                # an answer of ours unread in its end of the pipe leaves it reset (ConnectionResetError), not ended;
                # one killed while it sent (the OOM killer picks a worker at its largest: sending an account) leaves
                # a message cut short (OSError "got end of file during message").
                except (EOFError, OSError):
                    del running[receiver]
                    receiver.close()
                    process.join()
                    for account_id in waiting:
                        on_outcome(account_id, lost(account_id, process.exitcode))
                    continue
                kind = message[0]
                if kind == "progress":
                    tracker.update(**message[1])
                elif kind == "take":
                    given = left.popleft() if left else None
                    if given is not None:
                        waiting.append(given)  # from now on its loss, if the worker dies, is the worker's
                    try:
                        receiver.send(given)
                    except OSError:  # the worker is gone already: its end of the pipe tells us next
                        pass
                elif kind == "account":
                    waiting.remove(message[1])
                    on_outcome(message[1], message[2])
                elif kind == "done":
                    calls += message[1]
                elif kind == "failed":
                    raise message[1]
    finally:
        for process, _ in running.values():
            process.terminate()
        for receiver, (process, _) in running.items():
            process.join()
            receiver.close()
        gc.unfreeze()
    return Forked(calls, forked)


@contextlib.contextmanager
def _held_stops() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back while workers are forked, and let through (here, and in each worker) after.

    A stop that lands during a fork is handled inside a hook the fork runs (logging's lock release), where
    Python prints the exception and drops it: the run went on to the end and exited 0 (a review, 2026-11-27, in
    every run that sent SIGTERM then). Held back, it is raised here once the forks are done, and the workers
    already made are stopped as on any failure. This process runs one thread here (usable), so its mask is the
    process's."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _until_alone(timeout: float = 1.0) -> None:
    """Wait (a few milliseconds, or not at all) until no other system thread of this process is still ending.

    `usable` counts Python's threads, and a thread that was joined has ended for Python only: its system thread
    goes on to run its exit handlers, OpenSSL's among them, which take a lock of OpenSSL's. A fork in that
    instant leaves the lock taken in the worker for good, and the worker's first client waits on it forever
    (seen here when a collection forked right after threads of its own had ended). Linux lists the system
    threads in /proc/self/task. After `timeout` seconds the fork goes ahead.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if len(os.listdir("/proc/self/task")) <= 1:
                return
        except OSError:  # no /proc: nothing to wait on
            return
        if time.monotonic() >= deadline:
            return
        time.sleep(0.001)


def _lost(account_id: str, exitcode: int | None) -> Outcome:
    return None, [worker_exited(account_id, exitcode)], 0


def worker_exited(account_id: str, exitcode: int | None, region: str | None = None) -> CollectionError:
    """The error for an account whose worker died before sending it back or, with `region`, for the part of one
    account it was reading (a region, or GLOBAL_REGION_KEY: the account's global keys)."""
    what = (f"account {account_id}" if region is None else
            f"the {'global keys' if region == GLOBAL_REGION_KEY else f'region {region}'} of account {account_id}")
    return CollectionError(account_id, region or GLOBAL_REGION_KEY, WORKER_KEY, "Collect", "WorkerExited",
                           f"the worker process reading {what} exited (code {exitcode}) before it was done: not read")


__all__ = ["count", "cpus", "read_in_processes", "usable"]
