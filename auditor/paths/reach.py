"""The VPC-to-VPC reachability matrix of a snapshot: routing only, both directions. Pure.

VPC A reaches VPC B when a route table in use in A sends one of B's CIDR blocks, whole, into B (the
walker's steps, without ACLs or security groups). A pair is reachable when each reaches the other.
Only VPCs that some route of A covers are walked, and each transit gateway step is settled once per
destination, so the matrix grows with the routes rather than with the square of the VPCs alone.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from tabulate import tabulate

from auditor.index import Network, span
from auditor.long_lived import made_to_last
from auditor.paths.model import Endpoint
from auditor.paths.walk import Key, Walker
from auditor.paths.world import World


@dataclass(frozen=True)
class Matrix:
    vpcs: list[str]
    reaches: dict[str, frozenset[str]]  # VPC -> the VPCs its routes deliver to

    def cell(self, a: str, b: str) -> str:
        """"both", "forward" (a reaches b, no way back), "return" (only b reaches a), "" or "self"."""
        if a == b:
            return "self"
        there, back = b in self.reaches[a], a in self.reaches[b]
        return "both" if there and back else "forward" if there else "return" if back else ""


def matrix(world: World, walker: Walker | None = None) -> Matrix:
    with made_to_last():  # sets by the hundred thousand, and no cycles: scanning them is wasted time
        return _matrix(world, walker or Walker(world))


def _matrix(world: World, walker: Walker) -> Matrix:
    vpcs = sorted(world.vpcs)
    endpoints: dict[Key, Endpoint] = {}
    keys_of: dict[str, frozenset[Key]] = {}
    for vpc in vpcs:
        ends = [Endpoint(text=vpc, kind="vpc", network=net, vpc_id=vpc) for net in world.vpc_networks(vpc)]
        keys = [(vpc, *span(end.network)[:2]) for end in ends]
        endpoints.update(zip(keys, ends, strict=True))
        keys_of[vpc] = frozenset(keys)
    every = frozenset(endpoints)
    held: dict[Network, frozenset[Key]] = {}

    def inside(net: Network) -> frozenset[Key]:
        found = held.get(net)
        if found is None:
            found = held[net] = frozenset((vpc, *span(block)[:2]) for block, vpc in world.vpc_cidrs.inside(net))
        return found

    reaches = {}
    for vpc in vpcs:
        scope = world.vpcs[vpc].scope
        reached: set[Key] = set()
        for table, _ in scope.tables_in_use(vpc).values():
            reached |= walker.delivered(vpc, table, every - keys_of[vpc] - reached, endpoints, inside)
        reaches[vpc] = frozenset(key[0] for key in reached)
    return Matrix(vpcs, reaches)


def _label(world: World, vpc: str) -> str:
    tags = world.vpcs[vpc].item.get("Tags") or []
    name = next((t.get("Value") for t in tags if t.get("Key") == "Name" and t.get("Value")), None)
    return f"{vpc} ({name})" if name else vpc


def as_table(world: World, result: Matrix) -> str:
    header = ["from \\ to"] + [str(n) for n in range(1, len(result.vpcs) + 1)]
    rows = [[f"{n} {_label(world, a)}"] + [_mark(result.cell(a, b)) for b in result.vpcs]
            for n, a in enumerate(result.vpcs, 1)]
    legend = ("\nY both ways   > forward only (no route back)   < return only   . no route   - itself\n"
              f"{sum(result.cell(a, b) == 'both' for a in result.vpcs for b in result.vpcs if a < b)} of "
              f"{len(result.vpcs) * (len(result.vpcs) - 1) // 2} pairs reach each other both ways\n")
    return tabulate(rows, headers=header, tablefmt="simple") + "\n" + legend


def _mark(cell: str) -> str:
    return {"both": "Y", "forward": ">", "return": "<", "self": "-"}.get(cell, ".")


def as_json(world: World, result: Matrix) -> str:
    vpcs = []
    for vpc in result.vpcs:
        scope = world.vpcs[vpc].scope
        vpcs.append({"vpc_id": vpc, "account_id": scope.account_id, "region": scope.region,
                     "cidrs": [str(n) for n in world.vpc_networks(vpc)], "reaches": sorted(result.reaches[vpc])})
    pairs = [[a, b] for a in result.vpcs for b in result.vpcs if a < b and result.cell(a, b) == "both"]
    one_way = [[a, b] for a in result.vpcs for b in sorted(result.reaches[a]) if a not in result.reaches[b]]
    return json.dumps({"vpcs": vpcs, "reachable_pairs": pairs, "one_way": one_way}, indent=2) + "\n"


def as_csv(world: World, result: Matrix) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["from"] + result.vpcs)
    for a in result.vpcs:
        writer.writerow([a] + [result.cell(a, b) for b in result.vpcs])
    return out.getvalue()


RENDERERS = {"table": as_table, "json": as_json, "csv": as_csv}
