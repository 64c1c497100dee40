"""`auditor audit` and `auditor rules`: formats, exit codes, selection, config, suppressions, bad input."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import auditor
from auditor.engine import run_audit
from auditor.index import Index
from tests.cli import run_cli
from tests.factories import NOW, SnapshotBuilder

SCHEMA = json.loads((Path(auditor.__file__).parent / "schemas" / "findings.schema.json").read_text())


def _snapshot_with_findings() -> dict[str, Any]:
    """Two medium DNS findings (PCX003) and one info finding (AUD001)."""
    builder = SnapshotBuilder()
    app = builder.vpc("10.0.0.0/16")
    shared = builder.vpc("10.1.0.0/16")
    builder.peering(app, shared, requester_dns=False, accepter_dns=False)
    builder.error("ec2:ClientVpnEndpoints", "UnauthorizedOperation")
    return builder.build()


def _write(tmp_path: Path, document: dict[str, Any], name: str = "snap.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in process, as the console script does: (exit code, stdout, stderr).

    `audit` runs only the rules this snapshot is built for, unless the test selects its own.
    """
    if args[:1] == ("audit",) and "--select" not in args:
        args = (*args, "--select", "PCX003,AUD001")
    return run_cli(capsys, *args)


def test_json_report_validates_against_the_schema_and_sorts_findings(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())

    code, out, err = run(capsys, "audit", "--snapshot", str(snapshot), "--format", "json")

    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert code == 1
    assert [f["rule_id"] for f in document["findings"]] == ["PCX003", "PCX003", "AUD001"]
    assert document["summary"] == {"total": 3, "by_severity": {"medium": 2, "info": 1}, "suppressed": 0}
    assert document["snapshot"]["errors"] == 1
    assert "3 finding(s): 2 medium, 1 info" in err
    assert "snapshot incomplete" in err


def test_table_report_is_grouped_and_fits_100_columns(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())

    code, out, _ = run(capsys, "audit", "--snapshot", str(snapshot))

    assert code == 1
    assert "MEDIUM   PCX003 peering-dns-resolution-disabled (2)" in out
    assert "INFO     AUD001 resource-type-not-collected (1)" in out
    assert max(len(line) for line in out.splitlines()) <= 100


@pytest.mark.parametrize(("args", "expected"), [
    pytest.param([], 1, id="default_fail_on_low_sees_medium"),
    pytest.param(["--fail-on", "high"], 0, id="nothing_at_or_above_high"),
    pytest.param(["--fail-on", "info"], 1, id="info_counts_when_asked"),
    pytest.param(["--exit-zero"], 0, id="exit_zero"),
    pytest.param(["--select", "AUD001"], 0, id="only_info_findings_under_default_fail_on"),
    pytest.param(["--ignore", "peering-dns-resolution-disabled"], 0, id="ignore_by_name"),
])
def test_exit_codes(tmp_path, capsys, args: list[str], expected: int) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())

    code, _, _ = run(capsys, "audit", "--snapshot", str(snapshot), *args)

    assert code == expected


def test_select_limits_the_rules_run(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())

    _, out, _ = run(capsys, "audit", "--snapshot", str(snapshot), "--format", "json", "--select", "pcx003")

    assert {f["rule_id"] for f in json.loads(out)["findings"]} == {"PCX003"}


@pytest.mark.parametrize(("content", "message"), [
    pytest.param("{not json", "is not valid JSON (line 1", id="not_json"),
    pytest.param('{"schema_version": 99, "accounts": {}}', "schema_version 99 is not supported", id="new_schema"),
    pytest.param('{"schema_version": 1}', "'accounts' is missing", id="no_accounts"),
    pytest.param('[1, 2]', "not a JSON object", id="not_an_object"),
    pytest.param('{"schema_version": 1, "accounts": {"123456789012": {"regions": {"r": {"ec2:Vpcs": {}}}}}}',
                 "must map keys to lists", id="items_not_a_list"),
])
def test_broken_snapshot_is_one_line_and_exit_2(tmp_path, capsys, content: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)

    code, out, err = run(capsys, "audit", "--snapshot", str(path))

    assert code == 2
    assert out == ""
    assert err.startswith("auditor: error: snapshot") and message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_snapshot_file_is_exit_2(tmp_path, capsys) -> None:
    code, _, err = run(capsys, "audit", "--snapshot", str(tmp_path / "nope.json"))

    assert code == 2
    assert "cannot read snapshot" in err


