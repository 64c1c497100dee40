"""A service that a service control policy denies in one account and region: after a few calls were denied by it,
and none was allowed, the client's other calls there are not sent; and in the run's next accounts, that service
in that region is asked one call first.

An organization that keeps its accounts out of some regions does it with an SCP that denies every action there
but a few global ones (AWS Control Tower's region deny control is one). A run without `--regions` reads every
region an account has enabled, the denied ones too: each of their 27 keys cost a call that was sure to fail, and
in such an organization those can be most of a run's calls.

- In one account: once DENIALS different operations of one client (one account, service and region) were
  refused with an access-denied error that names a service control policy, and no call of that client was
  answered, each later call of it fails before it is built, counted or sent, with DeniedByServiceControlPolicy:
  recorded as that key's error, as any failure is (and AUD001 reports a region none of whose keys could be read
  once). The calls already in flight end as they will.
- Across the accounts a process reads (SCPs are often the same for many accounts, but not always: they attach to
  organizational units): once a service was given up in a region in some account, and answered in none, the next
  account's client for it sends its first call alone, the others waiting for its outcome. Denied by an SCP too:
  the waiting calls, and every later one, fail as above. Anything else (answered, denied by the role's own policy,
  throttled, failed): they all go ahead as usual, and the region lost one round trip.

A denial that names no service control policy (the role lacks a permission: "no identity-based policy allows")
never counts, and a client that was answered once is never given up on (and one given up is no longer, once a
call of it in flight then is answered): a policy that denies some operations of a service, not the region, costs
those operations only, and at worst the calls refused before the first answer came. Each process learns on its
own (a forked worker forgets what its caller learned), as with unreachable endpoints.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

DENIALS = 3
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
POLICY = "service control policy"  # as AWS names it in access-denied messages
ENCODED = " Encoded authorization failure message:"
FIRST_CALL_WAIT = 120.0  # seconds the other calls wait on a first call at most; then they go ahead anyway


class DeniedByServiceControlPolicy(botocore.exceptions.BotoCoreError):
    """Not sent: calls of its service in its region were denied by a service control policy, and none allowed."""

    fmt = ("not sent: {service} calls in {region} were denied by a service control policy: {evidence}, and none was "
           "allowed (the first: {first})")


def scp_denial(parsed: Any) -> str | None:
    """The message of a response that an SCP denied, or None."""
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict) or error.get("Code") not in DENIED_CODES:
        return None
    message = str(error.get("Message") or "")
    if POLICY not in message.lower():
        return None
    # EC2 appends an encoded message of a few kilobytes, for sts:DecodeAuthorizationMessage: the key denied keeps
    # it in its own error; the keys given up quote the rest.
    return message.split(ENCODED, 1)[0].rstrip()


@dataclass
class _Service:
    given_up: int = 0  # accounts in which the service was given up in the region
    answered: int = 0  # accounts in which it answered there


class Denials:
    """What one run's accounts learned of services denied by SCPs, per process, region and service."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services: dict[tuple[int, str, str], _Service] = {}

    def _service(self, region: str, service: str) -> _Service:
        with self._lock:
            return self._services.setdefault((os.getpid(), region, service), _Service())

    def suspect(self, region: str, service: str) -> int:
        """The accounts that gave the service up in the region, when none was answered there; else 0."""
        seen = self._service(region, service)
        with self._lock:
            return seen.given_up if not seen.answered else 0

    def record(self, region: str, service: str, *, given_up: bool) -> None:
        seen = self._service(region, service)
        with self._lock:
            if given_up:
                seen.given_up += 1
            else:
                seen.answered += 1

    def watch(self, client: Any) -> bool:
        """Count the client's calls that an SCP denied, and stop its calls once it is given up, with what the run's
        other accounts learned. False when the client cannot be watched (then it is left as it is)."""
        meta = getattr(client, "meta", None)
        events = getattr(meta, "events", None)
        region = getattr(meta, "region_name", None)
        if events is None or not isinstance(region, str):
            return False
        record = _Client(meta.service_model.service_name, region, self)
        # Before the request is built: a call given up costs no signing and no connection. On the service's own
        # event, whose handlers botocore calls before those of the bare event name: before the read-only guard
        # counts the call as made (it only raises or waits, so no call the guard would refuse can pass this way).
        service_id = meta.service_model.service_id.hyphenize()
        events.register_first(f"before-parameter-build.{service_id}", record.before_call,
                              unique_id="auditor-scp-denied-call")
        events.register("after-call", record.after_call, unique_id="auditor-scp-denied-answer")
        events.register("after-call-error", record.first_call_ended, unique_id="auditor-scp-denied-error")
        return True

    def clear(self) -> None:
        """Forget what was learned (in a forked worker: the caller's)."""
        with self._lock:
            self._services.clear()


class _Client:
    """One client's record: its operations an SCP denied, whether it was answered, whether it was given up; and,
    when the run suspects its service, the wait on its first call."""

    def __init__(self, service: str, region: str, run: Denials) -> None:
        self.service, self.region, self.run = service, region, run
        self.lock = threading.Lock()
        self.denied: dict[str, str] = {}  # operation -> its denial's message, in the order they came
        self.answered = False
        self.given_up: dict[str, Any] | None = None  # the error's fields: each call raises an error of its own
        self.started = False
        self.first_call: threading.Event | None = None  # set once the first call has its outcome
        self.suspected = 0  # other accounts that had given the service up, when the first call was sent

    def before_call(self, **_: Any) -> None:
        with self.lock:
            if self.given_up is not None:
                raise DeniedByServiceControlPolicy(**self.given_up)
            wait = self.first_call if self.started else None
            if not self.started:
                self.started = True
                self.suspected = self.run.suspect(self.region, self.service)
                if self.suspected:
                    self.first_call = threading.Event()  # this call goes alone: the others wait for it
        if wait is not None and not wait.is_set():
            wait.wait(FIRST_CALL_WAIT)
            with self.lock:
                if self.given_up is not None:
                    raise DeniedByServiceControlPolicy(**self.given_up)

    def after_call(self, http_response: Any = None, parsed: Any = None, model: Any = None, **_: Any) -> None:
        status = getattr(http_response, "status_code", 0)
        message = scp_denial(parsed)
        with self.lock:
            if 200 <= status < 300 and not self.answered:
                # A call in flight when the service was given up, answered after all: a policy that denies some of
                # its operations, not the region. The calls from now on go ahead (those refused meanwhile are lost).
                self.answered, self.given_up = True, None
                self.run.record(self.region, self.service, given_up=False)
            elif message is not None and not self.answered:
                self.denied.setdefault(getattr(model, "name", "?"), message)
                if self.given_up is None and (len(self.denied) >= DENIALS or self.first_call is not None):
                    self.given_up = self._giving_up()
                    self.run.record(self.region, self.service, given_up=True)
        self.first_call_ended()

    def first_call_ended(self, **_: Any) -> None:
        if self.first_call is not None:
            self.first_call.set()

    def _giving_up(self) -> dict[str, Any]:
        operations = list(self.denied)
        here = f"{', '.join(operations)} in this account"
        evidence = (f"{here}, as in {self.suspected} other account(s) of this run that gave the service up there"
                    if self.suspected else f"{len(operations)} different calls ({here})")
        return {"service": self.service, "region": self.region, "evidence": evidence,
                "first": self.denied[operations[0]]}
