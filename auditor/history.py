"""Run history in SQLite: each audit run, its findings and their status across runs. Storage only: no printing.

A finding's status in a run: `new` (never seen before), `open` (present at the last run that could judge it),
`reopened` (resolved earlier, back now), `resolved` (present at the last judgement, absent now, and this run
judged it: its rule ran and its account and region were read), `unknown` (absent now, but this run could not
judge it: another --select, a partial snapshot, an API error on data the rule needs). `unknown` never closes
a ticket: the finding stays open until a run that can judge it says otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.engine import SEVERITY_RANK
from auditor.errors import UserError

if TYPE_CHECKING:
    from auditor.engine import Finding, Rule

SCHEMA_VERSION = 1
LOCK_TIMEOUT_SECONDS = 30.0  # how long a run waits for another run's write to finish
LOCK_TRY_SECONDS = 0.1  # ... in tries this long, Python running between them (History._begin)
SQLITE_HEADER = b"SQLite format 3\x00"
PRESENT = ("new", "open", "reopened")
STATUSES = (*PRESENT, "resolved", "unknown")
TEXT_KEYS = ("id", "rule_id", "severity", "title", "message", "account_id", "region", "resource_id")
RECORD_KEYS = (*TEXT_KEYS, "suppressed")  # a finding record in `history` and `diff` output

SCHEMA = (
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY, generated_at TEXT NOT NULL, tool_version TEXT NOT NULL, collected_at TEXT,
        accounts TEXT NOT NULL, regions TEXT NOT NULL, snapshot_errors INTEGER NOT NULL, rules_run TEXT NOT NULL)""",
    """CREATE TABLE run_scopes (
        run_id INTEGER NOT NULL REFERENCES runs(id), account_id TEXT NOT NULL, region TEXT NOT NULL,
        PRIMARY KEY (run_id, account_id, region)) WITHOUT ROWID""",
    """CREATE TABLE findings (
        id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL, message TEXT NOT NULL,
        account_id TEXT NOT NULL, region TEXT NOT NULL, resource_id TEXT NOT NULL, suppressed INTEGER NOT NULL,
        present INTEGER NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
        last_run INTEGER NOT NULL REFERENCES runs(id)) WITHOUT ROWID""",
    """CREATE TABLE run_findings (
        run_id INTEGER NOT NULL REFERENCES runs(id), finding_id TEXT NOT NULL REFERENCES findings(id),
        status TEXT NOT NULL CHECK (status IN ('new', 'open', 'reopened', 'resolved', 'unknown')),
        severity TEXT NOT NULL, suppressed INTEGER NOT NULL, PRIMARY KEY (run_id, finding_id)) WITHOUT ROWID""",
)
# Version 0: the pre-release layout, before user_version was set: runs, and per run the findings' ids with
# their identity; no statuses, no coverage. Migration replays those runs in order to derive the statuses.
LEGACY_TABLES = {"runs", "findings"}


@dataclass(frozen=True)
class Seen:
    """A finding as the history keeps it."""

    id: str
    rule_id: str
    severity: str
    title: str
    message: str
    account_id: str
    region: str
    resource_id: str
    suppressed: bool = False

    @classmethod
    def of(cls, finding: Finding) -> Seen:
        return cls(finding.id, finding.rule_id, finding.severity, finding.title, finding.message,
                   finding.account_id, finding.region, finding.resource_id, finding.suppressed)


@dataclass(frozen=True)
class Coverage:
    """What a run could judge: the rules it ran, the account/regions it read, and where a rule lacked data."""

    rules: frozenset[str]
    scopes: frozenset[tuple[str, str]]
    blind: frozenset[tuple[str, str, str]] = frozenset()  # (rule id, account, region): a key it needs failed

    @classmethod
    def of(cls, document: dict[str, Any], rules: Iterable[Rule]) -> Coverage:
        rules = list(rules)
        scopes = frozenset((account, region) for account, section in document.get("accounts", {}).items()
                           for region in section.get("regions", {}))
        blind = set()
        for error in document.get("errors", []):
            account, region, key = error["account_id"], error["region"], error["key"]
            # A global key (Direct Connect gateways) that failed blinds the rule in every region of the account.
            regions = {region} | ({r for a, r in scopes if a == account} if region == "global" else set())
            blind.update((rule.id, account, r) for rule in rules if key in rule.needs for r in regions)
        return cls(frozenset(r.id for r in rules), scopes, frozenset(blind))

    def judges(self, rule_id: str, scope: tuple[str, str], scopes_when_seen: frozenset[tuple[str, str]]) -> bool:
        """Could this run have reported a finding of this rule in this account and region? Only then does its
        absence mean it is resolved. `scopes_when_seen`: what the run that last reported it had read."""
        if rule_id not in self.rules:
            return False
        if scope in self.scopes:
            return (rule_id, *scope) not in self.blind
        # Not read now. A finding on the far side of a cross-account link was never read either: it was
        # judged from the side that was read, so everything read when it was seen must be read again.
        return scope not in scopes_when_seen and scopes_when_seen <= self.scopes


