"""The reachability matrix agrees, pair by pair, with walking each packet on its own."""

from __future__ import annotations

from auditor.index import Index
from auditor.paths.filters import Traffic
from auditor.paths.model import Endpoint
from auditor.paths.reach import matrix
from auditor.paths.walk import Walker
from auditor.paths.world import World
from tests.factories import SnapshotBuilder
from tests.paths.network import hub, peered_pair, spoke
from tests.rules.hybrid_factories_vpn_tgw import tgw_route


def _mixed_network() -> SnapshotBuilder:
    b = SnapshotBuilder()
    net = hub(b, spokes=4, first=8)  # 10.8-10.11: a hub, one spoke with a blackhole, one without its route back
    tgw_route(b, net["tgw_table"], "10.9.0.0/16", state="blackhole")
    table = b.find("ec2:RouteTables", "RouteTableId", net["spokes"][3]["table"])
    table["Routes"] = [r for r in table["Routes"] if r.get("GatewayId") == "local"]
    pair = peered_pair(b, back_route=False)  # 10.0 -> 10.1 one way
    third, _, table_c = spoke(b, "10.2.0.0/16", "10.2.1.0/24")
    pcx = b.peering(pair["b"], third)
    b.route(pair["table_b"], "10.2.0.0/16", VpcPeeringConnectionId=pcx)
    b.route(table_c, "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    b.route(pair["table_a"], "10.2.0.0/16", VpcPeeringConnectionId=pair["pcx"])  # transitive: dropped
    second_table = b.route_table(pair["a"])
    b.subnet(pair["a"], "10.0.2.0/24", table=second_table)
    b.route(second_table, "10.0.0.0/8", TransitGatewayId=net["tgw"])  # attached nowhere in this VPC
    return b


def test_the_matrix_matches_a_walk_of_every_pair() -> None:
    world = World(Index(_mixed_network().build()))
    walker = Walker(world)

    result = matrix(world)

    traffic = Traffic.of("any", None)
    for a in result.vpcs:
        for b in result.vpcs:
            if a == b:
                continue
            walked = False
            for subnet in world.index.find_vpc(a)[0].subnets(a):
                source = Endpoint(text=a, kind="subnet", network=world.subnet_networks(subnet["SubnetId"])[0],
                                  vpc_id=a, subnet_id=subnet["SubnetId"])
                for net in world.vpc_networks(b):
                    target = Endpoint(text=b, kind="vpc", network=net, vpc_id=b)
                    walked = walked or walker.trace(source, target, traffic, filters=False).reachable
            assert (b in result.reaches[a]) == walked, (a, b)
    assert sum(result.cell(a, b) == "both" for a in result.vpcs for b in result.vpcs if a < b) == 2
    assert any(result.cell(a, b) == "forward" for a in result.vpcs for b in result.vpcs)