def test_unknown_rule_in_select_is_exit_2(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())

    code, _, err = run(capsys, "audit", "--snapshot", str(snapshot), "--select", "PCX999")

    assert code == 2
    assert err.strip() == "auditor: error: unknown rule 'PCX999' (see `auditor rules`)"


def test_output_file_is_written_atomically_with_mode_0600(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())
    target = tmp_path / "findings.json"

    code, out, _ = run(capsys, "audit", "--snapshot", str(snapshot), "--format", "json", "-o", str(target))

    assert code == 1
    assert out == ""
    assert json.loads(target.read_text())["summary"]["total"] == 3
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.json", "snap.json"]


def test_unwritable_output_is_exit_2_and_leaves_the_old_file(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    code, _, err = run(capsys, "audit", "--snapshot", str(snapshot), "-o", str(blocker / "out.json"))

    assert code == 2
    assert "cannot write" in err
    assert blocker.read_text() == "not a directory"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "auditor.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    pytest.param('colour = "red"\n', "unknown key 'colour'", id="unknown_key"),
    pytest.param('fail_on = "urgent"\n', "fail_on must be one of", id="bad_severity"),
    pytest.param('max_workers = "many"\n', "max_workers must be a whole number", id="bad_type"),
    pytest.param('trusted_accounts = ["12345"]\n', "trusted_accounts must be a list of 12-digit", id="bad_account"),
    pytest.param('trusted_accounts = ["111122223333\\n"]\n', "trusted_accounts must be a list of 12-digit",
                 id="account_with_a_newline"),
    pytest.param('[rules.PCX999]\nx = 1\n', "[rules.PCX999]: unknown rule 'PCX999'", id="unknown_rule"),
    pytest.param('[rules.PCX003]\nmax_pending_days = 3\n', "unknown option 'max_pending_days'", id="unknown_option"),
    pytest.param('[[suppressions]]\nrule = "PCX003"\nresource = "pcx-*"\n', "reason is required",
                 id="suppression_without_reason"),
    pytest.param('[[suppressions]]\nrule = "PCX003"\nresource = "*"\nreason = "r"\nexpires = "soon"\n',
                 "expires must be a date", id="bad_expiry"),
    pytest.param('fail_on = \n', "is not valid TOML", id="not_toml"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path, capsys, text: str, message: str) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())

    code, out, err = run(capsys, "audit", "--snapshot", str(snapshot), "--config", str(_config(tmp_path, text)))

    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_config_sets_defaults_and_flags_override_it(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())
    config = _config(tmp_path, 'fail_on = "critical"\nformat = "json"\n')

    quiet_code, quiet_out, _ = run(capsys, "audit", "--snapshot", str(snapshot), "--config", str(config))
    loud_code, _, _ = run(capsys, "audit", "--snapshot", str(snapshot), "--config", str(config), "--fail-on", "low")

    assert quiet_code == 0
    assert json.loads(quiet_out)["summary"]["total"] == 3
    assert loud_code == 1


