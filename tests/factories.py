"""Snapshot factories for rule tests: items shaped like the EC2 API, compliant by default.

Each builder method adds one resource and returns its id; a test sets only the field under test.
`build()` returns a snapshot document in which every collected key is present (empty if unused),
so a rule sees a complete account unless the test records an error for a key.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from typing import Any

from auditor.collect.registry import GLOBAL, REGISTRY
from auditor.collect.runner import REGISTRY as _LOADED  # noqa: F401  (registers the catalog)
from auditor.engine import RuleContext, load_rules
from auditor.index import Index

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "us-east-1"
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)


class SnapshotBuilder:
    def __init__(self, account: str = ACCOUNT, region: str = REGION) -> None:
        self.account = account
        self.region = region
        self.regions: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
        self.errors: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.scope(account, region)

    # plumbing
    def scope(self, account: str | None = None, region: str | None = None) -> dict[str, list[dict[str, Any]]]:
        key = (account or self.account, region or self.region)
        if key not in self.regions:
            self.regions[key] = {c.key: [] for c in REGISTRY.values() if c.scope != GLOBAL}
            global_key = (key[0], "global")
            if global_key not in self.regions:
                self.regions[global_key] = {c.key: [] for c in REGISTRY.values() if c.scope == GLOBAL}
        return self.regions[key]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):017x}"

    def add(self, key: str, item: dict[str, Any], account: str | None = None, region: str | None = None) -> None:
        self.scope(account, region)[key].append(item)

    def find(self, key: str, field: str, value: str) -> dict[str, Any]:
        for data in self.regions.values():
            for item in data.get(key, []):
                if item.get(field) == value:
                    return item
        raise KeyError(f"{key} {field}={value}")

    def error(self, key: str, code: str = "UnauthorizedOperation", *, account: str | None = None,
              region: str | None = None, resource_id: str | None = None) -> None:
        """Record a failed read; the key's data is removed, as the collector leaves it out."""
        account, region = account or self.account, region or self.region
        if resource_id is None:
            self.scope(account, region).pop(key, None)
        record = {"account_id": account, "region": region, "key": key, "operation": REGISTRY[key].operation,
                  "code": code, "message": f"You are not authorized to perform: {REGISTRY[key].operation}"}
        if resource_id:
            record["resource_id"] = resource_id
        self.errors.append(record)

    def build(self) -> dict[str, Any]:
        accounts: dict[str, Any] = {}
        for (account, region), data in sorted(self.regions.items()):
            accounts.setdefault(account, {"partition": "aws", "regions": {}})["regions"][region] = data
        return copy.deepcopy({"schema_version": 1, "tool_version": "0.1.0", "collected_at": "2026-11-26T10:00:00Z",
                              "accounts": accounts, "errors": self.errors})

    def build_accounts(self, *accounts: str) -> dict[str, Any]:
        """The snapshot a collection of only these accounts would give: every other account's data left out."""
        document = self.build()
        document["accounts"] = {a: section for a, section in document["accounts"].items() if a in accounts}
        document["errors"] = [e for e in document["errors"] if e["account_id"] in accounts]
        return document

    # VPCs, subnets, route tables
    def vpc(self, cidr: str = "10.0.0.0/16", *, secondary: tuple[str, ...] = (), ipv6: tuple[str, ...] = (),
            dns_support: bool = True, dns_hostnames: bool = True, account: str | None = None,
            region: str | None = None, name: str | None = None) -> str:
        vpc_id = self.new_id("vpc")
        owner = account or self.account
        item: dict[str, Any] = {
            "VpcId": vpc_id, "CidrBlock": cidr, "State": "available", "OwnerId": owner, "IsDefault": False,
            "CidrBlockAssociationSet": [
                {"AssociationId": self.new_id("vpc-cidr-assoc"), "CidrBlock": c,
                 "CidrBlockState": {"State": "associated"}} for c in (cidr, *secondary)],
            "Tags": [{"Key": "Name", "Value": name}] if name else [],
        }
        if ipv6:
            item["Ipv6CidrBlockAssociationSet"] = [
                {"AssociationId": self.new_id("vpc-cidr-assoc"), "Ipv6CidrBlock": c,
                 "Ipv6CidrBlockState": {"State": "associated"}, "NetworkBorderGroup": region or self.region}
                for c in ipv6]
        self.add("ec2:Vpcs", item, account, region)
        self.add("ec2:VpcDnsAttributes", {"VpcId": vpc_id, "EnableDnsSupport": dns_support,
                                          "EnableDnsHostnames": dns_hostnames}, account, region)
        table = self.route_table(vpc_id, main=True, account=account, region=region)
        for block in (cidr, *secondary):
            self.route(table, block, GatewayId="local", Origin="CreateRouteTable")
        for block in ipv6:
            self.route(table, block, GatewayId="local", Origin="CreateRouteTable")
        self.add("ec2:FlowLogs", {"FlowLogId": self.new_id("fl"), "ResourceId": vpc_id, "FlowLogStatus": "ACTIVE",
                                  "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
                                  "DeliverLogsStatus": "SUCCESS"}, account, region)
        return vpc_id

    def vpc_item(self, vpc_id: str) -> dict[str, Any]:
        return self.find("ec2:Vpcs", "VpcId", vpc_id)

    def subnet(self, vpc_id: str, cidr: str, zone: str = "us-east-1a", *, table: str | None = None,
               account: str | None = None, region: str | None = None) -> str:
        subnet_id = self.new_id("subnet")
        self.add("ec2:Subnets", {
            "SubnetId": subnet_id, "VpcId": vpc_id, "CidrBlock": cidr, "AvailabilityZone": zone,
            "AvailabilityZoneId": f"use1-az{zone[-1]}", "State": "available",
            "OwnerId": account or self.account}, account, region)
        if table is not None:
            self.associate(table, subnet_id)
        return subnet_id

    def route_table(self, vpc_id: str, *, main: bool = False, subnets: tuple[str, ...] = (),
                    account: str | None = None, region: str | None = None) -> str:
        table_id = self.new_id("rtb")
        associations = []
        if main:
            associations.append({"Main": True, "RouteTableAssociationId": self.new_id("rtbassoc"),
                                 "RouteTableId": table_id, "AssociationState": {"State": "associated"}})
        self.add("ec2:RouteTables", {"RouteTableId": table_id, "VpcId": vpc_id, "Associations": associations,
                                     "Routes": [], "PropagatingVgws": [], "OwnerId": account or self.account},
                 account, region)
        for subnet_id in subnets:
            self.associate(table_id, subnet_id)
        vpc_cidrs = [vpc["CidrBlock"] for data in self.regions.values() for vpc in data.get("ec2:Vpcs", [])
                     if vpc["VpcId"] == vpc_id]
        if not main:
            for block in vpc_cidrs:
                self.route(table_id, block, GatewayId="local", Origin="CreateRouteTable")
        return table_id

    def main_table(self, vpc_id: str) -> str:
        for data in self.regions.values():
            for table in data.get("ec2:RouteTables", []):
                if table["VpcId"] == vpc_id and any(a.get("Main") for a in table["Associations"]):
                    return str(table["RouteTableId"])
        raise KeyError(vpc_id)

    def associate(self, table_id: str, subnet_id: str) -> None:
        self.find("ec2:RouteTables", "RouteTableId", table_id)["Associations"].append({
            "Main": False, "RouteTableAssociationId": self.new_id("rtbassoc"), "RouteTableId": table_id,
            "SubnetId": subnet_id, "AssociationState": {"State": "associated"}})

    def route(self, table_id: str, destination: str, *, state: str = "active", origin: str = "CreateRoute",
              **target: str) -> dict[str, Any]:
        route: dict[str, Any] = {"State": state, "Origin": target.pop("Origin", origin), **target}
        if destination.startswith("pl-"):
            route["DestinationPrefixListId"] = destination
        elif ":" in destination:
            route["DestinationIpv6CidrBlock"] = destination
        else:
            route["DestinationCidrBlock"] = destination
        self.find("ec2:RouteTables", "RouteTableId", table_id)["Routes"].append(route)
        return route

    # Peering
    def peering(self, requester_vpc: str, accepter_vpc: str, *, status: str = "active",
                requester_dns: bool = True, accepter_dns: bool = True, accepter_account: str | None = None,
                accepter_region: str | None = None, accepter_cidrs: tuple[str, ...] | None = None,
                expiration: str | None = None) -> str:
        """A peering, stored in the requester's scope and (when in the snapshot) the accepter's too."""
        pcx_id = self.new_id("pcx")

        def info(vpc_id: str, dns: bool, owner: str | None, region: str | None,
                 cidrs: tuple[str, ...] | None) -> dict[str, Any]:
            try:
                vpc = self.vpc_item(vpc_id)
                blocks = [a["CidrBlock"] for a in vpc["CidrBlockAssociationSet"]]
                ipv6 = [a["Ipv6CidrBlock"] for a in vpc.get("Ipv6CidrBlockAssociationSet", [])]
                owner, region = owner or vpc["OwnerId"], region or self._region_of(vpc_id)
            except KeyError:
                blocks, ipv6 = list(cidrs or ("172.16.0.0/16",)), []
            if cidrs is not None:
                blocks = list(cidrs)
            record: dict[str, Any] = {
                "VpcId": vpc_id, "OwnerId": owner or self.account, "Region": region or self.region,
                "CidrBlock": blocks[0], "CidrBlockSet": [{"CidrBlock": b} for b in blocks],
                "PeeringOptions": {"AllowDnsResolutionFromRemoteVpc": dns,
                                   "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                                   "AllowEgressFromLocalVpcToRemoteClassicLink": False},
            }
            if ipv6:
                record["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": b} for b in ipv6]
            return record

        item: dict[str, Any] = {
            "VpcPeeringConnectionId": pcx_id,
            "RequesterVpcInfo": info(requester_vpc, requester_dns, None, None, None),
            "AccepterVpcInfo": info(accepter_vpc, accepter_dns, accepter_account, accepter_region, accepter_cidrs),
            "Status": {"Code": status, "Message": status.replace("-", " ").capitalize()},
            "Tags": [],
        }
        if expiration:
            item["ExpirationTime"] = expiration
        requester = item["RequesterVpcInfo"]
        self.add("ec2:VpcPeeringConnections", item, requester["OwnerId"], requester["Region"])
        accepter = item["AccepterVpcInfo"]
        if (accepter["OwnerId"], accepter["Region"]) != (requester["OwnerId"], requester["Region"]) and \
                (accepter["OwnerId"], accepter["Region"]) in self.regions:
            self.add("ec2:VpcPeeringConnections", copy.deepcopy(item), accepter["OwnerId"], accepter["Region"])
        return pcx_id

    # Security groups, endpoints, endpoint services, load balancers
    def security_group(self, vpc_id: str, *, name: str = "app", ingress_cidrs: tuple[str, ...] = ("10.0.0.0/16",),
                       ingress_ipv6: tuple[str, ...] = (), port: int = 443) -> str:
        group_id = self.new_id("sg")
        permission: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                                      "IpRanges": [{"CidrIp": c} for c in ingress_cidrs],
                                      "Ipv6Ranges": [{"CidrIpv6": c} for c in ingress_ipv6],
                                      "UserIdGroupPairs": [], "PrefixListIds": []}
        self.add("ec2:SecurityGroups", {
            "GroupId": group_id, "GroupName": name, "VpcId": vpc_id, "OwnerId": self.account,
            "Description": name, "IpPermissions": [permission],
            "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                                     "Ipv6Ranges": [], "UserIdGroupPairs": [], "PrefixListIds": []}]})
        return group_id

    def endpoint(self, vpc_id: str, service: str = "com.amazonaws.us-east-1.ssm", *, kind: str = "Interface",
                 policy: str | None = None, private_dns: bool = True, subnets: tuple[str, ...] = (),
                 groups: tuple[str, ...] = (), route_tables: tuple[str, ...] = (), state: str = "available") -> str:
        """An endpoint; the policy defaults to one limited to the organization (compliant)."""
        endpoint_id = self.new_id("vpce")
        if policy is None:
            policy = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*",'
                      '"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}]}')
        item: dict[str, Any] = {
            "VpcEndpointId": endpoint_id, "VpcEndpointType": kind, "VpcId": vpc_id, "ServiceName": service,
            "State": state, "PolicyDocument": policy, "RouteTableIds": list(route_tables),
            "SubnetIds": list(subnets), "Groups": [{"GroupId": g, "GroupName": g} for g in groups],
            "PrivateDnsEnabled": private_dns if kind == "Interface" else False,
            "RequesterManaged": False, "NetworkInterfaceIds": [], "DnsEntries": [],
            "CreationTimestamp": "2026-01-01T00:00:00Z", "OwnerId": self.account, "Tags": [],
        }
        self.add("ec2:VpcEndpoints", item)
        return endpoint_id

    def load_balancer(self, vpc_id: str, zones: tuple[str, ...] = ("us-east-1a", "us-east-1b"),
                      kind: str = "network") -> str:
        name = self.new_id("net")
        arn = f"arn:aws:elasticloadbalancing:{self.region}:{self.account}:loadbalancer/net/{name}/{name[-16:]}"
        self.add("elbv2:LoadBalancers", {
            "LoadBalancerArn": arn, "LoadBalancerName": name, "Type": kind, "Scheme": "internal",
            "VpcId": vpc_id, "State": {"Code": "active"},
            "AvailabilityZones": [{"ZoneName": z, "SubnetId": self.new_id("subnet")} for z in zones]})
        return arn

    def endpoint_service(self, balancers: tuple[str, ...], *, acceptance_required: bool = True,
                         principals: tuple[str, ...] = (), gateway_load_balancer: bool = False) -> str:
        service_id = self.new_id("vpce-svc")
        kind = "GatewayLoadBalancer" if gateway_load_balancer else "Interface"
        item: dict[str, Any] = {
            "ServiceId": service_id, "ServiceName": f"com.amazonaws.vpce.{self.region}.{service_id}",
            "ServiceType": [{"ServiceType": kind}], "ServiceState": "Available",
            "AcceptanceRequired": acceptance_required, "ManagesVpcEndpoints": False,
            "AvailabilityZones": sorted({z["ZoneName"] for arn in balancers for z in
                                        self.find("elbv2:LoadBalancers", "LoadBalancerArn", arn)["AvailabilityZones"]}),
            "Tags": [],
        }
        item["GatewayLoadBalancerArns" if gateway_load_balancer else "NetworkLoadBalancerArns"] = list(balancers)
        self.add("ec2:VpcEndpointServiceConfigurations", item)
        self.add("ec2:VpcEndpointServicePermissions", {"ServiceId": service_id, "AllowedPrincipals": [
            {"Principal": p, "PrincipalType": "All" if p == "*" else "Account",
             "ServicePermissionId": self.new_id("vpce-svc-perm")} for p in principals]})
        return service_id

    def endpoint_connection(self, service_id: str, owner: str, state: str = "available") -> str:
        endpoint_id = self.new_id("vpce")
        self.add("ec2:VpcEndpointConnections", {
            "ServiceId": service_id, "VpcEndpointId": endpoint_id, "VpcEndpointOwner": owner,
            "VpcEndpointState": state, "CreationTimestamp": "2026-01-01T00:00:00Z"})
        return endpoint_id

    # Sharing through AWS RAM
    def share(self, key: str, id_field: str, resource_id: str, participant: str, region: str | None = None) -> None:
        """The participant's view of an item shared with it through RAM: the owner's item, unchanged (its OwnerId
        stays the owner's), in the participant's scope."""
        self.add(key, copy.deepcopy(self.find(key, id_field, resource_id)), participant, region)

    def participants_endpoint(self, participant: str, vpc_id: str, service: str, **options: Any) -> str:
        """An endpoint a participant made in a VPC shared with it: its own, listed in its account only."""
        owner, self.account = self.account, participant
        try:
            return self.endpoint(vpc_id, service, **options)
        finally:
            self.account = owner

    def share_vpc(self, vpc_id: str, participant: str, region: str | None = None) -> None:
        """A VPC shared through RAM as its participant sees it: the VPC and its subnets, with the owner's OwnerId.
        Its route tables, gateways and peerings stay in the owner's account only."""
        subnets = [s for data in self.regions.values() for s in data.get("ec2:Subnets", []) if s.get("VpcId") == vpc_id]
        self.share("ec2:Vpcs", "VpcId", vpc_id, participant, region)
        for subnet in subnets:
            self.add("ec2:Subnets", copy.deepcopy(subnet), participant, region)

    def _region_of(self, vpc_id: str) -> str:
        for (_, region), data in self.regions.items():
            if any(v["VpcId"] == vpc_id for v in data.get("ec2:Vpcs", [])):
                return region
        raise KeyError(vpc_id)


def context(document: dict[str, Any], options: dict[str, Any] | None = None,
            trusted: tuple[str, ...] = ()) -> RuleContext:
    """The RuleContext the engine would give a rule (options default to the rule's own in the tests)."""
    index = Index(document)
    return RuleContext(index=index, options=options or {}, trusted_accounts=frozenset(trusted) | set(index.account_ids),
                       as_of=NOW)


def run_rule(rule_id: str, document: dict[str, Any], options: dict[str, Any] | None = None,
             trusted: tuple[str, ...] = ()) -> list[Any]:
    """The findings one rule gives on a snapshot, through the engine (so needs and suppression apply)."""
    from auditor.engine import run_audit

    rule = load_rules()[rule_id]
    result = run_audit(Index(document), now=NOW, rules=[rule], rule_options={rule_id: options or {}},
                       trusted_accounts=trusted)
    return list(result.findings)
