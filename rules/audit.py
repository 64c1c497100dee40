"""Rules about the audit itself: what the snapshot could not show. Pure: reads the snapshot only."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from auditor.engine import RULES, Failure, RuleContext, build_arn, rule
from auditor.items import listed
from auditor.sharing import shared_with
from auditor.snapshot import ASSUME_ROLE_KEY, REGIONS_KEY, WORKER_KEY


@rule(id="AUD001", name="resource-type-not-collected", severity="info", resource_type="AWS::::Account")
def resource_type_not_collected(ctx: RuleContext) -> Iterator[Failure]:
    """A resource type could not be read, so the rules that need it could not judge it.

    ## Why it matters
    A denied or failed API call is not the same as "no resources". When the auditor cannot read
    a resource type in an account and region, every rule that needs it stays silent there: this
    finding says so, so that an incomplete audit never passes as a clean one.

    ## Remediation
    Grant the read-only permissions that `auditor permissions` prints to the role the auditor
    runs as, check that the API is offered in the region, and collect again:
    `aws iam put-role-policy --role-name NetworkAuditor --policy-name auditor-read-only
    --policy-document file://auditor-policy.json`
    When the key is `sts:AssumeRole`, nothing was read in that account: create the role there (with that
    policy), trust the caller in its trust policy (and the external id, if one is given), and give the
    caller the policy `auditor permissions --role-name NAME` prints. When the key is `auditor:Worker`,
    the worker process reading that account (or that region, or the global keys, of the caller's own
    account) died (killed, or out of memory): collect again. When it is `*`, no key at all could be read
    in that account and region: one finding for the region, not one per key (a service control policy
    that denies the region, or an endpoint the network cannot reach, fails every key alike). Allow the
    region to the role, or reach its endpoints, or leave it out with `--regions`.
    """
    roots: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    dependents: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    by_key = {(e["account_id"], e["region"], e["key"]): e for e in ctx.index.errors}
    for error in ctx.index.errors:
        scope_key = (error["account_id"], error["region"], error["key"])
        if error.get("code") == "Truncated":
            continue  # a transit gateway route table read only in part: TGW009 names it
        if error.get("code") == "DependencyFailed":
            root = scope_key
            while by_key.get(root, {}).get("code") == "DependencyFailed" and by_key[root].get("depends_on"):
                root = (root[0], root[1], by_key[root]["depends_on"])
            dependents[root].add(error["key"])
            continue
        roots[scope_key].append(error)
    for (account_id, region), scope_roots in sorted(_wholly_unread(ctx, roots).items()):
        failed = {key: roots.pop((account_id, region, key)) for _, _, key in scope_roots}
        yield _nothing_read(account_id, region, failed, dependents)
    for (account_id, region, key), errors in sorted(roots.items()):
        unread = sorted({key, *dependents.get((account_id, region, key), set())})
        judged_by = sorted(r.id for r in RULES.values() if set(r.needs) & set(unread))
        codes = sorted({e["code"] for e in errors})
        partial = all(e.get("resource_id") for e in errors)
        what = (f"{key} could be read for only some resources ({len(errors)} failed: "
                f"{', '.join(sorted(e['resource_id'] for e in errors)[:5])})" if partial
                else f"{key} could not be read")
        if key == ASSUME_ROLE_KEY:
            what = "the role could not be assumed (sts:AssumeRole), so nothing could be read"
        if key == REGIONS_KEY:
            what = ("the account's enabled regions could not be listed (ec2:Regions)" if region == "global"
                    else "the region was not read (ec2:Regions)")
        if key == WORKER_KEY:
            what = _worker_lost(ctx, account_id, region)
        also = f"; so neither could {', '.join(k for k in unread if k != key)}" if len(unread) > 1 else ""
        rules = f"; rules that could not judge it here: {', '.join(judged_by)}" if judged_by else ""
        yield Failure(
            account_id=account_id, region=region, resource_id=key,
            message=f"{what} in {account_id}/{region} ({', '.join(codes)}: {errors[0]['message']}){also}{rules}",
            evidence={"errors": errors, "keys_not_read": unread, "rules_affected": judged_by},
            discriminator=key,
        )


ALL_KEYS = "*"  # the resource of a finding for an account and region none of whose keys could be read
SINGLE_ERROR_KEYS = (ASSUME_ROLE_KEY, REGIONS_KEY, WORKER_KEY)  # each says in one error why nothing was read


def _wholly_unread(ctx: RuleContext, roots: dict[tuple[str, str, str], list[dict[str, Any]]],
                   ) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """The accounts and regions in the snapshot with nothing stored and more than one key failed (each failed on
    its own, none of them one of SINGLE_ERROR_KEYS): (account, region) -> their failed keys."""
    failed: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for scope_key in roots:
        failed[scope_key[:2]].append(scope_key)
    wholly: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for (account_id, region), keys in failed.items():
        scope = ctx.index.scope(account_id, region)
        if scope is not None and not scope.data and len(keys) > 1 \
                and not any(key in SINGLE_ERROR_KEYS for _, _, key in keys):
            wholly[(account_id, region)] = sorted(keys)
    return wholly


def _nothing_read(account_id: str, region: str, failed: dict[str, list[dict[str, Any]]],
                  dependents: dict[tuple[str, str, str], set[str]]) -> Failure:
    """One finding for an account and region none of whose keys could be read: `failed` is key -> its errors."""
    errors = [error for key in sorted(failed) for error in failed[key]]
    children = {child for key in failed for child in dependents.get((account_id, region, key), set())}
    unread = sorted(set(failed) | children)
    judged_by = sorted(r.id for r in RULES.values() if set(r.needs) & set(unread))
    codes = Counter(e["code"] for e in errors)
    said = ", ".join(f"{code} x{count}" if count > 1 else code for code, count in sorted(codes.items()))
    also = f"; so neither could the {len(children)} keys read for their items" if children else ""
    rules = f"; rules that could not judge it here: {', '.join(judged_by)}" if judged_by else ""
    return Failure(
        account_id=account_id, region=region, resource_id=ALL_KEYS,
        message=f"nothing could be read in {account_id}/{region}: every one of its {len(failed)} keys failed "
                f"({said}; the first, {errors[0]['key']}: {errors[0]['message']}){also}{rules}",
        evidence={"errors": errors, "keys_not_read": unread, "rules_affected": judged_by},
        discriminator=ALL_KEYS,
    )


def _worker_lost(ctx: RuleContext, account_id: str, region: str) -> str:
    """What a worker process that died took with it: an account, or (the caller's own account is read a region at
    a time) a region, or the account's global keys."""
    if region != "global":
        return "the worker process reading the region exited before it was done, so nothing in it could be read"
    if any(scope.account_id == account_id for scope in ctx.index.regional_scopes()):
        return ("the worker process reading the account's global keys exited before it was done, so they could not "
                "be read")
    return "the worker process reading the account exited before it was done, so nothing could be read"


