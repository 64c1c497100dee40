"""The embedded simulated account: what the real collector reads from it, and that it leaks nothing."""

from __future__ import annotations

import ipaddress
import os
import re
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.aws import Clients
from auditor.cli import cli
from auditor.collect.registry import GLOBAL, GLOBAL_REGION_KEY, REGISTRY
from auditor.demo import DEMO_REGIONS, HOME_REGION, PARTNER_ACCOUNT_ID, PEER_REGION, demo_snapshot, simulated_account
from auditor.errors import ReadOnlyViolation

Items = list[dict[str, Any]]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """One collection of the simulated account, shared by the read-only tests of this module."""
    return demo_snapshot()


@pytest.fixture(scope="module")
def account_id(document: dict[str, Any]) -> str:
    (only,) = document["accounts"]
    return only


@pytest.fixture(scope="module")
def home(document: dict[str, Any], account_id: str) -> dict[str, Items]:
    return document["accounts"][account_id]["regions"][HOME_REGION]


@pytest.fixture(scope="module")
def peer(document: dict[str, Any], account_id: str) -> dict[str, Items]:
    return document["accounts"][account_id]["regions"][PEER_REGION]


@pytest.fixture(scope="module")
def global_(document: dict[str, Any], account_id: str) -> dict[str, Items]:
    return document["accounts"][account_id]["regions"][GLOBAL_REGION_KEY]


def name_of(item: dict[str, Any]) -> str | None:
    tags = item.get("Tags") or item.get("tags") or item.get("TagSet") or []
    return next((tag.get("Value", tag.get("value")) for tag in tags if tag.get("Key", tag.get("key")) == "Name"),
                None)


def by_name(items: Items) -> dict[str, dict[str, Any]]:
    return {name: item for item in items if (name := name_of(item))}


def vpc_id(home: dict[str, Items], name: str) -> str:
    return by_name(home["ec2:Vpcs"])[name]["VpcId"]


def tables_of(home: dict[str, Items], vpc: str) -> Items:
    return [table for table in home["ec2:RouteTables"] if table["VpcId"] == vpc_id(home, vpc)]


def shape(document: dict[str, Any]) -> dict[tuple[str, str], Counter[str | None]]:
    """What stays the same between runs: per region and key, the Name tags of the items (ids differ)."""
    (section,) = document["accounts"].values()
    return {(region, key): Counter(name_of(item) for item in items)
            for region, data in section["regions"].items() for key, items in data.items()}


# -- completeness ---------------------------------------------------------------------------


def test_no_read_fails_because_every_key_moto_lacks_is_simulated(document: dict[str, Any]) -> None:
    errors = document["errors"]

    assert errors == []


def test_every_collector_key_is_read_in_every_region(document: dict[str, Any], account_id: str) -> None:
    regions = document["accounts"][account_id]["regions"]

    missing = [(region, key) for key, collector in REGISTRY.items()
               for region in ([GLOBAL_REGION_KEY] if collector.scope == GLOBAL else DEMO_REGIONS)
               if key not in regions[region]]

    assert missing == []


def test_the_account_has_the_same_shape_every_run(document: dict[str, Any]) -> None:
    again = demo_snapshot()

    assert shape(again) == shape(document)


# -- VPC peering and routes -------------------------------------------------------------------


