"""The network graph as text: Graphviz DOT, Mermaid flowchart, JSON. Pure formatting, deterministic.

Labels come from the audited accounts (Name tags), so every one is escaped for its format: a tag can
neither end a quoted string nor inject a statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator

from auditor.graph import Edge, Graph, Node

SEVERITY_COLOURS = {"critical": "#6e0b14", "high": "#cf222e", "medium": "#bc4c00", "low": "#0969da",
                    "info": "#6e7781"}
NEUTRAL = "#57606a"
# States in which a link carries traffic (or is about to); any other is drawn dashed.
LIVE_STATES = frozenset({"active", "available", "associated", "attached", "up", "pending", "associating",
                         "attaching", "enabled", "initiating"})
AWS_GROUP = "AWS"
DOT_SHAPES = {"vpc": "box", "transit-gateway": "hexagon", "tgw-route-table": "note", "vpn-gateway": "trapezium",
              "customer-gateway": "house", "dx-gateway": "octagon", "dx-virtual-interface": "cds",
              "dx-connection": "cylinder", "client-vpn-endpoint": "parallelogram", "endpoint-service": "component",
              "aws-service": "ellipse", "vpn-connection": "cds", "account": "folder", "other": "box"}
MERMAID_SHAPES = {"vpc": ('["', '"]'), "transit-gateway": ('{{"', '"}}'), "tgw-route-table": ('[/"', '"/]'),
                  "vpn-gateway": ('[/"', '"\\]'), "customer-gateway": ('[\\"', '"/]'), "dx-gateway": ('{{"', '"}}'),
                  "dx-connection": ('[("', '")]'), "endpoint-service": ('[["', '"]]'), "aws-service": ('(["', '"])'),
                  "account": ('("', '")'), "client-vpn-endpoint": ('>"', '"]')}


def live(edge: Edge) -> bool:
    return edge.state.lower() in LIVE_STATES


def edge_caption(edge: Edge) -> str:
    """The edge's label, then its state, its routes (where they apply) and its findings' rules."""
    status = edge.state if edge.routes is None else f"{edge.state}, routes {edge.routes}"
    lines = [edge.label, status]
    if edge.severity:
        lines.append(f"{edge.severity}: {', '.join(edge.rules)}")
    return "\n".join(line for line in lines if line)


def node_caption(node: Node) -> str:
    lines = [node.label]
    if node.state.lower() not in ("available", "unknown"):
        lines.append(node.state)
    if node.severity:
        lines.append(f"{node.severity}: {', '.join(node.rules)}")
    return "\n".join(lines)


def groups(nodes: Iterable[Node]) -> list[tuple[str, list[tuple[str, list[Node]]]]]:
    """Nodes by account, then by region (both sorted; AWS-owned and unnamed-owner nodes last)."""
    tree: dict[str, dict[str, list[Node]]] = {}
    for node in nodes:
        tree.setdefault(node.account_id or AWS_GROUP, {}).setdefault(node.region or "?", []).append(node)
    order = sorted(tree, key=lambda account: (account == AWS_GROUP, account))
    return [(account, sorted(tree[account].items())) for account in order]


def account_title(account: str) -> str:
    return "AWS services and unknown owners" if account == AWS_GROUP else f"account {account}"


# JSON

def render_json(graph: Graph) -> str:
    return json.dumps(graph.document(), indent=2, ensure_ascii=False) + "\n"


# DOT

def dot_string(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, newlines as centred line breaks, no control characters."""
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_attributes(**attributes: str) -> str:
    return "[" + ", ".join(f"{name}={dot_string(value)}" for name, value in attributes.items() if value) + "]"