@dataclass(frozen=True)
class Recorded:
    run_id: int
    statuses: dict[str, str]  # finding id -> status in this run, for every finding seen, resolved or unjudged

    def counts(self) -> dict[str, int]:
        counts = Counter(self.statuses.values())
        return {status: counts[status] for status in STATUSES}


@dataclass(frozen=True)
class Run:
    id: int
    generated_at: str
    tool_version: str
    collected_at: str | None
    accounts: list[str]
    regions: list[str]
    snapshot_errors: int
    rules_run: list[str]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def findings(self) -> int:
        return sum(self.counts.get(status, 0) for status in PRESENT)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "generated_at": self.generated_at, "tool_version": self.tool_version,
                "snapshot": {"collected_at": self.collected_at, "accounts": self.accounts,
                             "regions": self.regions, "errors": self.snapshot_errors},
                "rules_run": self.rules_run, "findings": self.findings,
                "statuses": {status: self.counts.get(status, 0) for status in STATUSES}}


@dataclass(frozen=True)
class Diff:
    """What changed between two runs (or two findings documents): lists of finding records."""

    before: dict[str, Any]
    after: dict[str, Any]
    new: list[dict[str, Any]]
    resolved: list[dict[str, Any]]
    open: list[dict[str, Any]]
    unknown: list[dict[str, Any]]

    def document(self) -> dict[str, Any]:
        lists = {"new": self.new, "resolved": self.resolved, "open": self.open, "unknown": self.unknown}
        return {"schema_version": 1, "before": self.before, "after": self.after,
                "summary": {name: len(items) for name, items in lists.items()}, **lists}


def _record_sort_key(record: dict[str, Any]) -> tuple[Any, ...]:
    return (SEVERITY_RANK.get(record["severity"], 99), record["rule_id"], record["account_id"], record["region"],
            record["resource_id"], record["id"])


def compare(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]],
            judged: Callable[[dict[str, Any]], bool]) -> tuple[list[dict[str, Any]], ...]:
    """new, resolved, open, unknown: `before`/`after` map id -> record of present findings; `judged(record)`
    says whether the later side could have reported a finding it does not have."""
    new = [after[i] for i in after if i not in before]
    still = [after[i] for i in after if i in before]
    gone = [before[i] for i in before if i not in after]
    resolved = [record for record in gone if judged(record)]
    unknown = [record for record in gone if not judged(record)]
    return tuple(sorted(items, key=_record_sort_key) for items in (new, resolved, still, unknown))


