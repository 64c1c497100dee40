"""Collection of what moto 5.2.5 does not model, against botocore's Stubber: paging, Client VPN,
Direct Connect, VPN telemetry, transit gateway route searches, and failures turned into errors.

Nothing leaves the process: every client `Clients` hands out is stubbed, and a send is refused.
One worker thread: a Stubber answers in order, so the calls on one client must come in a known order.
"""

from __future__ import annotations

import copy
import datetime as dt
import ipaddress
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.stub import Stubber

from auditor import snapshot
from auditor.aws import Clients
from auditor.collect import tgw_routes
from auditor.collect.registry import GLOBAL, GLOBAL_REGION_KEY, REGISTRY, Collector
from auditor.collect.runner import AccountCollection, collect_account
from tests.collect.stub_data import (
    ACCOUNT_ID,
    HOME,
    ITEMS,
    OTHER,
    SECRET,
    client_vpn_authorization_rule,
    client_vpn_endpoint,
    client_vpn_endpoint_id,
    client_vpn_route,
    client_vpn_target_network,
    dx_connection,
    dx_gateway,
    dx_gateway_association,
    dx_gateway_attachment,
    dx_virtual_interface,
    exact,
    of_type,
    prefix_list_filter,
    prefix_list_id,
    prefix_list_reference,
    rid,
    subnet,
    subnet_of,
    tgw_prefix_list_route,
    tgw_route,
    transit_gateway_route_table,
    virtual_interface_with_bgp_auth_key,
    vpn_connection,
    vpn_connection_with_pre_shared_key,
)

BOTOCORE = botocore.session.get_session()
MODELS = BOTOCORE.get_component("data_loader")  # parsed once per run: a fresh loader re-reads ec2's model
# Output token -> input token, for operations that page without a botocore paginator.
TOKEN_MEMBERS = (("NextToken", "NextToken"), ("nextToken", "nextToken"), ("NextMarker", "Marker"))


def paging_tokens(collector: Collector) -> tuple[str, str] | None:
    """(output token, input token) of a collector's operation, read from botocore's models; None if it does not page."""
    try:
        config = BOTOCORE.get_paginator_model(collector.service).get_paginator(collector.operation)
        return config["output_token"], config["input_token"]
    except ValueError:
        pass
    operation = BOTOCORE.get_service_model(collector.service).operation_model(collector.operation)
    outputs = operation.output_shape.members if operation.output_shape else {}
    inputs = operation.input_shape.members if operation.input_shape else {}
    return next(((out, inp) for out, inp in TOKEN_MEMBERS if out in outputs and inp in inputs), None)


# Every declarative collector (one call, or one call per parent item) whose operation pages.
PAGING = {c.key: tokens for c in REGISTRY.values() if c.fetch is None and (tokens := paging_tokens(c))}


