"""Virtual private gateway, customer gateway and site-to-site VPN rules. Pure: reads the indexed snapshot only."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from auditor.engine import Failure, RuleContext, rule
from auditor.index import Item, Scope
from auditor.items import listed, lowered

from .routes import table_label

VPN_GATEWAYS = "ec2:VpnGateways"
CUSTOMER_GATEWAYS = "ec2:CustomerGateways"
VPN_CONNECTIONS = "ec2:VpnConnections"
VPN_GONE = frozenset({"deleting", "deleted"})  # VpnState of gateways and connections
VGW_ATTACHED = frozenset({"attaching", "attached"})


# Shared helpers: who uses which gateway, the route tables that carry a VPC's traffic, tunnel labels.

def connections_by(scope: Scope, field: str) -> dict[str, list[Item]]:
    """VPN connections that are not deleted, by the gateway they use (VpnGatewayId, CustomerGatewayId...)."""
    return scope.memo(("vpn-connections-by", field), _connections_by, scope, field)  # type: ignore[no-any-return]


def _connections_by(scope: Scope, field: str) -> dict[str, list[Item]]:
    grouped: dict[str, list[Item]] = defaultdict(list)
    for connection in scope.items(VPN_CONNECTIONS):
        if lowered(connection.get("State")) not in VPN_GONE and connection.get(field):
            grouped[str(connection[field])].append(connection)
    return grouped


def table_labels(scope: Scope, tables: Iterable[tuple[Item, list[Item]]]) -> str:
    return "; ".join(table_label(table, scope.subnets_by_table) for table, _ in tables)


def tunnels(connection: Item) -> list[Item]:
    return list((connection.get("Options") or {}).get("TunnelOptions") or [])


def connection_label(scope: Scope, connection: Item) -> str:
    """`VPN connection vpn-... (vgw-... to customer gateway cgw-... at 203.0.113.10)`."""
    gateway = connection.get("VpnGatewayId") or connection.get("TransitGatewayId") or "no gateway"
    customer_id = connection.get("CustomerGatewayId", "?")
    address = scope.by_id(CUSTOMER_GATEWAYS, "CustomerGatewayId").get(customer_id, {}).get("IpAddress")
    at = f" at {address}" if address else ""
    return f"VPN connection {connection['VpnConnectionId']} ({gateway} to customer gateway {customer_id}{at})"


def connection_related(connection: Item) -> tuple[str, ...]:
    return tuple(str(connection[f]) for f in ("VpnGatewayId", "TransitGatewayId", "CustomerGatewayId")
                 if connection.get(f))


def tunnel_name(tunnel: Item) -> str:
    inside = f", inside {tunnel['TunnelInsideCidr']}" if tunnel.get("TunnelInsideCidr") else ""
    return f"tunnel {tunnel.get('OutsideIpAddress', '?')}{inside}"


def judged_connections(scope: Scope) -> Iterator[Item]:
    """Connections whose tunnel options are in the snapshot (moto gives none; AWS always does)."""
    for connection in scope.items(VPN_CONNECTIONS):
        if lowered(connection.get("State")) not in VPN_GONE and tunnels(connection):
            yield connection


# Tunnel options: what AWS allows when a list is empty (VpnTunnelOptionsSpecification), and what is weak.

@dataclass(frozen=True)
class TunnelSetting:
    field: str
    label: str
    default: tuple[Any, ...]
    weak: Callable[[Any], bool]


DH_GROUPS = tuple(range(14, 25))
AES = ("AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16")
SHA = ("SHA1", "SHA2-256", "SHA2-384", "SHA2-512")
WEAK_DH_GROUPS = frozenset({1, 2, 5, 22})  # MODP groups under 2,048 bits (22: 1,024 bits with a 160-bit subgroup)


def _weak_encryption(value: Any) -> bool:
    return re.fullmatch(r"AES(128|192|256)(-GCM-\d+)?", str(value).upper()) is None


def _weak_integrity(value: Any) -> bool:
    return re.fullmatch(r"SHA2-(256|384|512)", str(value).upper()) is None


def _weak_group(value: Any) -> bool:
    try:
        return int(value) in WEAK_DH_GROUPS
    except (TypeError, ValueError):
        return True


TUNNEL_SETTINGS = (
    TunnelSetting("IkeVersions", "IKE versions", ("ikev1", "ikev2"), lambda v: str(v).lower() != "ikev2"),
    TunnelSetting("Phase1EncryptionAlgorithms", "phase 1 encryption", AES, _weak_encryption),
    TunnelSetting("Phase2EncryptionAlgorithms", "phase 2 encryption", AES, _weak_encryption),
    TunnelSetting("Phase1IntegrityAlgorithms", "phase 1 integrity", SHA, _weak_integrity),
    TunnelSetting("Phase2IntegrityAlgorithms", "phase 2 integrity", SHA, _weak_integrity),
    TunnelSetting("Phase1DHGroupNumbers", "phase 1 DH groups", (2, *DH_GROUPS), _weak_group),
    TunnelSetting("Phase2DHGroupNumbers", "phase 2 DH groups", (2, 5, *DH_GROUPS), _weak_group),
)


def weak_settings(tunnel: Item) -> dict[str, dict[str, Any]]:
    """Per weak setting of a tunnel: the weak values it allows, and whether they come from AWS's default list."""
    found: dict[str, dict[str, Any]] = {}
    for setting in TUNNEL_SETTINGS:
        values = tuple(entry.get("Value") for entry in tunnel.get(setting.field) or [])
        weak = _weak_values(setting, values)
        if weak:
            found[setting.field] = {"label": setting.label, "weak": list(weak), "default": not values}
    return found


