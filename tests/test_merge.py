"""`auditor merge`: shards of one organization merge into one snapshot that audits like the unsplit one."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from auditor import __version__, snapshot
from auditor.cli import cli
from auditor.errors import UserError
from auditor.merge import merge_command, merge_snapshots
from tests.cli import run_cli
from tests.factories import ACCOUNT, OTHER_ACCOUNT, REGION, SnapshotBuilder

if "merge" not in cli.commands:  # until cli.py registers it
    cli.add_command(merge_command)

OTHER_REGION = "eu-west-1"


def _organization() -> dict[str, Any]:
    """Two accounts peered across accounts and regions: requester DNS off (PCX003 in ACCOUNT), and no route
    back on the accepter side (PCX001 in OTHER_ACCOUNT); one denied read in OTHER_ACCOUNT."""
    builder = SnapshotBuilder()
    builder.scope(OTHER_ACCOUNT, OTHER_REGION)
    requester = builder.vpc("10.0.0.0/16")
    builder.subnet(requester, "10.0.1.0/24")
    accepter = builder.vpc("10.1.0.0/16", account=OTHER_ACCOUNT, region=OTHER_REGION)
    builder.subnet(accepter, "10.1.1.0/24", "eu-west-1a", account=OTHER_ACCOUNT, region=OTHER_REGION)
    pcx = builder.peering(requester, accepter, requester_dns=False)
    builder.route(builder.main_table(requester), "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    builder.error("ec2:ClientVpnEndpoints", account=OTHER_ACCOUNT, region=OTHER_REGION)
    return builder.build()


def _shard(document: dict[str, Any], account_id: str, regions: tuple[str, ...] | None = None,
           collected_at: str = "2026-11-26T10:00:00Z") -> dict[str, Any]:
    """The part of a snapshot one collection of `account_id` (in `regions`, default all) would have written."""
    section = document["accounts"][account_id]
    kept = {r: data for r, data in section["regions"].items() if regions is None or r in regions}
    return {**document, "collected_at": collected_at,
            "accounts": {account_id: {**section, "regions": kept}},
            "errors": [e for e in document["errors"] if e["account_id"] == account_id and e["region"] in kept]}


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


run = run_cli


def _peering_findings(capsys: pytest.CaptureFixture[str], path: Path) -> list[dict[str, Any]]:
    _, out, _ = run(capsys, "audit", "--snapshot", str(path), "--format", "json", "--select", "PCX001,PCX003")
    return json.loads(out)["findings"]


def test_two_account_shards_merge_into_a_snapshot_that_audits_both_sides_of_a_peering(tmp_path, capsys) -> None:
    organization = _organization()
    first = _write(tmp_path / "a.json", _shard(organization, ACCOUNT, collected_at="2026-11-26T10:05:00Z"))
    second = _write(tmp_path / "b.json", _shard(organization, OTHER_ACCOUNT, collected_at="2026-11-26T09:55:00Z"))
    merged_path, unsplit_path = tmp_path / "merged.json", _write(tmp_path / "unsplit.json", organization)

    code, out, err = run(capsys, "merge", str(first), str(second), "--output", str(merged_path))
    merged = json.loads(merged_path.read_text())
    merged_findings, unsplit_findings = _peering_findings(capsys, merged_path), _peering_findings(capsys, unsplit_path)
    requester_alone = _peering_findings(capsys, first)

    assert (code, out) == (0, "")
    assert err == f"merged 2 shard(s): 2 account(s), 2 region(s), 1 error(s) -> {merged_path}\n"
    snapshot.validate(merged, "merged")
    assert merged["accounts"] == organization["accounts"]
    assert merged["errors"] == organization["errors"]
    assert (merged["collected_at"], merged["tool_version"]) == ("2026-11-26T09:55:00Z", __version__)
    assert merged["shards"] == [
        {"collected_at": "2026-11-26T09:55:00Z", "tool_version": "0.1.0", "accounts": [OTHER_ACCOUNT],
         "regions": {OTHER_ACCOUNT: sorted(organization["accounts"][OTHER_ACCOUNT]["regions"])}},
        {"collected_at": "2026-11-26T10:05:00Z", "tool_version": "0.1.0", "accounts": [ACCOUNT],
         "regions": {ACCOUNT: sorted(organization["accounts"][ACCOUNT]["regions"])}}]
    assert sorted((f["rule_id"], f["account_id"], f["region"]) for f in merged_findings) == [
        ("PCX001", OTHER_ACCOUNT, OTHER_REGION), ("PCX003", ACCOUNT, REGION)]
    assert merged_findings == unsplit_findings
    assert [(f["rule_id"], f["severity"]) for f in requester_alone] == [("PCX003", "medium"), ("PCX001", "info")]


def test_the_same_shards_in_any_order_give_a_byte_identical_file(tmp_path, capsys) -> None:
    organization = _organization()
    first = _write(tmp_path / "a.json", _shard(organization, ACCOUNT, collected_at="2026-11-26T10:05:00Z"))
    second = _write(tmp_path / "b.json", _shard(organization, OTHER_ACCOUNT, collected_at="2026-11-26T09:55:00Z"))

    forward = run(capsys, "merge", str(first), str(second), "-o", str(tmp_path / "forward.json"))
    backward = run(capsys, "merge", str(second), str(first), "-o", str(tmp_path / "backward.json"))

    assert forward[0] == backward[0] == 0
    assert (tmp_path / "forward.json").read_bytes() == (tmp_path / "backward.json").read_bytes()


def test_one_account_split_by_region_merges_and_keeps_each_regions_errors() -> None:
    organization = _organization()
    east = _shard(organization, OTHER_ACCOUNT, ("global", REGION))
    west = _shard(organization, OTHER_ACCOUNT, ("global", OTHER_REGION))
    east["accounts"][OTHER_ACCOUNT]["regions"][REGION] = {"ec2:Vpcs": []}

    merged = merge_snapshots([("east.json", east), ("west.json", west)])

    regions = merged["accounts"][OTHER_ACCOUNT]["regions"]
    assert sorted(regions) == ["eu-west-1", "global", "us-east-1"]
    assert regions[OTHER_REGION] == organization["accounts"][OTHER_ACCOUNT]["regions"][OTHER_REGION]
    assert [(e["account_id"], e["region"], e["key"]) for e in merged["errors"]] == [
        (OTHER_ACCOUNT, OTHER_REGION, "ec2:ClientVpnEndpoints")]


def test_the_same_account_and_region_in_two_shards_is_refused(tmp_path, capsys) -> None:
    organization = _organization()
    first = _write(tmp_path / "a.json", _shard(organization, ACCOUNT))
    again = _write(tmp_path / "a-again.json", _shard(organization, ACCOUNT, (REGION,)))
    output = tmp_path / "merged.json"

    code, out, err = run(capsys, "merge", str(first), str(again), "-o", str(output))

    assert (code, out) == (2, "")
    assert err == (f"auditor: error: cannot merge: account {ACCOUNT} region {REGION} is in both {first} "
                   f"and {again}\n")
    assert not output.exists()


def test_a_different_global_region_for_one_account_is_refused() -> None:
    organization = _organization()
    east = _shard(organization, ACCOUNT, ("global",))
    other = _shard(organization, ACCOUNT, ("global",))
    other["accounts"][ACCOUNT]["regions"]["global"] = {"directconnect:directConnectGateways": [{"x": 1}]}

    with pytest.raises(UserError) as refused:
        merge_snapshots([("east.json", east), ("other.json", other)])

    assert str(refused.value) == (f"cannot merge: account {ACCOUNT} region global is in both east.json and "
                                  "other.json with different data")


def test_an_account_in_two_partitions_is_refused() -> None:
    organization = _organization()
    east = _shard(organization, ACCOUNT, (REGION,))
    west = _shard(organization, ACCOUNT, ("global",))
    west["accounts"][ACCOUNT]["partition"] = "aws-cn"

    with pytest.raises(UserError) as refused:
        merge_snapshots([("east.json", east), ("west.json", west)])

    assert str(refused.value) == (f"cannot merge: account {ACCOUNT} is in partition aws in east.json but "
                                  "aws-cn in west.json")


def test_a_shard_of_another_schema_version_is_refused(tmp_path, capsys) -> None:
    organization = _organization()
    first = _write(tmp_path / "a.json", _shard(organization, ACCOUNT))
    newer = _write(tmp_path / "b.json", {**_shard(organization, OTHER_ACCOUNT), "schema_version": 2})
    output = tmp_path / "merged.json"

    code, _, err = run(capsys, "merge", str(first), str(newer), "-o", str(output))

    assert code == 2
    assert err == (f"auditor: error: snapshot {newer}: schema_version 2 is not supported "
                   "(this auditor reads version 1)\n")
    assert not output.exists()


def test_a_shard_that_is_not_json_is_refused(tmp_path, capsys) -> None:
    first = _write(tmp_path / "a.json", _shard(_organization(), ACCOUNT))
    broken = tmp_path / "b.json"
    broken.write_text('{"schema_version": 1, "accounts": {')
    output = tmp_path / "merged.json"

    code, _, err = run(capsys, "merge", str(first), str(broken), "-o", str(output))

    assert code == 2
    assert err == f"auditor: error: snapshot {broken} is not valid JSON (line 1, column 36)\n"
    assert not output.exists()


def test_a_missing_shard_or_an_unwritable_output_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    first = _write(tmp_path / "a.json", _shard(_organization(), ACCOUNT))
    missing, output = tmp_path / "missing.json", tmp_path / "merged.json"

    unreadable = run(capsys, "merge", str(first), str(missing), "-o", str(output))
    unwritable = run(capsys, "merge", str(first), "-o", str(tmp_path / "no-such-dir" / "merged.json"))

    assert unreadable == (2, "", f"auditor: error: cannot read snapshot {missing}: No such file or directory\n")
    assert unwritable == (2, "", f"auditor: error: cannot write {tmp_path / 'no-such-dir' / 'merged.json'}: "
                                 f"directory {tmp_path / 'no-such-dir'} does not exist\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_the_merged_file_is_written_with_mode_0600(tmp_path, capsys) -> None:
    organization = _organization()
    first = _write(tmp_path / "a.json", _shard(organization, ACCOUNT))
    second = _write(tmp_path / "b.json", _shard(organization, OTHER_ACCOUNT))
    output = tmp_path / "merged.json"

    code, _, _ = run(capsys, "merge", str(first), str(second), "-o", str(output))

    assert code == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json", "merged.json"]


def test_output_dash_writes_the_merged_snapshot_to_stdout(tmp_path, capsys) -> None:
    organization = _organization()
    first = _write(tmp_path / "a.json", _shard(organization, ACCOUNT))
    second = _write(tmp_path / "b.json", _shard(organization, OTHER_ACCOUNT))

    code, out, err = run(capsys, "merge", str(first), str(second), "--output", "-")

    assert code == 0
    assert out == snapshot.dumps(merge_snapshots([("a", snapshot.load(first)), ("b", snapshot.load(second))]))
    assert sorted(json.loads(out)["accounts"]) == [ACCOUNT, OTHER_ACCOUNT]
    assert err == "merged 2 shard(s): 2 account(s), 2 region(s), 1 error(s) -> stdout\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_a_merged_snapshot_merges_again_keeping_every_shards_provenance() -> None:
    organization = _organization()
    east = _shard(organization, OTHER_ACCOUNT, ("global", REGION), collected_at="2026-11-26T10:01:00Z")
    east["accounts"][OTHER_ACCOUNT]["regions"][REGION] = {"ec2:Vpcs": []}
    west = _shard(organization, OTHER_ACCOUNT, (OTHER_REGION,), collected_at="2026-11-26T10:02:00Z")
    first = _shard(organization, ACCOUNT, collected_at="2026-11-26T10:03:00Z")

    nested = merge_snapshots([("east+west", merge_snapshots([("east", east), ("west", west)])), ("a", first)])
    flat = merge_snapshots([("a", first), ("west", west), ("east", east)])

    assert snapshot.dumps(nested) == snapshot.dumps(flat)
    assert [s["collected_at"] for s in flat["shards"]] == [
        "2026-11-26T10:01:00Z", "2026-11-26T10:02:00Z", "2026-11-26T10:03:00Z"]


# The last: a time with no UTC equivalent (the calendar's first hour, east of UTC); an internal error until 2026-11-27.
@pytest.mark.parametrize("collected_at", ["yesterday", None, "0001-01-01T00:00:00+01:00"])
def test_a_shard_whose_collection_time_is_unreadable_is_refused(tmp_path, capsys, collected_at) -> None:
    organization = _organization()
    first = _write(tmp_path / "a.json", _shard(organization, ACCOUNT))
    odd = _write(tmp_path / "b.json", {**_shard(organization, OTHER_ACCOUNT), "collected_at": collected_at})
    output = tmp_path / "merged.json"

    code, _, err = run(capsys, "merge", str(first), str(odd), "-o", str(output))

    assert code == 2
    assert err == f"auditor: error: snapshot {odd}: collected_at {collected_at!r} is not an ISO 8601 timestamp\n"
    assert not output.exists()


def _pending(collected: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Two accounts' shards, collected at the times given: a peering requested on 2026-11-26 and still pending
    in ACCOUNT (PCX006 once 7 days have passed: max_pending_days), and an endpoint created on 2026-11-24 that
    waits for acceptance in OTHER_ACCOUNT (VPCE006 once 24 hours have passed)."""
    builder = SnapshotBuilder()
    builder.scope(OTHER_ACCOUNT)
    requester, accepter = builder.vpc("10.0.0.0/16"), builder.vpc("10.1.0.0/16", account=OTHER_ACCOUNT)
    builder.peering(requester, accepter, status="pending-acceptance", expiration="2026-12-03T00:00:00Z")
    builder.scope(OTHER_ACCOUNT)
    with_endpoint = builder.vpc("10.2.0.0/16", account=OTHER_ACCOUNT)
    builder.account = OTHER_ACCOUNT
    builder.endpoint(with_endpoint, state="pendingAcceptance")
    builder.account = ACCOUNT
    document = builder.build()
    endpoints = document["accounts"][OTHER_ACCOUNT]["regions"][REGION]["ec2:VpcEndpoints"]
    assert len(endpoints) == 1
    endpoints[0]["CreationTimestamp"] = "2026-11-24T00:00:00Z"
    return [(f"{account}.json", _shard(document, account, collected_at=moment))
            for account, moment in collected.items()]


