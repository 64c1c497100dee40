"""`auditor merge`: join snapshot shards into one snapshot to audit. No AWS calls; merge_snapshots is pure."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from auditor import __version__, snapshot
from auditor.errors import UserError
from auditor.items import parse_time

# As auditor.collect.registry.GLOBAL_REGION_KEY; not imported from there, so `auditor --help` stays free of boto3.
GLOBAL_REGION = "global"
DEFAULT_PARTITION = "aws"  # what the audit assumes when a snapshot does not name an account's partition


def merge_snapshots(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One snapshot from (name, document) shards: the same shards in any order give an identical document.

    Each account and region must come from one shard; an account may be split over shards by region. The
    "global" region is read by every shard of an account, so it may repeat when its data is identical.
    Errors are kept as recorded, attached to their account and region whichever shard holds that region's
    data; exact duplicates (those of a repeated "global") are kept once. An account and region with errors in
    one shard and data or errors in another is refused as well (an AssumeRole that failed in one run, the account
    read in a retry): the merged snapshot would say both that it was read and that it could not be.
    collected_at is the earliest shard's; `shards` keeps each shard's collected_at, tool_version, accounts and
    their regions (the audit judges each account and region as of its own shard's time, RuleContext.as_of_for).
    Only schema 1's fields are merged, and `trusted_accounts` (the organization's accounts, recorded by `collect
    --org`): the union of the shards'.
    The result shares region data with the shards rather than copying it.
    """
    if not documents:
        raise UserError("nothing to merge: no shard given")
    names = [name for name, _ in documents]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # an error-only shard given twice passed the checks below, and was recorded twice in `shards`
        raise UserError(f"cannot merge: {repeated[0]} is given more than once")
    for name, document in documents:
        snapshot.validate(document, name)
    accounts: dict[str, dict[str, Any]] = {}
    partition_source: dict[str, str] = {}
    region_source: dict[tuple[str, str], str] = {}
    for name, document in documents:
        for account_id, section in document["accounts"].items():
            partition = section.get("partition", DEFAULT_PARTITION)
            merged = accounts.setdefault(account_id, {"partition": partition, "regions": {}})
            if merged["partition"] != partition:
                raise UserError(f"cannot merge: account {account_id} is in partition {merged['partition']} in "
                                f"{partition_source[account_id]} but {partition} in {name}")
            partition_source.setdefault(account_id, name)
            for region, data in section["regions"].items():
                first = region_source.get((account_id, region))
                if first is None:
                    region_source[account_id, region] = name
                    merged["regions"][region] = data
                elif region != GLOBAL_REGION or merged["regions"][region] != data:
                    differing = " with different data" if region == GLOBAL_REGION else ""
                    raise UserError(f"cannot merge: account {account_id} region {region} is in both {first} "
                                    f"and {name}{differing}")
    _check_errors(documents, region_source)
    collected = [(name, _collected_at(name, document)) for name, document in documents]
    merged_document = {
        "schema_version": snapshot.SCHEMA_VERSION,
        "tool_version": __version__,
        "collected_at": snapshot.utc_timestamp(min(moment for _, moment in collected)),
        "accounts": accounts,
        "errors": _merged_errors(documents),
        "shards": sorted((record for (name, document), (_, moment) in zip(documents, collected, strict=True)
                          for record in _shard_records(name, document, moment)),
                         key=lambda record: (str(record.get("collected_at")), _canonical(record))),
    }
    if any("trusted_accounts" in document for _, document in documents):
        merged_document["trusted_accounts"] = sorted({account for _, document in documents
                                                      for account in document.get("trusted_accounts", [])})
    return merged_document