@functools.cache
def _weak_values(setting: TunnelSetting, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Judged once per distinct list for the whole audit: most tunnels of an account share a handful."""
    return tuple(v for v in values or setting.default if setting.weak(v))


def _describe_weak(found: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{s['label']} {'/'.join(str(v) for v in s['weak'])}"
                     + (" (none set: AWS default list)" if s["default"] else "") for s in found.values())


# Rules

@rule(id="VPN001", name="vgw-detached", severity="low", resource_type="AWS::EC2::VPNGateway",
      needs=(VPN_GATEWAYS,))
def vgw_detached(ctx: RuleContext) -> Iterator[Failure]:
    """A virtual private gateway is attached to no VPC.

    Gateways that are deleted or being deleted are not judged. The message names the VPN
    connections still terminating on the gateway, which carry nothing while it is detached.

    ## Why it matters
    A detached virtual private gateway routes nothing: its VPN connections and Direct Connect
    virtual interfaces end nowhere, so the customer network it was built for cannot reach any
    VPC. Either a migration left it behind (clutter that confuses whoever reads the network),
    or a VPC lost its path to the customer network.

    ## Remediation
    Attach it to the VPC it serves, or delete it (after deleting its VPN connections):
    `aws ec2 attach-vpn-gateway --vpn-gateway-id vgw-... --vpc-id vpc-...` or
    `aws ec2 delete-vpn-gateway --vpn-gateway-id vgw-...`
    """
    for scope in ctx.index.regional_scopes():
        by_gateway = connections_by(scope, "VpnGatewayId")
        for gateway in scope.items(VPN_GATEWAYS):
            attachments = gateway.get("VpcAttachments") or []
            if lowered(gateway.get("State")) in VPN_GONE or any(
                    lowered(a.get("State")) in VGW_ATTACHED for a in attachments):
                continue
            gateway_id = gateway["VpnGatewayId"]
            former = sorted({str(a["VpcId"]) for a in attachments if a.get("VpcId")})
            connections = [c["VpnConnectionId"] for c in by_gateway.get(gateway_id, [])]
            was = f" (formerly {listed(former)})" if former else ""
            still = f"; its VPN connections {listed(connections)} carry nothing" if connections else ""
            asn = f" (ASN {gateway['AmazonSideAsn']})" if gateway.get("AmazonSideAsn") else ""
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=gateway_id,
                related=(*former, *connections),
                message=f"virtual private gateway {gateway_id}{asn} is attached to no VPC{was}{still}",
                evidence={"VpnGateway": gateway, "VpnConnectionIds": connections})


@rule(id="VPN002", name="vpn-tunnel-down", severity="high", resource_type="AWS::EC2::VPNConnection",
      needs=(VPN_CONNECTIONS,))
def vpn_tunnel_down(ctx: RuleContext) -> Iterator[Failure]:
    """A tunnel of an available VPN connection is down.

    From the connection's tunnel telemetry (VgwTelemetry): high when every tunnel is down, medium
    when only some are. Connections that are pending, deleting or deleted are not judged.

    ## Why it matters
    Each site-to-site VPN connection has two tunnels so that one can fail or be replaced during
    AWS maintenance. With one down, the connection has no redundancy left and the next
    maintenance event cuts the customer network off; with both down, it is cut off now.

    ## Remediation
    Check the customer gateway device's IKE and IPsec configuration and its reachability for the
    tunnel's outside address (the status message says which phase fails), then read the tunnel's
    log; to replace a tunnel endpoint:
    `aws ec2 describe-vpn-connections --vpn-connection-ids vpn-...` and
    `aws ec2 replace-vpn-tunnel --vpn-connection-id vpn-... --vpn-tunnel-outside-ip-address 203.0.113.10`
    """
    for scope in ctx.index.regional_scopes():
        for connection in scope.items(VPN_CONNECTIONS):
            telemetry = connection.get("VgwTelemetry") or []
            down = [t for t in telemetry if str(t.get("Status", "")).upper() != "UP"]
            if lowered(connection.get("State")) != "available" or not down:
                continue
            every = len(down) == len(telemetry)
            states = "; ".join(
                f"tunnel {t.get('OutsideIpAddress', '?')} is {t.get('Status', 'unknown')}"
                + (f" since {t['LastStatusChange']}" if t.get("LastStatusChange") else "")
                + f": {t.get('StatusMessage') or 'no status message'}" for t in down)
            impact = ("every tunnel is down, so the customer network is cut off" if every
                      else f"{len(down)} of its {len(telemetry)} tunnels {'is' if len(down) == 1 else 'are'} down, "
                      "so no redundancy is left")
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=connection["VpnConnectionId"],
                severity="high" if every else "medium",
                related=connection_related(connection),
                message=f"{connection_label(scope, connection)}: {impact}: {states}",
                evidence={"VpnConnectionId": connection["VpnConnectionId"], "State": connection.get("State"),
                          "VgwTelemetry": telemetry})


@rule(id="VPN003", name="vpn-routes-missing", severity="high", resource_type="AWS::EC2::VPC",
      needs=(VPN_GATEWAYS, VPN_CONNECTIONS, "ec2:RouteTables", "ec2:Subnets", "ec2:Vpcs"))
def vpn_routes_missing(ctx: RuleContext) -> Iterator[Failure]:
    """Route tables of a VPC with a working VPN send nothing to its virtual private gateway.

    Judged for each VPC with an attached virtual private gateway that has an available VPN
    connection. A route table counts as routing to the gateway when it propagates the gateway's
    routes (route propagation on) and there are routes to propagate (a BGP connection, or a
    static one with routes of its own: until 2026-11-27 propagation from static connections with
    none counted), or when it holds a route to it that is not a blackhole, static or propagated.
    The tables judged are those the VPC's subnets use (the main table only when a subnet uses it).
    VPCs shared by RAM are judged in their owner's account.

    ## Why it matters
    A VPN connection carries traffic only where a route table sends it to the gateway. The
    subnets of the tables named cannot reach the customer network, and replies to traffic from
    the customer network cannot return to them: the connection is up and paid for but unused,
    or an application fails in only some subnets.

    ## Remediation
    Turn on route propagation from the gateway in each table named (or add static routes to the
    customer network):
    `aws ec2 enable-vgw-route-propagation --route-table-id rtb-... --gateway-id vgw-...` or
    `aws ec2 create-route --route-table-id rtb-... --destination-cidr-block 192.168.0.0/16 --gateway-id vgw-...`
    """
    for scope in ctx.index.regional_scopes():
        by_gateway = connections_by(scope, "VpnGatewayId")
        for gateway in scope.items(VPN_GATEWAYS):
            gateway_id = gateway["VpnGatewayId"]
            live = [c for c in by_gateway.get(gateway_id, []) if lowered(c.get("State")) == "available"]
            if lowered(gateway.get("State")) in VPN_GONE or not live:
                continue
            # Propagation brings BGP's routes, or a static connection's own (create-vpn-connection-route): from
            # static connections with none, it brings nothing.
            propagated = any(_may_propagate(connection) for connection in live)
            for attachment in gateway.get("VpcAttachments") or []:
                vpc_id = str(attachment.get("VpcId", ""))
                if lowered(attachment.get("State")) != "attached":
                    continue
                routed = scope.tables_routing_to(gateway_id, vpc_id)
                lacking = [(table, subnets) for table, subnets in scope.serving_tables(vpc_id)
                           if table["RouteTableId"] not in routed and not (propagated and any(
                               p.get("GatewayId") == gateway_id for p in table.get("PropagatingVgws") or []))]
                if not lacking:
                    continue
                connections = [c["VpnConnectionId"] for c in live]
                static = "" if propagated else (" (the connections are static and have no routes, so propagation "
                                                "brings none)")
                yield Failure(
                    account_id=scope.account_id, region=scope.region, resource_id=vpc_id,
                    discriminator=gateway_id,
                    related=(gateway_id, *connections, *(t["RouteTableId"] for t, _ in lacking)),
                    message=(f"VPC {vpc_id} has virtual private gateway {gateway_id} attached with available VPN "
                             f"connection(s) {listed(connections)}, but these route tables neither propagate nor "
                             f"route anything to it{static}: {table_labels(scope, lacking)}; their subnets cannot "
                             "reach the customer network"),
                    evidence={"VpnGatewayId": gateway_id, "VpnConnectionIds": connections,
                              "RouteTablesWithoutRoute": [
                                  {"RouteTableId": t["RouteTableId"], "Subnets": [s["SubnetId"] for s in subnets],
                                   "PropagatingVgws": t.get("PropagatingVgws") or []} for t, subnets in lacking]})


def _may_propagate(connection: Item) -> bool:
    """Whether route propagation can bring a connection's routes: BGP's, or a static connection's own routes."""
    if not (connection.get("Options") or {}).get("StaticRoutesOnly"):
        return True
    return any(lowered(route.get("State")) in ("available", "pending") for route in connection.get("Routes") or [])


@rule(id="VPN004", name="vpn-tunnel-logging-disabled", severity="low", resource_type="AWS::EC2::VPNConnection",
      needs=(VPN_CONNECTIONS,))
def vpn_tunnel_logging_disabled(ctx: RuleContext) -> Iterator[Failure]:
    """A VPN tunnel does not deliver its logs to CloudWatch Logs.

    One finding per connection, naming each tunnel without log delivery. Connections that are
    deleting or deleted, or whose tunnel options are not in the snapshot, are not judged.

    ## Why it matters
    Tunnel logs record IKE and IPsec negotiation, dead peer detection and the reasons a tunnel
    goes down. Without them, an outage or a failed rekey can only be diagnosed from the customer
    side, and a negotiation with unexpected proposals leaves no trace.

    ## Remediation
    Turn on tunnel logging for each tunnel named, to a CloudWatch Logs group:
    `aws ec2 modify-vpn-tunnel-options --vpn-connection-id vpn-... --vpn-tunnel-outside-ip-address 203.0.113.10
    --tunnel-options '{"LogOptions":{"CloudWatchLogOptions":{"LogEnabled":true,
    "LogGroupArn":"arn:aws:logs:us-east-1:111122223333:log-group:vpn-tunnels","LogOutputFormat":"json"}}}'`
    """
    for scope in ctx.index.regional_scopes():
        for connection in judged_connections(scope):
            silent = [t for t in tunnels(connection)
                      if ((t.get("LogOptions") or {}).get("CloudWatchLogOptions") or {}).get("LogEnabled") is not True]
            if not silent:
                continue
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=connection["VpnConnectionId"],
                related=connection_related(connection),
                message=(f"{connection_label(scope, connection)} does not log "
                         f"{len(silent)} of its {len(tunnels(connection))} tunnels: "
                         f"{'; '.join(tunnel_name(t) for t in silent)}"),
                evidence={"VpnConnectionId": connection["VpnConnectionId"],
                          "Tunnels": [{"OutsideIpAddress": t.get("OutsideIpAddress"),
                                       "LogOptions": t.get("LogOptions")} for t in silent]})


