"""The command line (click). Parses, calls the stages, prints; report on stdout, the rest on stderr."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from auditor import __version__
from auditor.config import WHOLE_NUMBERS
from auditor.errors import Interrupted, Terminated, UserError
from auditor.graph_cli import graph_command
from auditor.merge import merge_command
from auditor.reports import RENDERERS

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143, as a shell reports a process that SIGTERM ended


def split_list(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[str] | None:
    items = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return items or None


def aws_options(command: Any) -> Any:
    command = click.option("--profile", help="AWS profile, as the AWS CLI uses it.")(command)
    command = click.option(
        "--regions", "--region", "regions", multiple=True, callback=split_list, metavar="R1,R2",
        help="Regions to read (default: every region enabled for the account).")(command)
    command = click.option(
        "--max-workers", type=click.IntRange(1, WHOLE_NUMBERS["max_workers"]), default=None,
        help="API calls in flight at once, in total  [default: 32 per worker process the run may use (see "
             "--processes), at most 256; 64 in one process]")(command)
    command = click.option(
        "--max-workers-per-account", "max_workers_per_account",
        type=click.IntRange(1, WHOLE_NUMBERS["max_workers_per_account"]), default=None,
        help="API calls in flight at once in any one account  [default: --max-workers]")(command)
    command = click.option(
        "--max-workers-per-region", "max_workers_per_region",
        type=click.IntRange(1, WHOLE_NUMBERS["max_workers_per_region"]), default=None,
        expose_value=False, callback=_keep_aside,
        help="API calls in flight at once in any one region of an account (EC2 limits each account's request "
             "rate per region)  [default: 16, at most --max-workers]")(command)
    return command


def _keep_aside(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    """For flags that say how to read, not what (--processes, --max-workers-per-region): kept in the context rather
    than passed to every command that collects; `how_to_read` gives them to the collection."""
    ctx.meta[f"auditor.{param.name}"] = value


def how_to_read() -> dict[str, int | None]:
    """The collection's keyword arguments from the flags `_keep_aside` kept (None: the default)."""
    context = click.get_current_context(silent=True)
    meta = context.meta if context is not None else {}
    return {"max_processes": meta.get("auditor.processes"),
            "max_workers_per_region": meta.get("auditor.max_workers_per_region")}


def account_options(command: Any) -> Any:
    """Many accounts: the role to assume in each, and which accounts (without --role-name: the caller's).

    Each can come from the config file (its keys are the flags' defaults); a flag given on the command line wins,
    and for the two ways of naming the accounts, `--accounts` and `--org`, the command line's replaces the file's.
    With `--snapshot FILE` the file's account settings, which are for live runs, do not apply.
    """

    @functools.wraps(command)
    def resolved(**kwargs: Any) -> Any:
        ctx = click.get_current_context()

        def from_file(name: str) -> bool:
            return ctx.get_parameter_source(name) is click.core.ParameterSource.DEFAULT_MAP

        def given(name: str) -> bool:
            return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE

        names = ("role_name", "accounts", "org", "external_id", "role_session_name")
        live_only = names if kwargs.get("snapshot") else ()
        replaced = {"org": given("accounts"), "accounts": given("org")}
        for name in names:
            if from_file(name) and (name in live_only or replaced.get(name)):
                kwargs[name] = False if name == "org" else None
        return command(**kwargs)

    resolved = click.option(
        "--role-session-name", "role_session_name", metavar="NAME",
        help="The AssumeRole session name (CloudTrail shows it); default aws-network-auditor.")(resolved)
    resolved = click.option("--external-id", "external_id", metavar="ID",
                            help="The external id the role's trust policy requires.")(resolved)
    resolved = click.option(
        "--org", "org", is_flag=True,
        help="Read every active account of the organization (ListAccounts: run from the management account "
             "or a delegated administrator); they are trusted by the audit.")(resolved)
    resolved = click.option("--accounts", "accounts", multiple=True, callback=split_list, metavar="ID,ID",
                            help="Read these accounts (12-digit ids) through --role-name.")(resolved)
    resolved = click.option(
        "--processes", "processes", type=click.IntRange(1, WHOLE_NUMBERS["processes"]), default=None, metavar="N",
        expose_value=False, callback=_keep_aside,
        help="Read the accounts (for one account, or fewer accounts than CPUs, their regions) in N worker "
             "processes, each with its share of --max-workers (Linux; elsewhere 1)  [default: two per CPU, at most "
             "8]")(resolved)
    return click.option(
        "--role-name", "role_name", metavar="NAME",
        help="Assume this role in each account of --accounts or --org (default: read the caller's account)."
    )(resolved)


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """Eager: read the config first and make its keys the defaults of the other flags (flags win)."""
    from auditor.config import Config, load

    config = load(Path(value)) if value else Config()
    ctx.ensure_object(dict)["config"] = config
    ctx.default_map = {**(ctx.default_map or {}), **config.flag_defaults}
    return config


