"""Run history: statuses across runs, partial runs, --only-new, `history`, `diff`, file safety, concurrency."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from auditor import history as history_module
from auditor import snapshot as snapshot_module
from auditor.engine import resolve_rule, run_audit
from auditor.errors import UserError
from auditor.history import Coverage, History, Recorded
from auditor.index import Index
from auditor.reports import RENDERERS, Report
from tests.cli import run_cli
from tests.factories import NOW, OTHER_ACCOUNT, SnapshotBuilder

ROOT = Path(__file__).resolve().parents[1]
DAYS = [f"2026-11-{day:02d}T02:00:00Z" for day in range(20, 30)]


def _peerings(*, first_dns_off: bool = True, second_dns_off: bool = False, other_account: bool | None = None,
              peerings_unreadable: bool = False) -> dict[str, Any]:
    """PCX003 findings: the first peering on both sides, the second on its requester side, and (when
    `other_account` is True) a peering inside a second account; False leaves that account out of the snapshot."""
    builder = SnapshotBuilder()
    app, shared, tools = builder.vpc("10.0.0.0/16"), builder.vpc("10.1.0.0/16"), builder.vpc("10.2.0.0/16")
    builder.peering(app, shared, requester_dns=not first_dns_off, accepter_dns=not first_dns_off)
    builder.peering(app, tools, requester_dns=not second_dns_off)
    if other_account is not None:
        left = builder.vpc("10.8.0.0/16", account=OTHER_ACCOUNT)
        right = builder.vpc("10.9.0.0/16", account=OTHER_ACCOUNT)
        builder.peering(left, right, requester_dns=False)
        if not other_account:
            builder.regions = {key: data for key, data in builder.regions.items() if key[0] != OTHER_ACCOUNT}
    if peerings_unreadable:
        builder.error("ec2:VpcPeeringConnections")
    return builder.build()


def _write(tmp_path: Path, document: dict[str, Any], name: str = "snap.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


run = run_cli


def _audit(capsys: pytest.CaptureFixture[str], tmp_path: Path, document: dict[str, Any], history: Path,
           *args: str) -> tuple[int, str, str]:
    """`auditor audit --history`, of PCX003 unless the test selects its own rules."""
    snapshot = _write(tmp_path, document)
    select = () if "--select" in args else ("--select", "PCX003")
    return run(capsys, "audit", "--snapshot", snapshot, "--history", str(history), *select, *args)


def _record(store: History, document: dict[str, Any], when: str, select: tuple[str, ...] = ("PCX003",)) -> Recorded:
    """What `auditor audit --history` does, with the run's time given."""
    rules = [resolve_rule(name) for name in select]
    result = run_audit(Index(document), now=NOW, rules=rules)
    summary = Report(result, document, when).snapshot_summary()
    return store.record(generated_at=when, snapshot=summary, findings=result.findings,
                        coverage=Coverage.of(document, rules))


def _statuses(store: History, run_id: int, rule_id: str = "PCX003") -> list[str]:
    return sorted(row["status"] for row in store.findings_of(run_id).values() if row["rule_id"] == rule_id)


# --- Statuses across runs ---------------------------------------------------------------------------------------

def test_statuses_go_new_open_resolved_reopened_with_first_and_last_seen(tmp_path) -> None:
    store = History.open(tmp_path / "history.sqlite", create=True)

    first = _record(store, _peerings(), DAYS[0])
    second = _record(store, _peerings(second_dns_off=True), DAYS[1])
    third = _record(store, _peerings(first_dns_off=False, second_dns_off=True), DAYS[2])
    fourth = _record(store, _peerings(second_dns_off=True), DAYS[3])

    first_peering = set(first.statuses)
    second_peering = set(second.statuses) - first_peering
    assert len(first_peering) == 2 and len(second_peering) == 1
    assert set(first.statuses.values()) == {"new"}
    assert {second.statuses[i] for i in first_peering} == {"open"}
    assert {second.statuses[i] for i in second_peering} == {"new"}
    assert {third.statuses[i] for i in first_peering} == {"resolved"}
    assert {third.statuses[i] for i in second_peering} == {"open"}
    assert {fourth.statuses[i] for i in first_peering} == {"reopened"}
    assert {fourth.statuses[i] for i in second_peering} == {"open"}
    records = store.findings_of(fourth.run_id)
    assert {(records[i]["first_seen"], records[i]["last_seen"]) for i in first_peering} == {(DAYS[0], DAYS[3])}
    assert {(records[i]["first_seen"], records[i]["last_seen"]) for i in second_peering} == {(DAYS[1], DAYS[3])}
    assert fourth.counts() == {"new": 0, "open": 1, "reopened": 2, "resolved": 0, "unknown": 0}
    store.close()


