"""AWS sessions and clients, each behind the read-only guard. The only module that builds clients."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore
import botocore.config
import botocore.exceptions
import botocore.parsers
import botocore.session

from auditor import __version__, client_models, connections, scp_denied
from auditor.errors import ReadOnlyViolation, UserError
from auditor.unreachable import Unreachable

READ_ONLY_PREFIXES = ("Describe", "List", "Get", "Search")
# Operations that are not reads but change nothing, allowed by (service, operation) and nothing wider:
# AssumeRole only hands out temporary credentials for the member accounts' read-only role.
ALLOWED_NON_READS = frozenset({("sts", "AssumeRole")})
DEFAULT_HOME_REGION = "us-east-1"
DEFAULT_READ_TIMEOUT = 60.0
READ_TIMEOUT_VARIABLE = "AUDITOR_READ_TIMEOUT"
ENABLED_OPT_IN_STATUSES = {"opt-in-not-required", "opted-in"}
CREDENTIAL_ERROR_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "AuthFailure",
}


def is_read_only(operation_name: str) -> bool:
    return operation_name.startswith(READ_ONLY_PREFIXES)


def is_allowed(service_name: str, operation_name: str) -> bool:
    """What the guard lets through: every read, and the few named non-mutating calls on their own service."""
    return is_read_only(operation_name) or (service_name, operation_name) in ALLOWED_NON_READS


class CallCounter:
    """Counts the API calls that passed the guard (one per request, pages included)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def increment(self) -> None:
        with self._lock:
            self.value += 1


@dataclass
class ReadOnlyGuard:
    """Refuses every operation that is not a read, before its request is even built; counts the reads.

    The one exception is sts:AssumeRole (ALLOWED_NON_READS), which reaching member accounts needs.

    It listens on `before-parameter-build`, which every API call emits before `before-call`:
    handlers that answer a call in process (botocore's Stubber, the demo's simulated responses)
    sit on `before-call`, so none of them can let a write slip past the guard.
    """

    counter: CallCounter = field(default_factory=CallCounter)

    def __call__(self, model: Any, **_: Any) -> None:
        service_name = model.service_model.service_name
        if not is_allowed(service_name, model.name):
            raise ReadOnlyViolation(
                f"refused {service_name}:{model.name}: "
                "the auditor only reads (Describe*, List*, Get*, Search*; and sts:AssumeRole)"
            )
        self.counter.increment()


GUARD_ATTRIBUTE = "_auditor_read_only_guard"  # on the botocore session behind a boto3 one: the guard it carries


def install_guard(session: boto3.Session) -> ReadOnlyGuard:
    """Register the guard on the session, so that every client it creates carries it; once per botocore session.

    A session that carries one already keeps it, and it is returned: botocore ignores a second handler of the
    same unique_id, so a new guard would refuse nothing and count nothing (a second run of collect() on one
    session reported 0 API calls, until 2026-11-27). Its count goes on from the first run: see Clients.calls.
    """
    core = session._session  # noqa: SLF001 - botocore's session behind boto3's: the one every wrapper shares
    existing = getattr(core, GUARD_ATTRIBUTE, None)
    if isinstance(existing, ReadOnlyGuard):
        return existing
    guard = ReadOnlyGuard()
    session.events.register_first("before-parameter-build", guard, unique_id="auditor-read-only-guard")
    setattr(core, GUARD_ATTRIBUTE, guard)
    return guard


