"""Endpoint service rules (the provider side of PrivateLink): who may connect, who did, and AZ spread. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.engine import Failure, RuleContext, rule
from auditor.index import Item, Scope
from auditor.items import listed, lowered

SERVICE_GONE = frozenset({"deleted", "deleting", "failed"})
ACCEPTED_CONNECTION = frozenset({"available", "pending"})  # pending: accepted, interfaces being provisioned


def live_services(scope: Scope) -> Iterator[Item]:
    for service in scope.items("ec2:VpcEndpointServiceConfigurations"):
        if lowered(service.get("ServiceState")) not in SERVICE_GONE:
            yield service


def allowed_principals(scope: Scope, service: Item) -> list[str] | None:
    """The service's allowed principals; None when its permissions could not be read."""
    record = scope.by_id("ec2:VpcEndpointServicePermissions", "ServiceId").get(service["ServiceId"])
    if record is None:
        return None
    return [str(p.get("Principal")) for p in record.get("AllowedPrincipals") or [] if p.get("Principal")]


def principal_account(principal: str) -> str | None:
    """The account a principal belongs to: an account id, or the account field of an ARN
    (arn:aws:iam::<account>:root or :role/..., an organization's management account); None for "*" and others."""
    if re.fullmatch(r"\d{12}", principal):
        return principal
    parts = principal.split(":", 5)
    return parts[4] if principal.startswith("arn:") and len(parts) == 6 and parts[4] else None


def service_label(service: Item) -> str:
    return f"endpoint service {service['ServiceId']} ({service.get('ServiceName')})"


@rule(id="VPCES001", name="endpoint-service-open-principals", severity="high",
      resource_type="AWS::EC2::VPCEndpointService",
      needs=("ec2:VpcEndpointServiceConfigurations", "ec2:VpcEndpointServicePermissions"))
def endpoint_service_open_principals(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint service lets any AWS account ("*") create endpoints to it.

    Critical when the service also accepts connections without review (AcceptanceRequired
    false): anyone can then reach the load balancers behind it. High otherwise: every request
    waits for a human, who must tell strangers from customers.

    ## Why it matters
    The allowed principals are who may even ask to connect. With "*", any AWS account in the
    world can discover the service name and create an endpoint to it; with acceptance off, the
    connection is live at once and the service's listeners are open to that account's VPC.

    ## Remediation
    Remove "*" and allow the accounts (or organization) that are meant to connect:
    `aws ec2 modify-vpc-endpoint-service-permissions --service-id vpce-svc-...
    --remove-allowed-principals "*" --add-allowed-principals arn:aws:iam::111122223333:root`
    """
    for scope in ctx.index.regional_scopes():
        for service in live_services(scope):
            principals = allowed_principals(scope, service)
            if not principals or "*" not in principals:
                continue
            unreviewed = service.get("AcceptanceRequired") is False
            consequence = (" and accepts their connections without review, so anyone can reach its load balancers"
                           if unreviewed else "; only the acceptance step keeps strangers out")
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=service["ServiceId"],
                severity="critical" if unreviewed else None,
                message=(f"{service_label(service)} allows every AWS account ('*') to create endpoints "
                         f"to it{consequence}"),
                evidence={"ServiceId": service["ServiceId"], "AcceptanceRequired": service.get("AcceptanceRequired"),
                          "AllowedPrincipals": principals},
            )


@rule(id="VPCES002", name="endpoint-service-acceptance-not-required", severity="medium",
      resource_type="AWS::EC2::VPCEndpointService",
      needs=("ec2:VpcEndpointServiceConfigurations", "ec2:VpcEndpointServicePermissions"))
def endpoint_service_acceptance_not_required(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint service auto-accepts connections from principals outside the trusted accounts.

    A principal belongs to the account in its ARN (arn:aws:iam::<account>:root, :role/..., or an
    organization's management account) or is an account id; trusted accounts are the configured
    ones plus every account in the snapshot. "*" is left to VPCES001, which already reports it
    (critical when acceptance is off), so that one problem makes one ticket; named untrusted
    principals next to "*" are still reported here, as removing "*" does not remove them.

    ## Why it matters
    With acceptance off, any allowed principal's endpoint is connected at once, with no one
    looking at which account and VPC it comes from. For principals outside your accounts, that
    gives a third party's network a live path to the load balancers behind the service.

    ## Remediation
    Require acceptance, or limit the allowed principals to trusted accounts:
    `aws ec2 modify-vpc-endpoint-service-configuration --service-id vpce-svc-... --acceptance-required`
    """
    for scope in ctx.index.regional_scopes():
        for service in live_services(scope):
            principals = allowed_principals(scope, service)
            if service.get("AcceptanceRequired") is not False or not principals:
                continue
            untrusted = [p for p in principals if p != "*" and principal_account(p) not in ctx.trusted_accounts]
            if not untrusted:
                continue
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=service["ServiceId"],
                message=(f"{service_label(service)} accepts endpoint connections without review, and allows "
                         f"principals outside the trusted accounts: {listed(untrusted)}"),
                evidence={"ServiceId": service["ServiceId"], "AcceptanceRequired": False,
                          "AllowedPrincipals": principals, "Untrusted": untrusted},
            )