def test_peerings_are_active_with_the_dns_options_that_were_set(home: dict[str, Items]) -> None:
    peerings = by_name(home["ec2:VpcPeeringConnections"])

    app_shared, app_data = peerings["app-to-shared-services"], peerings["app-to-data"]

    assert len(home["ec2:VpcPeeringConnections"]) >= 3
    assert {app_shared["Status"]["Code"], app_data["Status"]["Code"]} == {"active"}
    assert app_shared["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert app_shared["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert app_data["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert app_data["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False
    assert app_shared["RequesterVpcInfo"]["CidrBlockSet"] == [{"CidrBlock": "10.10.0.0/16"},
                                                              {"CidrBlock": "10.11.0.0/16"}]


def test_a_cross_region_peering_is_seen_from_both_regions(home: dict[str, Items], peer: dict[str, Items]) -> None:
    from_home = by_name(home["ec2:VpcPeeringConnections"])["shared-services-to-analytics-eu"]
    from_peer = by_name(peer["ec2:VpcPeeringConnections"])["shared-services-to-analytics-eu"]

    assert from_home["VpcPeeringConnectionId"] == from_peer["VpcPeeringConnectionId"]
    assert from_home["Status"]["Code"] == "active"
    assert from_home["AccepterVpcInfo"]["Region"] == PEER_REGION


def test_a_peering_request_to_another_account_is_pending(home: dict[str, Items]) -> None:
    pending = by_name(home["ec2:VpcPeeringConnections"])["shared-services-to-partner"]

    assert pending["Status"]["Code"] == "pending-acceptance"
    assert pending["AccepterVpcInfo"]["OwnerId"] == PARTNER_ACCOUNT_ID
    assert "ExpirationTime" in pending


def test_app_routes_to_shared_services_but_no_route_comes_back(home: dict[str, Items]) -> None:
    peering_id = by_name(home["ec2:VpcPeeringConnections"])["app-to-shared-services"]["VpcPeeringConnectionId"]

    app_routes = [route for table in tables_of(home, "app") for route in table["Routes"]
                  if route.get("VpcPeeringConnectionId") == peering_id]
    return_routes = [route for table in tables_of(home, "shared-services") for route in table["Routes"]
                     if route.get("VpcPeeringConnectionId") == peering_id]

    assert {route["DestinationCidrBlock"] for route in app_routes} == {"10.20.0.0/16"}
    assert return_routes == []


def test_subnets_use_explicit_tables_or_the_main_table(home: dict[str, Items]) -> None:
    tables = by_name(home["ec2:RouteTables"])
    subnets = by_name(home["ec2:Subnets"])

    explicit = {association["SubnetId"] for association in tables["app-private-a"]["Associations"]}
    main = [association.get("Main") for association in tables["app-main"]["Associations"]]

    assert explicit == {subnets["app-a"]["SubnetId"]}
    assert main == [True]
    assert {subnets["app-a"]["AvailabilityZone"], subnets["app-b"]["AvailabilityZone"]} == {"us-east-1a",
                                                                                            "us-east-1b"}


# -- endpoints and PrivateLink ----------------------------------------------------------------


def test_endpoint_service_accepts_anyone_behind_a_single_az_nlb(home: dict[str, Items]) -> None:
    (service,) = home["ec2:VpcEndpointServiceConfigurations"]
    (permissions,) = home["ec2:VpcEndpointServicePermissions"]
    (balancer,) = home["elbv2:LoadBalancers"]

    assert service["AcceptanceRequired"] is False
    assert permissions["AllowedPrincipals"] == [{"Principal": "*"}]
    assert service["NetworkLoadBalancerArns"] == [balancer["LoadBalancerArn"]]
    assert len(balancer["AvailabilityZones"]) == 1


def test_interface_endpoint_security_group_is_open_to_the_internet_on_443(home: dict[str, Items]) -> None:
    endpoint = by_name(home["ec2:VpcEndpoints"])["app-payments-api"]
    groups = {group["GroupId"]: group for group in home["ec2:SecurityGroups"]}

    (group,) = (groups[reference["GroupId"]] for reference in endpoint["Groups"])
    (rule,) = group["IpPermissions"]

    assert endpoint["VpcEndpointType"] == "Interface"
    assert (rule["FromPort"], rule["ToPort"]) == (443, 443)
    assert [address["CidrIp"] for address in rule["IpRanges"]] == ["0.0.0.0/0"]


def test_the_provider_sees_an_accepted_connection_from_another_account(
        home: dict[str, Items], account_id: str) -> None:
    (service,) = home["ec2:VpcEndpointServiceConfigurations"]

    foreign = [connection for connection in home["ec2:VpcEndpointConnections"]
               if connection["VpcEndpointOwner"] != account_id]

    assert [connection["VpcEndpointOwner"] for connection in foreign] == [PARTNER_ACCOUNT_ID]
    assert foreign[0]["ServiceId"] == service["ServiceId"]
    assert foreign[0]["VpcEndpointState"] == "available"


def test_s3_gateway_endpoint_has_no_policy_and_serves_only_one_app_table(home: dict[str, Items]) -> None:
    endpoint = by_name(home["ec2:VpcEndpoints"])["app-s3"]

    app_tables = {table["RouteTableId"] for table in tables_of(home, "app")}

    assert '"Action": "*"' in endpoint["PolicyDocument"]
    assert set(endpoint["RouteTableIds"]) < app_tables
    assert len(endpoint["RouteTableIds"]) == 1


# -- VPN, transit gateway, flow logs ----------------------------------------------------------


def test_vpn_has_one_tunnel_down_and_tunnels_left_at_defaults(home: dict[str, Items]) -> None:
    (connection,) = home["ec2:VpnConnections"]
    gateways = by_name(home["ec2:VpnGateways"])

    statuses = sorted(tunnel["Status"] for tunnel in connection["VgwTelemetry"])
    tunnels = connection["Options"]["TunnelOptions"]

    assert statuses == ["DOWN", "UP"]
    assert connection["VpnGatewayId"] == gateways["data-vgw"]["VpnGatewayId"]
    assert all({"Value": "ikev1"} in tunnel["IkeVersions"] for tunnel in tunnels)
    assert all("LogOptions" not in tunnel for tunnel in tunnels)
    assert {tunnel["OutsideIpAddress"] for tunnel in tunnels} == {
        tunnel["OutsideIpAddress"] for tunnel in connection["VgwTelemetry"]}


def test_one_virtual_private_gateway_is_attached_to_nothing(home: dict[str, Items]) -> None:
    gateways = by_name(home["ec2:VpnGateways"])

    attached = gateways["data-vgw"]["VpcAttachments"]

    assert [attachment["VpcId"] for attachment in attached] == [vpc_id(home, "data")]
    assert gateways["legacy-vgw"].get("VpcAttachments", []) == []


def test_transit_gateway_hub_has_three_spokes_and_a_blackhole(home: dict[str, Items]) -> None:
    (hub,) = home["ec2:TransitGateways"]
    (routes,) = home["ec2:TransitGatewayRoutes"]

    by_destination = {route["DestinationCidrBlock"]: route for route in routes["Routes"]}

    assert {hub["Options"][option] for option in ("DefaultRouteTableAssociation", "DefaultRouteTablePropagation",
                                                  "AutoAcceptSharedAttachments")} == {"enable"}
    assert len(home["ec2:TransitGatewayVpcAttachments"]) == 3
    assert by_destination["10.66.0.0/16"]["State"] == "blackhole"
    assert by_destination["10.100.0.0/16"]["Type"] == "static"
    assert by_destination["10.60.0.0/16"]["Type"] == "propagated"


def test_one_spoke_has_no_route_to_the_hub(home: dict[str, Items]) -> None:
    (hub,) = home["ec2:TransitGateways"]

    def routes_to_hub(vpc: str) -> list[str]:
        return [route["DestinationCidrBlock"] for table in tables_of(home, vpc) for route in table["Routes"]
                if route.get("TransitGatewayId") == hub["TransitGatewayId"]]

    assert routes_to_hub("sandbox") == []
    assert routes_to_hub("data") != []


def test_flow_logs_cover_some_vpcs_only(home: dict[str, Items]) -> None:
    logged = {flow_log["ResourceId"] for flow_log in home["ec2:FlowLogs"]}

    assert logged == {vpc_id(home, "app"), vpc_id(home, "data")}
    assert {flow_log["LogDestinationType"] for flow_log in home["ec2:FlowLogs"]} == {"cloud-watch-logs"}


# -- network interfaces -----------------------------------------------------------------------


def test_every_network_interface_has_an_address_of_its_subnet(home: dict[str, Items], peer: dict[str, Items]) -> None:
    subnets = {subnet["SubnetId"]: subnet for region in (home, peer) for subnet in region["ec2:Subnets"]}
    interfaces = [interface for region in (home, peer) for interface in region["ec2:NetworkInterfaces"]]

    misplaced = [interface["NetworkInterfaceId"] for interface in interfaces
                 if interface["VpcId"] != subnets[interface["SubnetId"]]["VpcId"]
                 or not all(ipaddress.ip_address(address["PrivateIpAddress"])
                            in ipaddress.ip_network(subnets[interface["SubnetId"]]["CidrBlock"])
                            for address in interface["PrivateIpAddresses"])]

    assert len(interfaces) >= 6
    assert misplaced == []


def test_instances_have_named_interfaces_in_their_security_groups(home: dict[str, Items],
                                                                  peer: dict[str, Items]) -> None:
    interfaces = by_name(home["ec2:NetworkInterfaces"]) | by_name(peer["ec2:NetworkInterfaces"])
    subnets = by_name(home["ec2:Subnets"])

    app, database, spare = (interfaces[name] for name in ("app-server-eni", "data-db-eni", "shared-services-spare-eni"))
    (database_rule,) = by_name(home["ec2:SecurityGroups"])["data-postgres"]["IpPermissions"]

    assert (app["SubnetId"], app["PrivateIpAddress"]) == (subnets["app-a"]["SubnetId"], "10.10.1.10")
    assert (app["Attachment"]["DeviceIndex"], app["Attachment"]["Status"]) == (0, "attached")
    assert app["Attachment"]["InstanceId"].startswith("i-")
    assert [group["GroupName"] for group in app["Groups"]] == ["app-web"]
    assert [group["GroupName"] for group in database["Groups"]] == ["data-postgres"]
    assert (database_rule["FromPort"], [r["CidrIp"] for r in database_rule["IpRanges"]]) == (5432, ["10.10.0.0/16"])
    assert (spare["Status"], "Attachment" in spare) == ("available", False)
    assert interfaces["analytics-eu-worker-eni"]["AvailabilityZone"] == "eu-west-1a"


def test_interface_endpoint_has_a_managed_interface_in_each_subnet_in_its_group(home: dict[str, Items]) -> None:
    endpoint = by_name(home["ec2:VpcEndpoints"])["app-payments-api"]
    interfaces = {interface["NetworkInterfaceId"]: interface for interface in home["ec2:NetworkInterfaces"]}

    managed = [interfaces[interface_id] for interface_id in endpoint["NetworkInterfaceIds"]]

    assert sorted(interface["SubnetId"] for interface in managed) == sorted(endpoint["SubnetIds"])
    assert {interface["InterfaceType"] for interface in managed} == {"vpc_endpoint"}
    assert {interface["Description"] for interface in managed} == {
        f"VPC Endpoint Interface {endpoint['VpcEndpointId']}"}
    assert all(interface["RequesterManaged"] for interface in managed)
    assert {interface["Attachment"]["InstanceOwnerId"] for interface in managed} == {"amazon-aws"}
    assert all([group["GroupId"] for group in interface["Groups"]] == [group["GroupId"] for group in endpoint["Groups"]]
               for interface in managed)


# -- simulated: Client VPN and Direct Connect -------------------------------------------------


def test_client_vpn_endpoint_in_app_with_the_default_group_and_no_logging(home: dict[str, Items]) -> None:
    (endpoint,) = home["ec2:ClientVpnEndpoints"]
    default_group = next(group["GroupId"] for group in home["ec2:SecurityGroups"]
                         if group["VpcId"] == vpc_id(home, "app") and group["GroupName"] == "default")

    assert endpoint["VpcId"] == vpc_id(home, "app")
    assert endpoint["SecurityGroupIds"] == [default_group]
    assert endpoint["ConnectionLogOptions"] == {"Enabled": False}
    assert endpoint["SplitTunnel"] is False


def test_client_vpn_authorizes_everyone_to_everywhere_through_one_subnet(home: dict[str, Items]) -> None:
    (rules,) = home["ec2:ClientVpnAuthorizationRules"]
    (routes,) = home["ec2:ClientVpnRoutes"]
    (networks,) = home["ec2:ClientVpnTargetNetworks"]

    (rule,) = rules["AuthorizationRules"]
    (network,) = networks["ClientVpnTargetNetworks"]

    assert (rule["DestinationCidr"], rule["AccessAll"]) == ("0.0.0.0/0", True)
    assert network["TargetNetworkId"] == by_name(home["ec2:Subnets"])["app-a"]["SubnetId"]
    assert "0.0.0.0/0" in {route["DestinationCidr"] for route in routes["Routes"]}


def test_private_virtual_interface_has_its_bgp_peer_down(home: dict[str, Items]) -> None:
    (connection,) = home["directconnect:connections"]
    (interface,) = home["directconnect:virtualInterfaces"]

    assert interface["connectionId"] == connection["connectionId"]
    assert interface["virtualInterfaceType"] == "private"
    assert [peer["bgpStatus"] for peer in interface["bgpPeers"]] == ["down"]


def test_direct_connect_gateway_is_global_and_allows_a_default_route(
        global_: dict[str, Items], home: dict[str, Items]) -> None:
    (gateway,) = global_["directconnect:directConnectGateways"]
    (associations,) = global_["directconnect:directConnectGatewayAssociations"]
    (attachments,) = global_["directconnect:directConnectGatewayAttachments"]

    (association,) = associations["directConnectGatewayAssociations"]
    (attachment,) = attachments["directConnectGatewayAttachments"]

    assert association["directConnectGatewayId"] == gateway["directConnectGatewayId"]
    assert association["associatedGateway"]["id"] == by_name(home["ec2:VpnGateways"])["data-vgw"]["VpnGatewayId"]
    assert {"cidr": "0.0.0.0/0"} in association["allowedPrefixesToDirectConnectGateway"]
    assert attachment["virtualInterfaceId"] == home["directconnect:virtualInterfaces"][0]["virtualInterfaceId"]


def test_simulated_keys_are_empty_in_the_second_region(peer: dict[str, Items]) -> None:
    simulated = ("ec2:ClientVpnEndpoints", "ec2:VpcEndpointConnections", "directconnect:virtualInterfaces")

    assert {key: peer[key] for key in simulated} == {key: [] for key in simulated}


# -- safety: the guard, the environment, the command ------------------------------------------


def test_simulated_answers_pass_the_read_only_guard_first() -> None:
    with simulated_account() as session:
        clients = Clients(session)
        ec2 = clients.get("ec2", HOME_REGION)

        endpoints = ec2.describe_client_vpn_endpoints()["ClientVpnEndpoints"]
        with pytest.raises(ReadOnlyViolation):
            ec2.delete_client_vpn_endpoint(ClientVpnEndpointId=endpoints[0]["ClientVpnEndpointId"])

        calls = clients.calls

    assert len(endpoints) == 1
    assert calls == 1  # the guard saw the simulated read: it ran before the simulated answer


def test_the_environment_is_restored_even_when_the_body_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.invalid")
    monkeypatch.delenv("MOTO_EC2_LOAD_DEFAULT_AMIS", raising=False)
    before = dict(os.environ)
    inside: dict[str, str] = {}

    with pytest.raises(RuntimeError, match="body failed"), simulated_account():
        inside.update(os.environ)
        raise RuntimeError("body failed")

    assert dict(os.environ) == before
    assert "AWS_PROFILE" not in inside
    assert "AWS_ENDPOINT_URL" not in inside
    assert inside["AWS_CONFIG_FILE"] == os.devnull


def test_auditor_demo_prints_the_findings_and_the_summaries(tmp_path) -> None:
    runner = CliRunner()
    saved = tmp_path / "demo.json"

    result = runner.invoke(cli, ["demo", "--resources", "--save-snapshot", str(saved)])

    assert result.exit_code == 0, result.output
    assert f"demo: snapshot written to {saved}" in result.stderr
    assert os.stat(saved).st_mode & 0o777 == 0o600
    _the_saved_demo_answers_path_questions(runner, str(saved))
    assert "HIGH     PCX001 peering-missing-route (1)" in result.stdout
    assert "CRITICAL VPCES001 endpoint-service-open-principals (1)" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    assert "ec2:ClientVpnEndpoints" in result.stderr
    # its two regions are read in two worker processes where fork is offered (Linux), in this one elsewhere
    assert re.search(r"^collected 1 account\(s\)( in 2 processes)?, 2 region\(s\)", result.stderr, re.MULTILINE)
    assert "0 error(s)" in result.stderr
    assert "finding(s): 1 critical" in result.stderr


def _the_saved_demo_answers_path_questions(runner: CliRunner, saved: str) -> None:
    """The app server reaches the database on 5432 over the app-to-data peering, not on 22 (its group admits
    only 5432); the app VPC reaches shared services one way only (the demo's PCX001)."""
    import json

    document = json.loads(open(saved, encoding="utf-8").read())  # noqa: SIM115 - read once, closed at exit
    (account,) = document["accounts"]
    interfaces = document["accounts"][account]["regions"][HOME_REGION]["ec2:NetworkInterfaces"]
    named = {t["Value"]: e for e in interfaces for t in e.get("TagSet") or [] if t["Key"] == "Name"}
    app, db = named["app-server-eni"], named["data-db-eni"]

    allowed = runner.invoke(cli, ["path", "--snapshot", saved, "--from", app["NetworkInterfaceId"], "--to",
                                  db["PrivateIpAddress"], "--protocol", "tcp", "--port", "5432", "--format", "json"])
    refused = runner.invoke(cli, ["path", "--snapshot", saved, "--from", app["NetworkInterfaceId"], "--to",
                                  db["PrivateIpAddress"], "--protocol", "tcp", "--port", "22", "--format", "json"])
    matrix = runner.invoke(cli, ["reach", "--snapshot", saved, "--format", "json"])

    assert json.loads(allowed.stdout)["reachable"] is True
    assert [b["code"] for b in json.loads(refused.stdout)["forward"]["blockers"]] == ["ENI_SG_RULES_MISMATCH"]
    assert json.loads(matrix.stdout)["one_way"], "the demo's one-way peering shows in the matrix"


def test_auditor_demo_json_findings_validate_against_the_schema() -> None:
    import json
    from pathlib import Path

    import jsonschema

    import auditor

    schema = json.loads((Path(auditor.__file__).parent / "schemas" / "findings.schema.json").read_text())

    result = CliRunner().invoke(cli, ["demo", "--format", "json"])

    document = json.loads(result.stdout)
    jsonschema.validate(document, schema)
    rule_ids = {f["rule_id"] for f in document["findings"]}
    assert {"PCX001", "PCX003", "PCX008", "VPCE001", "VPCE005", "VPCES001", "VPCES003"} <= rule_ids
