"""A service that a service control policy denies in one account and region: after a few calls were denied by it,
and none was allowed, the client's other calls there are not sent.

An organization that keeps its accounts out of some regions does it with an SCP that denies every action there
but a few global ones (AWS Control Tower's region deny control is one). A run without `--regions` reads every
region an account has enabled, the denied ones too: each of their 27 keys cost a call that was sure to fail, and
in such an organization those can be most of a run's calls. Now, once DENIALS different operations of one client
(one account, service and region) were refused with an access-denied error that names a service control policy,
and no call of that client was answered, each later call of it fails before it is built, counted or sent, with
DeniedByServiceControlPolicy: recorded as that key's error, as any failure is (and AUD001 reports a region none of
whose keys could be read once). The calls already in flight end as they will.

A denial that names no service control policy (the role lacks a permission: "no identity-based policy allows")
never counts, and a client that was answered once is never given up on: a policy that denies some operations of
a service, not the region, costs those operations only.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.exceptions

DENIALS = 3
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
POLICY = "service control policy"  # as AWS names it in access-denied messages
ENCODED = " Encoded authorization failure message:"


class DeniedByServiceControlPolicy(botocore.exceptions.BotoCoreError):
    """Not sent: other calls of its service in its account and region were denied by a service control policy."""

    fmt = ("not sent: {count} other {service} calls in {region} ({operations}) were denied by a service control "
           "policy in this account, and none was allowed (the first: {first})")


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


def watch(client: Any, denials: int = DENIALS) -> bool:
    """Count the client's calls that an SCP denied, and stop its calls once it is given up. False when the client
    cannot be watched (then it is left as it is)."""
    events = getattr(getattr(client, "meta", None), "events", None)
    region = getattr(getattr(client, "meta", None), "region_name", None)
    if events is None or not isinstance(region, str):
        return False
    service = client.meta.service_model.service_name
    lock = threading.Lock()
    denied: dict[str, str] = {}  # operation -> its denial's message, in the order they came
    answered = False

    def before_call(**_: Any) -> None:
        with lock:
            given_up = not answered and len(denied) >= denials
            if given_up:
                operations = list(denied)
        if given_up:
            raise DeniedByServiceControlPolicy(count=len(operations), service=service, region=region,
                                               operations=", ".join(operations), first=denied[operations[0]])

    def after_attempt(response: Any = None, operation: Any = None, **_: Any) -> None:
        nonlocal answered
        if response is None:  # no answer at all: the network's business (see unreachable)
            return
        http, parsed = response
        status = getattr(http, "status_code", 0)
        with lock:
            if 200 <= status < 300:
                answered = True
            elif (message := scp_denial(parsed)) is not None:
                denied.setdefault(getattr(operation, "name", "?"), message)

    # Before the request is built: a call given up costs no signing and no connection. On the service's own event,
    # whose handlers botocore calls before those of the bare event name: before the read-only guard counts the call
    # as made (it only raises, so no call the guard would refuse can pass this way).
    service_id = client.meta.service_model.service_id.hyphenize()
    events.register_first(f"before-parameter-build.{service_id}", before_call, unique_id="auditor-scp-denied-call")
    events.register("needs-retry", after_attempt, unique_id="auditor-scp-denied-attempt")
    return True
