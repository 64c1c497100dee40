"""The command line (click). Parses, calls the stages, prints; report on stdout, the rest on stderr."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from auditor import __version__
from auditor.errors import UserError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def split_list(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[str] | None:
    items = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return items or None


def aws_options(command: Any) -> Any:
    command = click.option("--profile", help="AWS profile, as the AWS CLI uses it.")(command)
    command = click.option(
        "--regions", "--region", "regions", multiple=True, callback=split_list, metavar="R1,R2",
        help="Regions to read (default: every region enabled for the account).")(command)
    command = click.option(
        "--max-workers", type=click.IntRange(1, 256), default=16, show_default=True,
        help="API calls in flight at once.")(command)
    return command


class Progress:
    """A one-line counter on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\rcollecting: {done}/{total} reads")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """Audit how AWS VPCs connect to each other and to customer networks. Read-only."""


@cli.command()
@aws_options
@click.option("--output", "-o", default="snapshot.json", show_default=True, metavar="FILE",
              help="Where to write the snapshot ('-' for stdout). Written atomically, mode 0600.")
def collect(profile: str | None, regions: list[str] | None, max_workers: int, output: str) -> None:
    """Read the account's network into a snapshot (JSON)."""
    from auditor import aws, snapshot
    from auditor.collect import collect as run_collection

    target = None if output == "-" else Path(output)
    if target is not None:
        snapshot.check_writable(target)
    session = aws.open_session(profile)
    progress = Progress()
    collected = run_collection(session, regions, max_workers=max_workers, progress=progress)
    progress.finish()
    text = snapshot.dumps(collected.document)
    if target is None:
        sys.stdout.write(text)
    else:
        snapshot.write_private(target, text)
    destination = "stdout" if target is None else str(target)
    click.echo(f"{collected.summary()} -> {destination}", err=True)


@cli.command()
def permissions() -> None:
    """Print the least-privilege IAM policy the collectors need."""
    from auditor.permissions import policy_json

    sys.stdout.write(policy_json())


@cli.command()
def demo() -> None:
    """Collect the embedded simulated account (moto, plus simulated API responses) and summarise it."""
    from auditor.demo import run_demo

    run_demo()


def main(argv: list[str] | None = None) -> None:
    """Entry point: maps bad input to one line and exit code 2, Ctrl-C to 130."""
    try:
        cli.main(args=argv, prog_name="auditor", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USAGE)
    except click.Abort:
        click.echo("auditor: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except UserError as error:
        click.echo(f"auditor: error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        click.echo("auditor: interrupted; nothing was written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # noqa: BLE001 - an internal error is still exit 2, never a traceback
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        click.echo(f"auditor: internal error: {type(error).__name__}: {error} "
                   "(set AUDITOR_DEBUG=1 for a traceback)", err=True)
        sys.exit(EXIT_USAGE)
