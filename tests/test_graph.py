"""auditor graph: the nodes and edges of small networks, routes both ways, findings, the formats, the CLI."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from auditor.engine import Finding, Suppression, load_rules, run_audit
from auditor.graph import Graph, build_graph
from auditor.graph_render import RENDERERS, mermaid_text
from auditor.index import Index
from tests.cli import run_cli
from tests.factories import ACCOUNT, NOW, OTHER_ACCOUNT, SnapshotBuilder

STRANGER = "999988887777"


def graph_of(builder: SnapshotBuilder, suppressions: tuple[Suppression, ...] = ()) -> Graph:
    document = builder.build()
    index = Index(document)
    return build_graph(index, run_audit(index, now=NOW, suppressions=suppressions).findings)


def nodes(graph: Graph) -> set[tuple[str, str]]:
    return {(n.id, n.type) for n in graph.nodes}


def edges(graph: Graph) -> set[tuple[str, str, str, str, str, str | None]]:
    return {(e.id, e.type, e.source, e.target, e.state, e.routes) for e in graph.edges}


def peered(one_way: bool = False, both_missing: bool = False) -> tuple[SnapshotBuilder, str, str, str]:
    builder = SnapshotBuilder()
    app, data = builder.vpc("10.0.0.0/16", name="app"), builder.vpc("10.1.0.0/16", name="data")
    pcx = builder.peering(app, data)
    if not both_missing:
        builder.route(builder.main_table(app), "10.1.0.0/16", VpcPeeringConnectionId=pcx)
    if not (one_way or both_missing):
        builder.route(builder.main_table(data), "10.0.0.0/16", VpcPeeringConnectionId=pcx)
    return builder, app, data, pcx


def transit_gateway(builder: SnapshotBuilder, region: str | None = None) -> tuple[str, str]:
    tgw, table = builder.new_id("tgw"), builder.new_id("tgw-rtb")
    builder.add("ec2:TransitGateways", {"TransitGatewayId": tgw, "OwnerId": ACCOUNT, "State": "available",
                                        "Options": {"AmazonSideAsn": 64512}}, region=region)
    builder.add("ec2:TransitGatewayRouteTables", {"TransitGatewayRouteTableId": table, "TransitGatewayId": tgw,
                                                  "State": "available"}, region=region)
    builder.add("ec2:TransitGatewayRouteTableAssociations",
                {"TransitGatewayRouteTableId": table, "Associations": []}, region=region)
    builder.add("ec2:TransitGatewayRoutes", {"TransitGatewayRouteTableId": table, "Routes": []}, region=region)
    return tgw, table


def attach(builder: SnapshotBuilder, tgw: str, table: str, vpc: str, cidr: str, *, associate: bool = True,
           propagate: bool = True) -> str:
    attachment = builder.new_id("tgw-attach")
    item: dict[str, Any] = {"TransitGatewayAttachmentId": attachment, "TransitGatewayId": tgw,
                            "TransitGatewayOwnerId": ACCOUNT, "ResourceType": "vpc", "ResourceId": vpc,
                            "ResourceOwnerId": ACCOUNT, "State": "available"}
    target = {"TransitGatewayAttachmentId": attachment, "ResourceId": vpc, "ResourceType": "vpc"}
    if associate:
        item["Association"] = {"TransitGatewayRouteTableId": table, "State": "associated"}
        builder.find("ec2:TransitGatewayRouteTableAssociations", "TransitGatewayRouteTableId", table)[
            "Associations"].append({**target, "State": "associated"})
    if propagate:
        builder.find("ec2:TransitGatewayRoutes", "TransitGatewayRouteTableId", table)["Routes"].append(
            {"DestinationCidrBlock": cidr, "State": "active", "Type": "propagated",
             "TransitGatewayAttachments": [target]})
    builder.add("ec2:TransitGatewayAttachments", item)
    return attachment


# Peering


@pytest.mark.parametrize(("one_way", "both_missing", "expected"), [
    (False, False, "both"), (True, False, "one-way: {app} -> {data}"), (False, True, "none")])
def test_peering_routes(one_way: bool, both_missing: bool, expected: str) -> None:
    builder, app, data, pcx = peered(one_way, both_missing)

    graph = graph_of(builder)

    assert nodes(graph) == {(app, "vpc"), (data, "vpc")}
    assert edges(graph) == {(pcx, "vpc-peering", app, data, "active", expected.format(app=app, data=data))}
    assert graph.node(app).label == f"app\n{app}\n10.0.0.0/16" and graph.node(app).cidrs == ("10.0.0.0/16",)


def test_peering_to_an_account_not_in_the_snapshot_is_unknown() -> None:
    builder = SnapshotBuilder()
    app = builder.vpc("10.0.0.0/16")
    pcx = builder.peering(app, "vpc-0partner", accepter_account=STRANGER, accepter_cidrs=("10.70.0.0/16",))
    builder.route(builder.main_table(app), "10.70.0.0/16", VpcPeeringConnectionId=pcx)

    graph = graph_of(builder)

    assert edges(graph) == {(pcx, "vpc-peering", app, "vpc-0partner", "active", "unknown")}
    partner = graph.node("vpc-0partner")
    assert (partner.in_snapshot, partner.account_id, partner.state, partner.cidrs) == (
        False, STRANGER, "unknown", ("10.70.0.0/16",))


def test_routes_unknown_when_route_tables_were_not_read() -> None:
    builder, app, data, pcx = peered(one_way=True)
    builder.error("ec2:RouteTables")

    assert graph_of(builder).edge(pcx).routes == "unknown"


# Transit gateway


@pytest.mark.parametrize("case", ["routed", "no-vpc-route", "not-associated", "not-propagated", "routes-unread"])
def test_hub_and_spoke(case: str) -> None:
    builder = SnapshotBuilder()
    hub, spoke = builder.vpc("10.0.0.0/16"), builder.vpc("10.1.0.0/16")
    tgw, table = transit_gateway(builder)
    hub_attachment = attach(builder, tgw, table, hub, "10.0.0.0/16")
    spoke_attachment = attach(builder, tgw, table, spoke, "10.1.0.0/16", associate=case != "not-associated",
                              propagate=case != "not-propagated")
    builder.route(builder.main_table(hub), "10.1.0.0/16", TransitGatewayId=tgw)
    if case != "no-vpc-route":
        builder.route(builder.main_table(spoke), "10.0.0.0/16", TransitGatewayId=tgw)
    if case == "routes-unread":
        builder.error("ec2:TransitGatewayRoutes")

    graph = graph_of(builder)

    spoke_routes = {"routed": "both", "no-vpc-route": f"one-way: {tgw} -> {spoke}",
                    "not-associated": f"one-way: {tgw} -> {spoke}", "not-propagated": f"one-way: {spoke} -> {tgw}",
                    "routes-unread": "unknown"}[case]
    assert nodes(graph) == {(hub, "vpc"), (spoke, "vpc"), (tgw, "transit-gateway"), (table, "tgw-route-table")}
    assert edges(graph) == {
        (f"{tgw}/{table}", "tgw-route-table", tgw, table, "available", None),
        (hub_attachment, "tgw-vpc-attachment", hub, tgw, "available", "unknown" if case == "routes-unread" else "both"),
        (spoke_attachment, "tgw-vpc-attachment", spoke, tgw, "available", spoke_routes)}
    expected_table = "no route table" if case == "not-associated" else f"route table {table}"
    assert graph.edge(spoke_attachment).label.endswith(expected_table)


def test_tgw_peering_across_regions_is_drawn_once() -> None:
    builder = SnapshotBuilder()
    east, east_table = transit_gateway(builder)
    west, _ = transit_gateway(builder, region="eu-west-1")
    peering = builder.new_id("tgw-attach")
    item = {"TransitGatewayAttachmentId": peering, "State": "available",
            "RequesterTgwInfo": {"TransitGatewayId": east, "OwnerId": ACCOUNT, "Region": "us-east-1"},
            "AccepterTgwInfo": {"TransitGatewayId": west, "OwnerId": ACCOUNT, "Region": "eu-west-1"}}
    for own, other, region in ((east, west, "us-east-1"), (west, east, "eu-west-1")):
        builder.add("ec2:TransitGatewayAttachments", {
            "TransitGatewayAttachmentId": peering, "TransitGatewayId": own, "TransitGatewayOwnerId": ACCOUNT,
            "ResourceType": "peering", "ResourceId": other, "ResourceOwnerId": ACCOUNT, "State": "available"},
            region=region)
        builder.add("ec2:TransitGatewayPeeringAttachments", dict(item), region=region)
    builder.find("ec2:TransitGatewayRoutes", "TransitGatewayRouteTableId", east_table)["Routes"].append(
        {"DestinationCidrBlock": "10.50.0.0/16", "State": "active", "Type": "static",
         "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": peering, "ResourceType": "peering"}]})

    graph = graph_of(builder)

    assert [e for e in edges(graph) if e[1] == "tgw-peering"] == [
        (peering, "tgw-peering", east, west, "available", f"one-way: {east} -> {west}")]


# VPN, Direct Connect, endpoints, Client VPN


def vpn_on_vgw(routed: bool) -> tuple[SnapshotBuilder, dict[str, str]]:
    builder = SnapshotBuilder()
    ids = {"vpc": builder.vpc("10.0.0.0/16"), "vgw": builder.new_id("vgw"), "cgw": builder.new_id("cgw"),
           "vpn": builder.new_id("vpn")}
    builder.add("ec2:VpnGateways", {"VpnGatewayId": ids["vgw"], "State": "available", "AmazonSideAsn": 64512,
                                    "VpcAttachments": [{"VpcId": ids["vpc"], "State": "attached"}]})
    builder.add("ec2:CustomerGateways", {"CustomerGatewayId": ids["cgw"], "State": "available",
                                         "IpAddress": "203.0.113.10", "BgpAsn": "65000"})
    builder.add("ec2:VpnConnections", {
        "VpnConnectionId": ids["vpn"], "State": "available", "CustomerGatewayId": ids["cgw"],
        "VpnGatewayId": ids["vgw"], "Options": {"StaticRoutesOnly": True},
        "Routes": [{"DestinationCidrBlock": "192.168.0.0/16", "State": "available"}],
        "VgwTelemetry": [{"Status": "UP"}, {"Status": "DOWN"}]})
    if routed:
        builder.route(builder.main_table(ids["vpc"]), "192.168.0.0/16", GatewayId=ids["vgw"])
    return builder, ids


@pytest.mark.parametrize("routed", [True, False])
def test_vpn_on_a_vgw(routed: bool) -> None:
    builder, ids = vpn_on_vgw(routed)
    vpc, vgw, cgw, vpn = ids["vpc"], ids["vgw"], ids["cgw"], ids["vpn"]

    graph = graph_of(builder)

    assert nodes(graph) == {(vpc, "vpc"), (vgw, "vpn-gateway"), (cgw, "customer-gateway")}
    assert edges(graph) == {
        (f"{vgw}/{vpc}", "vgw-attachment", vpc, vgw, "attached", "both" if routed else f"one-way: {vgw} -> {vpc}"),
        (vpn, "vpn-connection", cgw, vgw, "available", "unknown")}
    assert graph.edge(vpn).label == f"{vpn}\nstatic, 1 route(s), 1/2 tunnels up"
    assert graph.node(cgw).label == f"{cgw}\n203.0.113.10, ASN 65000"


def test_dx_gateway_association_and_virtual_interface() -> None:
    builder, ids = vpn_on_vgw(routed=True)
    dxgw, vif = "5f1d2c3b-0000-4b6f-9c7d-0e1a2b3c4d5e", "dxvif-fg4k7q2m"
    builder.add("directconnect:directConnectGateways", {"directConnectGatewayId": dxgw, "amazonSideAsn": 64700,
                                                        "directConnectGatewayName": "dc1", "ownerAccount": ACCOUNT,
                                                        "directConnectGatewayState": "available"}, region="global")
    builder.add("directconnect:directConnectGatewayAssociations", {"directConnectGatewayId": dxgw,
                "directConnectGatewayAssociations": [{
                    "associationId": "assoc-1", "associationState": "associated", "directConnectGatewayId": dxgw,
                    "associatedGateway": {"id": ids["vgw"], "type": "virtualPrivateGateway", "ownerAccount": ACCOUNT,
                                          "region": "us-east-1"},
                    "allowedPrefixesToDirectConnectGateway": [{"cidr": "10.0.0.0/16"}]}]}, region="global")
    builder.add("directconnect:virtualInterfaces", {
        "virtualInterfaceId": vif, "virtualInterfaceState": "available", "virtualInterfaceType": "private",
        "vlan": 101, "ownerAccount": ACCOUNT, "directConnectGatewayId": dxgw, "connectionId": "dxcon-1",
        "bgpPeers": [{"bgpStatus": "up"}]})

    graph = graph_of(builder)

    assert {(n.id, n.type, n.region) for n in graph.nodes if n.type.startswith("dx")} == {
        (dxgw, "dx-gateway", "global"), (vif, "dx-virtual-interface", "us-east-1"),
        ("dxcon-1", "dx-connection", "us-east-1")}
    assert {e for e in edges(graph) if e[1].startswith("dx")} == {
        ("assoc-1", "dx-gateway-association", dxgw, ids["vgw"], "associated", "unknown"),
        (f"{vif}/{dxgw}", "dx-virtual-interface", vif, dxgw, "available", "unknown"),
        (f"dxcon-1/{vif}", "dx-connection", "dxcon-1", vif, "available", None)}
    assert graph.edge("assoc-1").label == "association\nallowed 10.0.0.0/16"


def test_endpoint_to_a_service_in_another_account() -> None:
    builder = SnapshotBuilder()
    consumer = builder.vpc("10.0.0.0/16")
    provider = builder.vpc("10.9.0.0/16", account=OTHER_ACCOUNT)
    builder.account = OTHER_ACCOUNT  # the provider's load balancer and service live in its account
    service = builder.endpoint_service((builder.load_balancer(provider),), principals=(f"arn:aws:iam::{ACCOUNT}:root",))
    builder.account = ACCOUNT
    name = builder.find("ec2:VpcEndpointServiceConfigurations", "ServiceId", service)["ServiceName"]
    endpoint = builder.endpoint(consumer, name)
    for owner, endpoint_id in ((ACCOUNT, endpoint), (STRANGER, "vpce-0stranger")):
        builder.add("ec2:VpcEndpointConnections", {"ServiceId": service, "VpcEndpointId": endpoint_id,
                                                   "VpcEndpointOwner": owner, "VpcEndpointState": "available"},
                    OTHER_ACCOUNT)

    graph = graph_of(builder)

    assert nodes(graph) == {(consumer, "vpc"), (provider, "vpc"), (service, "endpoint-service"),
                            (f"account:{STRANGER}", "account")}
    assert edges(graph) == {
        (endpoint, "vpc-endpoint", consumer, service, "available", None),
        ("vpce-0stranger", "vpc-endpoint", f"account:{STRANGER}", service, "available", None),
        (f"{service}/{provider}", "endpoint-service-backend", service, provider, "active", None)}
    assert (graph.node(service).account_id, graph.edge(endpoint).account_id) == (OTHER_ACCOUNT, ACCOUNT)


def test_endpoint_to_an_aws_service() -> None:
    builder = SnapshotBuilder()
    vpc = builder.vpc()
    endpoint = builder.endpoint(vpc, "com.amazonaws.us-east-1.s3", kind="Gateway")

    graph = graph_of(builder)

    assert graph.node("com.amazonaws.us-east-1.s3").type == "aws-service"
    assert graph.edge(endpoint).target == "com.amazonaws.us-east-1.s3"


@pytest.mark.parametrize("routed", [True, False])
def test_client_vpn_to_its_target_subnets_vpc(routed: bool) -> None:
    builder = SnapshotBuilder()
    vpc = builder.vpc()
    subnet = builder.subnet(vpc, "10.0.1.0/24")
    cvpn = "cvpn-endpoint-0a5c3e9d41b7f2c68"
    builder.add("ec2:ClientVpnEndpoints", {"ClientVpnEndpointId": cvpn, "Status": {"Code": "available"},
                                           "ClientCidrBlock": "172.16.0.0/22", "VpcId": vpc})
    builder.add("ec2:ClientVpnTargetNetworks", {"ClientVpnEndpointId": cvpn, "ClientVpnTargetNetworks": [
        {"AssociationId": "cvpn-assoc-1", "TargetNetworkId": subnet, "VpcId": vpc, "Status": {"Code": "associated"}}]})
    routes = [{"DestinationCidr": "10.0.0.0/16", "TargetSubnet": subnet, "Status": {"Code": "active"}}]
    builder.add("ec2:ClientVpnRoutes", {"ClientVpnEndpointId": cvpn, "Routes": routes if routed else []})

    graph = graph_of(builder)

    assert nodes(graph) == {(vpc, "vpc"), (cvpn, "client-vpn-endpoint")}
    assert edges(graph) == {(f"{cvpn}/{vpc}", "client-vpn-target", cvpn, vpc, "associated",
                             "both" if routed else "none")}


# Findings


def test_findings_mark_the_edge_with_the_highest_severity() -> None:
    builder, app, data, pcx = peered(both_missing=True)

    graph = graph_of(builder)

    assert graph.edge(pcx).severity == "high" and "PCX001" in graph.edge(pcx).rules
    assert graph.node(app).severity is None


def test_suppressed_findings_do_not_mark() -> None:
    builder, _, _, pcx = peered(both_missing=True)
    suppressions = tuple(Suppression(rule, pcx, "known") for rule in load_rules())

    assert graph_of(builder, suppressions).edge(pcx).severity is None


def test_a_route_table_finding_marks_its_vpc_and_unknown_resources_fall_back_to_related() -> None:
    builder, app, _, pcx = peered()
    index = Index(builder.build())
    base = Finding("f1", "RT001", "x", "low", "t", "m", ACCOUNT, "us-east-1", "AWS::EC2::RouteTable",
                   builder.main_table(app), None, (), {}, "")
    findings = [base, dataclasses.replace(base, id="f2", severity="medium", resource_id="eni-1", related_resources=(
        "eni-1", pcx)), dataclasses.replace(base, id="f3", severity="critical", resource_id="eni-2")]

    graph = build_graph(index, findings)

    assert (graph.node(app).severity, graph.node(app).rules) == ("low", ("RT001",))
    assert graph.edge(pcx).severity == "medium"


# Formats


def parse_dot(text: str) -> tuple[set[str], list[tuple[str, str]]]:
    """A minimal DOT reader: balanced braces and brackets; the node statements and edge statements."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|->|[{}\[\];=,]|[A-Za-z_][\w.]*|\S', text)
    assert tokens[:3] == ["digraph", "network", "{"]
    depth, declared, links, position = 0, set(), [], 0
    while position < len(tokens):
        token = tokens[position]
        if token in "{}":
            depth += 1 if token == "{" else -1
            assert depth >= 0
        elif token.startswith('"') and position + 1 < len(tokens) and tokens[position + 1] in ("[", "->"):
            if tokens[position + 1] == "->":
                links.append((json.loads(token), json.loads(tokens[position + 2])))
                position += 2
            else:
                declared.add(json.loads(token))
        if token == "[":
            end = tokens.index("]", position)
            assert all(t in "=," or t.startswith('"') or re.fullmatch(r"\w+", t) for t in tokens[position + 1:end])
            position = end
        position += 1
    assert depth == 0
    return declared, links


