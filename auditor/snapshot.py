"""The snapshot document (DESIGN.md section 4): build, write atomically with mode 0600, load and validate."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.account_request import ACCOUNT_ID
from auditor.errors import UserError
from auditor.long_lived import made_to_last

if TYPE_CHECKING:
    from auditor.collect.context import CollectionError
    from auditor.collect.runner import AccountCollection

SCHEMA_VERSION = 1
PARTITION = re.compile(r"\Aaws(-[a-z]+)*\Z", re.ASCII)  # aws, aws-cn, aws-us-gov, aws-iso-b...

# The keys of the errors that are about the collection itself rather than a resource type (the collector writes
# them, AUD001 explains them): part of the snapshot's contract.
ASSUME_ROLE_KEY = "sts:AssumeRole"  # an account whose role could not be assumed: nothing read there
REGIONS_KEY = "ec2:Regions"  # a region not read in an account (not enabled), or its DescribeRegions that failed
WORKER_KEY = "auditor:Worker"  # a worker process died before sending back an account (or a region) it held


def utc_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")


def build(collections: Iterable[AccountCollection], collected_at: dt.datetime,
          partitions: dict[str, str] | None = None, *, errors: Iterable[CollectionError] = (),
          trusted_accounts: Iterable[str] | None = None) -> dict[str, Any]:
    """The snapshot document for one or more accounts' collections.

    `errors`: failures outside any collection (an account whose role could not be assumed is in `errors`
    only, never in `accounts`). `trusted_accounts` (with --org: the organization's accounts) is recorded so
    that the audit trusts them; the key is left out when None.
    """
    accounts: dict[str, Any] = {}
    records: list[dict[str, str]] = [error.as_dict() for error in errors]
    for collection in collections:
        section: dict[str, Any] = {"regions": collection.regions}
        if partitions and collection.account_id in partitions:
            section["partition"] = partitions[collection.account_id]
        accounts[collection.account_id] = section
        records.extend(error.as_dict() for error in collection.errors)
    records.sort(key=lambda e: (e["account_id"], e["region"], e["key"], e.get("resource_id", ""), e["operation"]))
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "collected_at": utc_timestamp(collected_at),
        "accounts": accounts,
        "errors": records,
    }
    if trusted_accounts is not None:
        document["trusted_accounts"] = sorted(set(trusted_accounts))
    return document


def dumps(document: dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, items already in a stable order, datetimes as UTC ISO 8601."""
    return json.dumps(document, sort_keys=True, indent=1, default=_json_default, ensure_ascii=False) + "\n"


def _target(path: Path) -> Path:
    """Where writing `path` lands: the file a symbolic link names (the link stays a link), else `path`."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _is_stream(path: Path) -> bool:
    """An existing file (through any link) that is not a regular one (a FIFO, /dev/null, /dev/stdout, a terminal,
    bash's `>(...)`): written in place, as a shell's `>` would, since replacing it would swap a device or pipe for
    a regular file."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def check_writable(path: Path) -> None:
    """Fail before any work is done when the output cannot be written."""
    if _is_stream(path):  # through any link: /dev/stdout, bash's >(...) as /dev/fd/63
        if not os.access(path, os.W_OK):
            raise UserError(f"cannot write {path}: permission denied")
        return
    target = _target(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UserError(f"cannot write {path}: it is a directory")
    if not directory.is_dir():
        raise UserError(f"cannot write {path}: directory {directory} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=f".{target.name}.", suffix=".probe"):
            pass
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from None


def write_private(path: Path, text: str) -> None:
    """Write a file atomically (temp file, then rename) with mode 0600: it describes a network.

    A symbolic link is followed (the file it names is replaced, the link kept); a FIFO or device (/dev/stdout,
    /dev/null) is written in place. A failure is one UserError naming the file, and a file already there is kept.
    """
    if _is_stream(path):
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise UserError(f"cannot write {path}: {error.strerror}") from None
        return
    target = _target(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        descriptor, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o600)
        os.replace(temp_name, target)
    except BaseException as error:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):  # a full disk, a file size limit, an I/O error: one line, the file kept
            raise UserError(f"cannot write {path}: {error.strerror or error}") from None
        raise


class ShardWriter:
    """Writes each account's snapshot as soon as it is collected: DIR/<account id>.json, mode 0600, atomically."""

    def __init__(self, directory: Path) -> None:
        self.created = not directory.exists()
        try:
            directory.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot create the shard directory {directory}: {error.strerror}") from None
        check_writable(directory / "000000000000.json")
        self.directory = directory
        self.written: list[Path] = []

    def on_disk(self) -> str:
        """What a run that stopped part way leaves here, for the end of its one line."""
        return (f"the {len(self.written)} shard(s) already in {self.directory} are complete; "
                "the accounts not finished have none")

    def discard_if_empty(self) -> None:
        """A run that wrote nothing leaves no directory behind that it made itself (one already there stays)."""
        if self.created and not self.written:
            with contextlib.suppress(OSError):  # something else is in it now: not ours to remove
                self.directory.rmdir()

    def __call__(self, account_id: str, document: dict[str, Any]) -> None:
        path = self.directory / f"{account_id}.json"
        write_private(path, dumps(document))
        self.written.append(path)


def load(path: Path) -> dict[str, Any]:
    """Read and check a snapshot; any problem is one UserError line naming the file and the fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot read snapshot {path}: {error.strerror}") from None
    except UnicodeDecodeError:  # UTF-16 (PowerShell's `>`), a gzip file...
        raise UserError(f"snapshot {path} is not UTF-8 JSON") from None
    try:
        with made_to_last():  # millions of objects and no cycles: scanning them is wasted time
            document = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"snapshot {path} is not valid JSON (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise UserError(f"snapshot {path} is nested too deeply to be a snapshot") from None
    validate(document, str(path))
    return document


def validate(document: Any, name: str) -> None:
    if not isinstance(document, dict):
        raise UserError(f"snapshot {name}: the document is not a JSON object")
    version = document.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:  # not true, nor 1.0: JSON's 1 only
        raise UserError(f"snapshot {name}: schema_version {version!r} is not supported "
                        f"(this auditor reads version {SCHEMA_VERSION})")
    accounts = document.get("accounts")
    if not isinstance(accounts, dict):
        raise UserError(f"snapshot {name}: 'accounts' is missing or not an object")
    for account_id, section in accounts.items():
        # Every finding names its account and partition; Security Hub (ASFF) refuses a finding whose account is
        # not 12 digits or whose partition is not one (until 2026-11-27 "None" and "abc" went out as they were).
        if not ACCOUNT_ID.match(account_id):
            raise UserError(f"snapshot {name}: account {account_id!r} is not a 12-digit account id")
        regions = section.get("regions") if isinstance(section, dict) else None
        if not isinstance(regions, dict):
            raise UserError(f"snapshot {name}: account {account_id} has no 'regions' object")
        partition = section.get("partition", "aws")
        if not isinstance(partition, str) or not PARTITION.match(partition):
            raise UserError(f"snapshot {name}: account {account_id}: partition {partition!r} is not an AWS "
                            "partition name (aws, aws-cn, aws-us-gov...)")
        for region, data in regions.items():
            if not isinstance(data, dict) or not all(isinstance(items, list) for items in data.values()):
                raise UserError(f"snapshot {name}: {account_id}/{region} must map keys to lists of items")
    if not isinstance(document.get("errors", []), list):
        raise UserError(f"snapshot {name}: 'errors' must be a list")
    trusted = document.get("trusted_accounts", [])
    if not isinstance(trusted, list) or not all(isinstance(a, str) and ACCOUNT_ID.match(a) for a in trusted):
        raise UserError(f"snapshot {name}: 'trusted_accounts' must be a list of 12-digit account ids")