class History:
    """One history file. Writers take the lock with BEGIN IMMEDIATE; a second writer waits for it."""

    def __init__(self, path: Path, connection: sqlite3.Connection, wait: float) -> None:
        self.path = path
        self.connection = connection
        self.wait = wait

    @classmethod
    def open(cls, path: Path | str, *, create: bool = False, timeout: float | None = None) -> History:
        path = Path(path).expanduser()
        if path.is_dir():
            raise UserError(f"history {path} is a directory, not a file")
        if not path.exists():
            if not create:
                raise UserError(f"history {path} does not exist (runs are recorded by `auditor audit --history`)")
            _create_private(path)
        _check_header(path)
        wait = LOCK_TIMEOUT_SECONDS if timeout is None else timeout
        with _errors(path, wait):
            connection = sqlite3.connect(path, timeout=wait, isolation_level=None)
        history = cls(path, connection, wait)
        try:
            history._prepare()
        except BaseException:
            connection.close()
            raise
        return history

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _prepare(self) -> None:
        """Refuse a newer file; migrate an older one (or set up a new, empty one) in one transaction."""
        with _errors(self.path, self.wait):
            version = self.connection.execute("PRAGMA user_version").fetchone()[0]
            _check_version(self.path, version)
            if version == SCHEMA_VERSION:
                return
            with self._transaction():
                version = self.connection.execute("PRAGMA user_version").fetchone()[0]
                _check_version(self.path, version)
                for step in range(version, SCHEMA_VERSION):
                    MIGRATIONS[step](self)
                self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._begin()  # the write lock now, so two runs never interleave
        try:
            yield self.connection
            self.connection.execute("COMMIT")
        except BaseException:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            raise

    def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting up to `wait` seconds for another run's write lock, in tries of LOCK_TRY_SECONDS.

        SQLite waits for a lock in C, out of Python's reach: a Ctrl-C or SIGTERM that came meanwhile was handled
        only once the whole wait was over (30 s, then "locked" rather than "interrupted"; a review, 2026-11-27).
        Between tries Python runs again, and a stop is handled at once."""
        deadline = time.monotonic() + self.wait
        self.connection.execute(f"PRAGMA busy_timeout = {round(min(self.wait, LOCK_TRY_SECONDS) * 1000)}")
        try:
            while True:
                try:
                    self.connection.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if not _busy(error) or time.monotonic() >= deadline:
                        raise
        finally:
            self.connection.execute(f"PRAGMA busy_timeout = {round(self.wait * 1000)}")

    def record(self, *, generated_at: str, snapshot: dict[str, Any], findings: Sequence[Finding],
               coverage: Coverage, before_commit: Callable[[Recorded], None] | None = None) -> Recorded:
        """Record a run and give each finding its status; all or nothing, one writer at a time.

        `before_commit` gets the statuses while the run is not yet committed (the report is sent from there): when
        it raises, nothing is recorded, so the next run sees those findings as new again.
        """
        with _errors(self.path, self.wait), self._transaction():
            recorded = self._record(generated_at, snapshot, [Seen.of(f) for f in findings], coverage)
            if before_commit is not None:
                before_commit(recorded)
            return recorded

    def _record(self, generated_at: str, snapshot: dict[str, Any], seen: list[Seen], coverage: Coverage,
                tool_version: str = __version__) -> Recorded:
        db = self.connection
        run_id = db.execute(
            "INSERT INTO runs (generated_at, tool_version, collected_at, accounts, regions, snapshot_errors, "
            "rules_run) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (generated_at, tool_version, snapshot.get("collected_at"), json.dumps(sorted(snapshot["accounts"])),
             json.dumps(sorted(snapshot["regions"])), int(snapshot.get("errors", 0)),
             json.dumps(sorted(coverage.rules)))).lastrowid
        assert run_id is not None
        db.executemany("INSERT INTO run_scopes VALUES (?, ?, ?)", [(run_id, a, r) for a, r in sorted(coverage.scopes)])
        known = {row[0]: row for row in db.execute(
            "SELECT id, present, last_run, rule_id, account_id, region, severity, suppressed FROM findings")}
        statuses: dict[str, str] = {}
        for finding in seen:
            row = known.get(finding.id)
            status = "new" if row is None else "open" if row[1] else "reopened"
            statuses[finding.id] = status
            db.execute(
                "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "severity = excluded.severity, title = excluded.title, message = excluded.message, "
                "suppressed = excluded.suppressed, present = 1, last_seen = excluded.last_seen, "
                "last_run = excluded.last_run",
                (finding.id, finding.rule_id, finding.severity, finding.title, finding.message, finding.account_id,
                 finding.region, finding.resource_id, finding.suppressed, generated_at, generated_at, run_id))
            db.execute("INSERT INTO run_findings VALUES (?, ?, ?, ?, ?)",
                       (run_id, finding.id, status, finding.severity, finding.suppressed))
        scopes_of_run: dict[int, frozenset[tuple[str, str]]] = {}
        for finding_id, present, last_run, rule_id, account_id, region, severity, suppressed in known.values():
            if not present or finding_id in statuses:
                continue
            if last_run not in scopes_of_run:
                scopes_of_run[last_run] = frozenset(db.execute(
                    "SELECT account_id, region FROM run_scopes WHERE run_id = ?", (last_run,)).fetchall())
            judged = coverage.judges(rule_id, (account_id, region), scopes_of_run[last_run])
            status = "resolved" if judged else "unknown"
            statuses[finding_id] = status
            if status == "resolved":
                db.execute("UPDATE findings SET present = 0 WHERE id = ?", (finding_id,))
            db.execute("INSERT INTO run_findings VALUES (?, ?, ?, ?, ?)",
                       (run_id, finding_id, status, severity, suppressed))
        return Recorded(run_id, statuses)

    def runs(self) -> list[Run]:
        with _errors(self.path, self.wait):
            counts: dict[int, dict[str, int]] = {}
            for run_id, status, number in self.connection.execute(
                    "SELECT run_id, status, count(*) FROM run_findings GROUP BY run_id, status"):
                counts.setdefault(run_id, {})[status] = number
            return [Run(row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), row[6],
                        json.loads(row[7]), counts.get(row[0], {}))
                    for row in self.connection.execute(
                        "SELECT id, generated_at, tool_version, collected_at, accounts, regions, snapshot_errors, "
                        "rules_run FROM runs ORDER BY id")]

    def findings_of(self, run_id: int) -> dict[str, dict[str, Any]]:
        """Finding id -> record (with status, first_seen and last_seen) of every finding the run has a row for."""
        with _errors(self.path, self.wait):
            rows = self.connection.execute(
                "SELECT f.id, f.rule_id, r.severity, f.title, f.message, f.account_id, f.region, f.resource_id, "
                "r.suppressed, r.status, f.first_seen, f.last_seen "
                "FROM run_findings r JOIN findings f ON f.id = r.finding_id WHERE r.run_id = ?", (run_id,)).fetchall()
        keys = (*RECORD_KEYS, "status", "first_seen", "last_seen")
        return {row[0]: {**dict(zip(keys, row, strict=True)), "suppressed": bool(row[8])} for row in rows}

    def diff(self, before_id: int | None = None, after_id: int | None = None) -> Diff:
        """Compare two runs (default: the last two). A finding the later run could not judge is `unknown`."""
        runs = {run.id: run for run in self.runs()}
        if before_id is None or after_id is None:
            if len(runs) < 2:
                raise UserError(f"history {self.path} has {len(runs)} run(s); a diff needs two")
            before_id, after_id = sorted(runs)[-2:]
        for wanted in (before_id, after_id):
            if wanted not in runs:
                known = f"runs {min(runs)} to {max(runs)}" if runs else "no runs"
                raise UserError(f"history {self.path} has no run {wanted} (it has {known}; see `auditor history`)")
        before_rows, after_rows = self.findings_of(before_id), self.findings_of(after_id)
        # A finding the earlier run could not judge was still open as far as anyone knows.
        before = {i: r for i, r in before_rows.items() if r["status"] in (*PRESENT, "unknown")}
        after = {i: r for i, r in after_rows.items() if r["status"] in PRESENT}
        new, resolved, still, unknown = compare(
            before, after, lambda record: after_rows.get(record["id"], {}).get("status") != "unknown")
        return Diff(_run_label(runs[before_id]), _run_label(runs[after_id]), new, resolved, still, unknown)

    def integrity(self) -> str:
        with _errors(self.path, self.wait):
            return str(self.connection.execute("PRAGMA integrity_check").fetchone()[0])


def _run_label(run: Run) -> dict[str, Any]:
    return {"run": run.id, "generated_at": run.generated_at, "accounts": run.accounts, "regions": run.regions}


def diff_documents(before: dict[str, Any], after: dict[str, Any], before_name: str, after_name: str) -> Diff:
    """Compare two findings documents (`auditor audit --format json`). They do not say which rules ran, so a
    finding of a rule left out of the later run by --select counts as resolved; runs in a history know."""
    for document, name in ((before, before_name), (after, after_name)):
        check_findings_document(document, name)
    only = {key: {f["id"]: {**{k: f[k] for k in TEXT_KEYS}, "suppressed": bool(f.get("suppressed"))}
                  for f in doc["findings"]}
            for key, doc in (("before", before), ("after", after))}
    before_scopes = _document_scopes(before)
    coverage = Coverage(frozenset(f["rule_id"] for f in before["findings"]), _document_scopes(after))
    new, resolved, still, unknown = compare(only["before"], only["after"], lambda record: coverage.judges(
        record["rule_id"], (record["account_id"], record["region"]), before_scopes))
    labels = [{"file": name, "generated_at": doc["generated_at"], "accounts": doc["snapshot"]["accounts"],
               "regions": doc["snapshot"]["regions"]} for doc, name in ((before, before_name), (after, after_name))]
    return Diff(labels[0], labels[1], new, resolved, still, unknown)


def _document_scopes(document: dict[str, Any]) -> frozenset[tuple[str, str]]:
    snapshot = document["snapshot"]
    regions = [*snapshot["regions"], "global"]
    return frozenset((account, region) for account in snapshot["accounts"] for region in regions)


def check_findings_document(document: Any, name: str) -> None:
    problem = _findings_problem(document)
    if problem:
        raise UserError(f"{name} is not a findings JSON document (from `auditor audit --format json`): {problem}")


def _findings_problem(document: Any) -> str:
    if not isinstance(document, dict):
        return "not a JSON object"
    if document.get("schema_version") != 1:
        return f"schema_version {document.get('schema_version')!r} is not 1"
    snapshot = document.get("snapshot")
    if not isinstance(snapshot, dict) or not all(isinstance(snapshot.get(k), list) for k in ("accounts", "regions")):
        return "'snapshot' with 'accounts' and 'regions' lists is missing"
    if not isinstance(document.get("generated_at"), str) or not isinstance(document.get("findings"), list):
        return "'generated_at' or the 'findings' list is missing"
    for number, finding in enumerate(document["findings"], 1):
        if not isinstance(finding, dict) or not all(isinstance(finding.get(k), str) for k in TEXT_KEYS):
            return f"finding {number} lacks one of {', '.join(TEXT_KEYS)}"
    return ""


def _create_private(path: Path) -> None:
    directory = path.parent
    if not directory.is_dir():
        raise UserError(f"cannot create history {path}: directory {directory} does not exist")
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another run created it first
    except OSError as error:
        raise UserError(f"cannot create history {path}: {error.strerror}") from None


def _check_header(path: Path) -> None:
    """Look before SQLite opens it: a file that is not SQLite is refused and left untouched."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise UserError(f"cannot read history {path}: {error.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise UserError(f"history {path} is not an SQLite file (not written by `auditor audit --history`); "
                        "it was left untouched")


def _check_version(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise UserError(f"history {path} has schema version {version}, written by a newer auditor; this one reads "
                        f"up to version {SCHEMA_VERSION} (upgrade auditor or use another file)")


def _busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused for a lock another connection holds."""
    return "locked" in str(error) or "busy" in str(error)


@contextlib.contextmanager
def _errors(path: Path, wait: float) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as error:
        if _busy(error):
            raise UserError(f"history {path} is locked by another run (waited {wait:g} s); try again later") from None
        raise UserError(f"history {path}: {error}") from None
    except sqlite3.DatabaseError as error:
        raise UserError(f"history {path} is not a usable history file: {error}") from None


def _migrate_0_to_1(history: History) -> None:
    """Version 0 (no user_version) is either a new, empty file or the pre-release layout, replayed here."""
    db = history.connection
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and tables != LEGACY_TABLES:
        raise UserError(f"history {history.path} is an SQLite file but not an auditor history "
                        f"(tables: {', '.join(sorted(tables))})")
    if tables:
        db.execute("ALTER TABLE runs RENAME TO legacy_runs")
        db.execute("ALTER TABLE findings RENAME TO legacy_findings")
    for statement in SCHEMA:
        db.execute(statement)
    if not tables:
        return
    legacy = db.execute("SELECT id, generated_at, accounts, regions FROM legacy_runs ORDER BY id").fetchall()
    rules = frozenset(row[0] for row in db.execute("SELECT DISTINCT rule_id FROM legacy_findings"))
    for run_id, generated_at, accounts_json, regions_json in legacy:
        accounts, regions = json.loads(accounts_json), json.loads(regions_json)
        seen = [Seen(*row) for row in db.execute(
            "SELECT id, rule_id, severity, title, '', account_id, region, resource_id FROM legacy_findings "
            "WHERE run_id = ? ORDER BY id", (run_id,))]
        scopes = frozenset((a, r) for a in accounts for r in (*regions, "global"))
        # The legacy layout kept no coverage: each of its runs is taken to have run every rule it ever reported.
        history._record(generated_at, {"collected_at": None, "accounts": accounts, "regions": regions,
                                       "errors": 0}, seen, Coverage(rules, scopes), tool_version="legacy")
    db.execute("DROP TABLE legacy_findings")
    db.execute("DROP TABLE legacy_runs")


MIGRATIONS = {0: _migrate_0_to_1}  # version N -> N + 1, applied in order in one transaction
