"""The network as a graph: nodes (VPCs, gateways, services) and edges (peerings, attachments, VPNs, endpoints).

Pure: built from the indexed snapshot and the audit's findings; no AWS calls, no printing, no clock.
Each edge says whether routes exist both ways as far as the snapshot shows ("unknown" where it cannot
tell), and every node and edge carries the highest severity of the findings about it. The renderers
(DOT, Mermaid, JSON: auditor.graph_render; inline SVG: auditor.graph_svg) only format this model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from auditor.engine import SEVERITY_RANK, Finding
from auditor.index import Index, Item, Scope

NODE_TYPES = ("vpc", "transit-gateway", "tgw-route-table", "vpn-gateway", "customer-gateway", "dx-gateway",
              "dx-virtual-interface", "dx-connection", "client-vpn-endpoint", "endpoint-service", "aws-service",
              "vpn-connection", "account", "other")
_TYPE_RANK = {name: rank for rank, name in enumerate(NODE_TYPES)}
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    label: str  # lines joined by "\n": name (when tagged), id, details
    account_id: str | None  # None: owned by AWS (a service), or by an account the snapshot does not name
    region: str | None  # "global" for Direct Connect gateways
    state: str
    cidrs: tuple[str, ...] = ()
    in_snapshot: bool = True  # False: only named by something that was collected (the far side of a peering)
    severity: str | None = None
    rules: tuple[str, ...] = ()

    def sort_key(self) -> tuple[Any, ...]:
        return (self.account_id is None, self.account_id or "", self.region or "", _TYPE_RANK[self.type], self.id)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "label": self.label, "account_id": self.account_id,
                "region": self.region, "state": self.state, "cidrs": list(self.cidrs),
                "in_snapshot": self.in_snapshot, "severity": self.severity, "rules": list(self.rules)}


@dataclass(frozen=True)
class Edge:
    id: str
    type: str
    source: str
    target: str
    label: str
    account_id: str | None
    region: str | None
    state: str
    routes: str | None  # "both", "one-way: A -> B", "none", "unknown"; None where routes do not apply
    severity: str | None = None
    rules: tuple[str, ...] = ()

    def sort_key(self) -> tuple[str, ...]:
        return (self.source, self.target, self.type, self.id)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "source": self.source, "target": self.target, "label": self.label,
                "account_id": self.account_id, "region": self.region, "state": self.state, "routes": self.routes,
                "severity": self.severity, "rules": list(self.rules)}


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def document(self) -> dict[str, Any]:
        return {"nodes": [n.as_dict() for n in self.nodes], "edges": [e.as_dict() for e in self.edges]}

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def edge(self, edge_id: str) -> Edge:
        return next(e for e in self.edges if e.id == edge_id)


def name_tag(item: Item) -> str:
    """The Name tag (EC2 spells tags Key/Value, Direct Connect key/value), else ""."""
    for tag in item.get("Tags") or item.get("tags") or []:
        if (tag.get("Key") or tag.get("key")) == "Name":
            return str(tag.get("Value") or tag.get("value") or "")
    return ""


def label(*lines: Any) -> str:
    """Non-empty lines, each once, joined with newlines."""
    kept: list[str] = []
    for line in lines:
        text = str(line or "").strip()
        if text and text not in kept:
            kept.append(text)
    return "\n".join(kept)


def routes_both_ways(forward: bool | None, back: bool | None, a: str, b: str) -> str:
    """The routes value of an edge from a to b: whether a routes towards b (forward) and b towards a (back)."""
    if forward and back:
        return "both"
    if forward is None or back is None:
        return UNKNOWN
    if forward:
        return f"one-way: {a} -> {b}"
    if back:
        return f"one-way: {b} -> {a}"
    return "none"


def verdict(found: bool, complete: bool) -> bool | None:
    """Found is proof; not found is proof of absence only when the data it was looked for in is complete."""
    return True if found else (False if complete else None)


class GraphBuilder:
    """Collects nodes and edges while the parts (auditor.graph_parts) walk the snapshot, then marks findings."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.nodes: dict[str, Node] = {}
        self.edges: dict[str, Edge] = {}
        self.refs: dict[str, set[tuple[str, str]]] = defaultdict(set)  # resource id -> ("node"|"edge", id)
        self.failed: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for error in index.errors:
            where = (str(error.get("account_id", "")), str(error.get("region", "")), str(error.get("key", "")))
            self.failed[where].add(str(error.get("resource_id") or ""))
        self.context: dict[str, Any] = {}  # what one part leaves for another (VPN attachments for the VPN part)

    # What the snapshot knows
    def complete(self, account_id: str, region: str, key: str, resource_id: str = "") -> bool:
        """Whether `key` was read in full there (for one resource, when `resource_id` is given)."""
        scope = self.index.scope(account_id, region)
        if scope is None or not scope.has(key):
            return False
        failed = self.failed.get((account_id, region, key), set())
        return "" not in failed and (resource_id not in failed if resource_id else not failed)

    def vpc_routes_to(self, vpc_id: str, target_id: str) -> bool | None:
        """Whether a route table in use in the VPC (main, or a subnet's) has a live route to the target."""
        located = self.index.find_vpc(vpc_id)
        if located is None:
            return None
        scope, vpc = located
        # A VPC shared through RAM is listed by its participants too; its route tables are its owner's.
        scope = self.index.scope(str(vpc.get("OwnerId") or scope.account_id), scope.region) or scope
        found = not scope.tables_routing_to(target_id, vpc_id).isdisjoint(scope.tables_in_use(vpc_id))
        return verdict(found, self.tables_complete(scope))

    def tables_complete(self, scope: Scope) -> bool:
        return all(self.complete(scope.account_id, scope.region, key) for key in ("ec2:RouteTables", "ec2:Subnets"))

    # Building
    def add_node(self, node: Node, refs: Iterable[str] = ()) -> None:
        """Add a node; a collected node replaces a placeholder, else the first one added stays."""
        existing = self.nodes.get(node.id)
        if existing is None or (node.in_snapshot and not existing.in_snapshot):
            self.nodes[node.id] = node
        for ref in (node.id, *refs):
            self.refs[ref].add(("node", node.id))

    def placeholder(self, node_id: str, kind: str, account_id: str | None, region: str | None,
                    detail: str = "", cidrs: Iterable[str] = ()) -> str:
        """A node for something only named by what was collected (its state is unknown); returns its id."""
        if node_id not in self.nodes:
            self.add_node(Node(node_id, kind, label(node_id, detail, "(not in snapshot)"), account_id, region,
                               UNKNOWN, cidrs=tuple(cidrs), in_snapshot=False))
        return node_id

    def add_edge(self, edge: Edge, refs: Iterable[str] = ()) -> None:
        self.edges.setdefault(edge.id, edge)
        for ref in (edge.id, *refs):
            self.add_ref(ref, "edge", edge.id)

    def add_ref(self, resource_id: str, kind: str, element_id: str) -> None:
        if resource_id:
            self.refs[resource_id].add((kind, element_id))

    # Findings
    def graph(self, findings: Iterable[Finding]) -> Graph:
        """The finished graph: each element marked with the highest severity of the unsuppressed findings about it.

        A finding marks what its resource_id names (a route table or subnet marks its VPC); when that is no
        node or edge, what its related resources name.
        """
        severity: dict[tuple[str, str], str] = {}
        rules: dict[tuple[str, str], set[str]] = defaultdict(set)
        for finding in findings:
            if finding.suppressed:
                continue
            marked = self.refs.get(finding.resource_id) or set().union(
                *(self.refs.get(r, set()) for r in finding.related_resources))
            for element in marked:
                current = severity.get(element)
                if current is None or SEVERITY_RANK[finding.severity] < SEVERITY_RANK[current]:
                    severity[element] = finding.severity
                rules[element].add(finding.rule_id)
        nodes = [replace(n, severity=severity.get(("node", n.id)), rules=tuple(sorted(rules[("node", n.id)])))
                 for n in self.nodes.values()]
        edges = [replace(e, severity=severity.get(("edge", e.id)), rules=tuple(sorted(rules[("edge", e.id)])))
                 for e in self.edges.values()]
        return Graph(tuple(sorted(nodes, key=Node.sort_key)), tuple(sorted(edges, key=Edge.sort_key)))


def build_graph(index: Index, findings: Iterable[Finding] = ()) -> Graph:
    """The graph of a snapshot (every account and region in it), marked with the findings given."""
    from auditor.graph_parts import PARTS  # the parts build on this module's types

    builder = GraphBuilder(index)
    for part in PARTS:
        part(builder)
    return builder.graph(findings)