def config_option(command: Any) -> Any:
    return click.option(
        "--config", "config", metavar="FILE", is_eager=True, callback=_load_config, envvar="AUDITOR_CONFIG",
        help="TOML config (see config.example.toml); flags override it. Env: AUDITOR_CONFIG.")(command)


class Progress:
    """A one-line counter on stderr, only when stderr is a terminal: accounts and regions done, reads made."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    @staticmethod
    def line(status: Any) -> str:
        return (f"collecting: {status.accounts_done}/{status.accounts_total} accounts, "
                f"{status.regions_done}/{status.regions_total} regions, {status.reads_done} reads")

    def __call__(self, status: Any) -> None:
        if self.enabled:
            sys.stderr.write(f"\r{self.line(status)}\033[K")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """Audit how AWS VPCs connect to each other and to customer networks. Read-only."""


@cli.command()
@config_option
@aws_options
@account_options
@click.option("--output", "-o", default="snapshot.json", show_default=True, metavar="FILE",
              help="Where to write the snapshot ('-' for stdout). Written atomically, mode 0600.")
@click.option("--shard-dir", "shard_dir", metavar="DIR",
              help="Instead of --output: one snapshot per account, DIR/<account id>.json (mode 0600, atomically); "
                   "`auditor merge` joins them.")
@click.pass_context
def collect(ctx: click.Context, config: Any, profile: str | None, regions: list[str] | None, max_workers: int | None,
            max_workers_per_account: int | None, role_name: str | None, accounts: list[str] | None, org: bool,
            external_id: str | None, role_session_name: str | None, output: str, shard_dir: str | None) -> None:
    """Read the account's network (or many accounts', through a role) into a snapshot (JSON)."""
    from auditor import aws, snapshot
    from auditor.account_request import account_request
    from auditor.collect import collect as run_collection

    request = account_request(role_name, accounts, org, external_id, role_session_name)
    output_given = ctx.get_parameter_source("output") is click.core.ParameterSource.COMMANDLINE
    if shard_dir and output_given:
        if ctx.get_parameter_source("shard_dir") is not click.core.ParameterSource.DEFAULT_MAP:
            raise UserError("give --output FILE or --shard-dir DIR, not both")
        shard_dir = None  # the config file's shard_dir gives way to --output on the command line
    target = None if output == "-" or shard_dir else Path(output)
    shards = snapshot.ShardWriter(Path(shard_dir).expanduser()) if shard_dir else None
    if target is not None:
        snapshot.check_writable(target)
    session = aws.open_session(profile)
    progress = Progress()
    try:
        collected = run_collection(session, regions, max_workers=max_workers,
                                   max_workers_per_account=max_workers_per_account, progress=progress,
                                   accounts=request, on_shard=shards, **how_to_read())
    except BaseException as error:  # interrupted or failed part way: its line says what is on disk all the same
        if shards is None or not shards.written:
            if shards is not None:
                shards.discard_if_empty()
            raise
        if isinstance(error, Terminated):
            raise Terminated(shards.on_disk()) from None
        if isinstance(error, KeyboardInterrupt):
            raise Interrupted(shards.on_disk()) from None
        with contextlib.suppress(AttributeError):  # an exception that takes no attribute: its line alone
            error.written = shards.on_disk()  # type: ignore[attr-defined]
        raise
    progress.finish()
    if shards is not None:
        destination = f"{len(shards.written)} shard(s) in {shard_dir}"
    elif target is None:
        sys.stdout.write(snapshot.dumps(collected.document))
        destination = "stdout"
    else:
        snapshot.write_private(target, snapshot.dumps(collected.document))
        destination = str(target)
    click.echo(f"{collected.summary()} -> {destination}", err=True)


def _rule_selection(select: list[str] | None, ignore: list[str] | None) -> list[Any]:
    from auditor.engine import load_rules, resolve_rule

    chosen = [resolve_rule(name) for name in select] if select else list(load_rules().values())
    ignored = {resolve_rule(name).id for name in ignore or []}
    return [rule for rule in chosen if rule.id not in ignored]


@cli.command()
@config_option
@click.option("--snapshot", metavar="FILE", help="Audit this snapshot offline instead of collecting live.")
@aws_options
@account_options
@click.option("--format", "format", type=click.Choice(sorted(RENDERERS)), default="table", show_default=True,
              help="Report format.")
@click.option("--output", "-o", metavar="FILE", help="Write the report here (atomically) instead of stdout.")
@click.option("--select", multiple=True, callback=split_list, metavar="IDS", help="Only these rules (ids or names).")
@click.option("--ignore", multiple=True, callback=split_list, metavar="IDS", help="Skip these rules.")
@click.option("--fail-on", "fail_on", type=click.Choice(["critical", "high", "medium", "low", "info"]),
              default="low", show_default=True, help="Exit 1 when an unsuppressed finding is at or above this.")
@click.option("--exit-zero", "exit_zero", is_flag=True, help="Exit 0 even with findings (errors still exit 2).")
@click.option("--save-snapshot", "save_snapshot", metavar="FILE", help="Live audits: also keep the snapshot.")
@click.option("--history", metavar="FILE", help="Record this run in a history file (SQLite, mode 0600).")
@click.option("--only-new", "only_new", is_flag=True,
              help="Report (and count for the exit code) only findings the previous run did not have. Needs --history.")
def audit(config: Any, snapshot: str | None, profile: str | None, regions: list[str] | None, max_workers: int | None,
          max_workers_per_account: int | None, role_name: str | None, accounts: list[str] | None, org: bool,
          external_id: str | None, role_session_name: str | None, format: str, output: str | None,  # noqa: A002
          select: list[str] | None, ignore: list[str] | None,
          fail_on: str, exit_zero: bool, save_snapshot: str | None, history: str | None, only_new: bool) -> None:
    """Audit a snapshot (or the live account) and report findings.

    Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 bad input or error.
    """
    import datetime as dt
    from dataclasses import replace

    from auditor import snapshot as snapshots
    from auditor.account_request import account_request
    from auditor.engine import at_or_above, run_audit
    from auditor.index import Index
    from auditor.reports import RENDERERS, Report

    rules = _rule_selection(select, ignore)
    request = account_request(role_name, accounts, org, external_id, role_session_name)
    if snapshot and request:
        raise UserError("--role-name reads live accounts: it does not apply to --snapshot FILE")
    for target in (output, save_snapshot):
        if target:
            snapshots.check_writable(Path(target))
    if only_new and not history:
        raise UserError("--only-new needs --history FILE: new means not in the previous run recorded there")
    if history:
        _open_history(history, create=True).close()  # a bad history file fails now, before any collection
    if snapshot:
        document = snapshots.load(Path(snapshot))
    else:
        document = _collect_live(profile, regions, max_workers, max_workers_per_account, request)
        if save_snapshot:
            snapshots.write_private(Path(save_snapshot), snapshots.dumps(document))
    now = dt.datetime.now(dt.UTC)
    result = run_audit(Index(document), now=now, rules=rules, rule_options=config.rule_options,
                       trusted_accounts=config.trusted_accounts, suppressions=config.suppressions)
    generated_at = snapshots.utc_timestamp(now)
    sent: list[Any] = []  # the report, once it is out

    def send(recorded: Any) -> None:
        """Write the report (only the new findings with --only-new). With --history this runs before the run is
        committed: a report that could not be written leaves nothing recorded, so no finding is lost to it."""
        shown = result
        if recorded is not None and only_new:
            shown = replace(result, findings=tuple(f for f in result.findings
                                                   if recorded.statuses[f.id] in ("new", "reopened")))
        report = Report(shown, document, generated_at)
        text = RENDERERS[format](report)
        if output:
            snapshots.write_private(Path(output), text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
        sent.append(report)

    recorded = _record_history(history, result, document, rules, generated_at, send) if history else None
    if recorded is None:
        send(None)
    report = sent[0]
    result = report.result
    for expired in result.expired_suppressions:
        click.echo(f"auditor: warning: suppression of {expired.rule} for {expired.resource!r} expired on "
                   f"{expired.expires} and no longer applies ({expired.reason})", err=True)
    click.echo(report.stderr_summary(), err=True)
    if recorded is not None:
        counts = ", ".join(f"{number} {status}" for status, number in recorded.counts().items())
        click.echo(f"history: run {recorded.run_id} recorded in {history}: {counts}", err=True)
    if at_or_above(result.findings, fail_on) and not exit_zero:
        sys.exit(EXIT_FINDINGS)


def _open_history(path: str, *, create: bool = False) -> Any:
    from auditor.history import History

    return History.open(Path(path), create=create)


def _record_history(path: str, result: Any, document: dict[str, Any], rules: list[Any], generated_at: str,
                    before_commit: Any = None) -> Any:
    from auditor.history import Coverage
    from auditor.reports import Report

    summary = Report(result, document, generated_at).snapshot_summary()
    with _open_history(path, create=True) as store:
        return store.record(generated_at=generated_at, snapshot=summary, findings=result.findings,
                            coverage=Coverage.of(document, rules), before_commit=before_commit)


def _collect_live(profile: str | None, regions: list[str] | None, max_workers: int | None,
                  max_workers_per_account: int | None, request: Any) -> dict[str, Any]:
    from auditor import aws
    from auditor.collect import collect as run_collection

    progress = Progress()
    collected = run_collection(aws.open_session(profile), regions, max_workers=max_workers,
                               max_workers_per_account=max_workers_per_account, progress=progress, accounts=request,
                               **how_to_read())
    progress.finish()
    click.echo(collected.summary(), err=True)
    return collected.document


@cli.command()
@click.argument("rule", required=False)
@click.option("--markdown", is_flag=True, help="Print the catalogue as the README's Markdown table.")
def rules(rule: str | None, markdown: bool) -> None:
    """List every rule, or print one rule's documentation (by id or name)."""
    from tabulate import tabulate

    from auditor.engine import load_rules, resolve_rule

    if markdown:
        from auditor.reports.catalogue import markdown as catalogue

        sys.stdout.write(catalogue())
        return
    if rule:
        found = resolve_rule(rule)
        options = "".join(f"\n  {name} = {value!r}" for name, value in found.options.items())
        click.echo(f"{found.id} {found.name} ({found.severity}, {found.resource_type})\n")
        click.echo(found.doc)
        if options:
            click.echo(f"\nOptions (config: [rules.{found.id}]):{options}")
        return
    rows = [[r.id, r.name, r.severity, r.summary] for r in sorted(load_rules().values(), key=lambda r: r.id)]
    click.echo(tabulate(rows, headers=["id", "name", "severity", "summary"], tablefmt="simple",
                        maxcolwidths=[None, None, None, 50]))