def hostile_graph() -> Graph:
    builder, app, data, pcx = peered(one_way=True)
    builder.vpc_item(app)["Tags"] = [{"Key": "Name", "Value": 'evil" ] } -> "x" [label=\\ <b>#quot;|`\nend'}]
    return graph_of(builder)


def test_dot_is_valid_and_escapes_labels() -> None:
    graph = hostile_graph()

    declared, links = parse_dot(RENDERERS["dot"](graph))

    assert declared == {n.id for n in graph.nodes}
    assert sorted(links) == sorted((e.source, e.target) for e in graph.edges)


def test_mermaid_ids_are_sanitised_and_labels_escaped() -> None:
    graph = hostile_graph()

    text = RENDERERS["mermaid"](graph)

    lines = text.splitlines()
    assert lines[0] == "flowchart LR" and "<b>" not in text and "evil#quot; #93; #125; -#gt;" in text
    node_lines = [line for line in lines if line.startswith("      ")]
    edge_lines = [line for line in lines if re.match(r"  n_", line)]
    assert len(node_lines) == len(graph.nodes) and len(edge_lines) == len(graph.edges)
    assert all(re.fullmatch(r' {6}n_\w+[\[({>/\\]+"[^"]*"[\])}/\\]+', line) for line in node_lines)
    assert all(re.fullmatch(r'  n_\w+ (-->|-\.->)\|"[^"]*"\| n_\w+', line) for line in edge_lines)
    assert mermaid_text('a"b<c>#d') == "a#quot;b#lt;c#gt;#35;d"
    assert "  linkStyle 0 stroke:#cf222e,stroke-width:3px" in lines  # the one-way peering's PCX001


