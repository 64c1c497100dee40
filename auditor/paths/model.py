"""The values of path analysis: endpoints, hops, blockers and a direction's result. Frozen where shared."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.index import Network


@dataclass(frozen=True)
class Endpoint:
    """One end of a path as the snapshot places it.

    `kind` is what the user named (subnet, vpc, eni, ip, cidr); `vpc_id` is None for a customer network,
    reached through `entries` (the VPN connections, gateways or attachments that lead to it).
    """

    text: str
    kind: str
    network: Network
    account_id: str | None = None
    region: str | None = None
    vpc_id: str | None = None
    subnet_id: str | None = None
    interface_id: str | None = None
    groups: tuple[str, ...] = ()
    entries: tuple[tuple[str, str], ...] = ()  # customer network: (gateway or attachment kind, id)

    @property
    def customer(self) -> bool:
        return self.vpc_id is None

    def resolved(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": "customer-network" if self.customer else self.kind,
                                 "network": str(self.network)}
        for name, value in (("account_id", self.account_id), ("region", self.region), ("vpc_id", self.vpc_id),
                            ("subnet_id", self.subnet_id), ("network_interface_id", self.interface_id)):
            if value:
                found[name] = value
        if self.groups:
            found["security_groups"] = list(self.groups)
        if self.entries:
            found["reached_through"] = [{"type": kind, "id": ident} for kind, ident in self.entries]
        return found


@dataclass(frozen=True)
class Hop:
    resource_id: str
    resource_type: str
    account_id: str
    region: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"resource_id": self.resource_id, "resource_type": self.resource_type, "account_id": self.account_id,
                "region": self.region, "detail": self.detail}


@dataclass(frozen=True)
class Blocker:
    """Why the packet stops (or would stop) here, named like AWS Reachability Analyzer's explanation codes."""

    code: str
    resource_id: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "resource_id": self.resource_id, "message": self.message, "fix": self.fix}


@dataclass
class Direction:
    """One direction of a path: the hops walked and every blocker met on the way."""

    hops: list[Hop] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    delivered: bool = False

    @property
    def reachable(self) -> bool:
        return self.delivered and not self.blockers

    def as_dict(self) -> dict[str, Any]:
        return {"reachable": self.reachable, "hops": [h.as_dict() for h in self.hops],
                "blockers": [b.as_dict() for b in self.blockers]}


@dataclass
class PathResult:
    source: Endpoint
    destination: Endpoint
    protocol: str
    port: int | None
    forward: Direction
    back: Direction

    @property
    def reachable(self) -> bool:
        return self.forward.reachable and self.back.reachable

    def as_dict(self) -> dict[str, Any]:
        return {"source": {"input": self.source.text, "resolved": self.source.resolved()},
                "destination": {"input": self.destination.text, "resolved": self.destination.resolved()},
                "protocol": self.protocol, "port": self.port, "reachable": self.reachable,
                "forward": self.forward.as_dict(), "return": self.back.as_dict()}