def read_timeout() -> float:
    """Seconds to wait for a response: AUDITOR_READ_TIMEOUT (a positive number), else 60."""
    value = os.environ.get(READ_TIMEOUT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_READ_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise UserError(f"{READ_TIMEOUT_VARIABLE} must be a positive number of seconds, not {value!r}")
    return seconds


def _profile_setting(core: botocore.session.Session, name: str) -> Any:
    try:
        return core.get_scoped_config().get(name)
    except botocore.exceptions.ProfileNotFound:
        return None


def client_config(max_pool_connections: int, session: boto3.Session | None = None) -> botocore.config.Config:
    """Adaptive retries by default; AWS_RETRY_MODE / AWS_MAX_ATTEMPTS (or the profile's) still win.

    AWS_MAX_ATTEMPTS counts every attempt, the first included (as the AWS CLI reads it), so it is botocore's
    `total_max_attempts`: its `max_attempts` counts retries only, and given 1 it would send a request twice.

    The read timeout is 60 s unless AUDITOR_READ_TIMEOUT says otherwise.
    """
    configured = session._session if session is not None else None  # noqa: SLF001 - botocore's config chain
    # What the environment or the profile says, and nothing else: botocore's own default for it is "standard".
    mode = os.environ.get("AWS_RETRY_MODE") or (_profile_setting(configured, "retry_mode") if configured else None) \
        or "adaptive"
    attempts = (configured.get_config_variable("max_attempts") if configured else None) or 8
    return botocore.config.Config(
        retries={"mode": mode, "total_max_attempts": int(attempts)},
        max_pool_connections=max_pool_connections,
        connect_timeout=10,
        read_timeout=read_timeout(),
        user_agent_extra=f"aws-network-auditor/{__version__}",
    )


class Clients:
    """Guarded clients per (region, service), created once and shared by worker threads."""

    def __init__(self, session: boto3.Session, max_pool_connections: int = 16,
                 same_run: Clients | None = None) -> None:
        """`same_run`: the Clients of the run these belong to (the caller's, for an account's), whose connections
        these share, whose endpoints found unreachable these skip and whose services denied by an SCP these ask
        one call first; by default, a run of their own."""
        client_models.install()
        self.session = session
        self.pools = same_run.pools if same_run is not None else connections.Pools()
        self.unreachable = same_run.unreachable if same_run is not None else Unreachable()
        self.denials = same_run.denials if same_run is not None else scp_denied.Denials()
        self.guard = install_guard(session)
        self._calls_before = self.guard.counter.value  # the session's calls before these clients: not theirs
        self._config = client_config(max_pool_connections, session)
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        """The calls made through the session since these clients were made (by them, in a run: one Clients a
        session at a time)."""
        return self.guard.counter.value - self._calls_before

    def get(self, service: str, region: str) -> Any:
        # boto3 sessions are not thread-safe; clients are. Create under the lock, share afterwards.
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self.session.client(service, region_name=region, config=self._config)
                # Load the paginator model now, under the lock: left to the first calls, every worker thread
                # that starts one scans botocore's data directory for it at once (a second of CPU per run).
                client.can_paginate(next(iter(client.meta.method_to_api_mapping)))
                client_models.share_event_names(client)
                self.pools.share(client)
                self.unreachable.watch(client)
                self.denials.watch(client)
                refuse_malformed_json(client)
                self._clients[(service, region)] = client
            return client

    def forget(self) -> None:
        """Drop the clients made so far, and the connections they shared: a forked worker makes its own."""
        with self._lock:
            self._clients.clear()
            self.pools.clear()
            self.unreachable.clear()
            self.denials.clear()


JSON_PROTOCOLS = ("json", "rest-json")


def _malformed_json(operation_model: Any = None, response_dict: dict[str, Any] | None = None, **_: Any) -> None:
    status = (response_dict or {}).get("status_code") or 0
    if not 200 <= status < 300 or operation_model is None or operation_model.output_shape is None:
        return
    body = (response_dict or {}).get("body") or b""
    try:
        document = json.loads(body)
    except ValueError:  # empty, cut short, an HTML page...
        document = None
    if not isinstance(document, dict):  # the body itself is never shown: it may hold a secret
        raise botocore.parsers.ResponseParserError(
            f"HTTP {status} response to {operation_model.name} is not a JSON object ({len(body)} bytes)")


def refuse_malformed_json(client: Any) -> bool:
    """A JSON service's (Direct Connect's) successful response that is not a JSON object fails the call, as EC2's
    malformed XML does (ResponseParserError). botocore reads an empty body as {} and one that does not parse as
    {"message": body}: either was an empty list of the key, stored as read (found 2026-11-27). False when the
    client does not speak JSON."""
    service_model = client.meta.service_model
    if getattr(service_model, "resolved_protocol", service_model.protocol) not in JSON_PROTOCOLS:
        return False
    client.meta.events.register(f"before-parse.{service_model.service_id.hyphenize()}", _malformed_json,
                                unique_id="auditor-malformed-json")
    return True


def open_session(profile: str | None = None) -> boto3.Session:
    """A boto3 session configured as the AWS CLI is (profile, environment, AWS_ENDPOINT_URL)."""
    try:
        return boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise UserError(f"AWS profile {profile!r} not found in the AWS config files") from None


def home_region(session: boto3.Session) -> str:
    return session.region_name or DEFAULT_HOME_REGION


@dataclass(frozen=True)
class Identity:
    account_id: str
    partition: str


def caller_identity(clients: Clients, region: str) -> Identity:
    """Who the credentials belong to; every credential problem becomes one UserError line."""
    try:
        response = clients.get("sts", region).get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        raise UserError(
            "no AWS credentials found (set AWS_PROFILE, use --profile, or export AWS_ACCESS_KEY_ID)"
        ) from None
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in CREDENTIAL_ERROR_CODES:
            raise UserError(f"AWS credentials rejected ({code}): refresh or renew them") from None
        raise UserError(f"cannot identify the caller's account: {code}: {error}") from None
    except botocore.exceptions.BotoCoreError as error:
        raise UserError(f"cannot reach AWS STS in {region}: {error}") from None
    arn = response["Arn"]
    return Identity(account_id=response["Account"], partition=arn.split(":")[1])


def describe_regions(clients: Clients, region: str) -> tuple[list[str], list[str]]:
    """(regions enabled for the account, every region the partition has); a failed call raises botocore's error."""
    response = clients.get("ec2", region).describe_regions(AllRegions=True)
    everything = sorted(item["RegionName"] for item in response["Regions"])
    enabled = sorted(
        item["RegionName"]
        for item in response["Regions"]
        if item.get("OptInStatus", "opt-in-not-required") in ENABLED_OPT_IN_STATUSES
    )
    return enabled, everything


def enabled_regions(clients: Clients, region: str) -> tuple[list[str], list[str]]:
    """describe_regions for the caller's account, where a failure is one UserError line."""
    try:
        return describe_regions(clients, region)
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in CREDENTIAL_ERROR_CODES:
            raise UserError(f"AWS credentials rejected ({code}): refresh or renew them") from None
        raise UserError(f"cannot list the account's regions (DescribeRegions): {code}") from None
    except botocore.exceptions.BotoCoreError as error:
        raise UserError(f"cannot list the account's regions (DescribeRegions): {error}") from None


def check_region_names(session: boto3.Session, requested: list[str], partition: str) -> None:
    """A requested name that is no region of the partition (a typo: `us-eats-1`) is a UserError.

    The partition's regions are botocore's endpoint data, so the check needs no call and no permission; whether
    the account has enabled a region is DescribeRegions' answer, per account, and never bad input.
    """
    known = set(session.get_available_regions("ec2", partition_name=partition))
    if not known:  # a partition this botocore has no data for: nothing to check against
        return
    for name in requested:
        if name not in known:
            raise UserError(f"unknown region {name!r}: not a region of the {partition} partition "
                            f"(botocore {botocore.__version__}'s endpoint data)")