def test_a_run_with_other_rules_does_not_resolve_findings_it_did_not_look_for(tmp_path, capsys) -> None:
    history = tmp_path / "history.sqlite"
    _audit(capsys, tmp_path, _peerings(), history)

    code, _, err = _audit(capsys, tmp_path, _peerings(), history, "--select", "PCX001")
    _, after_partial, _ = run(capsys, "history", "--history", str(history), "--format", "json")
    _audit(capsys, tmp_path, _peerings(), history)

    with History.open(history) as store:
        assert _statuses(store, 2) == ["unknown", "unknown"]
        assert _statuses(store, 3) == ["open", "open"]
    assert code == 1  # PCX001's own findings: the peerings have no routes
    assert "0 resolved, 2 unknown" in err
    assert json.loads(after_partial)["runs"][1]["statuses"]["resolved"] == 0


def test_an_account_missing_from_the_snapshot_is_unknown_not_resolved(tmp_path) -> None:
    store = History.open(tmp_path / "history.sqlite", create=True)
    first = _record(store, _peerings(other_account=True), DAYS[0])

    partial = _record(store, _peerings(first_dns_off=False, other_account=False), DAYS[1])
    full = _record(store, _peerings(first_dns_off=False, other_account=True), DAYS[2])

    other = {i for i, row in store.findings_of(first.run_id).items() if row["account_id"] == OTHER_ACCOUNT}
    assert len(other) == 1
    assert {i: s for i, s in partial.statuses.items() if i in other} == dict.fromkeys(other, "unknown")
    assert sorted(s for i, s in partial.statuses.items() if i not in other) == ["resolved", "resolved"]
    assert {i: s for i, s in full.statuses.items() if i in other} == dict.fromkeys(other, "open")
    store.close()


def test_data_the_rule_needs_that_could_not_be_read_leaves_its_findings_unknown(tmp_path) -> None:
    store = History.open(tmp_path / "history.sqlite", create=True)
    _record(store, _peerings(), DAYS[0])

    blind = _record(store, _peerings(peerings_unreadable=True), DAYS[1])

    assert sorted(blind.statuses.values()) == ["unknown", "unknown"]
    store.close()


HOME, FAR, OTHER_REGION = ("111122223333", "us-east-1"), ("999988887777", "us-east-1"), ("111122223333", "eu-west-1")


@pytest.mark.parametrize(("coverage", "rule_id", "scope", "scopes_when_seen", "judged"), [
    pytest.param(Coverage(frozenset({"PCX003"}), frozenset({HOME})), "PCX003", HOME, frozenset({HOME}), True,
                 id="pass_rule_ran_where_it_was_seen"),
    pytest.param(Coverage(frozenset({"PCX001"}), frozenset({HOME})), "PCX003", HOME, frozenset({HOME}), False,
                 id="fail_rule_not_run"),
    pytest.param(Coverage(frozenset({"PCX003"}), frozenset({HOME}), frozenset({("PCX003", *HOME)})), "PCX003", HOME,
                 frozenset({HOME}), False, id="fail_data_it_needs_not_read"),
    pytest.param(Coverage(frozenset({"PCX003"}), frozenset({HOME})), "PCX003", OTHER_REGION,
                 frozenset({HOME, OTHER_REGION}), False, id="fail_region_not_read_this_time"),
    pytest.param(Coverage(frozenset({"PCX003"}), frozenset({HOME, OTHER_REGION})), "PCX003", FAR,
                 frozenset({HOME}), True, id="pass_far_side_judged_from_what_was_read_again"),
    pytest.param(Coverage(frozenset({"PCX003"}), frozenset({OTHER_REGION})), "PCX003", FAR,
                 frozenset({HOME}), False, id="fail_far_side_but_its_home_not_read_again"),
])
def test_coverage_says_when_an_absent_finding_is_resolved(coverage: Coverage, rule_id: str, scope: tuple[str, str],
                                                          scopes_when_seen: frozenset[tuple[str, str]],
                                                          judged: bool) -> None:
    assert coverage.judges(rule_id, scope, scopes_when_seen) is judged