def render_dot(graph: Graph) -> str:
    lines = ["digraph network {",
             '  graph [rankdir="LR", fontname="Helvetica", fontsize="11", newrank="true"];',
             '  node [shape="box", style="rounded", fontname="Helvetica", fontsize="10"];',
             '  edge [fontname="Helvetica", fontsize="9"];']
    for number, (account, regions) in enumerate(groups(graph.nodes)):
        lines += [f"  subgraph {dot_string(f'cluster_{number}')} {{",
                  f"    label={dot_string(account_title(account))};"]
        for inner, (region, nodes) in enumerate(regions):
            lines += [f"    subgraph {dot_string(f'cluster_{number}_{inner}')} {{",
                      f"      label={dot_string(region)};"]
            for node in nodes:
                colour = SEVERITY_COLOURS.get(node.severity or "", "")
                style = "rounded,dashed" if not node.in_snapshot else ("rounded,bold" if colour else "")
                lines.append(f"      {dot_string(node.id)} " + _dot_attributes(
                    label=node_caption(node), shape=DOT_SHAPES[node.type], color=colour, style=style))
            lines.append("    }")
        lines.append("  }")
    for edge in graph.edges:
        colour = SEVERITY_COLOURS.get(edge.severity or "", "")
        lines.append(f"  {dot_string(edge.source)} -> {dot_string(edge.target)} " + _dot_attributes(
            id=edge.id, label=edge_caption(edge), color=colour, fontcolor=colour,
            penwidth="2" if colour else "", style="" if live(edge) else "dashed"))
    lines.append("}")
    return "\n".join(lines) + "\n"


# Mermaid

def mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label: entity codes for the characters Mermaid or its HTML would read."""
    text = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", " ", text)
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("&", "#amp;"),
                       ("`", "#96;"), ("|", "#124;"), ("[", "#91;"), ("]", "#93;"), ("{", "#123;"), ("}", "#125;")):
        text = text.replace(char, code)  # "#" first: the codes after it contain one
    return text.replace("\n", "<br/>")


def mermaid_ids(graph: Graph) -> dict[str, str]:
    """A Mermaid-safe id for every node: letters, digits and underscores, unique (a suffix where two collide)."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for node in sorted(graph.nodes, key=lambda n: n.id):
        base = "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node.id)
        candidate, number = base, 1
        while candidate in used:
            number += 1
            candidate = f"{base}_{number}"
        used.add(candidate)
        ids[node.id] = candidate
    return ids


def render_mermaid(graph: Graph) -> str:
    ids = mermaid_ids(graph)
    lines = ["flowchart LR"]
    for number, (account, regions) in enumerate(groups(graph.nodes)):
        lines.append(f'  subgraph g{number}["{mermaid_text(account_title(account))}"]')
        for inner, (region, nodes) in enumerate(regions):
            lines.append(f'    subgraph g{number}_{inner}["{mermaid_text(region)}"]')
            for node in nodes:
                opening, closing = MERMAID_SHAPES.get(node.type, ('["', '"]'))
                lines.append(f"      {ids[node.id]}{opening}{mermaid_text(node_caption(node))}{closing}")
            lines.append("    end")
        lines.append("  end")
    for edge in graph.edges:
        arrow = "-->" if live(edge) else "-.->"
        lines.append(f'  {ids[edge.source]} {arrow}|"{mermaid_text(edge_caption(edge))}"| {ids[edge.target]}')
    lines += list(_mermaid_styles(graph, ids))
    return "\n".join(lines) + "\n"


def _mermaid_styles(graph: Graph, ids: dict[str, str]) -> Iterator[str]:
    for severity, colour in SEVERITY_COLOURS.items():
        marked = [ids[n.id] for n in graph.nodes if n.severity == severity]
        if marked:
            yield f"  classDef sev_{severity} stroke:{colour},stroke-width:3px"
            yield f"  class {','.join(marked)} sev_{severity}"
    outside = [ids[n.id] for n in graph.nodes if not n.in_snapshot and not n.severity]
    if outside:
        yield "  classDef outside stroke-dasharray:4 3"
        yield f"  class {','.join(outside)} outside"
    for number, edge in enumerate(graph.edges):
        if edge.severity:
            yield f"  linkStyle {number} stroke:{SEVERITY_COLOURS[edge.severity]},stroke-width:3px"


RENDERERS: dict[str, Callable[[Graph], str]] = {"dot": render_dot, "mermaid": render_mermaid, "json": render_json}
