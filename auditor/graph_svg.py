"""The network graph as one inline SVG element, for the HTML report: no script, no font, no URL. Pure.

The layout is simple and deterministic: per account and region (in the graph's order), a column of
VPCs and a column of gateways and services, edges as curves coloured by the highest severity of their findings
(dashed when the link is not active). Every piece of text is escaped; full labels are in <title>s,
which browsers show as tooltips. No xmlns attribute: inside HTML, the parser gives <svg> its namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from auditor.graph import Edge, Graph, Node
from auditor.graph_render import NEUTRAL, SEVERITY_COLOURS, account_title, edge_caption, groups, live, node_caption

BOX_WIDTH = 230
COLUMN_GAP = 110
LINE = 14
PADDING = 6
NODE_GAP = 16
MARGIN = 16
HEADER = 58  # legend, then the column titles
MAX_CHARS = 34
VPC_COLUMN = frozenset({"vpc", "account"})
FONT = 'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="11"'


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    height: int

    @property
    def middle(self) -> int:
        return self.y + self.height // 2


def _short(line: str) -> str:
    return line if len(line) <= MAX_CHARS else line[:MAX_CHARS - 1] + "\u2026"


def _colour(severity: str | None) -> str:
    return SEVERITY_COLOURS.get(severity or "", NEUTRAL)


def layout(graph: Graph) -> tuple[dict[str, Box], list[tuple[int, str, str]], int, int]:
    """(box of each node, column titles (x, account, region), width, height)."""
    boxes: dict[str, Box] = {}
    titles: list[tuple[int, str, str]] = []
    column, bottom = 0, HEADER
    for account, regions in groups(graph.nodes):
        for region, nodes in regions:
            # VPCs, then what connects them: links inside a region run between two columns, not along one.
            vpcs = [n for n in nodes if n.type in VPC_COLUMN]
            others = [n for n in nodes if n.type not in VPC_COLUMN]
            for number, stack in enumerate(part for part in (vpcs, others) if part):
                x = MARGIN + column * (BOX_WIDTH + COLUMN_GAP)
                titles.append((x, account_title(account) if number == 0 else "", region if number == 0 else ""))
                y = HEADER + 2 * LINE
                for node in stack:
                    height = len(node_caption(node).splitlines()) * LINE + 2 * PADDING
                    boxes[node.id] = Box(x, y, height)
                    y += height + NODE_GAP
                bottom = max(bottom, y)
                column += 1
    width = MARGIN * 2 + max(column, 1) * (BOX_WIDTH + COLUMN_GAP) - COLUMN_GAP
    return boxes, titles, width, bottom + MARGIN


def _path(source: Box, target: Box) -> str:
    if source.x == target.x:  # same column: a loop out to the right
        x = source.x + BOX_WIDTH
        bulge = x + min(COLUMN_GAP - 10, 30 + abs(target.middle - source.middle) // 8)
        return f"M{x},{source.middle} C{bulge},{source.middle} {bulge},{target.middle} {x},{target.middle}"
    if source.x < target.x:
        x1, x2 = source.x + BOX_WIDTH, target.x
    else:
        x1, x2 = source.x, target.x + BOX_WIDTH
    pull = max(40, abs(x2 - x1) // 2) * (1 if x2 > x1 else -1)
    return f"M{x1},{source.middle} C{x1 + pull},{source.middle} {x2 - pull},{target.middle} {x2},{target.middle}"


def _note(edge: Edge) -> str:
    """The few words worth showing on the line itself: a link that is down, or routed one way or not at all."""
    if not live(edge):
        return edge.state
    if edge.routes and (edge.routes.startswith("one-way") or edge.routes == "none"):
        return "one-way" if edge.routes.startswith("one-way") else "no routes"
    return ""


def _edge(edge: Edge, boxes: dict[str, Box]) -> str:
    source, target = boxes[edge.source], boxes[edge.target]
    colour = _colour(edge.severity)
    marker = edge.severity or "none"
    dash = "" if live(edge) else ' stroke-dasharray="5 4"'
    width = "2.5" if edge.severity else "1.2"
    path = (f'<path d="{_path(source, target)}" fill="none" stroke="{colour}" stroke-width="{width}"{dash} '
            f'marker-end="url(#arrow-{marker})"/>')
    note = _note(edge)
    text = ""
    if note:
        x = (source.x + target.x + BOX_WIDTH) // 2 if source.x != target.x else source.x + BOX_WIDTH + 8
        y = (source.middle + target.middle) // 2 - 3
        text = f'<text x="{x}" y="{y}" fill="{colour}" font-size="10">{escape(_short(note))}</text>'
    return (f'<g class="edge" data-edge="{escape(edge.id)}"><title>{escape(edge.source)} \u2192 '
            f"{escape(edge.target)}\n{escape(edge_caption(edge))}</title>{path}{text}</g>")


def _node(node: Node, box: Box) -> str:
    colour = _colour(node.severity)
    dash = "" if node.in_snapshot else ' stroke-dasharray="4 3"'
    width = "2.5" if node.severity else "1"
    fill = "#ffffff" if node.in_snapshot else "#f6f8fa"
    lines = node_caption(node).splitlines()
    bold = ' font-weight="600"'
    spans = "".join(f'<tspan x="{box.x + PADDING}" dy="{LINE if n else 0}"{"" if n else bold}>'
                    f"{escape(_short(line))}</tspan>" for n, line in enumerate(lines))
    return (f'<g class="node" data-node="{escape(node.id)}" data-type="{escape(node.type)}">'
            f"<title>{escape(node.type)}: {escape(node_caption(node))}</title>"
            f'<rect x="{box.x}" y="{box.y}" width="{BOX_WIDTH}" height="{box.height}" rx="5" fill="{fill}" '
            f'stroke="{colour}" stroke-width="{width}"{dash}/>'
            f'<text x="{box.x + PADDING}" y="{box.y + PADDING + LINE - 3}" fill="#1f2328">{spans}</text></g>')


def _legend() -> str:
    parts, x = [], MARGIN
    for name, colour in [*SEVERITY_COLOURS.items(), ("no finding", NEUTRAL)]:
        parts.append(f'<rect x="{x}" y="{MARGIN}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{MARGIN + 10}" fill="#1f2328">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    parts.append(f'<text x="{x + 8}" y="{MARGIN + 10}" fill="#57606a">dashed line: not active; dashed box: not in '
                 "the snapshot; hover for details</text>")
    return '<g class="legend">' + "".join(parts) + "</g>"


def _markers() -> str:
    markers = [f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
               f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
               for name, colour in [*SEVERITY_COLOURS.items(), ("none", NEUTRAL)]]
    return "<defs>" + "".join(markers) + "</defs>"


def render_svg(graph: Graph) -> str:
    """One <svg> element (for inline use in HTML), deterministic for a given graph."""
    boxes, titles, width, height = layout(graph)
    parts = [f'<svg class="network" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'{FONT} aria-label="Network graph: {len(graph.nodes)} nodes, {len(graph.edges)} links">',
             f"<title>Network graph: {len(graph.nodes)} nodes, {len(graph.edges)} links</title>",
             _markers(), _legend()]
    for x, account, region in (title for title in titles if title[1]):
        parts.append(f'<text x="{x}" y="{HEADER}" font-weight="600" fill="#1f2328">{escape(_short(account))}</text>'
                     f'<text x="{x}" y="{HEADER + LINE}" fill="#57606a">{escape(_short(region))}</text>')
    parts += [_edge(edge, boxes) for edge in graph.edges]  # under the boxes, which are filled
    parts += [_node(node, boxes[node.id]) for node in graph.nodes]
    parts.append("</svg>")
    return "\n".join(parts)
