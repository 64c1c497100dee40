"""VPC peering rules: routes on both sides, DNS options, CIDRs, state and trust. Pure."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import Failure, RuleContext, rule

SIDES = (("RequesterVpcInfo", "requester"), ("AccepterVpcInfo", "accepter"))


@rule(id="PCX003", name="peering-dns-resolution-disabled", severity="medium",
      resource_type="AWS::EC2::VPCPeeringConnection", needs=("ec2:VpcPeeringConnections",))
def peering_dns_resolution_disabled(ctx: RuleContext) -> Iterator[Failure]:
    """An active peering does not resolve the other VPC's private DNS names.

    ## Why it matters
    With AllowDnsResolutionFromRemoteVpc off on a side, the public DNS names of that side's
    instances and endpoints resolve to public addresses when queried from the peer VPC, so
    traffic meant for the peering leaves by the internet or a NAT gateway instead, and is
    filtered, billed and exposed as public traffic.

    ## Remediation
    Allow DNS resolution from the remote VPC on the side that owns the names (run by that
    side's account, in its region):
    `aws ec2 modify-vpc-peering-connection-options --vpc-peering-connection-id pcx-...
    --accepter-peering-connection-options AllowDnsResolutionFromRemoteVpc=true`
    (or `--requester-peering-connection-options` for the requester side).
    """
    seen: set[str] = set()
    for scope in ctx.index.regional_scopes():
        for peering in scope.items("ec2:VpcPeeringConnections"):
            pcx_id = peering["VpcPeeringConnectionId"]
            if pcx_id in seen or peering.get("Status", {}).get("Code") != "active":
                continue
            seen.add(pcx_id)
            for field, side in SIDES:
                info = peering.get(field) or {}
                options = info.get("PeeringOptions")
                if options is None or options.get("AllowDnsResolutionFromRemoteVpc", False):
                    continue
                yield Failure(
                    account_id=info.get("OwnerId", scope.account_id), region=info.get("Region", scope.region),
                    resource_id=pcx_id, discriminator=side, related=(info.get("VpcId", ""),),
                    message=(f"peering {pcx_id}: the {side} side ({info.get('VpcId')}) does not allow DNS "
                             "resolution from the remote VPC, so its names resolve to public addresses "
                             "from the peer"),
                    evidence={"VpcPeeringConnectionId": pcx_id, field: info, "Status": peering.get("Status")},
                )