@cli.command()
@click.option("--role-name", "role_name", metavar="NAME",
              help="Instead: the caller's policy for `--role-name NAME`, to assume that role in each account.")
@click.option("--org", "org", is_flag=True, help="With --role-name: add organizations:ListAccounts (for --org).")
@click.option("--partition", "partition", metavar="NAME",
              help="With --role-name: the partition of the role's ARN (default aws; aws-us-gov, aws-cn, ...).")
def permissions(role_name: str | None, org: bool, partition: str | None) -> None:
    """Print the least-privilege IAM policy the collectors need (the member accounts' role, with --role-name).

    With --role-name NAME: the policy of the caller, which only assumes NAME (and lists accounts for --org).
    """
    from auditor.account_request import ROLE_NAME
    from auditor.permissions import caller_policy_json, policy_json

    if org and not role_name:
        raise UserError("--org needs --role-name NAME: the role the caller assumes in each account")
    if partition and not role_name:
        raise UserError("--partition needs --role-name NAME: the member accounts' policy names no ARN")
    if role_name and not ROLE_NAME.match(role_name):
        raise UserError(f"--role-name {role_name!r} is not an IAM role name (letters, digits and +=,.@_-)")
    if partition:
        import botocore.session

        known = botocore.session.get_session().get_available_partitions()
        if partition not in known:
            raise UserError(f"--partition {partition!r} is not an AWS partition ({', '.join(known)})")
    sys.stdout.write(caller_policy_json(role_name, org, partition or "aws") if role_name else policy_json())


