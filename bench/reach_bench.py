"""The reachability matrix at scale: 1,000 VPCs, all pairs, on one core.

    .venv/bin/python bench/reach_bench.py              # 1,000 VPCs
    .venv/bin/python bench/reach_bench.py --vpcs 2000  # another size

Target (issue 7): `auditor reach` over 1,000 VPCs, all pairs, in under 10 seconds on one core. The
synthetic network mixes what makes the matrix expensive: a transit gateway hub of 512 spokes, peered
with a second transit gateway of 256 spokes (the spokes route all of 10.0.0.0/8 to their hub, so
every VPC is a candidate for every spoke), and the other 232 VPCs in fully meshed peering groups of ten.
Each VPC has two route tables in use. The time includes loading the snapshot from JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
REGION = "us-east-1"


def _cidr(n: int) -> str:
    return f"10.{n // 16}.{(n % 16) * 16}.0/20"


def _route(destination: str, **target: str) -> dict[str, Any]:
    return {"DestinationCidrBlock": destination, "State": "active", "Origin": "CreateRoute", **target}


class Network:
    def __init__(self) -> None:
        self.data: dict[str, list[dict[str, Any]]] = {key: [] for key in (
            "ec2:Vpcs", "ec2:Subnets", "ec2:RouteTables", "ec2:VpcPeeringConnections", "ec2:TransitGateways",
            "ec2:TransitGatewayAttachments", "ec2:TransitGatewayVpcAttachments", "ec2:TransitGatewayRouteTables",
            "ec2:TransitGatewayRouteTableAssociations", "ec2:TransitGatewayRoutes",
            "ec2:TransitGatewayPeeringAttachments", "ec2:NetworkAcls", "ec2:SecurityGroups",
            "ec2:ManagedPrefixListEntries")}
        self.tables: dict[int, list[dict[str, Any]]] = {}

    def vpc(self, n: int) -> None:
        vpc_id, cidr = f"vpc-{n:017x}", _cidr(n)
        self.data["ec2:Vpcs"].append({"VpcId": vpc_id, "CidrBlock": cidr, "OwnerId": ACCOUNT, "State": "available",
                                      "CidrBlockAssociationSet": [{"CidrBlock": cidr,
                                                                   "CidrBlockState": {"State": "associated"}}]})
        local = {"DestinationCidrBlock": cidr, "GatewayId": "local", "State": "active", "Origin": "CreateRouteTable"}
        self.tables[n] = []
        for t in range(2):
            table_id = f"rtb-{n:012x}{t:05x}"
            subnet_id = f"subnet-{n:012x}{t:05x}"
            base = cidr.split(".")
            self.data["ec2:Subnets"].append({"SubnetId": subnet_id, "VpcId": vpc_id, "OwnerId": ACCOUNT,
                                             "CidrBlock": f"{base[0]}.{base[1]}.{int(base[2]) + t}.0/24"})
            associations = [{"Main": t == 0, "SubnetId": subnet_id, "AssociationState": {"State": "associated"}}]
            table = {"RouteTableId": table_id, "VpcId": vpc_id, "Associations": associations, "Routes": [dict(local)]}
            self.data["ec2:RouteTables"].append(table)
            self.tables[n].append(table)

    def transit_gateway(self, name: str, spokes: range) -> tuple[str, str]:
        tgw, table = f"tgw-{name:0>17}", f"tgw-rtb-{name:0>17}"
        self.data["ec2:TransitGateways"].append({"TransitGatewayId": tgw, "OwnerId": ACCOUNT, "State": "available",
                                                 "Options": {}})
        self.data["ec2:TransitGatewayRouteTables"].append({"TransitGatewayRouteTableId": table,
                                                          "TransitGatewayId": tgw, "State": "available"})
        associations, routes = [], []
        for n in spokes:
            attachment = f"tgw-attach-{n:017x}"
            vpc_id = f"vpc-{n:017x}"
            reference = {"TransitGatewayAttachmentId": attachment, "ResourceType": "vpc", "ResourceId": vpc_id}
            self.data["ec2:TransitGatewayAttachments"].append({**reference, "TransitGatewayId": tgw,
                                                               "State": "available"})
            self.data["ec2:TransitGatewayVpcAttachments"].append({
                "TransitGatewayAttachmentId": attachment, "TransitGatewayId": tgw, "VpcId": vpc_id,
                "State": "available", "SubnetIds": [f"subnet-{n:012x}{0:05x}"]})
            associations.append({**reference, "State": "associated"})
            routes.append({"DestinationCidrBlock": _cidr(n), "Type": "propagated", "State": "active",
                           "TransitGatewayAttachments": [reference]})
            for table_item in self.tables[n]:
                table_item["Routes"].append(_route("10.0.0.0/8", TransitGatewayId=tgw))
        self.data["ec2:TransitGatewayRouteTableAssociations"].append({"TransitGatewayRouteTableId": table,
                                                                     "Associations": associations})
        self.data["ec2:TransitGatewayRoutes"].append({"TransitGatewayRouteTableId": table, "Routes": routes})
        return tgw, table

    def peer_gateways(self, one: tuple[str, str], other: tuple[str, str], ranges: tuple[str, str]) -> None:
        attachment = "tgw-attach-peering0000"
        self.data["ec2:TransitGatewayPeeringAttachments"].append({
            "TransitGatewayAttachmentId": attachment, "State": "available",
            "RequesterTgwInfo": {"TransitGatewayId": one[0], "OwnerId": ACCOUNT, "Region": REGION},
            "AccepterTgwInfo": {"TransitGatewayId": other[0], "OwnerId": ACCOUNT, "Region": REGION}})
        for (tgw, table), far, near in ((one, other[0], ranges[1]), (other, one[0], ranges[0])):
            reference = {"TransitGatewayAttachmentId": attachment, "ResourceType": "peering", "ResourceId": far}
            self.data["ec2:TransitGatewayAttachments"].append({**reference, "TransitGatewayId": tgw,
                                                               "State": "available"})
            record = next(r for r in self.data["ec2:TransitGatewayRouteTableAssociations"]
                          if r["TransitGatewayRouteTableId"] == table)
            record["Associations"].append({**reference, "State": "associated"})
            routes = next(r for r in self.data["ec2:TransitGatewayRoutes"] if r["TransitGatewayRouteTableId"] == table)
            routes["Routes"].append({"DestinationCidrBlock": near, "Type": "static", "State": "active",
                                     "TransitGatewayAttachments": [reference]})

    def mesh(self, members: range) -> None:
        for a in members:
            for b in members:
                if a >= b:
                    continue
                pcx = f"pcx-{a:08x}{b:09x}"
                self.data["ec2:VpcPeeringConnections"].append({
                    "VpcPeeringConnectionId": pcx, "Status": {"Code": "active"},
                    "RequesterVpcInfo": {"VpcId": f"vpc-{a:017x}", "OwnerId": ACCOUNT, "Region": REGION,
                                         "CidrBlock": _cidr(a)},
                    "AccepterVpcInfo": {"VpcId": f"vpc-{b:017x}", "OwnerId": ACCOUNT, "Region": REGION,
                                        "CidrBlock": _cidr(b)}})
                for near, far in ((a, b), (b, a)):
                    for table in self.tables[near]:
                        table["Routes"].append(_route(_cidr(far), VpcPeeringConnectionId=pcx))


def generate(vpcs: int) -> dict[str, Any]:
    network = Network()
    for n in range(vpcs):
        network.vpc(n)
    hub_size = 1 << ((vpcs * 2 // 3).bit_length() - 1)  # aligned blocks, so each hub summarises its spokes in one route
    second_size = hub_size // 2
    first = network.transit_gateway("hub1", range(hub_size))
    second = network.transit_gateway("hub2", range(hub_size, hub_size + second_size))
    network.peer_gateways(first, second, (_summary(0, hub_size), _summary(hub_size, second_size)))
    for start in range(hub_size + second_size, vpcs, 10):
        network.mesh(range(start, min(start + 10, vpcs)))
    return {"schema_version": 1, "tool_version": "bench", "collected_at": "2026-11-26T10:00:00Z", "errors": [],
            "accounts": {ACCOUNT: {"partition": "aws", "regions": {REGION: network.data}}}}


def _summary(start: int, size: int) -> str:
    """The CIDR of VPCs start..start+size-1: each VPC is a /20 at 10.0.0.0 + 4096 n; size is a power of two."""
    import ipaddress

    base = ipaddress.ip_address("10.0.0.0") + start * 4096
    return f"{base}/{20 - (size.bit_length() - 1)}"


def measure(path: Path) -> dict[str, Any]:
    from auditor import snapshot as snapshots
    from auditor.index import Index
    from auditor.paths.reach import matrix
    from auditor.paths.world import World

    started = time.perf_counter()
    world = World(Index(snapshots.load(path)))
    result = matrix(world)
    elapsed = time.perf_counter() - started
    both = sum(result.cell(a, b) == "both" for a in result.vpcs for b in result.vpcs if a < b)
    return {"vpcs": len(result.vpcs), "pairs": len(result.vpcs) * (len(result.vpcs) - 1) // 2,
            "reachable_pairs": both, "seconds": round(elapsed, 2),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vpcs", type=int, default=1000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "snapshot.json"
        path.write_text(json.dumps(generate(args.vpcs)))
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []  # one core, as the target says
        runs = []
        for _ in range(3):
            output = subprocess.run([*pin, sys.executable, __file__, "--measure", str(path)], check=True,
                                    capture_output=True, text=True, env={**os.environ}).stdout
            runs.append(json.loads(output))
    best = min(runs, key=lambda run: run["seconds"])
    print(f"reach: {best['vpcs']} VPCs, {best['pairs']} pairs, {best['reachable_pairs']} reachable both ways")
    print(f"time (load + matrix, one core): best {best['seconds']} s, runs {[r['seconds'] for r in runs]}; "
          f"peak RSS {best['peak_rss_mb']} MB; target < 10 s")


if __name__ == "__main__":
    main()
