"""`auditor history` and `auditor diff`: the runs recorded in a history file, and what changed between two.

Registered on the main command group when auditor.cli is imported (it imports this module last).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from auditor.cli import _open_history, cli
from auditor.errors import UserError


def _load_history_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """Eager, like --config of `audit`, but only the `history` key applies to `history` and `diff`."""
    from auditor.config import Config, load

    config = load(Path(value)) if value else Config()
    if "history" in config.flag_defaults:
        ctx.default_map = {**(ctx.default_map or {}), "history": config.flag_defaults["history"]}
    return config


def history_options(command: Any) -> Any:
    command = click.option("--format", "format", type=click.Choice(["table", "json"]), default="table",
                           show_default=True)(command)
    command = click.option("--history", metavar="FILE", help="The history file (config key: history).")(command)
    return click.option("--config", "config", metavar="FILE", is_eager=True, callback=_load_history_config,
                        envvar="AUDITOR_CONFIG", help="TOML config; only its `history` key is used here.")(command)


def _history_path(history: str | None) -> str:
    if not history:
        raise UserError("no history file: give --history FILE (or set `history` in the --config file)")
    return history


def _brief(items: list[str], shown: int = 2) -> str:
    more = f" +{len(items) - shown}" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more or "-"


@cli.command(name="history")
@history_options
def history_command(config: Any, history: str | None, format: str) -> None:  # noqa: A002
    """List the runs recorded in a history file, oldest first."""
    import json

    from tabulate import tabulate

    with _open_history(_history_path(history)) as store:
        runs = store.runs()
    if format == "json":
        sys.stdout.write(json.dumps({"history": str(store.path), "runs": [run.as_dict() for run in runs]},
                                    indent=2) + "\n")
        return
    rows = [[run.id, run.generated_at, _brief(run.accounts), _brief(run.regions), run.findings,
             run.counts.get("new", 0), run.counts.get("resolved", 0), run.counts.get("unknown", 0)] for run in runs]
    click.echo(tabulate(rows, headers=["run", "when", "accounts", "regions", "findings", "new", "resolved",
                                       "unknown"], tablefmt="simple") if rows else "No runs recorded.")


@cli.command()
@history_options
@click.option("--findings", "findings", nargs=2, metavar="BEFORE.json AFTER.json",
              help="Compare two findings documents (`auditor audit --format json`) instead of two runs.")
@click.argument("runs", nargs=-1, type=int, metavar="[RUN_A RUN_B]")
def diff(config: Any, history: str | None, format: str,  # noqa: A002
         findings: tuple[str, str] | None, runs: tuple[int, ...]) -> None:
    """Compare two runs (default: the last two) or two findings files: new, resolved and still-open findings.

    Exit code 0 (a diff is a report); 2 on bad input.
    """
    import json

    from auditor.history import diff_documents

    if len(runs) not in (0, 2):
        raise UserError("diff takes two run ids (RUN_A RUN_B), or none for the last two runs")
    if findings:
        if runs:
            raise UserError("diff compares either two runs or two --findings files, not both")
        before, after = (_read_findings(name) for name in findings)
        changes = diff_documents(before, after, *findings)
    else:
        with _open_history(_history_path(history)) as store:
            changes = store.diff(*runs) if runs else store.diff()
    if format == "json":
        sys.stdout.write(json.dumps(changes.document(), indent=2) + "\n")
    else:
        sys.stdout.write(_diff_table(changes.document()))


def _read_findings(name: str) -> Any:
    import json

    try:
        return json.loads(Path(name).read_text(encoding="utf-8"))
    except OSError as error:
        raise UserError(f"cannot read findings {name}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{name} is not a findings JSON document (from `auditor audit --format json`): "
                        "not valid JSON") from None


def _diff_table(document: dict[str, Any]) -> str:
    from tabulate import tabulate

    def label(side: dict[str, Any]) -> str:
        return f"run {side['run']}" if "run" in side else side["file"]

    counts = ", ".join(f"{number} {name}" for name, number in document["summary"].items())
    blocks = [f"{label(document['before'])} ({document['before']['generated_at']}) -> "
              f"{label(document['after'])} ({document['after']['generated_at']}): {counts}"]
    for name in ("new", "resolved", "open", "unknown"):
        if document[name]:
            rows = [[r["severity"], r["rule_id"], f"{r['account_id']} {r['region']}", r["resource_id"],
                     r["message"] or r["title"]] for r in document[name]]
            table = tabulate(rows, headers=["severity", "rule", "account region", "resource", "problem"],
                             tablefmt="simple", maxcolwidths=[None, None, 22, 24, 34])
            blocks.append(f"{name.upper()} ({len(rows)})\n{table}")
    return "\n\n".join(blocks) + "\n"