def test_json_matches_the_readme_shape_and_is_deterministic() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Network graph", 1)[1]
    documented = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    builder, *_ = peered(one_way=True)

    text = RENDERERS["json"](graph_of(builder))

    document = json.loads(text)
    assert set(document) == set(documented) == {"nodes", "edges"}
    assert set(document["nodes"][0]) == set(documented["nodes"][0])
    assert set(document["edges"][0]) == set(documented["edges"][0])
    assert text == RENDERERS["json"](graph_of(peered(one_way=True)[0]))


# The command line


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auditor import snapshot
    from auditor.demo import demo_snapshot

    path = tmp_path_factory.mktemp("graph") / "demo.json"
    path.write_text(snapshot.dumps(demo_snapshot()), encoding="utf-8")
    return path


@pytest.mark.parametrize("format", ["dot", "mermaid", "json"])
def test_cli_draws_the_demo_in_every_format(capsys, demo_path: Path, format: str) -> None:  # noqa: A002
    code, out, err = run_cli(capsys, "graph", "--snapshot", str(demo_path), "--format", format)

    assert code == 0 and re.fullmatch(r"graph: \d+ nodes, \d+ links, \d+ marked with findings\n", err)
    if format == "json":
        document = json.loads(out)
        types = {e["type"] for e in document["edges"]}
        assert {"vpc-peering", "tgw-vpc-attachment", "vpn-connection", "vpc-endpoint", "client-vpn-target",
                "dx-gateway-association"} <= types
        routes = {e["routes"] for e in document["edges"] if e["type"] == "vpc-peering"}
        assert "both" in routes and any(r.startswith("one-way: ") for r in routes)
    elif format == "dot":
        declared, links = parse_dot(out)
        assert links and all(a in declared and b in declared for a, b in links)
    else:
        assert out.startswith("flowchart LR\n") and out.count("subgraph") == out.count("  end")


