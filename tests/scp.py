"""A service control policy that denies a region, as AWS answers its calls: each request is answered in process by a
`before-send` handler (nothing is sent), as EC2 (UnauthorizedOperation, XML), Direct Connect (AccessDeniedException,
JSON) and ELB (AccessDenied, XML) answer a call an SCP denies, or the role's own policy does.

Used by tests/test_scp_denied.py and bench/denied_bench.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import botocore.awsrequest

ROLE = "arn:aws:sts::123456789012:assumed-role/NetworkAudit/auditor"
BY_SCP = "with an explicit deny in a service control policy"
BY_ROLE = "because no identity-based policy allows the {action} action"
EMPTY_VPCS = b'<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><vpcSet/></DescribeVpcsResponse>'


def denial(service: str, action: str, reason: str) -> tuple[int, bytes]:
    """(status, body) of a denied call, as each protocol spells it."""
    message = f"User: {ROLE} is not authorized to perform: {service}:{action} {reason.format(action=action)}"
    if service == "ec2":
        return 403, (f"<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to "
                     f"perform this operation. {message}. Encoded authorization failure message: x</Message></Error>"
                     f"</Errors><RequestID>1</RequestID></Response>").encode()
    if service == "directconnect":
        return 400, json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
    return 403, (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message>"
                 f"</Error><RequestId>1</RequestId></ErrorResponse>").encode()


class Organization:
    """Every request to `region` is denied (`reason`: BY_SCP or BY_ROLE), but the operations in `allowed`, after
    `latency` seconds; a request elsewhere is left to the next handler (`passing`: moto's) or answered empty at
    once. Nothing is ever sent."""

    def __init__(self, region: str, reason: str = BY_SCP, allowed: tuple[str, ...] = (),
                 passing: bool = False, latency: float = 0.0) -> None:
        self.region, self.reason, self.allowed, self.passing = region, reason, allowed, passing
        self.latency = latency
        self.sent: Counter[str] = Counter()  # requests to the region, by service (its signing name)
        self.spans: list[tuple[float, float]] = []  # (start, end) of each request to the region, as they ended
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> Any:
        scope = str(request.headers.get("Authorization", b""), "latin-1").partition("Credential=")[2].split("/")
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        action = (body.partition("Action=")[2].split("&")[0]
                  or str(request.headers.get("X-Amz-Target", b""), "latin-1").rpartition(".")[2])
        if scope[2] != self.region:
            return None if self.passing else _response(request, 200, EMPTY_VPCS)
        started = time.monotonic()
        with self._lock:
            self.sent[scope[3]] += 1
        time.sleep(self.latency)
        with self._lock:
            self.spans.append((started, time.monotonic()))
        if action in self.allowed:
            return _response(request, 200, EMPTY_VPCS)
        return _response(request, *denial(scope[3], action, self.reason))


def _response(request: Any, status: int, body: bytes) -> Any:
    return botocore.awsrequest.AWSResponse(request.url, status, {}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body
