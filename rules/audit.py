"""Rules about the audit itself: what the snapshot could not show. Pure: reads the snapshot's errors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from auditor.engine import RULES, Failure, RuleContext, rule

ASSUME_ROLE_KEY = "sts:AssumeRole"  # the error `collect --role-name` records for an account it could not reach


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
    caller the policy `auditor permissions --role-name NAME` prints.
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
        also = f"; so neither could {', '.join(k for k in unread if k != key)}" if len(unread) > 1 else ""
        rules = f"; rules that could not judge it here: {', '.join(judged_by)}" if judged_by else ""
        yield Failure(
            account_id=account_id, region=region, resource_id=key,
            message=f"{what} in {account_id}/{region} ({', '.join(codes)}: {errors[0]['message']}){also}{rules}",
            evidence={"errors": errors, "keys_not_read": unread, "rules_affected": judged_by},
            discriminator=key,
        )
