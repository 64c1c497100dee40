"""Which accounts a run reads: the --role-name, --accounts, --org, --external-id and --role-session-name options,
checked before any AWS call.

No AWS library is imported here, nor by anything this imports: the offline commands (`audit --snapshot`, `path`,
`reach`, `graph`) check these options too, and importing boto3 and botocore for them took about 0.4 s of a 0.65 s
audit of a snapshot (tests/test_offline_imports.py holds them to it). The config file's checks and the snapshot's
use the same patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.errors import UserError

# ASCII only, as AWS means them (Python's \d and \w also match other scripts' digits and letters), and to the very end
# (`$` also matches before a final newline, which a config value can carry).
ACCOUNT_ID = re.compile(r"\A\d{12}\Z", re.ASCII)
# An IAM role name, optionally under a path (whose parts may hold any printable ASCII character but "/").
ROLE_NAME = re.compile(r"\A(?:[!-.0-~]+/)*[\w+=,.@-]{1,64}\Z", re.ASCII)
SESSION_NAME = re.compile(r"\A[\w+=,.@-]{2,64}\Z", re.ASCII)
EXTERNAL_ID = re.compile(r"\A[\w+=,.@:/-]{2,1224}\Z", re.ASCII)
DEFAULT_SESSION_NAME = "aws-network-auditor"


@dataclass(frozen=True)
class AccountRequest:
    """The accounts asked for on the command line, checked before any AWS call."""

    role_name: str
    account_ids: tuple[str, ...] = ()
    organization: bool = False
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME


def account_request(role_name: str | None, accounts: list[str] | None, organization: bool,
                    external_id: str | None, session_name: str | None) -> AccountRequest | None:
    """The checked request, or None for the caller's own account (no --role-name: as before)."""
    if not role_name:
        for given, flag in ((accounts, "--accounts"), (organization, "--org"), (external_id, "--external-id"),
                            (session_name, "--role-session-name")):
            if given or isinstance(given, str):  # an empty --external-id "" too: given, and ignored otherwise
                raise UserError(f"{flag} needs --role-name NAME: the role the auditor assumes in each account")
        return None
    if not ROLE_NAME.match(role_name):
        raise UserError(f"--role-name {role_name!r} is not an IAM role name (letters, digits and +=,.@_-)")
    if accounts and organization:
        raise UserError("give --accounts ID,ID or --org, not both")
    if not accounts and not organization:
        raise UserError("--role-name needs the accounts to read: --accounts ID,ID or --org")
    for account_id in accounts or []:
        if not ACCOUNT_ID.match(account_id):
            raise UserError(f"--accounts: {account_id!r} is not an AWS account id (12 digits)")
    if external_id is not None and not EXTERNAL_ID.match(external_id):
        raise UserError("--external-id must be 2 to 1224 characters of letters, digits and +=,.@:/_-")
    if session_name is not None and not SESSION_NAME.match(session_name):
        raise UserError(f"--role-session-name {session_name!r} must be 2 to 64 characters of letters, "
                        "digits and +=,.@_-")
    return AccountRequest(role_name=role_name, account_ids=tuple(sorted(set(accounts or []))),
                          organization=organization, external_id=external_id,
                          session_name=session_name or DEFAULT_SESSION_NAME)