def test_suppression_keeps_the_finding_marked_and_out_of_the_exit_code(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())
    config = _config(tmp_path, '[[suppressions]]\nrule = "peering-dns-resolution-disabled"\nresource = "pcx-*"\n'
                               'reason = "shared services resolve through Route 53 Resolver"\nexpires = 2099-01-01\n')

    code, out, err = run(capsys, "audit", "--snapshot", str(snapshot), "--config", str(config), "--format", "json",
                         "--fail-on", "medium")

    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    suppressed = [f for f in document["findings"] if f["suppressed"]]
    assert code == 0
    assert len(suppressed) == 2
    assert suppressed[0]["suppression"] == {"reason": "shared services resolve through Route 53 Resolver",
                                            "expires": "2099-01-01"}
    assert document["summary"]["suppressed"] == 2
    assert "2 suppressed" in err


def test_expired_suppression_no_longer_suppresses_and_is_reported(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _snapshot_with_findings())
    config = _config(tmp_path, '[[suppressions]]\nrule = "PCX003"\nresource = "pcx-*"\nreason = "temporary"\n'
                               'expires = 2020-01-01\n')

    code, out, err = run(capsys, "audit", "--snapshot", str(snapshot), "--config", str(config), "--format", "json")

    document = json.loads(out)
    assert code == 1
    assert not any(f["suppressed"] for f in document["findings"])
    assert document["expired_suppressions"][0]["expires"] == "2020-01-01"
    assert "suppression of PCX003 for 'pcx-*' expired on 2020-01-01" in err


def test_finding_ids_do_not_depend_on_api_order() -> None:
    document = _snapshot_with_findings()
    shuffled = json.loads(json.dumps(document))
    for data in shuffled["accounts"]["111122223333"]["regions"].values():
        for items in data.values():
            random.Random(7).shuffle(items)

    first = run_audit(Index(document), now=NOW).findings
    second = run_audit(Index(shuffled), now=NOW).findings

    assert [f.id for f in first] == [f.id for f in second]
    assert len({f.id for f in first}) == len(first)


@pytest.mark.parametrize(("collected_at", "expected"), [
    pytest.param("2026-11-26T10:00:00Z", NOW, id="utc"),
    pytest.param("2026-11-26T11:00:00+01:00", NOW, id="offset"),
    pytest.param("2026-11-26T10:00:00", NOW, id="naive_is_utc"),
    pytest.param("yesterday", None, id="unreadable"),
    pytest.param(None, None, id="missing"),
])
def test_the_rules_judge_a_snapshot_as_of_its_collection(collected_at: str | None, expected: Any) -> None:
    document = {"schema_version": 1, "accounts": {}, "errors": []}
    if collected_at is not None:
        document["collected_at"] = collected_at

    collected_at = Index(document).collected_at

    assert collected_at == expected
    assert collected_at is None or collected_at.tzinfo is dt.UTC


def test_rules_lists_every_rule_and_prints_one(capsys) -> None:
    code, listing, _ = run(capsys, "rules")
    doc_code, doc, _ = run(capsys, "rules", "peering-dns-resolution-disabled")

    assert code == doc_code == 0
    assert "PCX003" in listing and "AUD001" in listing
    assert doc.startswith("PCX003 peering-dns-resolution-disabled (medium, AWS::EC2::VPCPeeringConnection)")
    assert "## Why it matters" in doc and "## Remediation" in doc


def test_live_audit_collects_then_audits_and_can_keep_the_snapshot(tmp_path, capsys, moto_account) -> None:
    from tests.conftest import seed_client

    ec2 = seed_client("ec2")
    app = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    shared = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=app, PeerVpcId=shared)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    kept = tmp_path / "live.json"

    code, out, err = run(capsys, "audit", "--regions", "us-east-1", "--format", "json", "--select", "PCX001",
                         "--save-snapshot", str(kept))

    findings = json.loads(out)["findings"]
    assert code == 1
    assert {(f["resource_id"], f["severity"]) for f in findings} == {(pcx, "high")}
    assert len(findings) == 2, "neither side has a route"
    assert "API calls" in err
    assert os.stat(kept).st_mode & 0o777 == 0o600
    assert pcx in kept.read_text()