@rule(id="VPCES003", name="endpoint-service-untrusted-connection", severity="high",
      resource_type="AWS::EC2::VPCEndpointService", needs=("ec2:VpcEndpointConnections",))
def endpoint_service_untrusted_connection(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint service has an accepted connection from an endpoint of an untrusted account.

    Connections in the available or pending (accepted, being provisioned) state are judged; one
    finding per connection. Trusted accounts are the configured ones plus every account in the
    snapshot.

    ## Why it matters
    An accepted connection is a live network path from another account's VPC to the load
    balancers behind the service. From an account that no one trusts, it is a way in that no
    route table, peering or security review of your own VPCs shows.

    ## Remediation
    Reject the connection (and remove the account from the allowed principals):
    `aws ec2 reject-vpc-endpoint-connections --service-id vpce-svc-... --vpc-endpoint-ids vpce-...`
    """
    for scope in ctx.index.regional_scopes():
        services = scope.by_id("ec2:VpcEndpointServiceConfigurations", "ServiceId")
        for connection in scope.items("ec2:VpcEndpointConnections"):
            owner = str(connection.get("VpcEndpointOwner", ""))
            if lowered(connection.get("VpcEndpointState")) not in ACCEPTED_CONNECTION or owner in ctx.trusted_accounts:
                continue
            service_id, endpoint_id = connection["ServiceId"], connection.get("VpcEndpointId", "")
            service = services.get(service_id) or {"ServiceId": service_id}
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=service_id,
                discriminator=endpoint_id, related=(endpoint_id,),
                message=(f"{service_label(service)} has an accepted connection "
                         f"({connection.get('VpcEndpointState')}) from endpoint {endpoint_id} of account "
                         f"{owner or '(unknown)'}, which is not a trusted account"),
                evidence={"Connection": connection},
            )


@rule(id="VPCES004", name="endpoint-service-single-az", severity="low", resource_type="AWS::EC2::VPCEndpointService",
      needs=("ec2:VpcEndpointServiceConfigurations", "elbv2:LoadBalancers"))
def endpoint_service_single_az(ctx: RuleContext) -> Iterator[Failure]:
    """An endpoint service's load balancers all sit in one Availability Zone.

    The service is judged only when every one of its load balancers is in the snapshot.

    ## Why it matters
    Consumers can create endpoints to the service only in the zones its load balancers are in,
    so every consumer is tied to that one zone: its outage stops the service for all of them,
    and consumers whose subnets are elsewhere cannot connect at all.

    ## Remediation
    Enable the load balancer in subnets of more zones:
    `aws elbv2 set-subnets --load-balancer-arn arn:aws:elasticloadbalancing:... --subnets subnet-a subnet-b`
    """
    for scope in ctx.index.regional_scopes():
        balancers = scope.by_id("elbv2:LoadBalancers", "LoadBalancerArn")
        for service in live_services(scope):
            arns = [*(service.get("NetworkLoadBalancerArns") or []), *(service.get("GatewayLoadBalancerArns") or [])]
            if not arns or any(arn not in balancers for arn in arns):
                continue
            zones = sorted({str(z.get("ZoneName")) for arn in arns
                            for z in balancers[arn].get("AvailabilityZones") or []})
            if len(zones) != 1:
                continue
            names = [str(balancers[arn].get("LoadBalancerName", arn)) for arn in arns]
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=service["ServiceId"],
                related=tuple(arns),
                message=(f"{service_label(service)} is served only in {zones[0]}, by load balancer(s) "
                         f"{listed(names)}: an outage of {zones[0]} stops it for every consumer"),
                evidence={"ServiceId": service["ServiceId"], "LoadBalancerArns": arns, "Zones": zones},
            )