def test_cli_writes_the_output_file_private(capsys, demo_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "network.dot"

    code, out, _ = run_cli(capsys, "graph", "--snapshot", str(demo_path), "--output", str(target))

    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith("digraph network {") and target.stat().st_mode & 0o777 == 0o600


def test_cli_config_suppressions_unmark_and_audit_keys_are_ignored(capsys, tmp_path: Path) -> None:
    builder, _, _, pcx = peered(both_missing=True)
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(builder.build()), encoding="utf-8")
    config = tmp_path / "auditor.toml"
    config.write_text(f'format = "html"\n[[suppressions]]\nrule = "PCX001"\nresource = "{pcx}"\nreason = "known"\n',
                      encoding="utf-8")

    code, out, _ = run_cli(capsys, "graph", "--config", str(config), "--snapshot", str(snapshot), "--format", "json")

    assert code == 0 and "PCX001" not in next(e for e in json.loads(out)["edges"] if e["id"] == pcx)["rules"]


def test_cli_collects_live_when_no_snapshot_is_given(capsys, moto_account) -> None:
    from tests.conftest import seed_client

    ec2 = seed_client("ec2")
    app = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    shared = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=app, PeerVpcId=shared)["VpcPeeringConnection"][
        "VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)

    code, out, err = run_cli(capsys, "graph", "--regions", "us-east-1", "--format", "json")

    peering = next(e for e in json.loads(out)["edges"] if e["id"] == pcx)
    assert code == 0 and "API calls" in err
    assert [peering[key] for key in ("source", "target", "routes", "severity")] == [app, shared, "none", "high"]


@pytest.mark.parametrize("content", ["{", '{"schema_version": 99, "accounts": {}}', "[]"])
def test_cli_bad_snapshot_is_one_line_and_exit_2(capsys, tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")

    code, out, err = run_cli(capsys, "graph", "--snapshot", str(path), "--format", "json")

    assert (code, out) == (2, "") and err.startswith("auditor: error: snapshot") and err.count("\n") == 1