def _age_findings(capsys: pytest.CaptureFixture[str], path: Path) -> list[tuple[str, str]]:
    _, out, _ = run(capsys, "audit", "--snapshot", str(path), "--format", "json", "--select", "PCX006,VPCE006")
    return sorted((f["rule_id"], f["account_id"]) for f in json.loads(out)["findings"])


def test_shards_collected_days_apart_judge_each_account_as_of_its_own_shard(tmp_path, capsys) -> None:
    # ACCOUNT on 2026-12-05 (the peering 9 days pending), OTHER_ACCOUNT on 2026-11-24 at noon (the endpoint 12 hours
    # old). Judged as of the earliest shard, as until 2026-11-27, the peering was 2 days old and no PCX006 was
    # reported; judged as of the latest, the endpoint would be 11 days old though its shard saw it at 12 hours.
    shards = _pending({ACCOUNT: "2026-12-05T00:00:00Z", OTHER_ACCOUNT: "2026-11-24T12:00:00Z"})
    paths = [_write(tmp_path / name, document) for name, document in shards]
    merged = tmp_path / "merged.json"

    assert run(capsys, "merge", *map(str, paths), "-o", str(merged))[0] == 0

    assert json.loads(merged.read_text())["collected_at"] == "2026-11-24T12:00:00Z"
    assert _age_findings(capsys, merged) == [("PCX006", ACCOUNT)]
    assert _age_findings(capsys, paths[0]) == [("PCX006", ACCOUNT)]  # each shard alone says the same
    assert _age_findings(capsys, paths[1]) == []