@cli.command()
@click.option("--format", "format", type=click.Choice(sorted(RENDERERS)), default="table", show_default=True)
@click.option("--resources", is_flag=True, help="Also list the resources collected per snapshot key (stderr).")
@click.option("--save-snapshot", "save_snapshot", metavar="FILE",
              help="Also keep the simulated account's snapshot (for `auditor path`, `reach`, `graph` offline).")
def demo(format: str, resources: bool, save_snapshot: str | None) -> None:  # noqa: A002
    """Collect and audit the embedded simulated account (moto, plus simulated API responses). Exits 0."""
    from auditor import snapshot
    from auditor.demo import run_demo

    if save_snapshot:
        snapshot.check_writable(Path(save_snapshot))
    run_demo(format, resources, save_snapshot=Path(save_snapshot) if save_snapshot else None)


cli.add_command(merge_command)
cli.add_command(graph_command())
import auditor.history_cli  # noqa: E402, F401  (registers `history` and `diff`)
import auditor.paths.commands  # noqa: E402, F401  (registers `path` and `reach`; it uses the options above)


def _written(error: BaseException | None) -> str:
    """What a run that failed part way had already written (complete files), as the end of its line."""
    written = getattr(error, "written", "")
    return f"; {written}" if written else ""


def _interrupted(cause: BaseException | None, *, as_program: bool) -> None:
    """Ctrl-C: one line (saying what is already on disk, when something is: see errors.Interrupted), exit 130;
    SIGTERM (errors.Terminated) the same, "terminated", exit 143."""
    terminated = isinstance(cause, Terminated)
    click.echo(f"auditor: {'terminated' if terminated else 'interrupted'}{_written(cause)}", err=True)
    code = EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    if as_program:
        _leave_calls_in_flight(code)
    sys.exit(code)


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM's handler in the program: stop as Ctrl-C stops (see errors.Terminated)."""
    raise Terminated


