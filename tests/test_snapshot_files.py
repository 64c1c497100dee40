"""Writing and reading snapshot files: what a user may point --output at, and files that are no snapshot."""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from auditor import snapshot
from auditor.errors import UserError
from tests.cli import run_cli
from tests.factories import SnapshotBuilder


def _snapshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "shard.json"
    builder = SnapshotBuilder()
    builder.vpc("10.0.0.0/16")
    path.write_text(json.dumps(builder.build()), encoding="utf-8")
    return path


def test_an_output_that_is_a_symbolic_link_replaces_the_file_it_names_and_stays_a_link(tmp_path, capsys) -> None:
    shard = _snapshot_file(tmp_path)
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "merged.json"
    real.write_text("previous\n")
    link = tmp_path / "merged.json"
    link.symlink_to(real)

    code, _, err = run_cli(capsys, "merge", str(shard), "-o", str(link))

    assert (code, err.startswith("merged 1 shard(s)")) == (0, True)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["accounts"] == json.loads(shard.read_text())["accounts"]
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["merged.json"]  # no temp file left


@pytest.mark.parametrize("through_a_link", [False, True])  # a link to a pipe: bash's >(...) is /dev/fd/63
def test_an_output_that_is_a_fifo_is_written_into_not_replaced(tmp_path, capsys, through_a_link) -> None:
    shard = _snapshot_file(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    output = fifo
    if through_a_link:
        output = tmp_path / "fd"
        output.symlink_to(fifo)
    received: list[str] = []
    # A daemon: were the pipe replaced by a file, the reader would wait for a writer forever.
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()

    code, _, _ = run_cli(capsys, "merge", str(shard), "-o", str(output))
    reader.join(timeout=10)

    assert code == 0
    assert not reader.is_alive()
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the pipe, not a regular file in its place
    assert output.is_symlink() == through_a_link
    assert json.loads(received[0])["accounts"] == json.loads(shard.read_text())["accounts"]


def test_a_failed_write_is_one_line_naming_the_file_and_keeps_the_file_already_there(tmp_path, capsys,
                                                                                    monkeypatch) -> None:
    shard = _snapshot_file(tmp_path)
    output = tmp_path / "merged.json"
    output.write_text("previous\n")

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(snapshot.os, "fsync", full)
    code, out, err = run_cli(capsys, "merge", str(shard), "-o", str(output))

    assert (code, out, err) == (2, "", f"auditor: error: cannot write {output}: No space left on device\n")
    assert output.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged.json", "shard.json"]


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff\xfe{\x00}\x00", "is not UTF-8 JSON"),  # UTF-16, as PowerShell's `>` writes it
    (b"\x1f\x8b\x08\x00", "is not UTF-8 JSON"),  # gzip
    (b"[" * 100_000, "is nested too deeply to be a snapshot"),
])
def test_a_file_that_is_no_snapshot_is_one_line_naming_it(tmp_path, capsys, content, message) -> None:
    odd = tmp_path / "odd.json"
    odd.write_bytes(content)

    merged = run_cli(capsys, "merge", str(odd), "-o", str(tmp_path / "merged.json"))
    audited = run_cli(capsys, "audit", "--snapshot", str(odd))

    assert merged == audited == (2, "", f"auditor: error: snapshot {odd} {message}\n")
    assert not (tmp_path / "merged.json").exists()


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_a_schema_version_that_only_looks_like_1_is_refused(version) -> None:
    with pytest.raises(UserError) as refused:
        snapshot.validate({"schema_version": version, "accounts": {}}, "odd.json")

    assert str(refused.value) == (f"snapshot odd.json: schema_version {version!r} is not supported "
                                  "(this auditor reads version 1)")


def test_a_snapshot_timed_at_the_calendars_edge_audits_as_one_whose_time_is_unknown(tmp_path, capsys) -> None:
    # 0001-01-01 east of UTC has no UTC equivalent: until 2026-11-27 the audit ended as an internal error.
    path = tmp_path / "edge.json"
    path.write_text(json.dumps({"schema_version": 1, "tool_version": "0.1.0",
                                "collected_at": "0001-01-01T00:00:00+01:00", "accounts": {}, "errors": []}))

    code, out, err = run_cli(capsys, "audit", "--snapshot", str(path), "--format", "json")

    assert (code, err) == (0, "0 finding(s): none\n")
    assert json.loads(out)["findings"] == []


@pytest.mark.parametrize(("account_id", "section", "message"), [
    ("abc", {"regions": {}}, "account 'abc' is not a 12-digit account id"),
    ("123456789012", {"partition": None, "regions": {}},
     "account 123456789012: partition None is not an AWS partition name (aws, aws-cn, aws-us-gov...)"),
    ("123456789012", {"partition": "amazon", "regions": {}},
     "account 123456789012: partition 'amazon' is not an AWS partition name (aws, aws-cn, aws-us-gov...)"),
])
def test_an_account_key_or_partition_no_finding_could_carry_is_refused(tmp_path, capsys, account_id, section,
                                                                        message) -> None:
    # Until 2026-11-27 they went out as they were: "AwsAccountId": "abc" and "Partition": "None" in ASFF, which
    # Security Hub refuses.
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"schema_version": 1, "tool_version": "0.1.0", "collected_at": "2026-11-26T10:00:00Z",
                                "accounts": {account_id: section}, "errors": []}))

    code, out, err = run_cli(capsys, "audit", "--snapshot", str(path), "--format", "asff")

    assert (code, out) == (2, "")
    assert err == f"auditor: error: snapshot {path}: {message}\n"