def test_coverage_of_a_snapshot_marks_rules_blind_where_a_key_they_need_failed() -> None:
    document = _peerings(peerings_unreadable=True)
    rules = [resolve_rule("PCX003"), resolve_rule("AUD001")]

    coverage = Coverage.of(document, rules)

    assert coverage.rules == {"PCX003", "AUD001"}
    assert coverage.scopes == {("111122223333", "us-east-1"), ("111122223333", "global")}
    assert coverage.blind == {("PCX003", "111122223333", "us-east-1")}


# --- --only-new --------------------------------------------------------------------------------------------------

def test_only_new_reports_and_counts_only_findings_the_previous_run_did_not_have(tmp_path, capsys) -> None:
    history = tmp_path / "history.sqlite"
    _, first_out, _ = _audit(capsys, tmp_path, _peerings(), history, "--format", "json")
    _, everything, _ = run(capsys, "audit", "--snapshot", _write(tmp_path, _peerings(second_dns_off=True)),
                           "--select", "PCX003", "--format", "json")

    same_code, same_out, _ = _audit(capsys, tmp_path, _peerings(), history, "--only-new", "--format", "json")
    more_code, more_out, more_err = _audit(capsys, tmp_path, _peerings(second_dns_off=True), history, "--only-new",
                                           "--format", "json")
    table_code, table_out, _ = _audit(capsys, tmp_path, _peerings(second_dns_off=True), history, "--only-new")

    assert (same_code, json.loads(same_out)["findings"]) == (0, [])
    seen_before = {f["id"] for f in json.loads(first_out)["findings"]}
    expected = [f for f in json.loads(everything)["findings"] if f["id"] not in seen_before]
    more = json.loads(more_out)
    assert more_code == 1
    assert len(expected) == 1 and more["findings"] == expected
    assert more["summary"]["total"] == 1
    assert "history: run 3 recorded in" in more_err and "1 new, 2 open, 0 reopened, 0 resolved, 0 unknown" in more_err
    assert (table_code, table_out.splitlines()[0]) == (0, "No findings.")