def _check_errors(documents: list[tuple[str, dict[str, Any]]], region_source: dict[tuple[str, str], str]) -> None:
    """Refuse an account and region whose errors come from one shard and its data, or other errors, from another.
    The "global" region of an account split by region is every such shard's: it may repeat there."""
    with_data = {(name, account_id) for name, document in documents for account_id in document["accounts"]}
    read_in: dict[str, str] = {}  # account -> the first shard that holds data of it
    for name, account_id in sorted(with_data):
        read_in.setdefault(account_id, name)
    error_source: dict[tuple[str, str], str] = {}
    for name, document in documents:
        for position, error in enumerate(document.get("errors", [])):
            if not isinstance(error, dict):
                raise UserError(f"snapshot {name}: errors[{position}] is not an object")
            account_id, region = str(error.get("account_id", "")), str(error.get("region", ""))
            if region == GLOBAL_REGION and (name, account_id) in with_data:
                continue  # a shard of that account's regions: its global part is checked with its data
            # A shard with no data of the account says it could not be read at all (AssumeRole, DescribeRegions):
            # untrue beside a shard that read it, even one without the account's global keys (their worker lost).
            other = read_in.get(account_id) if region == GLOBAL_REGION else None
            if other is not None:
                raise UserError(f"cannot merge: account {account_id} could not be read in {name} "
                                f"({error.get('operation')} {error.get('code')}) but its data is in {other}")
            data = region_source.get((account_id, region))
            if data is not None and data != name:
                raise UserError(f"cannot merge: account {account_id} region {region} has errors in {name} but its "
                                f"data is in {data}")
            first = error_source.setdefault((account_id, region), name)
            if first != name:
                raise UserError(f"cannot merge: account {account_id} region {region} has errors in both {first} "
                                f"and {name}")


def _collected_at(name: str, document: dict[str, Any]) -> dt.datetime:
    value = document.get("collected_at")
    moment = parse_time(value) if isinstance(value, str) else None
    if moment is None:
        raise UserError(f"snapshot {name}: collected_at {value!r} is not an ISO 8601 timestamp")
    return moment


def _merged_errors(documents: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every shard's errors in snapshot.build's order; the whole record breaks ties, so shard order cannot show."""
    unique: dict[str, dict[str, Any]] = {}
    for _, document in documents:
        for error in document.get("errors", []):  # each an object: _check_errors saw to it
            unique.setdefault(_canonical(error), error)
    order = sorted(unique.items(), key=lambda pair: (
        *(str(pair[1].get(field, "")) for field in ("account_id", "region", "key", "resource_id", "operation")),
        pair[0]))
    return [error for _, error in order]


def _shard_records(name: str, document: dict[str, Any], collected_at: dt.datetime) -> list[dict[str, Any]]:
    """Where the merged data came from; a merged snapshot contributes its own shards, so merges nest."""
    if "shards" in document:
        if not isinstance(document["shards"], list) or not all(isinstance(r, dict) for r in document["shards"]):
            raise UserError(f"snapshot {name}: 'shards' must be a list of objects")
        return list(document["shards"])
    return [{"collected_at": snapshot.utc_timestamp(collected_at), "tool_version": document.get("tool_version"),
             "accounts": sorted(document["accounts"]),
             # which regions of each account: an account split over shards by region is judged region by region
             "regions": {account_id: sorted(section["regions"]) for account_id, section
                         in sorted(document["accounts"].items())}}]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def summary(document: dict[str, Any], shard_count: int) -> str:
    sections = document["accounts"].values()
    regions = {region for section in sections for region in section["regions"] if region != GLOBAL_REGION}
    return (f"merged {shard_count} shard(s): {len(document['accounts'])} account(s), {len(regions)} region(s), "
            f"{len(document['errors'])} error(s)")


@click.command("merge")
@click.argument("shards", nargs=-1, required=True, metavar="SHARD...")
@click.option("--output", "-o", "output", required=True, metavar="FILE",
              help="Where to write the merged snapshot ('-' for stdout). Written atomically, mode 0600.")
def merge_command(shards: tuple[str, ...], output: str) -> None:
    """Merge snapshot shards (one per account, or per region of an account) into one snapshot to audit.

    Refuses a shard of another schema version, and an account and region found in two shards.
    """
    target = None if output == "-" else Path(output)
    if target is not None:
        snapshot.check_writable(target)
    merged = merge_snapshots([(shard, snapshot.load(Path(shard))) for shard in shards])
    text = snapshot.dumps(merged)
    if target is None:
        sys.stdout.write(text)
    else:
        snapshot.write_private(target, text)
    click.echo(f"{summary(merged, len(shards))} -> {'stdout' if target is None else target}", err=True)
