"""`auditor path` and `auditor reach`: reachability questions answered offline from a snapshot (or a live read).

Registered on the main command group when auditor.cli is imported (it imports this module last).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from auditor.cli import EXIT_FINDINGS, UserError, _collect_live, account_options, aws_options, cli


def _world(snapshot: str | None, profile: str | None, regions: list[str] | None, max_workers: int,
           max_workers_per_account: int | None, request: Any) -> Any:
    from auditor import snapshot as snapshots
    from auditor.index import Index
    from auditor.paths.world import World

    if snapshot and request:
        raise UserError("--role-name reads live accounts: it does not apply to --snapshot FILE")
    if snapshot:
        document = snapshots.load(Path(snapshot))
    else:
        document = _collect_live(profile, regions, max_workers, max_workers_per_account, request)
    return World(Index(document))


def _write(text: str, output: str | None) -> None:
    from auditor import snapshot as snapshots

    if output:
        snapshots.write_private(Path(output), text)
    else:
        sys.stdout.write(text)


def live_or_snapshot(command: Any) -> Any:
    command = account_options(command)
    command = aws_options(command)
    return click.option("--snapshot", metavar="FILE",
                        help="Answer from this snapshot instead of reading the live account.")(command)


@cli.command(name="path")
@click.option("--from", "source", required=True, metavar="X",
              help="Subnet, VPC or network interface id, IP address, CIDR (outside every VPC: a customer network), "
                   "or a Client VPN endpoint id (its clients); --to may be an interface endpoint id.")
@click.option("--to", "destination", required=True, metavar="Y", help="As --from.")
@click.option("--protocol", type=click.Choice(["tcp", "udp", "icmp", "any"]), default="any", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Destination port (tcp and udp).")
@live_or_snapshot
@click.option("--format", "format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write the answer here (atomically) instead of stdout.")
def path_command(source: str, destination: str, protocol: str, port: int | None, snapshot: str | None,
                 profile: str | None, regions: list[str] | None, max_workers: int,
                 max_workers_per_account: int | None, role_name: str | None, accounts: list[str] | None, org: bool,
                 external_id: str | None, role_session_name: str | None, format: str,  # noqa: A002
                 output: str | None) -> None:
    """Can X reach Y? Follows the packet hop by hop, forward and back, and names every blocker with its fix.

    Exit codes: 0 reachable both ways, 1 not reachable, 2 bad input (an unknown resource, an address in no
    VPC and no customer network).
    """
    from auditor import snapshot as snapshots
    from auditor.account_request import account_request
    from auditor.paths import render
    from auditor.paths.resolve import analyze

    if port is not None and protocol not in ("tcp", "udp"):
        raise UserError(f"--port applies to tcp and udp, not to {protocol}")
    if output:
        snapshots.check_writable(Path(output))
    request = account_request(role_name, accounts, org, external_id, role_session_name)
    world = _world(snapshot, profile, regions, max_workers, max_workers_per_account, request)
    result = analyze(world, source, destination, protocol, port)
    _write(render.as_json(result) if format == "json" else render.as_text(result), output)
    click.echo(f"path: {'reachable' if result.reachable else 'not reachable'} "
               f"({len(result.forward.blockers) + len(result.back.blockers)} blockers)", err=True)
    if not result.reachable:
        sys.exit(EXIT_FINDINGS)


@cli.command(name="reach")
@live_or_snapshot
@click.option("--format", "format", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--output", "-o", metavar="FILE", help="Write the matrix here (atomically) instead of stdout.")
def reach_command(snapshot: str | None, profile: str | None, regions: list[str] | None, max_workers: int,
                  max_workers_per_account: int | None, role_name: str | None, accounts: list[str] | None, org: bool,
                  external_id: str | None, role_session_name: str | None, format: str,  # noqa: A002
                  output: str | None) -> None:
    """The VPC-to-VPC reachability matrix of the snapshot: routing only, both directions.

    A reaches B when a route table in use in A delivers one of B's CIDR blocks, whole, into B (peering,
    transit gateways and their peerings, appliances); ACLs and security groups are left to `auditor path`.
    """
    from auditor import snapshot as snapshots
    from auditor.account_request import account_request
    from auditor.paths.reach import RENDERERS, matrix

    if output:
        snapshots.check_writable(Path(output))
    request = account_request(role_name, accounts, org, external_id, role_session_name)
    world = _world(snapshot, profile, regions, max_workers, max_workers_per_account, request)
    result = matrix(world)
    _write(RENDERERS[format](world, result), output)
    both = sum(result.cell(a, b) == "both" for a in result.vpcs for b in result.vpcs if a < b)
    click.echo(f"reach: {len(result.vpcs)} VPCs, {both} pairs reachable both ways", err=True)
