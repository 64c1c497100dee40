"""Path results as text (a traceroute with reasons) and JSON. Knows nothing of AWS."""

from __future__ import annotations

import json

from auditor.paths.model import Direction, Endpoint, PathResult


def _where(endpoint: Endpoint) -> str:
    if endpoint.customer:
        through = ", ".join(ident for _, ident in endpoint.entries)
        return f"{endpoint.network} (customer network, through {through})"
    parts = [p for p in (endpoint.interface_id, endpoint.subnet_id, endpoint.vpc_id) if p and p != endpoint.text]
    place = ", ".join(parts + [f"{endpoint.account_id} {endpoint.region}"])
    return f"{endpoint.text} = {endpoint.network} ({place})"


def _direction(name: str, walk: Direction) -> list[str]:
    lines = [f"{name}: {'reachable' if walk.reachable else 'NOT reachable'}"]
    width = max((len(h.resource_id) for h in walk.hops), default=0)
    for number, hop in enumerate(walk.hops, 1):
        lines.append(f"  {number:>2}  {hop.resource_id:<{width}}  {hop.detail}")
    for blocker in walk.blockers:
        lines.append(f"  blocked: {blocker.code} at {blocker.resource_id}: {blocker.message}")
        lines.append(f"      fix: {blocker.fix}")
    if not walk.delivered and not walk.blockers:
        lines.append("  the packet does not arrive")
    return lines


def as_text(result: PathResult) -> str:
    traffic = result.protocol if result.port is None else f"{result.protocol}/{result.port}"
    verdict = "REACHABLE" if result.reachable else "NOT REACHABLE"
    lines = [f"from {_where(result.source)}", f"to   {_where(result.destination)}", f"{traffic}: {verdict}", ""]
    lines += _direction("forward", result.forward) + [""] + _direction("return", result.back)
    return "\n".join(lines) + "\n"


def as_json(result: PathResult) -> str:
    return json.dumps(result.as_dict(), indent=2, sort_keys=False) + "\n"