@rule(id="VPN005", name="vpn-weak-tunnel-options", severity="medium", resource_type="AWS::EC2::VPNConnection",
      needs=(VPN_CONNECTIONS,))
def vpn_weak_tunnel_options(ctx: RuleContext) -> Iterator[Failure]:
    """A VPN tunnel allows IKEv1, or ciphers, integrity algorithms or DH groups below the baseline.

    The baseline is IKEv2, AES-128 or stronger, SHA-256 or stronger, and Diffie-Hellman group 14
    or stronger (groups 1, 2, 5 and 22 are weak). A list left empty is AWS's default list, which
    allows ikev1, SHA1 and groups 2 and 22 (and 5 in phase 2): a connection created with default
    options is reported. Connections that are deleting or deleted, or whose tunnel options are
    not in the snapshot, are not judged.

    ## Why it matters
    The customer gateway and AWS agree on the strongest proposal both offer, but an attacker in
    the path, or a misconfigured or downgraded device, can settle on the weakest one allowed:
    IKEv1, SHA1 or a 1,024-bit Diffie-Hellman group protect the keys of everything the tunnel
    carries less than current guidance (NIST SP 800-77, RFC 8247) requires.

    ## Remediation
    Allow only strong values, tunnel by tunnel (the tunnel restarts):
    `aws ec2 modify-vpn-tunnel-options --vpn-connection-id vpn-... --vpn-tunnel-outside-ip-address 203.0.113.10
    --tunnel-options '{"IKEVersions":[{"Value":"ikev2"}],"Phase1EncryptionAlgorithms":[{"Value":"AES256-GCM-16"}],
    "Phase2EncryptionAlgorithms":[{"Value":"AES256-GCM-16"}],"Phase1IntegrityAlgorithms":[{"Value":"SHA2-256"}],
    "Phase2IntegrityAlgorithms":[{"Value":"SHA2-256"}],"Phase1DHGroupNumbers":[{"Value":20}],
    "Phase2DHGroupNumbers":[{"Value":20}]}'`
    """
    for scope in ctx.index.regional_scopes():
        for connection in judged_connections(scope):
            by_description: dict[str, list[str]] = defaultdict(list)  # tunnels with the same weaknesses together
            evidence = []
            for tunnel in tunnels(connection):
                found = weak_settings(tunnel)
                if found:
                    by_description[_describe_weak(found)].append(str(tunnel.get("OutsideIpAddress", "?")))
                    evidence.append({"OutsideIpAddress": tunnel.get("OutsideIpAddress"), "Weak": found})
            if not by_description:
                continue
            parts = [f"tunnel{'s' if len(ips) > 1 else ''} {' and '.join(ips)} allow{'' if len(ips) > 1 else 's'} "
                     f"{description}" for description, ips in by_description.items()]
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=connection["VpnConnectionId"],
                related=connection_related(connection),
                message=f"{connection_label(scope, connection)} allows weak tunnel options: {'; '.join(parts)}",
                evidence={"VpnConnectionId": connection["VpnConnectionId"], "WeakTunnelOptions": evidence})


