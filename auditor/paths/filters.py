"""Network ACLs (stateless, first matching rule wins) and security groups (stateful, any rule admits). Pure.

A query names a protocol, a port range and an address network. A rule applies to the query when it
holds all of it: every port of the range and every address of the network. So a query about a whole
subnet passes an ACL only if the first rule that holds the entire subnet allows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from auditor.index import Item, Network, network, within
from auditor.items import lowered

PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58", "any": "-1", "all": "-1"}
ALL_PORTS = (0, 65535)
# AWS's guidance for network ACLs: return traffic goes to an ephemeral port the client picked, which
# ranges over 1024-65535 across the clients AWS lists (Linux, Windows, NAT gateways, load balancers).
EPHEMERAL_PORTS = (1024, 65535)


@dataclass(frozen=True)
class Traffic:
    """What the packet is: protocol number as a string ("-1" any) and the destination ports it may use."""

    protocol: str
    ports: tuple[int, int]

    @classmethod
    def of(cls, protocol: str, port: int | None) -> Traffic:
        number = PROTOCOL_NUMBERS.get(protocol.lower(), protocol)
        return cls(number, (port, port) if port is not None else ALL_PORTS)

    def reply(self) -> Traffic:
        """The return packet: to the client's ephemeral port for TCP and UDP, the same otherwise."""
        return Traffic(self.protocol, EPHEMERAL_PORTS) if self.protocol in ("6", "17") else self

    def describe(self) -> str:
        name = {v: k for k, v in PROTOCOL_NUMBERS.items() if k not in ("all",)}.get(self.protocol, self.protocol)
        if self.protocol not in ("6", "17"):
            return name
        low, high = self.ports
        return f"{name}/{low}" if low == high else f"{name}/{low}-{high}"


def _protocol_number(value: object) -> str:
    text = lowered(value) or "-1"
    return PROTOCOL_NUMBERS.get(text, text)


def _ports_hold(rule_low: object, rule_high: object, traffic: Traffic) -> bool:
    if traffic.protocol not in ("6", "17"):
        return True
    low = rule_low if isinstance(rule_low, int) and rule_low >= 0 else 0
    high = rule_high if isinstance(rule_high, int) and rule_high >= 0 else 65535
    return low <= traffic.ports[0] and traffic.ports[1] <= high


def _protocol_holds(rule_protocol: object, traffic: Traffic) -> bool:
    number = _protocol_number(rule_protocol)
    return number == "-1" or number == traffic.protocol


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str  # which rule decided, for the hop's detail


def acl_verdict(acl: Item, *, egress: bool, peer: Network, traffic: Traffic) -> Verdict:
    """The first rule, by number, that holds the traffic and the peer's addresses decides."""
    entries = sorted((e for e in acl.get("Entries") or [] if bool(e.get("Egress")) == egress),
                     key=lambda e: e.get("RuleNumber", 32767))
    for entry in entries:
        cidr = network(entry.get("CidrBlock") or entry.get("Ipv6CidrBlock"))
        if cidr is None or not within(peer, cidr) or not _protocol_holds(entry.get("Protocol"), traffic):
            continue
        port_range = entry.get("PortRange") or {}
        if not _ports_hold(port_range.get("From"), port_range.get("To"), traffic):
            continue
        number = entry.get("RuleNumber")
        label = "*" if number == 32767 else str(number)
        return Verdict(lowered(entry.get("RuleAction")) == "allow",
                       f"rule {label} {lowered(entry.get('RuleAction'))} {cidr}")
    return Verdict(False, "no rule matches (implicit deny)")


def group_verdict(groups: list[Item], *, egress: bool, peer: Network, peer_groups: frozenset[str],
                  traffic: Traffic, prefix_list: Callable[[str], list[Network]]) -> Verdict:
    """Allowed when any rule of any group holds the traffic and admits the peer's addresses or its groups."""
    for group in groups:
        for permission in group.get("IpPermissionsEgress" if egress else "IpPermissions") or []:
            if not _protocol_holds(permission.get("IpProtocol"), traffic) or \
                    not _ports_hold(permission.get("FromPort"), permission.get("ToPort"), traffic):
                continue
            admitted = _admits(permission, peer, peer_groups, prefix_list)
            if admitted:
                return Verdict(True, f"{group.get('GroupId')} {'egress' if egress else 'ingress'} {admitted}")
    return Verdict(False, "no rule of " + ", ".join(str(g.get("GroupId")) for g in groups) + " admits it")


def _admits(permission: Item, peer: Network, peer_groups: frozenset[str],
            prefix_list: Callable[[str], list[Network]]) -> str:
    for ranges, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
        for entry in permission.get(ranges) or []:
            cidr = network(entry.get(field))
            if cidr is not None and within(peer, cidr):
                return str(cidr)
    for entry in permission.get("UserIdGroupPairs") or []:
        if entry.get("GroupId") in peer_groups:
            return f"group {entry['GroupId']}"
    for entry in permission.get("PrefixListIds") or []:
        if any(within(peer, net) for net in prefix_list(str(entry.get("PrefixListId")))):
            return f"prefix list {entry['PrefixListId']}"
    return ""