def test_a_report_that_cannot_be_written_records_nothing(tmp_path, capsys, monkeypatch) -> None:
    """Recorded first, the run would make the next --only-new run leave out findings no report ever carried."""
    history, report = tmp_path / "history.sqlite", tmp_path / "report.json"

    def disk_full(path: Path, _text: str) -> None:
        raise UserError(f"cannot write {path}: No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(snapshot_module, "write_private", disk_full)
        failed_code, _, failed_err = _audit(capsys, tmp_path, _peerings(), history, "--format", "json",
                                            "--output", str(report))
    with History.open(history) as store:
        runs_after_the_failure = store.runs()
    code, out, err = _audit(capsys, tmp_path, _peerings(), history, "--only-new", "--format", "json")

    assert (failed_code, failed_err) == (2, f"auditor: error: cannot write {report}: No space left on device\n")
    assert runs_after_the_failure == []
    assert code == 1
    assert len(json.loads(out)["findings"]) == 2  # both still new: the failed run was never recorded
    assert "history: run 1 recorded in" in err and "2 new, 0 open" in err


@pytest.mark.parametrize("format_name", sorted(RENDERERS))
def test_only_new_limits_every_format(tmp_path, capsys, format_name: str) -> None:
    history = tmp_path / "history.sqlite"
    _audit(capsys, tmp_path, _peerings(), history)  # the first peering (pcx-...10) is known from here on

    code, out, _ = _audit(capsys, tmp_path, _peerings(second_dns_off=True), history, "--only-new",
                          "--format", format_name)

    # the HTML report's drawing of the network shows every peering, not only those with new findings
    findings = re.sub(r'<div class="network-graph">.*?</svg></div>', "", out, flags=re.S)
    assert code == 1
    assert "pcx-00000000000000011" in findings
    assert "pcx-00000000000000010" not in findings
    if format_name == "html":
        assert findings != out


def test_only_new_without_history_is_exit_2(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _peerings())

    code, out, err = run(capsys, "audit", "--snapshot", snapshot, "--only-new")

    assert (code, out) == (2, "")
    assert err.strip() == ("auditor: error: --only-new needs --history FILE: new means not in the previous run "
                           "recorded there")


# --- The history file ---------------------------------------------------------------------------------------------

def test_history_file_is_created_with_mode_0600_whatever_the_umask(tmp_path, capsys) -> None:
    history = tmp_path / "history.sqlite"
    previous = os.umask(0)
    try:
        code, _, err = _audit(capsys, tmp_path, _peerings(), history)
    finally:
        os.umask(previous)

    assert code == 1
    assert os.stat(history).st_mode & 0o777 == 0o600
    assert f"history: run 1 recorded in {history}: 2 new, 0 open, 0 reopened, 0 resolved, 0 unknown" in err


def test_history_file_from_a_newer_version_is_refused_and_left_alone(tmp_path, capsys) -> None:
    history = tmp_path / "history.sqlite"
    with sqlite3.connect(history) as connection:
        connection.execute("PRAGMA user_version = 7")
    before = history.read_bytes()

    code, out, err = _audit(capsys, tmp_path, _peerings(), history)

    assert (code, out) == (2, "")
    assert err.strip() == (f"auditor: error: history {history} has schema version 7, written by a newer auditor; "
                           "this one reads up to version 1 (upgrade auditor or use another file)")
    assert history.read_bytes() == before


def _legacy_history(path: Path, runs: list[tuple[str, list[dict[str, Any]]]]) -> None:
    """A version 0 file: the pre-release layout, no user_version."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, generated_at TEXT NOT NULL, "
                           "accounts TEXT NOT NULL, regions TEXT NOT NULL)")
        connection.execute("CREATE TABLE findings (run_id INTEGER NOT NULL, id TEXT NOT NULL, rule_id TEXT NOT NULL, "
                           "severity TEXT NOT NULL, title TEXT NOT NULL, account_id TEXT NOT NULL, region TEXT NOT "
                           "NULL, resource_id TEXT NOT NULL, PRIMARY KEY (run_id, id))")
        for run_id, (when, findings) in enumerate(runs, 1):
            connection.execute("INSERT INTO runs VALUES (?, ?, ?, ?)", (run_id, when, '["111122223333"]',
                                                                        '["us-east-1"]'))
            connection.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (run_id, f["id"], f["rule_id"], f["severity"], f["title"], f["account_id"], f["region"],
                 f["resource_id"]) for f in findings])


def test_history_file_from_version_0_is_migrated_and_its_runs_kept(tmp_path, capsys) -> None:
    snapshot = _write(tmp_path, _peerings())
    _, out, _ = run(capsys, "audit", "--snapshot", snapshot, "--select", "PCX003", "--format", "json")
    findings = json.loads(out)["findings"]
    history = tmp_path / "old.sqlite"
    _legacy_history(history, [(DAYS[0], findings), (DAYS[1], findings[:1])])

    code, _, err = _audit(capsys, tmp_path, _peerings(), history)
    _, listing, _ = run(capsys, "history", "--history", str(history), "--format", "json")

    runs = json.loads(listing)["runs"]
    assert code == 1
    assert "history: run 3 recorded" in err
    assert [(r["id"], r["generated_at"], r["tool_version"]) for r in runs[:2]] == \
        [(1, DAYS[0], "legacy"), (2, DAYS[1], "legacy")]
    assert [r["statuses"] for r in runs] == [
        {"new": 2, "open": 0, "reopened": 0, "resolved": 0, "unknown": 0},
        {"new": 0, "open": 1, "reopened": 0, "resolved": 1, "unknown": 0},
        {"new": 0, "open": 1, "reopened": 1, "resolved": 0, "unknown": 0},
    ]
    with sqlite3.connect(history) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 1
        assert not connection.execute("SELECT name FROM sqlite_master WHERE name LIKE 'legacy%'").fetchall()


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(b"runs:\n  - 2026-11-20\n", "is not an SQLite file (not written by `auditor audit --history`); "
                 "it was left untouched", id="text_file"),
    pytest.param(b"SQLite format 3\x00" + b"\xff" * 200, "is not a usable history file", id="corrupt_sqlite"),
])
def test_a_file_that_is_not_a_history_is_one_line_exit_2_and_untouched(tmp_path, capsys, content: bytes,
                                                                        message: str) -> None:
    history = tmp_path / "history.sqlite"
    history.write_bytes(content)

    code, out, err = _audit(capsys, tmp_path, _peerings(), history)

    assert (code, out) == (2, "")
    assert err.startswith(f"auditor: error: history {history} ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert history.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.sqlite", "snap.json"]


def test_an_sqlite_file_of_another_program_is_refused(tmp_path, capsys) -> None:
    history = tmp_path / "other.sqlite"
    with sqlite3.connect(history) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")

    code, _, err = _audit(capsys, tmp_path, _peerings(), history)

    assert code == 2
    assert err.strip() == f"auditor: error: history {history} is an SQLite file but not an auditor history " \
                          "(tables: invoices)"
    with sqlite3.connect(history) as connection:
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == [("invoices",)]


# --- Concurrency ---------------------------------------------------------------------------------------------------

@pytest.mark.server
def test_two_runs_wait_for_a_held_lock_then_both_are_recorded(tmp_path, capsys) -> None:
    history = tmp_path / "history.sqlite"
    _audit(capsys, tmp_path, _peerings(), history)
    snapshot = _write(tmp_path, _peerings(), "shared.json")
    holder = sqlite3.connect(history, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    command = [sys.executable, "-m", "auditor", "audit", "--snapshot", snapshot, "--select", "PCX003",
               "--history", str(history), "--format", "json"]

    writers = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    time.sleep(3)  # far longer than an audit of this snapshot takes: both are now waiting for the lock
    still_waiting = [writer.poll() is None for writer in writers]
    holder.execute("COMMIT")
    holder.close()
    outcomes = [writer.communicate(timeout=60) for writer in writers]

    assert still_waiting == [True, True]
    assert [writer.returncode for writer in writers] == [1, 1]
    assert sorted(err.strip().splitlines()[-1] for _, err in outcomes) == [
        f"history: run {n} recorded in {history}: 0 new, 2 open, 0 reopened, 0 resolved, 0 unknown" for n in (2, 3)]
    with History.open(history) as store:
        assert store.integrity() == "ok"
        assert [run.counts for run in store.runs()] == [{"new": 2}, {"open": 2}, {"open": 2}]


def test_concurrent_writers_in_threads_keep_the_file_consistent(tmp_path) -> None:
    path = tmp_path / "history.sqlite"
    History.open(path, create=True).close()
    documents = [_peerings(), _peerings(second_dns_off=True)]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with History.open(path) as store:
                start.wait()
                for day in range(5):
                    _record(store, documents[number], DAYS[day])
                    time.sleep(0.01)  # let the other writer in between
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    with History.open(path) as store:
        runs = store.runs()
        assert store.integrity() == "ok"
        assert len(runs) == 10
        assert sum(run.counts.get("new", 0) for run in runs) == 3  # each finding is new exactly once
        assert [_actual(store, run.id) for run in runs] == _replayed([_present(store, run.id) for run in runs])


def _present(store: History, run_id: int) -> set[str]:
    return {i for i, row in store.findings_of(run_id).items() if row["status"] in history_module.PRESENT}


def _actual(store: History, run_id: int) -> dict[str, str]:
    return {i: row["status"] for i, row in store.findings_of(run_id).items()}


def _replayed(runs: list[set[str]]) -> list[dict[str, str]]:
    """The statuses each run should have, from which findings each run saw, in order (all runs judge all)."""
    expected, previous, ever = [], set(), set()
    for present in runs:
        statuses = {i: "new" if i not in ever else "open" if i in previous else "reopened" for i in present}
        expected.append({**statuses, **dict.fromkeys(previous - present, "resolved")})
        previous, ever = present, ever | present
    return expected


def test_a_lock_that_persists_fails_with_one_clear_line(tmp_path, capsys, monkeypatch) -> None:
    history = tmp_path / "history.sqlite"
    _audit(capsys, tmp_path, _peerings(), history)
    monkeypatch.setattr(history_module, "LOCK_TIMEOUT_SECONDS", 0.2)
    holder = sqlite3.connect(history, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    try:
        code, out, err = _audit(capsys, tmp_path, _peerings(), history)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert (code, out) == (2, "")
    assert err.strip() == (f"auditor: error: history {history} is locked by another run (waited 0.2 s); "
                           "try again later")
    with History.open(history) as store:
        assert [run.id for run in store.runs()] == [1]


@pytest.mark.server
@pytest.mark.parametrize(("stop", "code", "said"), [(signal.SIGTERM, 143, "terminated"),
                                                    (signal.SIGINT, 130, "interrupted")], ids=["sigterm", "ctrl_c"])
def test_a_run_waiting_for_the_lock_stops_at_once(tmp_path, capsys, stop, code, said) -> None:
    # SQLite waits for a lock in C: until 2026-11-27 the stop was handled after the whole wait (30 s), and Ctrl-C
    # then said "locked" and exit 2.
    history = tmp_path / "history.sqlite"
    _audit(capsys, tmp_path, _peerings(), history)
    snapshot = _write(tmp_path, _peerings(), "shared.json")
    holder = sqlite3.connect(history, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    writer = subprocess.Popen([sys.executable, "-m", "auditor", "audit", "--snapshot", snapshot, "--select", "PCX003",
                               "--history", str(history), "--format", "json"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)  # far longer than an audit of this snapshot takes: it is waiting for the lock
        waiting = writer.poll() is None
        writer.send_signal(stop)
        stopped_at = time.monotonic()
        _, err = writer.communicate(timeout=60)
        seconds = time.monotonic() - stopped_at
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        holder.execute("ROLLBACK")
        holder.close()

    assert waiting
    assert writer.returncode == code, err
    assert err.strip().splitlines() == [f"auditor: {said}"]
    assert err.startswith("auditor:") or stop == signal.SIGINT  # no empty line first but for a terminal's ^C
    assert seconds < 10
    with History.open(history) as store:
        assert [run.id for run in store.runs()] == [1]


# --- auditor history ----------------------------------------------------------------------------------------------

def test_history_lists_runs_as_a_table_and_as_json(tmp_path, capsys) -> None:
    history = tmp_path / "history.sqlite"
    _audit(capsys, tmp_path, _peerings(), history)
    _audit(capsys, tmp_path, _peerings(first_dns_off=False, second_dns_off=True), history)

    table_code, table, _ = run(capsys, "history", "--history", str(history))
    json_code, listing, _ = run(capsys, "history", "--history", str(history), "--format", "json")

    assert (table_code, json_code) == (0, 0)
    lines = table.splitlines()
    assert lines[0].split() == ["run", "when", "accounts", "regions", "findings", "new", "resolved", "unknown"]
    assert lines[2].split()[2:] == ["111122223333", "us-east-1", "2", "2", "0", "0"]
    assert lines[3].split()[0] == "2" and lines[3].split()[-4:] == ["1", "1", "2", "0"]
    runs = json.loads(listing)["runs"]
    assert [(r["id"], r["findings"], r["statuses"]["new"], r["statuses"]["resolved"]) for r in runs] == \
        [(1, 2, 2, 0), (2, 1, 1, 2)]
    assert runs[0]["snapshot"] == {"collected_at": "2026-11-26T10:00:00Z", "accounts": ["111122223333"],
                                   "regions": ["us-east-1"], "errors": 0}
    assert runs[0]["rules_run"] == ["PCX003"]


def test_history_path_can_come_from_the_config(tmp_path, capsys) -> None:
    history = tmp_path / "history.sqlite"
    config = tmp_path / "auditor.toml"
    config.write_text(f'history = "{history}"\nformat = "json"\nselect = ["PCX003"]\n')
    snapshot = _write(tmp_path, _peerings())

    audit_code, _, _ = run(capsys, "audit", "--snapshot", snapshot, "--config", str(config))
    code, listing, _ = run(capsys, "history", "--config", str(config))

    assert audit_code == 1
    assert code == 0
    assert [line.split()[0] for line in listing.splitlines()[2:]] == ["1"]


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["history"], "no history file: give --history FILE (or set `history` in the --config file)",
                 id="no_path"),
    pytest.param(["history", "--history", "{tmp}/missing.sqlite"], "history {tmp}/missing.sqlite does not exist "
                 "(runs are recorded by `auditor audit --history`)", id="missing_file"),
])
def test_history_without_a_file_is_exit_2(tmp_path, capsys, args: list[str], message: str) -> None:
    code, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in args])

    assert (code, out) == (2, "")
    assert err.strip() == "auditor: error: " + message.format(tmp=tmp_path)
    assert not (tmp_path / "missing.sqlite").exists()


# --- auditor diff -------------------------------------------------------------------------------------------------

def _three_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """Run 1: first peering (2 findings). Run 2: second peering added. Run 3: the first peering fixed."""
    history = tmp_path / "history.sqlite"
    _audit(capsys, tmp_path, _peerings(), history)
    _audit(capsys, tmp_path, _peerings(second_dns_off=True), history)
    _audit(capsys, tmp_path, _peerings(first_dns_off=False, second_dns_off=True), history)
    return history


def test_diff_of_the_last_two_runs_as_json(tmp_path, capsys) -> None:
    history = _three_runs(capsys, tmp_path)

    code, out, _ = run(capsys, "diff", "--history", str(history), "--format", "json")

    document = json.loads(out)
    assert code == 0
    assert (document["before"]["run"], document["after"]["run"]) == (2, 3)
    assert document["summary"] == {"new": 0, "resolved": 2, "open": 1, "unknown": 0}
    assert {r["rule_id"] for r in document["resolved"] + document["open"]} == {"PCX003"}
    still = document["open"][0]
    assert set(still) == {"id", "rule_id", "severity", "title", "message", "account_id", "region", "resource_id",
                          "suppressed", "status", "first_seen", "last_seen"}
    assert (still["status"], still["severity"], still["account_id"]) == ("open", "medium", "111122223333")
    assert {r["resource_id"] for r in document["resolved"]} != {still["resource_id"]}


def test_diff_of_two_chosen_runs_as_a_table(tmp_path, capsys) -> None:
    history = _three_runs(capsys, tmp_path)

    code, out, _ = run(capsys, "diff", "--history", str(history), "1", "3")

    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("run 1 (") and lines[0].endswith("1 new, 2 resolved, 0 open, 0 unknown")
    assert "NEW (1)" in lines and "RESOLVED (2)" in lines and "OPEN (0)" not in lines
    assert sum(1 for line in lines if line.split()[:4] == ["medium", "PCX003", "111122223333", "us-east-1"]) == 3
    assert sum(1 for line in lines if "requester" in line) == 2  # the message tells the sides apart
    assert sum(1 for line in lines if "accepter" in line) == 1


def test_diff_of_two_findings_files_as_json_and_table(tmp_path, capsys) -> None:
    files = []
    for number, document in enumerate((_peerings(), _peerings(first_dns_off=False, second_dns_off=True))):
        _, out, _ = run(capsys, "audit", "--snapshot", _write(tmp_path, document), "--select", "PCX003",
                        "--format", "json")
        files.append(tmp_path / f"findings-{number}.json")
        files[-1].write_text(out)
    before = json.loads(files[0].read_text())["findings"]

    json_code, out, _ = run(capsys, "diff", "--findings", str(files[0]), str(files[1]), "--format", "json")
    table_code, table, _ = run(capsys, "diff", "--findings", str(files[0]), str(files[1]))

    document = json.loads(out)
    assert (json_code, table_code) == (0, 0)
    assert document["summary"] == {"new": 1, "resolved": 2, "open": 0, "unknown": 0}
    assert sorted(r["id"] for r in document["resolved"]) == sorted(f["id"] for f in before)
    assert document["before"]["file"] == str(files[0])
    heading = table.splitlines()[0]
    assert heading.startswith(f"{files[0]} (") and f" -> {files[1]} (" in heading
    assert heading.endswith("1 new, 2 resolved, 0 open, 0 unknown")
    assert "NEW (1)" in table and "RESOLVED (2)" in table


def test_diff_of_findings_files_when_an_account_is_missing_later_says_unknown(tmp_path, capsys) -> None:
    files = []
    for number, document in enumerate((_peerings(other_account=True), _peerings(other_account=False))):
        _, out, _ = run(capsys, "audit", "--snapshot", _write(tmp_path, document), "--select", "PCX003",
                        "--format", "json", "-o", str(tmp_path / f"findings-{number}.json"))
        files.append(str(tmp_path / f"findings-{number}.json"))

    code, out, _ = run(capsys, "diff", "--findings", *files, "--format", "json")

    document = json.loads(out)
    assert code == 0
    assert document["summary"] == {"new": 0, "resolved": 0, "open": 2, "unknown": 1}
    assert document["unknown"][0]["account_id"] == OTHER_ACCOUNT


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["diff", "--history", "{history}", "1", "9"],
                 "history {history} has no run 9 (it has runs 1 to 3; see `auditor history`)", id="unknown_run"),
    pytest.param(["diff", "--history", "{history}", "1"],
                 "diff takes two run ids (RUN_A RUN_B), or none for the last two runs", id="one_run"),
    pytest.param(["diff", "--findings", "{tmp}/nope.json", "{tmp}/nope.json"],
                 "cannot read findings {tmp}/nope.json: No such file or directory", id="missing_file"),
    pytest.param(["diff", "--findings", "{tmp}/snap.json", "{tmp}/snap.json"],
                 "{tmp}/snap.json is not a findings JSON document (from `auditor audit --format json`): "
                 "'snapshot' with 'accounts' and 'regions' lists is missing", id="a_snapshot_is_not_findings"),
    pytest.param(["diff", "--findings", "{history}", "{history}"],
                 "{history} is not a findings JSON document (from `auditor audit --format json`): not valid JSON",
                 id="binary_file"),
])
def test_diff_bad_input_is_one_line_exit_2(tmp_path, capsys, args: list[str], message: str) -> None:
    history = _three_runs(capsys, tmp_path)
    values = {"history": history, "tmp": tmp_path}

    code, out, err = run(capsys, *[a.format(**values) for a in args])

    assert (code, out) == (2, "")
    assert err.strip() == "auditor: error: " + message.format(**values)


def test_diff_needs_two_runs(tmp_path, capsys) -> None:
    history = tmp_path / "history.sqlite"
    _audit(capsys, tmp_path, _peerings(), history)

    code, _, err = run(capsys, "diff", "--history", str(history))

    assert code == 2
    assert err.strip() == f"auditor: error: history {history} has 1 run(s); a diff needs two"


# --- README ------------------------------------------------------------------------------------------------------

def test_readme_recipe_reads_only_fields_the_findings_json_has() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## History and scheduled runs", 1)[1].split("\n## ", 1)[0]
    schema = json.loads((ROOT / "auditor" / "schemas" / "findings.schema.json").read_text())
    finding_fields = set(schema["$defs"]["finding"]["properties"])

    recipe = section.split("auditor-nightly: audit", 1)[1].split("```", 1)[0]
    used = set(re.findall(r"\(\.([a-z_]+)\)|: \.([a-z_]+)", recipe))

    fields = {name for pair in used for name in pair if name}
    assert fields and fields <= finding_fields, fields - finding_fields
    assert "select(.suppressed | not)" in recipe and "--only-new --format json" in recipe
    assert "~/.local/state/auditor/history.sqlite" in section