def _leave_calls_in_flight(code: int = EXIT_INTERRUPTED, grace: float = 0.5) -> None:
    """Exit now, unless the threads still making calls end within `grace` seconds.

    Python joins every thread of a thread pool before it exits, and a call in flight ends only when answered, or
    after the read timeout (60 s) and its retries: Ctrl-C during a collection in one process took as long (a review
    measured 20 s for reads held 20 s; a second Ctrl-C printed a traceback). Nothing those calls would bring is kept
    (a file is written only once complete, by this thread), so they are left behind, and a second Ctrl-C meanwhile
    changes nothing. Only for the program itself: a caller of `main` (a test) keeps its own process.
    """
    this = threading.current_thread()
    try:
        deadline = time.monotonic() + grace
        for thread in threading.enumerate():
            if thread is not this and not thread.daemon:
                thread.join(max(0.0, deadline - time.monotonic()))
        if not any(t.is_alive() and not t.daemon and t is not this for t in threading.enumerate()):
            return
    except (KeyboardInterrupt, Terminated):  # a second stop: exit now all the same
        pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: maps bad input to one line and exit code 2, Ctrl-C to 130. Without `argv` (the console script,
    `python -m auditor`), the program: Ctrl-C does not wait for calls in flight (_leave_calls_in_flight)."""
    as_program = argv is None
    if as_program:  # a scheduler's stop (systemd, cron's `timeout`, Kubernetes) ends the run as Ctrl-C does
        signal.signal(signal.SIGTERM, _terminate)
    try:
        cli.main(args=argv, prog_name="auditor", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.UsageError as error:  # a bad flag or value: one line, as every other bad input
        command = error.ctx.command_path if error.ctx is not None else "auditor"
        click.echo(f"auditor: error: {error.format_message()} (see '{command} --help')", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USAGE)
    except click.Abort as abort:  # click's form of Ctrl-C (KeyboardInterrupt is its cause)
        _interrupted(abort.__cause__, as_program=as_program)
    except UserError as error:
        click.echo(f"auditor: error: {error}{_written(error)}", err=True)
        sys.exit(EXIT_USAGE)
    except (KeyboardInterrupt, Terminated) as interrupt:  # outside click's own handling; SIGTERM
        _interrupted(interrupt, as_program=as_program)
    except Exception as error:  # noqa: BLE001 - an internal error is still exit 2, never a traceback
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        click.echo(f"auditor: internal error: {type(error).__name__}: {error} "
                   f"(set AUDITOR_DEBUG=1 for a traceback){_written(error)}", err=True)
        sys.exit(EXIT_USAGE)