def test_an_account_split_by_region_is_judged_region_by_region_as_of_each_shard(tmp_path, capsys) -> None:
    # ACCOUNT's REGION (with the peering pending 9 days) collected on 2026-12-05, its OTHER_REGION on 2026-11-24.
    # Until 2026-11-27 the account's earliest shard was its time in every region: no PCX006 (a review found it).
    builder = SnapshotBuilder()
    builder.scope(OTHER_ACCOUNT)
    requester, accepter = builder.vpc("10.0.0.0/16"), builder.vpc("10.1.0.0/16", account=OTHER_ACCOUNT)
    builder.peering(requester, accepter, status="pending-acceptance", expiration="2026-12-03T00:00:00Z")
    builder.vpc("10.5.0.0/16", region=OTHER_REGION)
    document = builder.build()
    shards = [("east.json", _shard(document, ACCOUNT, (REGION,), collected_at="2026-12-05T00:00:00Z")),
              ("west.json", _shard(document, ACCOUNT, (OTHER_REGION,), collected_at="2026-11-24T00:00:00Z")),
              ("other.json", _shard(document, OTHER_ACCOUNT, collected_at="2026-12-05T00:00:00Z"))]
    merged = tmp_path / "merged.json"
    snapshot.write_private(merged, snapshot.dumps(merge_snapshots(shards)))
    east = _write(tmp_path / "east.json", shards[0][1])

    assert _age_findings(capsys, merged) == [("PCX006", ACCOUNT)]
    assert _age_findings(capsys, east) == [("PCX006", ACCOUNT)]  # as its shard alone says


