"""`auditor graph`: draw the network of a snapshot (or of the live accounts) as DOT, Mermaid or JSON.

Read-only like `audit`: collects through the same guarded session when no --snapshot is given.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from auditor.errors import UserError

FORMATS = ("dot", "mermaid", "json")
# The config keys that apply here: how to read AWS. The rest (format, fail_on...) belong to `audit`.
AWS_CONFIG_KEYS = ("profile", "regions", "max_workers", "max_workers_per_account", "max_workers_per_region")


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """Eager: trusted accounts, rule options and suppressions for the audit; AWS keys as flag defaults."""
    from auditor.config import Config, load

    config = load(Path(value)) if value else Config()
    defaults = {key: v for key, v in config.flag_defaults.items() if key in AWS_CONFIG_KEYS}
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return config


def graph_text(document: dict[str, Any], format: str, config: Any = None) -> tuple[str, Any]:  # noqa: A002
    """(the rendered graph, the graph) of a snapshot, audited with every rule to mark what has findings."""
    from auditor.engine import run_audit
    from auditor.graph import build_graph
    from auditor.graph_render import RENDERERS
    from auditor.index import Index

    index = Index(document)
    options = {} if config is None else {
        "rule_options": config.rule_options, "trusted_accounts": config.trusted_accounts,
        "suppressions": config.suppressions}
    # Suppressions expire as of the snapshot's collection too, so that one snapshot always draws the same graph.
    result = run_audit(index, now=index.collected_at or dt.datetime.now(dt.UTC), **options)
    graph = build_graph(index, result.findings)
    return RENDERERS[format](graph), graph


def graph_command() -> click.Command:
    """The click command. Built on call: it shares cli.py's AWS options, and cli.py imports this module."""
    from auditor.cli import _collect_live, account_options, aws_options

    @click.command(name="graph")
    @click.option("--config", "config", metavar="FILE", is_eager=True, callback=_load_config, envvar="AUDITOR_CONFIG",
                  help="TOML config: its trusted_accounts, rules and suppressions shape the findings marked; its "
                       "AWS keys are flag defaults.")
    @click.option("--snapshot", metavar="FILE", help="Draw this snapshot instead of collecting live.")
    @aws_options
    @account_options
    @click.option("--format", "format", type=click.Choice(FORMATS), default="dot", show_default=True,
                  help="dot (Graphviz), mermaid (flowchart) or json ({nodes, edges}).")
    @click.option("--output", "-o", metavar="FILE",
                  help="Write the graph here (atomically, mode 0600) instead of stdout.")
    def graph(config: Any, snapshot: str | None, profile: str | None, regions: list[str] | None,
              max_workers: int | None, max_workers_per_account: int | None, role_name: str | None,
              accounts: list[str] | None, org: bool,
              external_id: str | None, role_session_name: str | None, format: str,  # noqa: A002
              output: str | None) -> None:
        """Draw the network: VPCs, peerings, transit gateways, VPNs, Direct Connect, endpoints, Client VPN.

        Each link shows its state and whether routes exist both ways; nodes and links with findings are
        marked with the highest severity (the audit runs with every rule, judged as of the snapshot's
        collection time). Exit code 0; 2 on bad input.
        """
        from auditor import snapshot as snapshots
        from auditor.account_request import account_request

        request = account_request(role_name, accounts, org, external_id, role_session_name)
        if snapshot and request:
            raise UserError("--role-name reads live accounts: it does not apply to --snapshot FILE")
        if output:
            snapshots.check_writable(Path(output))
        if snapshot:
            document = snapshots.load(Path(snapshot))
        else:
            document = _collect_live(profile, regions, max_workers, max_workers_per_account, request)
        text, drawn = graph_text(document, format, config)
        if output:
            snapshots.write_private(Path(output), text)
        else:
            sys.stdout.write(text)
        marked = sum(1 for element in (*drawn.nodes, *drawn.edges) if element.severity)
        click.echo(f"graph: {len(drawn.nodes)} nodes, {len(drawn.edges)} links, {marked} marked with findings"
                   f"{f' -> {output}' if output else ''}", err=True)

    return graph
