"""The rule engine: registry, findings, fingerprints, suppressions. Pure: no AWS calls, no printing, no clock."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from auditor.errors import UserError
from auditor.long_lived import made_to_last
from auditor.sharing import owned_elsewhere

if TYPE_CHECKING:
    from auditor.index import Index

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# How each resource type's ARN is spelled (service, resource path); region "" for global resources.
ARN_FORMATS = {
    "AWS::EC2::VPC": ("ec2", "vpc/{id}"),
    "AWS::EC2::Subnet": ("ec2", "subnet/{id}"),
    "AWS::EC2::RouteTable": ("ec2", "route-table/{id}"),
    "AWS::EC2::VPCPeeringConnection": ("ec2", "vpc-peering-connection/{id}"),
    "AWS::EC2::VPCEndpoint": ("ec2", "vpc-endpoint/{id}"),
    "AWS::EC2::VPCEndpointService": ("ec2", "vpc-endpoint-service/{id}"),
    "AWS::EC2::SecurityGroup": ("ec2", "security-group/{id}"),
    "AWS::EC2::VPNGateway": ("ec2", "vpn-gateway/{id}"),
    "AWS::EC2::CustomerGateway": ("ec2", "customer-gateway/{id}"),
    "AWS::EC2::VPNConnection": ("ec2", "vpn-connection/{id}"),
    "AWS::EC2::TransitGateway": ("ec2", "transit-gateway/{id}"),
    "AWS::EC2::TransitGatewayAttachment": ("ec2", "transit-gateway-attachment/{id}"),
    "AWS::EC2::TransitGatewayRouteTable": ("ec2", "transit-gateway-route-table/{id}"),
    "AWS::EC2::ClientVpnEndpoint": ("ec2", "client-vpn-endpoint/{id}"),
    "AWS::DirectConnect::Connection": ("directconnect", "dxcon/{id}"),
    "AWS::DirectConnect::VirtualInterface": ("directconnect", "dxvif/{id}"),
    "AWS::DirectConnect::Gateway": ("directconnect", "dx-gateway/{id}"),
    "AWS::::Account": ("", ""),
}


@dataclass(frozen=True)
class Rule:
    """A registered rule: its identity, its documentation and the snapshot keys it judges.

    `owner_only` (the default): the engine keeps a finding only when the account it is filed under owns its
    resource (auditor.sharing), so a VPC or transit gateway shared through RAM is judged once, in its owner's
    account, and never reported against a participant. False only for a rule that files each finding in the
    account that must act itself, and says where in its docstring (the audit's notes, TGW007).
    """

    id: str
    name: str
    severity: str
    resource_type: str
    needs: tuple[str, ...]
    options: Mapping[str, Any]
    check: Callable[[RuleContext], Iterable[Failure]]
    doc: str
    owner_only: bool = True

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0].strip() if self.doc.strip() else ""

    @property
    def family(self) -> str:
        return self.id.rstrip("0123456789")

    def section(self, heading: str) -> str:
        """The text under a `## heading` of the rule's docstring."""
        text = inspect.cleandoc(self.doc)
        marker = f"## {heading}"
        if marker not in text:
            return ""
        after = text.split(marker, 1)[1]
        return after.split("\n## ", 1)[0].strip()


@dataclass(frozen=True)
class Failure:
    """What a rule yields: one problem, in this account, with the items that prove it."""

    account_id: str
    region: str
    resource_id: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    related: tuple[str, ...] = ()
    discriminator: str = ""
    severity: str | None = None
    resource_type: str | None = None
    resource_arn: str | None = None


@dataclass(frozen=True)
class Finding:
    id: str
    rule_id: str
    rule_name: str
    severity: str
    title: str
    message: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    resource_arn: str | None
    related_resources: tuple[str, ...]
    evidence: Mapping[str, Any]
    remediation: str
    suppressed: bool = False
    suppression: Mapping[str, Any] | None = None

    def sort_key(self) -> tuple[Any, ...]:
        return (SEVERITY_RANK[self.severity], self.rule_id, self.account_id, self.region,
                self.resource_id, self.id)

    def as_dict(self) -> dict[str, Any]:
        record = {
            "id": self.id, "rule_id": self.rule_id, "rule_name": self.rule_name, "severity": self.severity,
            "title": self.title, "message": self.message, "account_id": self.account_id,
            "region": self.region, "resource_type": self.resource_type, "resource_id": self.resource_id,
            "resource_arn": self.resource_arn, "related_resources": list(self.related_resources),
            "evidence": self.evidence, "remediation": self.remediation, "suppressed": self.suppressed,
        }
        if self.suppression is not None:
            record["suppression"] = dict(self.suppression)
        return record


@dataclass(frozen=True)
class RuleContext:
    """What a rule function receives: the indexed snapshot and its own options. No clock of its own.

    `as_of` is the moment the snapshot describes, its `collected_at` (the audit's time only for a snapshot that does
    not say): rules measure ages against it, so a snapshot audited days later reports what it showed, and gives the
    same findings whenever it is audited. A merged snapshot's shards may have been collected days apart: its
    `collected_at` is the earliest, and `as_of_for(account)` is when that account's own shard was collected.
    """

    index: Index
    options: Mapping[str, Any]
    trusted_accounts: frozenset[str]
    as_of: dt.datetime
    as_of_by_account: Mapping[str, dt.datetime] = field(default_factory=dict)
    as_of_by_region: Mapping[tuple[str, str], dt.datetime] = field(default_factory=dict)

    def as_of_for(self, account_id: str, region: str | None = None) -> dt.datetime:
        """The moment `account_id`'s data (in `region`) describes: its shard's collection time in a merged snapshot
        (the region's own, for an account split over shards by region), else as_of."""
        if region is not None and (account_id, region) in self.as_of_by_region:
            return self.as_of_by_region[(account_id, region)]
        return self.as_of_by_account.get(account_id, self.as_of)


RULES: dict[str, Rule] = {}


def rule(*, id: str, name: str, severity: str, resource_type: str, needs: Iterable[str] = (),  # noqa: A002
         options: Mapping[str, Any] | None = None,
         owner_only: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a rule function and return it unchanged (tests call it directly)."""
    if severity not in SEVERITY_RANK:
        raise ValueError(f"rule {id}: unknown severity {severity!r}")
    if resource_type not in ARN_FORMATS:
        raise ValueError(f"rule {id}: unknown resource type {resource_type!r}")

    def register(check: Callable[..., Any]) -> Callable[..., Any]:
        for existing in RULES.values():
            if id in (existing.id,) or name == existing.name:
                raise ValueError(f"rule {id} {name}: id or name already used by {existing.id} {existing.name}")
        RULES[id] = Rule(id=id, name=name, severity=severity, resource_type=resource_type,
                         needs=tuple(needs), options=dict(options or {}), check=check,
                         doc=inspect.cleandoc(check.__doc__ or ""), owner_only=owner_only)
        return check

    return register


def load_rules() -> dict[str, Rule]:
    """Import every module of the rule pack (auditor.rules), which registers its rules."""
    package = importlib.import_module("auditor.rules")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"auditor.rules.{module.name}")
    return RULES


def resolve_rule(name_or_id: str) -> Rule:
    """A rule by id (PCX001) or name (peering-missing-route), case-insensitive; UserError if unknown."""
    wanted = name_or_id.strip()
    for candidate in load_rules().values():
        if wanted.upper() == candidate.id or wanted.lower() == candidate.name:
            return candidate
    raise UserError(f"unknown rule {name_or_id!r} (see `auditor rules`)")


def fingerprint(rule_id: str, account_id: str, region: str, resource_key: str, discriminator: str) -> str:
    """Stable finding id: the same problem gives the same id in every run, whatever the message says."""
    material = "\x1f".join((rule_id, account_id, region, resource_key, discriminator))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def build_arn(resource_type: str, partition: str, region: str, account_id: str, resource_id: str) -> str | None:
    service, path = ARN_FORMATS[resource_type]
    if not service:
        return None
    if resource_id.startswith("arn:"):
        return resource_id
    arn_region = "" if region == "global" else region
    return f"arn:{partition}:{service}:{arn_region}:{account_id}:{path.format(id=resource_id)}"


@dataclass(frozen=True)
class Suppression:
    rule: str  # a rule id (names are resolved to ids when the config is read)
    resource: str  # an id, an ARN, or a glob over either
    reason: str
    expires: dt.date | None = None

    def matches(self, finding: Finding) -> bool:
        if finding.rule_id != self.rule:
            return False
        candidates = [finding.resource_id, finding.resource_arn or ""]
        return any(fnmatch.fnmatchcase(value, self.resource) for value in candidates if value)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "resource": self.resource, "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None}


@dataclass(frozen=True)
class AuditResult:
    findings: tuple[Finding, ...]
    expired_suppressions: tuple[Suppression, ...]
    rules_run: tuple[str, ...]


def _to_finding(rule_: Rule, failure: Failure, partition: str, remediation: str) -> Finding:
    resource_type = failure.resource_type or rule_.resource_type
    arn = failure.resource_arn or build_arn(resource_type, partition, failure.region, failure.account_id,
                                            failure.resource_id)
    return Finding(
        id=fingerprint(rule_.id, failure.account_id, failure.region, arn or failure.resource_id,
                       failure.discriminator),
        rule_id=rule_.id, rule_name=rule_.name, severity=failure.severity or rule_.severity,
        title=rule_.summary, message=failure.message, account_id=failure.account_id, region=failure.region,
        resource_type=resource_type, resource_id=failure.resource_id, resource_arn=arn,
        related_resources=tuple(sorted(set(failure.related))), evidence=failure.evidence,
        remediation=remediation,
    )


def run_audit(
    index: Index,
    *,
    now: dt.datetime,
    rules: Iterable[Rule] | None = None,
    rule_options: Mapping[str, Mapping[str, Any]] | None = None,
    trusted_accounts: Iterable[str] = (),
    suppressions: Iterable[Suppression] = (),
) -> AuditResult:
    """Run the rules over the indexed snapshot. Same snapshot and inputs, same findings, byte for byte.

    `now` is the audit's time: suppressions expire by it. The rules judge the snapshot as of its collection
    (RuleContext.as_of), whenever it is audited."""
    with made_to_last():  # the audit's objects: without this, the collector rescans the snapshot again and again
        return _run_audit(index, now=now, rules=rules, rule_options=rule_options,
                          trusted_accounts=trusted_accounts, suppressions=suppressions)


def _run_audit(
    index: Index,
    *,
    now: dt.datetime,
    rules: Iterable[Rule] | None,
    rule_options: Mapping[str, Mapping[str, Any]] | None,
    trusted_accounts: Iterable[str],
    suppressions: Iterable[Suppression],
) -> AuditResult:
    selected = sorted(rules if rules is not None else load_rules().values(), key=lambda r: r.id)
    # Trusted: the configured accounts, every account collected, and those the snapshot names (the organization).
    trusted = frozenset(trusted_accounts) | frozenset(index.account_ids) | frozenset(index.trusted_accounts)
    as_of = index.collected_at or now  # what the snapshot showed, not what may have changed since
    findings: dict[str, Finding] = {}
    for rule_ in selected:
        options = {**rule_.options, **(rule_options or {}).get(rule_.id, {})}
        context = RuleContext(index=index, options=options, trusted_accounts=trusted, as_of=as_of,
                              as_of_by_account=index.collected_at_by_account,
                              as_of_by_region=index.collected_at_by_region)
        remediation = rule_.section("Remediation")
        for failure in _checked(rule_, context):
            if not index.can_judge(failure.account_id, failure.region, rule_.needs) and rule_.id != "AUD001":
                continue  # AUD001 already says this data could not be read
            if rule_.owner_only and owned_elsewhere(index, failure.resource_type or rule_.resource_type,
                                                    failure.account_id, failure.region, failure.resource_id):
                continue  # shared with this account through RAM: judged in its owner's account
            finding = _to_finding(rule_, failure, index.partition(failure.account_id), remediation)
            findings.setdefault(finding.id, finding)
    suppressed, expired = _apply_suppressions(list(findings.values()), list(suppressions), now.date())
    ordered = tuple(sorted(suppressed, key=Finding.sort_key))
    return AuditResult(ordered, tuple(expired), tuple(r.id for r in selected))


def _checked(rule_: Rule, context: RuleContext) -> Iterator[Failure]:
    yield from rule_.check(context)


def _apply_suppressions(findings: list[Finding], suppressions: list[Suppression],
                        today: dt.date) -> tuple[list[Finding], list[Suppression]]:
    active = [s for s in suppressions if not s.expired(today)]
    expired = [s for s in suppressions if s.expired(today)]
    result = []
    for finding in findings:
        match = next((s for s in active if s.matches(finding)), None)
        if match is not None:
            finding = replace(finding, suppressed=True, suppression={"reason": match.reason,
                                                                     "expires": match.as_dict()["expires"]})
        result.append(finding)
    return result, expired


def at_or_above(findings: Iterable[Finding], threshold: str) -> list[Finding]:
    """Unsuppressed findings at or above a severity: what decides the exit code."""
    limit = SEVERITY_RANK[threshold]
    return [f for f in findings if not f.suppressed and SEVERITY_RANK[f.severity] <= limit]