@rule(id="AUD002", name="shared-resource-owner-not-audited", severity="info", resource_type="AWS::EC2::VPC",
      owner_only=False)
def shared_resource_owner_not_audited(ctx: RuleContext) -> Iterator[Failure]:
    """A VPC or transit gateway is shared with this account by an account that is not in the snapshot.

    Every rule judges a VPC or transit gateway shared through AWS RAM once, in the account that
    owns it, and never reports a participant for it. This note is filed in the participant's
    account, once per shared VPC or transit gateway (its ARN is the owner's), only when the
    owner's account and region are not in the snapshot; when they are, the owner's findings say
    all there is and this note is silent. Deleted ones are not noted.

    ## Why it matters
    Only the owner can change a shared VPC's route tables, gateways, peerings, flow logs and DNS
    attributes, or a shared transit gateway's options, route tables, associations and
    propagations, so this account is never reported for them. With the owner not audited, nobody
    judged them: a clean report here says nothing about the network this account's workloads run
    in, or reach through the transit gateway.

    ## Remediation
    Audit the owner's account with this one (collect both, or merge their shards), for example
    `auditor collect --role-name NetworkAudit --accounts 111122223333,444455556666 -o snapshot.json`.
    To see which share brings the resource here and who owns it:
    `aws ram list-resources --resource-owner OTHER-ACCOUNTS --region us-east-1`
    """
    for scope in ctx.index.regional_scopes():
        for shared in shared_with(scope):
            if ctx.index.scope(shared.owner, scope.region) is not None:
                continue  # judged in the owner's account
            is_vpc = shared.resource_type == "AWS::EC2::VPC"
            noun = f"VPC {shared.resource_id} ({shared.item.get('CidrBlock')})" if is_vpc else (
                f"transit gateway {shared.resource_id}")
            subnets = [str(s["SubnetId"]) for s in scope.subnets(shared.resource_id)] if is_vpc else []
            here = f", with its subnets {listed(subnets)} here" if subnets else ""
            owned_parts = ("route tables, gateways, peerings, flow logs and DNS attributes" if is_vpc
                           else "options, route tables, associations and propagations")
            arn = shared.item.get("TransitGatewayArn") or build_arn(
                shared.resource_type, ctx.index.partition(scope.account_id), scope.region, shared.owner,
                shared.resource_id)
            yield Failure(
                account_id=scope.account_id, region=scope.region, resource_id=shared.resource_id,
                resource_type=shared.resource_type, resource_arn=arn, related=tuple(subnets),
                message=(f"{noun} is shared with this account by {shared.owner} through AWS RAM{here}; "
                         f"{shared.owner}/{scope.region} is not in the snapshot, so its {owned_parts}, which "
                         f"only {shared.owner} can change, were not judged"),
                evidence={"Owner": shared.owner, "Vpc" if is_vpc else "TransitGateway": shared.item,
                          "SubnetsHere": subnets},
            )