def test_an_endpoint_pending_past_its_grace_in_its_own_shard_is_reported_after_a_merge(tmp_path, capsys) -> None:
    shards = _pending({ACCOUNT: "2026-11-20T00:00:00Z", OTHER_ACCOUNT: "2026-11-26T00:00:00Z"})
    merged = tmp_path / "merged.json"
    snapshot.write_private(merged, snapshot.dumps(merge_snapshots(shards)))

    assert _age_findings(capsys, merged) == [("VPCE006", OTHER_ACCOUNT)]


def test_an_account_with_errors_in_one_shard_and_data_in_another_is_refused(tmp_path, capsys) -> None:
    organization = _organization()
    read = _write(tmp_path / "retry.json", _shard(organization, OTHER_ACCOUNT))
    failed = _write(tmp_path / "run1.json", {
        **organization, "accounts": {}, "errors": [{
            "account_id": OTHER_ACCOUNT, "region": "global", "key": "sts:AssumeRole", "operation": "AssumeRole",
            "code": "AccessDenied", "message": "denied"}]})
    output = tmp_path / "merged.json"

    forward = run(capsys, "merge", str(failed), str(read), "-o", str(output))
    backward = run(capsys, "merge", str(read), str(failed), "-o", str(output))

    expected = (f"auditor: error: cannot merge: account {OTHER_ACCOUNT} could not be read in {failed} (AssumeRole "
                f"AccessDenied) but its data is in {read}\n")
    assert forward == backward == (2, "", expected)
    assert not output.exists()