@rule(id="VPN006", name="customer-gateway-unused", severity="info", resource_type="AWS::EC2::CustomerGateway",
      needs=(CUSTOMER_GATEWAYS, VPN_CONNECTIONS))
def customer_gateway_unused(ctx: RuleContext) -> Iterator[Failure]:
    """A customer gateway has no VPN connection.

    Only available customer gateways are judged; a connection in any state but deleted counts
    as using it.

    ## Why it matters
    A customer gateway records a device's public address and BGP ASN. Left over after its
    connections were deleted, it suggests a site that is still connected, and a new connection
    made to it later trusts an address nobody has checked in a while.

    ## Remediation
    Delete it if no connection is planned:
    `aws ec2 delete-customer-gateway --customer-gateway-id cgw-...`
    """
    for scope in ctx.index.regional_scopes():
        users = {str(c.get("CustomerGatewayId")) for c in scope.items(VPN_CONNECTIONS)
                 if lowered(c.get("State")) != "deleted"}
        for gateway in scope.items(CUSTOMER_GATEWAYS):
            gateway_id = gateway["CustomerGatewayId"]
            if lowered(gateway.get("State")) != "available" or gateway_id in users:
                continue
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=gateway_id,
                message=(f"customer gateway {gateway_id} ({gateway.get('IpAddress', 'no address')}, BGP ASN "
                         f"{gateway.get('BgpAsn', '?')}) has no VPN connection"),
                evidence={"CustomerGateway": gateway})
