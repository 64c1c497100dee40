"""Endpoints a run cannot connect to: after a few attempts that failed to connect, and none that did, the other
calls to that endpoint fail at once instead of each waiting out its connect timeouts and retries.

A region whose endpoint the network drops (a firewall that allows some regions only, a VPC with endpoints for its
own region only) took 123 s and 83 connection attempts before its 27 keys were recorded as errors (measured
2026-11-27: 10 s a connect timeout, botocore's adaptive retries), holding 16 of the run's calls in flight all
that time; and every account read in that region paid it again. Now, once CONNECT_FAILURES attempts to an
endpoint (its host and region) have failed to connect in a process, and none has connected, each later call to it
there fails before it is sent (or counted as made), with EndpointUnreachable: not retried, recorded as that
key's error as any failure is (and AUD001 reports a region none of whose keys could be read once). An endpoint
that answered once is never given up on: a later failure is a passing fault, retried as before. Failing to
connect means DNS, refusal or a connect timeout (botocore's EndpointConnectionError and ConnectTimeoutError),
never a response cut short.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

CONNECT_FAILURES = 3
NOT_CONNECTED = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)


class EndpointUnreachable(botocore.exceptions.BotoCoreError):
    """Not sent: its endpoint could not be connected to in this run. Not a ConnectionError, so never retried."""

    fmt = ("not sent: {endpoint} ({region}) could not be connected to in {failures} attempts in this run, and "
           "never was (the first: {first})")


@dataclass
class _Endpoint:
    failures: int = 0
    connected: bool = False
    first: str = ""


class Unreachable:
    """What one run's clients learned of their endpoints, per process (a forked worker learns its own)."""

    def __init__(self, failures: int = CONNECT_FAILURES) -> None:
        self._failures = failures
        self._lock = threading.Lock()
        self._endpoints: dict[tuple[int, str, str], _Endpoint] = {}

    def watch(self, client: Any) -> bool:
        """Count the client's attempts to connect, and stop its calls to an endpoint given up on. False when the
        client has no endpoint host to name (then it is left as it is)."""
        host = getattr(getattr(client, "_endpoint", None), "host", None)
        region = getattr(getattr(client, "meta", None), "region_name", None)
        if not isinstance(host, str) or not isinstance(region, str):
            return False

        def endpoint() -> _Endpoint:
            with self._lock:
                return self._endpoints.setdefault((os.getpid(), host, region), _Endpoint())

        def refuse_if_given_up(**_: Any) -> None:
            seen = endpoint()
            if not seen.connected and seen.failures >= self._failures:
                raise EndpointUnreachable(endpoint=host, region=region, failures=seen.failures, first=seen.first)

        def after_attempt(response: Any = None, caught_exception: BaseException | None = None, **_: Any) -> None:
            seen = endpoint()
            with self._lock:
                if response is not None:
                    seen.connected = True
                elif isinstance(caught_exception, NOT_CONNECTED):
                    seen.failures += 1
                    seen.first = seen.first or f"{type(caught_exception).__name__}: {caught_exception}"

        # A call to an endpoint already given up fails before it is built, and before the read-only guard counts it
        # as made (on the service's own event, whose handlers come before those of the bare name; it only raises).
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register_first(f"before-parameter-build.{service_id}", refuse_if_given_up,
                                          unique_id="auditor-unreachable-call")
        # A call already under way (its retries) fails before its next attempt: first, before any other handler of
        # the event can send or answer the request.
        client.meta.events.register_first("before-send", refuse_if_given_up, unique_id="auditor-unreachable-send")
        client.meta.events.register("needs-retry", after_attempt, unique_id="auditor-unreachable-attempt")
        return True

    def clear(self) -> None:
        """Forget what was learned (in a forked worker: the caller's)."""
        with self._lock:
            self._endpoints.clear()