def test_an_account_not_read_in_one_shard_is_refused_beside_one_that_read_it_without_its_global_keys() -> None:
    # The worker reading the global keys died: that shard holds regions only, and an auditor:Worker error in
    # "global". Until 2026-11-27 the AssumeRole failure of another run was merged beside it, unremarked.
    organization = _organization()
    regions_only = _shard(organization, OTHER_ACCOUNT, (OTHER_REGION,))
    regions_only["errors"] = [{"account_id": OTHER_ACCOUNT, "region": "global", "key": "auditor:Worker",
                               "operation": "Collect", "code": "WorkerExited", "message": "exited"}]
    failed = {**organization, "accounts": {}, "errors": [{
        "account_id": OTHER_ACCOUNT, "region": "global", "key": "sts:AssumeRole", "operation": "AssumeRole",
        "code": "AccessDenied", "message": "denied"}]}

    for shards in ([("run1.json", regions_only), ("denied.json", failed)],
                   [("denied.json", failed), ("run1.json", regions_only)]):
        with pytest.raises(UserError) as refused:
            merge_snapshots(shards)
        assert str(refused.value) == (f"cannot merge: account {OTHER_ACCOUNT} could not be read in denied.json "
                                      "(AssumeRole AccessDenied) but its data is in run1.json")