class Stubs:
    """One active Stubber per (service, region) client that `Clients` hands out."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.stubbers: dict[tuple[str, str], Stubber] = {}

    def __call__(self, service: str, region: str = HOME) -> Stubber:
        if (service, region) not in self.stubbers:
            stubber = Stubber(self.clients.get(service, region))
            stubber.activate()
            self.stubbers[(service, region)] = stubber
        return self.stubbers[(service, region)]

    def assert_all_used(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def refuse_send(**_: Any) -> None:
    raise RuntimeError("a request reached the network layer: a client was not stubbed")


@pytest.fixture
def clients() -> Clients:
    core = botocore.session.Session()
    core.register_component("data_loader", MODELS)
    session = boto3.Session(botocore_session=core, region_name=HOME)
    session.events.register("before-send", refuse_send)
    return Clients(session)


@pytest.fixture
def stubs(clients: Clients) -> Iterator[Stubs]:
    stubs = Stubs(clients)
    yield stubs
    for stubber in stubs.stubbers.values():
        stubber.deactivate()


def collect(clients: Clients, *keys: str, regions: tuple[str, ...] = (HOME,)) -> AccountCollection:
    return collect_account(clients, ACCOUNT_ID, list(regions), HOME,
                           collectors=[REGISTRY[key] for key in keys], max_workers=1)


def error_dicts(result: AccountCollection) -> list[dict[str, str]]:
    return [error.as_dict() for error in result.errors]


# 1. Paging


@pytest.mark.parametrize("key", list(PAGING))
def test_every_page_is_collected(key: str, clients: Clients, stubs: Stubs) -> None:
    collector, (output_token, input_token) = REGISTRY[key], PAGING[key]
    stub = stubs(collector.service)
    keys, params = [collector.key], {}
    if collector.parent:
        parent = REGISTRY[collector.parent]
        parent_item = ITEMS[parent.key](1)
        stub.add_response(xform_name(parent.operation), {parent.result_key: [parent_item]}, {})
        keys, params = [parent.key, collector.key], {collector.parent_id: parent_item[collector.parent_id]}
    first, second = ITEMS[collector.key](1), ITEMS[collector.key](2)
    method = xform_name(collector.operation)
    stub.add_response(method, {collector.result_key: [first], output_token: "page-2-token"}, params)
    stub.add_response(method, {collector.result_key: [second]}, {**params, input_token: "page-2-token"})

    result = collect(clients, *keys)

    store = GLOBAL_REGION_KEY if collector.scope == GLOBAL else HOME
    expected = [first, second]
    if collector.parent:
        expected = [{collector.parent_id: params[collector.parent_id], collector.result_key: [first, second]}]
    assert result.regions[store][collector.key] == expected
    assert error_dicts(result) == []
    stubs.assert_all_used()


def test_paging_without_a_botocore_paginator_is_covered(clients: Clients) -> None:
    directconnect = clients.get("directconnect", HOME)

    by_hand = {key: tokens for key, tokens in PAGING.items() if key.startswith("directconnect:")
               and not directconnect.can_paginate(xform_name(REGISTRY[key].operation))}

    assert by_hand == {"directconnect:connections": ("nextToken", "nextToken"),
                       "directconnect:virtualInterfaces": ("nextToken", "nextToken")}


# 2-4. Client VPN, Direct Connect, site-to-site VPN


def test_client_vpn_endpoints_and_their_rules_routes_and_networks(clients: Clients, stubs: Stubs) -> None:
    ec2 = stubs("ec2")
    first, second = client_vpn_endpoint_id(1), client_vpn_endpoint_id(2)
    rules = [client_vpn_authorization_rule(1), client_vpn_authorization_rule(2)]
    other_rules = [client_vpn_authorization_rule(3, endpoint=2)]
    routes, networks = [client_vpn_route(1), client_vpn_route(2)], [client_vpn_target_network(1)]
    ec2.add_response("describe_client_vpn_endpoints",
                     {"ClientVpnEndpoints": [client_vpn_endpoint(2), client_vpn_endpoint(1)]}, {})
    for method, result_key, per_endpoint in (
        ("describe_client_vpn_authorization_rules", "AuthorizationRules", (rules, other_rules)),
        ("describe_client_vpn_routes", "Routes", (routes, [])),
        ("describe_client_vpn_target_networks", "ClientVpnTargetNetworks", (networks, [])),
    ):
        for endpoint_id, items in zip((first, second), per_endpoint, strict=True):
            ec2.add_response(method, {result_key: items}, {"ClientVpnEndpointId": endpoint_id})

    result = collect(clients, "ec2:ClientVpnEndpoints", "ec2:ClientVpnAuthorizationRules",
                     "ec2:ClientVpnRoutes", "ec2:ClientVpnTargetNetworks")

    assert result.regions == {HOME: {
        "ec2:ClientVpnEndpoints": [client_vpn_endpoint(1), client_vpn_endpoint(2)],
        "ec2:ClientVpnAuthorizationRules": [{"ClientVpnEndpointId": first, "AuthorizationRules": rules},
                                            {"ClientVpnEndpointId": second, "AuthorizationRules": other_rules}],
        "ec2:ClientVpnRoutes": [{"ClientVpnEndpointId": first, "Routes": routes},
                                {"ClientVpnEndpointId": second, "Routes": []}],
        "ec2:ClientVpnTargetNetworks": [{"ClientVpnEndpointId": first, "ClientVpnTargetNetworks": networks},
                                        {"ClientVpnEndpointId": second, "ClientVpnTargetNetworks": []}],
    }}
    assert error_dicts(result) == []
    stubs.assert_all_used()


def test_direct_connect_regional_and_global_parts(clients: Clients, stubs: Stubs) -> None:
    home, other = stubs("directconnect", HOME), stubs("directconnect", OTHER)
    calls: Counter[tuple[str, str]] = Counter()
    for region in (HOME, OTHER):
        clients.get("directconnect", region).meta.events.register(
            "before-parameter-build", lambda model, region=region, **_: calls.update([(model.name, region)]))
    gateway_ids = [dx_gateway(1)["directConnectGatewayId"], dx_gateway(2)["directConnectGatewayId"]]
    for stub, n, region in ((home, 1, HOME), (other, 2, OTHER)):
        stub.add_response("describe_connections", {"connections": [dx_connection(n, region)]}, {})
        stub.add_response("describe_virtual_interfaces", {"virtualInterfaces": [dx_virtual_interface(n, region)]}, {})
    home.add_response("describe_direct_connect_gateways", {"directConnectGateways": [dx_gateway(1), dx_gateway(2)]}, {})
    for gateway_id, items in zip(gateway_ids, ([dx_gateway_association(1)], []), strict=True):
        home.add_response("describe_direct_connect_gateway_associations",
                          {"directConnectGatewayAssociations": items}, {"directConnectGatewayId": gateway_id})
    for gateway_id, items in zip(gateway_ids, ([dx_gateway_attachment(1)], []), strict=True):
        home.add_response("describe_direct_connect_gateway_attachments",
                          {"directConnectGatewayAttachments": items}, {"directConnectGatewayId": gateway_id})

    result = collect(clients, "directconnect:connections", "directconnect:virtualInterfaces",
                     "directconnect:directConnectGateways", "directconnect:directConnectGatewayAssociations",
                     "directconnect:directConnectGatewayAttachments", regions=(HOME, OTHER))

    assert result.regions == {
        HOME: {"directconnect:connections": [dx_connection(1, HOME)],
               "directconnect:virtualInterfaces": [dx_virtual_interface(1, HOME)]},
        OTHER: {"directconnect:connections": [dx_connection(2, OTHER)],
                "directconnect:virtualInterfaces": [dx_virtual_interface(2, OTHER)]},
        GLOBAL_REGION_KEY: {
            "directconnect:directConnectGateways": [dx_gateway(1), dx_gateway(2)],
            "directconnect:directConnectGatewayAssociations": [
                {"directConnectGatewayId": gateway_ids[0], "directConnectGatewayAssociations": [
                    dx_gateway_association(1)]},
                {"directConnectGatewayId": gateway_ids[1], "directConnectGatewayAssociations": []}],
            "directconnect:directConnectGatewayAttachments": [
                {"directConnectGatewayId": gateway_ids[0], "directConnectGatewayAttachments": [
                    dx_gateway_attachment(1)]},
                {"directConnectGatewayId": gateway_ids[1], "directConnectGatewayAttachments": []}],
        },
    }
    peers = [vif["bgpPeers"][0]["bgpStatus"] for region in (HOME, OTHER)
             for vif in result.regions[region]["directconnect:virtualInterfaces"]]
    assert peers == ["up", "down"]
    assert calls == {("DescribeConnections", HOME): 1, ("DescribeConnections", OTHER): 1,
                     ("DescribeVirtualInterfaces", HOME): 1, ("DescribeVirtualInterfaces", OTHER): 1,
                     ("DescribeDirectConnectGateways", HOME): 1,
                     ("DescribeDirectConnectGatewayAssociations", HOME): 2,
                     ("DescribeDirectConnectGatewayAttachments", HOME): 2}
    assert error_dicts(result) == []
    stubs.assert_all_used()


def test_vpn_tunnel_telemetry_and_options_are_stored_verbatim(clients: Clients, stubs: Stubs) -> None:
    connection = vpn_connection(1)
    stubs("ec2").add_response("describe_vpn_connections", {"VpnConnections": [copy.deepcopy(connection)]}, {})

    result = collect(clients, "ec2:VpnConnections")

    [stored] = result.regions[HOME]["ec2:VpnConnections"]
    assert stored == connection
    assert [(t["Status"], t.get("StatusMessage")) for t in stored["VgwTelemetry"]] == [
        ("UP", "2 BGP ROUTES"), ("DOWN", "IPSEC IS DOWN")]
    assert [t["OutsideIpAddress"] for t in stored["Options"]["TunnelOptions"]] == ["203.0.113.10", "203.0.113.20"]
    assert error_dicts(result) == []


@pytest.mark.parametrize(("key", "item"), [
    ("ec2:VpnConnections", vpn_connection_with_pre_shared_key()),
    ("directconnect:virtualInterfaces", virtual_interface_with_bgp_auth_key()),
], ids=["vpn-pre-shared-key", "bgp-auth-key"])
def test_secrets_in_api_items_never_reach_the_snapshot(key: str, item: dict[str, Any], clients: Clients,
                                                       stubs: Stubs) -> None:
    collector = REGISTRY[key]
    stubs(collector.service).add_response(xform_name(collector.operation), {collector.result_key: [item]}, {})

    document = snapshot.dumps(snapshot.build([collect(clients, key)], dt.datetime(2026, 11, 26)))

    assert item[collector.sort_by[0]] in document
    assert SECRET not in document
    assert '"REDACTED"' in document


# 5. SearchTransitGatewayRoutes

TABLE = rid("tgw-rtb", 1)


def stub_searches(stub: Stubber, searches: list[tuple[list[dict[str, Any]], list[dict[str, Any]], bool]]) -> None:
    """The route table, then one search per (filters, routes returned, more routes available)."""
    stub.add_response("describe_transit_gateway_route_tables",
                      {"TransitGatewayRouteTables": [transit_gateway_route_table(1)]}, {})
    for filters, routes, truncated in searches:
        stub.add_response("search_transit_gateway_routes",
                          {"Routes": copy.deepcopy(routes), "AdditionalRoutesAvailable": truncated},
                          {"TransitGatewayRouteTableId": TABLE, "Filters": filters})


def stub_references(stub: Stubber, *numbers: int) -> None:
    """GetTransitGatewayPrefixListReferences for the table: the prefix lists numbered `numbers`."""
    stub.add_response("get_transit_gateway_prefix_list_references",
                      {"TransitGatewayPrefixListReferences": [prefix_list_reference(n, TABLE) for n in numbers]},
                      {"TransitGatewayRouteTableId": TABLE})


def stub_prefix_list_search(stub: Stubber, ids: list[str], routes: list[dict[str, Any]], truncated: bool) -> None:
    stub.add_response("search_transit_gateway_routes",
                      {"Routes": copy.deepcopy(routes), "AdditionalRoutesAvailable": truncated},
                      {"TransitGatewayRouteTableId": TABLE, "Filters": [prefix_list_filter(*ids)]})


def collect_routes(clients: Clients) -> AccountCollection:
    return collect(clients, "ec2:TransitGatewayRouteTables", "ec2:TransitGatewayRoutes")


def stored_routes(result: AccountCollection) -> list[dict[str, Any]]:
    [record] = result.regions[HOME]["ec2:TransitGatewayRoutes"]
    assert record["TransitGatewayRouteTableId"] == TABLE
    return record["Routes"]


def test_truncated_search_is_split_by_type_then_prefix(clients: Clients, stubs: Stubs) -> None:
    default, ten, corp = tgw_route("0.0.0.0/0"), tgw_route("10.0.0.0/8"), tgw_route("192.168.0.0/16")
    ula, vpn = tgw_route("fd12:3456:789a::/48"), tgw_route("172.16.0.0/12", "propagated", 2)
    onprem = tgw_prefix_list_route(3)  # no destination prefix filter returns it
    static = of_type("static")
    ec2 = stubs("ec2")
    stub_searches(ec2, [
        ([of_type("static", "propagated")], [ten, vpn], True),
        ([static], [ten, corp], True),
        ([static, exact("0.0.0.0/0")], [default], False),
        ([static, subnet_of("0.0.0.0/1")], [ten], True),
        ([static, exact("0.0.0.0/1")], [], False),
        ([static, subnet_of("0.0.0.0/2")], [ten], False),
        ([static, subnet_of("64.0.0.0/2")], [], False),
        ([static, subnet_of("128.0.0.0/1")], [corp], False),
        ([static, exact("::/0")], [], False),
        ([static, subnet_of("::/1")], [], False),
        ([static, subnet_of("8000::/1")], [ula], False),
        ([of_type("propagated")], [vpn], False),
    ])
    stub_references(ec2, 3)
    stub_prefix_list_search(ec2, [prefix_list_id(3)], [onprem], False)

    result = collect_routes(clients)

    assert stored_routes(result) == [onprem, default, ten, vpn, corp, ula]
    assert error_dicts(result) == []
    stubs.assert_all_used()


def test_untruncated_search_reads_no_prefix_list_references(clients: Clients, stubs: Stubs) -> None:
    ten, onprem = tgw_route("10.0.0.0/8"), tgw_prefix_list_route(1)
    stub_searches(stubs("ec2"), [([of_type("static", "propagated")], [ten, onprem], False)])

    result = collect_routes(clients)

    assert stored_routes(result) == [onprem, ten]
    assert error_dicts(result) == []
    stubs.assert_all_used()  # and nothing else was called: the Stubber refuses an unexpected call


def test_prefix_lists_searched_one_by_one_when_their_group_is_truncated(clients: Clients, stubs: Stubs) -> None:
    ten = tgw_route("10.0.0.0/8")
    first, second = tgw_prefix_list_route(1), tgw_prefix_list_route(2)
    ec2 = stubs("ec2")
    stub_searches(ec2, [
        ([of_type("static", "propagated")], [ten, first], True),
        ([of_type("static")], [ten, first], False),
        ([of_type("propagated")], [], False),
    ])
    stub_references(ec2, 1, 2)
    stub_prefix_list_search(ec2, [prefix_list_id(1), prefix_list_id(2)], [first], True)
    stub_prefix_list_search(ec2, [prefix_list_id(1)], [first], False)
    stub_prefix_list_search(ec2, [prefix_list_id(2)], [second], False)

    result = collect_routes(clients)

    assert stored_routes(result) == [first, second, ten]
    assert error_dicts(result) == []
    stubs.assert_all_used()


def test_prefix_list_references_denied_is_reported_with_the_routes_found(clients: Clients, stubs: Stubs) -> None:
    ten, vpn = tgw_route("10.0.0.0/8"), tgw_route("172.16.0.0/12", "propagated", 2)
    ec2 = stubs("ec2")
    stub_searches(ec2, [
        ([of_type("static", "propagated")], [ten, vpn], True),
        ([of_type("static")], [ten], False),
        ([of_type("propagated")], [vpn], False),
    ])
    ec2.add_client_error("get_transit_gateway_prefix_list_references", "UnauthorizedOperation",
                         DENIED.format(action="ec2:GetTransitGatewayPrefixListReferences"), 403,
                         expected_params={"TransitGatewayRouteTableId": TABLE})

    result = collect_routes(clients)

    assert stored_routes(result) == [ten, vpn]
    denied, truncated = error_dicts(result)
    assert {k: v for k, v in denied.items() if k != "message"} == {
        "account_id": ACCOUNT_ID, "region": HOME, "key": "ec2:TransitGatewayRoutes",
        "operation": "GetTransitGatewayPrefixListReferences", "code": "UnauthorizedOperation", "resource_id": TABLE}
    assert {k: v for k, v in truncated.items() if k != "message"} == {
        "account_id": ACCOUNT_ID, "region": HOME, "key": "ec2:TransitGatewayRoutes",
        "operation": "SearchTransitGatewayRoutes", "code": "Truncated", "resource_id": TABLE}
    assert truncated["message"] == (
        "its routes to prefix lists could not be listed (GetTransitGatewayPrefixListReferences failed: "
        "UnauthorizedOperation); the routes stored for this table are incomplete")
    stubs.assert_all_used()


def split_down_to(target: str) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]], bool]]:
    """The static split of a table where every half holding `target` stays truncated, down to the /32."""
    host, route = ipaddress.ip_network(target), tgw_route(target)
    searches = []

    def split(network: ipaddress.IPv4Network) -> None:
        searches.append(([of_type("static"), exact(str(network))], [], False))
        for half in network.subnets(prefixlen_diff=1):
            holds_host = host.subnet_of(half)
            searches.append(([of_type("static"), subnet_of(str(half))], [route] if holds_host else [], holds_host))
            if holds_host and half.prefixlen < 32:
                split(half)

    split(ipaddress.IPv4Network("0.0.0.0/0"))
    return searches


def test_search_still_truncated_at_a_host_route_is_reported(clients: Clients, stubs: Stubs) -> None:
    host, corp = tgw_route("10.0.0.1/32"), tgw_route("192.168.0.0/16")
    stub_searches(stubs("ec2"), [
        ([of_type("static", "propagated")], [host, corp], True),
        ([of_type("static")], [host, corp], True),
        *split_down_to("10.0.0.1/32"),
        ([of_type("static"), exact("::/0")], [], False),
        ([of_type("static"), subnet_of("::/1")], [], False),
        ([of_type("static"), subnet_of("8000::/1")], [], False),
        ([of_type("propagated")], [], False),
    ])
    stub_references(stubs("ec2"))

    result = collect_routes(clients)

    assert stored_routes(result) == [host, corp]
    [error] = error_dicts(result)
    assert {k: v for k, v in error.items() if k != "message"} == {
        "account_id": ACCOUNT_ID, "region": HOME, "key": "ec2:TransitGatewayRoutes",
        "operation": "SearchTransitGatewayRoutes", "code": "Truncated", "resource_id": TABLE}
    assert "incomplete" in error["message"]
    stubs.assert_all_used()


def test_search_budget_exhausted_is_reported(clients: Clients, stubs: Stubs,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tgw_routes, "MAX_SEARCHES_PER_TABLE", 3)
    ten, vpn, default = tgw_route("10.0.0.0/8"), tgw_route("172.16.0.0/12", "propagated"), tgw_route("0.0.0.0/0")
    stub_searches(stubs("ec2"), [
        ([of_type("static", "propagated")], [ten, vpn], True),
        ([of_type("static")], [ten], True),
        ([of_type("static"), exact("0.0.0.0/0")], [default], False),
    ])
    stub_references(stubs("ec2"), 1)  # listed, but the budget is spent: its search is not made

    result = collect_routes(clients)

    assert stored_routes(result) == [default, ten, vpn]
    assert [(e.code, e.resource_id, e.key) for e in result.errors] == [
        ("Truncated", TABLE, "ec2:TransitGatewayRoutes")]
    stubs.assert_all_used()


def test_search_next_token_is_followed(clients: Clients, stubs: Stubs) -> None:
    ten, corp = tgw_route("10.0.0.0/8"), tgw_route("192.168.0.0/16")
    ec2 = stubs("ec2")
    ec2.add_response("describe_transit_gateway_route_tables",
                     {"TransitGatewayRouteTables": [transit_gateway_route_table(1)]}, {})
    everything = {"TransitGatewayRouteTableId": TABLE, "Filters": [of_type("static", "propagated")]}
    ec2.add_response("search_transit_gateway_routes",
                     {"Routes": [ten], "AdditionalRoutesAvailable": False, "NextToken": "search-page-2"}, everything)
    ec2.add_response("search_transit_gateway_routes", {"Routes": [corp], "AdditionalRoutesAvailable": False},
                     {**everything, "NextToken": "search-page-2"})

    result = collect_routes(clients)

    assert stored_routes(result) == [ten, corp]
    assert error_dicts(result) == []
    stubs.assert_all_used()


# 6. Failures become errors, and collection goes on

DENIED = "User: arn:aws:sts::111122223333:assumed-role/auditor/run is not authorized to perform: {action}"


@pytest.mark.parametrize(("key", "code", "status", "message"), [
    ("ec2:ClientVpnEndpoints", "UnauthorizedOperation", 403,
     DENIED.format(action="ec2:DescribeClientVpnEndpoints")),
    ("elbv2:LoadBalancers", "AccessDenied", 403,
     DENIED.format(action="elasticloadbalancing:DescribeLoadBalancers")),
    ("ec2:Vpcs", "ServiceUnavailable", 503, "Service Unavailable. Please try again later."),
], ids=["unauthorized", "access-denied", "service-unavailable"])
def test_failed_read_is_an_error_and_the_key_is_absent(key: str, code: str, status: int, message: str,
                                                       clients: Clients, stubs: Stubs) -> None:
    collector = REGISTRY[key]
    method = xform_name(collector.operation)
    stubs(collector.service, HOME).add_response(method, {collector.result_key: [ITEMS[key](1)]}, {})
    stubs(collector.service, OTHER).add_client_error(method, service_error_code=code, service_message=message,
                                                     http_status_code=status, expected_params={})
    stubs("ec2", HOME).add_response("describe_subnets", {"Subnets": [subnet(1)]}, {})
    stubs("ec2", OTHER).add_response("describe_subnets", {"Subnets": [subnet(2)]}, {})

    result = collect(clients, key, "ec2:Subnets", regions=(HOME, OTHER))

    assert result.regions[HOME] == {key: [ITEMS[key](1)], "ec2:Subnets": [subnet(1)]}
    assert key not in result.regions[OTHER]
    assert result.regions[OTHER] == {"ec2:Subnets": [subnet(2)]}
    assert error_dicts(result) == [{"account_id": ACCOUNT_ID, "region": OTHER, "key": key,
                                    "operation": collector.operation, "code": code, "message": message}]
    stubs.assert_all_used()


def test_failure_for_one_parent_loses_only_that_parent(clients: Clients, stubs: Stubs) -> None:
    first, second = client_vpn_endpoint_id(1), client_vpn_endpoint_id(2)
    message = f"The ClientVpnEndpointId '{second}' does not exist"
    ec2 = stubs("ec2")
    ec2.add_response("describe_client_vpn_endpoints",
                     {"ClientVpnEndpoints": [client_vpn_endpoint(1), client_vpn_endpoint(2)]}, {})
    ec2.add_response("describe_client_vpn_routes", {"Routes": [client_vpn_route(1)]}, {"ClientVpnEndpointId": first})
    ec2.add_client_error("describe_client_vpn_routes", "InvalidClientVpnEndpointId.NotFound", message, 400,
                         expected_params={"ClientVpnEndpointId": second})

    result = collect(clients, "ec2:ClientVpnEndpoints", "ec2:ClientVpnRoutes")

    assert [e["ClientVpnEndpointId"] for e in result.regions[HOME]["ec2:ClientVpnEndpoints"]] == [first, second]
    assert result.regions[HOME]["ec2:ClientVpnRoutes"] == [{"ClientVpnEndpointId": first,
                                                            "Routes": [client_vpn_route(1)]}]
    assert error_dicts(result) == [{"account_id": ACCOUNT_ID, "region": HOME, "key": "ec2:ClientVpnRoutes",
                                    "operation": "DescribeClientVpnRoutes",
                                    "code": "InvalidClientVpnEndpointId.NotFound", "message": message,
                                    "resource_id": second}]
    stubs.assert_all_used()


def test_failed_parent_makes_its_children_dependency_failed(clients: Clients, stubs: Stubs) -> None:
    message = DENIED.format(action="ec2:DescribeClientVpnEndpoints")
    stubs("ec2").add_client_error("describe_client_vpn_endpoints", "UnauthorizedOperation", message, 403,
                                  expected_params={})
    children = ("ec2:ClientVpnAuthorizationRules", "ec2:ClientVpnRoutes", "ec2:ClientVpnTargetNetworks")

    result = collect(clients, "ec2:ClientVpnEndpoints", *children)

    assert result.regions == {HOME: {}}
    skipped = "not read because ec2:ClientVpnEndpoints could not be read"
    assert sorted(error_dicts(result), key=lambda e: e["key"]) == sorted([
        {"account_id": ACCOUNT_ID, "region": HOME, "key": "ec2:ClientVpnEndpoints",
         "operation": "DescribeClientVpnEndpoints", "code": "UnauthorizedOperation", "message": message},
        *({"account_id": ACCOUNT_ID, "region": HOME, "key": child, "operation": REGISTRY[child].operation,
           "code": "DependencyFailed", "message": skipped, "depends_on": "ec2:ClientVpnEndpoints"}
          for child in children),
    ], key=lambda e: e["key"])
    stubs.assert_all_used()
