"""Which accounts to collect and how to reach them: account ids, the organization's accounts, AssumeRole.

Every call goes through a guarded client from aws.Clients; every session built here is guarded the same way
by the Clients it is given to. Credentials are never printed, logged or stored.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session

from auditor import client_models
from auditor.account_request import AccountRequest
from auditor.aws import CREDENTIAL_ERROR_CODES, Clients
from auditor.errors import UserError

ACTIVE = "ACTIVE"

Metadata = dict[str, str]


@dataclass(frozen=True)
class AccountPlan:
    """The accounts to read, and with --org every member of the organization (trusted by the audit)."""

    account_ids: tuple[str, ...]
    organization_accounts: tuple[str, ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)  # not ACTIVE, by state: never assumed into

    def skipped_summary(self) -> str:
        if not self.skipped:
            return ""
        states = ", ".join(f"{count} {state.lower()}" for state, count in sorted(self.skipped.items()))
        return f"skipped {sum(self.skipped.values())} inactive account(s) of the organization ({states})"


def plan(request: AccountRequest, clients: Clients, region: str) -> AccountPlan:
    if not request.organization:  # once each, in order, however a caller of collect() gave them
        return AccountPlan(tuple(sorted(set(request.account_ids))))
    members = organization_accounts(clients, region)
    states = {account["Id"]: account.get("State") or account.get("Status") or "" for account in members}
    return AccountPlan(
        account_ids=tuple(sorted(a for a, state in states.items() if state == ACTIVE)),
        organization_accounts=tuple(sorted(states)),
        skipped=dict(Counter(state or "UNKNOWN" for state in states.values() if state != ACTIVE)),
    )


def organization_accounts(clients: Clients, region: str) -> list[dict[str, Any]]:
    """Every account of the caller's organization (ListAccounts: management or delegated administrator)."""
    try:
        pages = clients.get("organizations", region).get_paginator("list_accounts").paginate()
        return [account for page in pages for account in page["Accounts"]]
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "AWSOrganizationsNotInUseException":
            raise UserError("--org: the caller's account is not in an organization "
                            "(AWSOrganizationsNotInUseException); use --accounts ID,ID") from None
        if code in ("AccessDeniedException", "AccessDenied"):
            raise UserError(f"--org: the caller may not list the organization's accounts ({code}): run from the "
                            "management account or a delegated administrator, with organizations:ListAccounts"
                            ) from None
        if code in CREDENTIAL_ERROR_CODES:
            raise UserError(f"AWS credentials rejected ({code}): refresh or renew them") from None
        raise UserError(f"--org: cannot list the organization's accounts (ListAccounts): {code}") from None
    except botocore.exceptions.BotoCoreError as error:
        raise UserError(f"--org: cannot list the organization's accounts (ListAccounts): {error}") from None


def role_arn(partition: str, account_id: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


def assume_role_fetcher(sts: Callable[[], Any], arn: str, request: AccountRequest) -> Callable[[], Metadata]:
    """A function that calls AssumeRole and returns the credentials in botocore's refresh format.

    `sts` gives the STS client at each call, not once: a renewal made in a worker process (forked after the first
    AssumeRole) must use that worker's client and connections. Until 2026-11-27 every worker renewed through the
    caller's client, on the caller's connection inherited by all of them, and read each other's responses."""
    params = {"RoleArn": arn, "RoleSessionName": request.session_name}
    if request.external_id:
        params["ExternalId"] = request.external_id

    def fetch() -> Metadata:
        credentials = sts().assume_role(**params)["Credentials"]
        expiration = credentials["Expiration"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": expiration.isoformat() if isinstance(expiration, dt.datetime) else str(expiration),
        }

    return fetch


def refreshing_credentials(fetch: Callable[[], Metadata]) -> botocore.credentials.RefreshableCredentials:
    """Credentials fetched now (so a denied AssumeRole fails here, once) and again before they expire.

    botocore refreshes them 15 minutes before expiry without blocking, and blocks every thread 10 minutes
    before expiry until the new ones arrive; the refresh is one more AssumeRole call through `fetch`.
    """
    return botocore.credentials.RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="assume-role")


def assumed_session(base: boto3.Session, credentials: botocore.credentials.Credentials,
                    region: str) -> boto3.Session:
    """A new session with the caller's configuration (profile, endpoint, retries) and these credentials.

    Unguarded until given to aws.Clients, which installs the guard on it as on the caller's session.
    """
    base_core = base._session  # noqa: SLF001 - botocore's session behind boto3's
    # botocore's own handlers, copied rather than registered anew (client_models.session_event_hooks); none of
    # the base session's own (its guard, a test's injected faults) come along.
    hooks = client_models.session_event_hooks()
    core = botocore.session.Session(profile=base_core.get_config_variable("profile"), event_hooks=hooks,
                                    include_builtin_handlers=hooks is None)
    core._credentials = credentials  # noqa: SLF001 - botocore has no public setter for refreshable credentials
    # The API models and endpoint rules read once for all accounts: loading them again in every account's
    # session costs about half a second of CPU per account (the EC2 model alone is megabytes of JSON).
    loader = base_core.get_component("data_loader")
    core.register_component("data_loader", loader)
    core._register_internal_component(  # noqa: SLF001
        "endpoint_resolver", base_core._get_internal_component("endpoint_resolver"))  # noqa: SLF001
    session = boto3.Session(botocore_session=core, region_name=region)
    # boto3 adds its own data directory to the loader's search paths with every session it wraps: on the shared
    # loader, one more copy of it an account, each looked in again by every lookup that misses.
    loader.search_paths[:] = dict.fromkeys(loader.search_paths)
    return session