def test_the_cli_refuses_an_account_not_read_beside_its_data_in_one_line_and_exit_2(tmp_path, capsys) -> None:
    organization = _organization()
    regions_only = _write(tmp_path / "run1.json", _shard(organization, OTHER_ACCOUNT, (OTHER_REGION,)))
    failed = _write(tmp_path / "denied.json", {**organization, "accounts": {}, "errors": [{
        "account_id": OTHER_ACCOUNT, "region": "global", "key": "sts:AssumeRole", "operation": "AssumeRole",
        "code": "AccessDenied", "message": "denied"}]})
    output = tmp_path / "merged.json"

    done = run(capsys, "merge", str(regions_only), str(failed), "-o", str(output))

    assert done == (2, "", f"auditor: error: cannot merge: account {OTHER_ACCOUNT} could not be read in {failed} "
                           f"(AssumeRole AccessDenied) but its data is in {regions_only}\n")
    assert not output.exists()


def test_the_same_shard_named_twice_is_refused(tmp_path, capsys) -> None:
    failed = _write(tmp_path / "denied.json", {**_organization(), "accounts": {}, "errors": [{
        "account_id": OTHER_ACCOUNT, "region": "global", "key": "sts:AssumeRole", "operation": "AssumeRole",
        "code": "AccessDenied", "message": "denied"}]})
    output = tmp_path / "merged.json"

    done = run(capsys, "merge", str(failed), str(failed), "-o", str(output))

    assert done == (2, "", f"auditor: error: cannot merge: {failed} is given more than once\n")
    assert not output.exists()


def test_a_region_error_in_one_shard_and_that_regions_data_in_another_is_refused() -> None:
    organization = _organization()
    east = _shard(organization, OTHER_ACCOUNT, ("global", OTHER_REGION))
    not_read = _shard(organization, OTHER_ACCOUNT, ("global",))
    not_read["errors"] = [{"account_id": OTHER_ACCOUNT, "region": OTHER_REGION, "key": "ec2:Regions",
                           "operation": "DescribeRegions", "code": "RegionNotEnabled", "message": "not enabled"}]

    with pytest.raises(UserError) as refused:
        merge_snapshots([("east.json", east), ("not-read.json", not_read)])

    assert str(refused.value) == (f"cannot merge: account {OTHER_ACCOUNT} region {OTHER_REGION} has errors in "
                                  "not-read.json but its data is in east.json")


def test_the_same_error_only_shard_twice_is_refused() -> None:
    failed = {"schema_version": 1, "tool_version": "0.1.0", "collected_at": "2026-11-26T10:00:00Z", "accounts": {},
              "errors": [{"account_id": OTHER_ACCOUNT, "region": "global", "key": "sts:AssumeRole",
                          "operation": "AssumeRole", "code": "AccessDenied", "message": "denied"}]}

    with pytest.raises(UserError) as refused:
        merge_snapshots([("a.json", failed), ("b.json", failed)])

    assert str(refused.value) == (f"cannot merge: account {OTHER_ACCOUNT} region global has errors in both a.json "
                                  "and b.json")


def test_a_shard_whose_errors_are_not_objects_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    odd = _write(tmp_path / "a.json", {**_shard(_organization(), ACCOUNT), "errors": ["denied"]})
    output = tmp_path / "merged.json"

    assert run(capsys, "merge", str(odd), "-o", str(output)) == (
        2, "", f"auditor: error: snapshot {odd}: errors[0] is not an object\n")
    assert not output.exists()
