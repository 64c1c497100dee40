"""Endpoint policy analysis: which Allow statements are open to anyone. Pure: no AWS calls, no I/O."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_ENDPOINT_POLICY: dict[str, Any] = {
    "Version": "2008-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}

# Keys that tie a request to known accounts or organizations (the caller's, the resource's, or, for a
# service principal, the account it acts for). IAM matches condition keys case-insensitively.
_ACCOUNT_OR_ORG_KEYS = frozenset({
    "aws:principalorgid", "aws:principalaccount", "aws:resourceorgid", "aws:resourceaccount",
    "aws:sourceaccount", "aws:sourceorgid", "s3:resourceaccount",
})
# o-org/r-root/ou-.../: the organization, then its organizational units.
_ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:resourceorgpaths", "aws:sourceorgpaths"})
_LIMITING_KEYS = _ACCOUNT_OR_ORG_KEYS | _ORG_PATH_KEYS | {"aws:principalarn"}
# True only for a request an AWS service makes with its own service principal: no credentials of anyone's make it.
_AWS_SERVICE_KEY = "aws:principalisawsservice"
# Every request through the endpoint comes from its own VPC: these say where, never who.
_NETWORK_KEYS = frozenset({"aws:sourcevpce", "aws:sourcevpc", "aws:sourceip", "aws:vpcsourceip"})
# Operators are matched exactly as AWS spells them (condition keys, above, case-insensitively).
_POSITIVE_OPERATORS = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"})
_NEGATIVE_OPERATORS = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
                                 "ArnNotLike"})
# The others expand * and ?
_LITERAL_OPERATORS = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringNotEquals",
                                "StringNotEqualsIgnoreCase"})


class PolicyError(ValueError):
    """The document is not JSON or not a policy; the message says why, in one line."""


@dataclass(frozen=True)
class OpenStatement:
    """An Allow statement open to anyone. index is 1-based, as a reader counts, and as the reason says."""

    index: int
    sid: str | None
    actions: tuple[str, ...]  # the Action values; for NotAction, each excluded action as "NOT <action>"
    reason: str


def parse_policy(document: str | dict | None) -> dict:
    """The policy as a dict with a list of statements; None is the default full-access endpoint policy."""
    if document is None:
        return copy.deepcopy(DEFAULT_ENDPOINT_POLICY)
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise PolicyError(f"policy document is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise PolicyError(f"policy document is a JSON {_json_type(document)}, not an object")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        found = "no Statement" if statements is None else f"a Statement that is a JSON {_json_type(statements)}"
        raise PolicyError(f"policy document has {found}; expected a list of statements or one statement")
    for number, statement in enumerate(statements, 1):
        if not isinstance(statement, dict):
            raise PolicyError(f"policy statement {number} is a JSON {_json_type(statement)}, not an object")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError(f"policy statement {number} has Effect {statement.get('Effect')!r}; "
                              "expected 'Allow' or 'Deny'")
    return {**document, "Statement": statements}


def open_statements(document: str | dict | None, service: str | None = None) -> list[OpenStatement]:
    """Allow statements open to anyone that neither their resources, nor a condition, limit to known accounts or
    organizations, and that no Deny narrows. `service`: the one service whose actions the endpoint carries (a
    gateway endpoint's "s3" or "dynamodb"), so that a Deny of "s3:*" covers an Allow of "*"."""
    statements = parse_policy(document)["Statement"]
    narrowing_denies = [s for s in statements if s["Effect"] == "Deny" and _deny_limits_to_known(s)]
    found = []
    for index, statement in enumerate(statements, 1):
        if statement["Effect"] != "Allow" or not _open_to_anyone(statement) or _resources_pinned(statement):
            continue
        objections = [_why_not_limiting(*condition) for condition in _conditions(statement)]
        if None in objections or _narrowed(statement, narrowing_denies, service):
            continue
        sid = None if statement.get("Sid") is None else str(statement["Sid"])
        reason = _reason(index, sid, statement, [objection for objection in objections if objection])
        found.append(OpenStatement(index, sid, _action_names(statement), reason))
    return found


def _open_to_anyone(statement: dict) -> bool:
    # NotPrincipal on an Allow grants everyone but the listed few; a missing Principal defaults to "*".
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal", "*")
    if isinstance(principal, dict):  # {"Service": ...} and the like name specific principals
        return "*" in _as_list(principal.get("AWS"))
    return "*" in _as_list(principal)


def _conditions(statement: dict) -> list[tuple[str, str, list[str]]]:
    """(operator, key, values) for each key of the Condition block; malformed parts limit nothing."""
    block = statement.get("Condition")
    if not isinstance(block, dict):
        return []
    return [(operator, key, _as_list(values))
            for operator, keys in block.items() if isinstance(keys, dict)
            for key, values in keys.items()]


def _split_operator(operator: str) -> tuple[str, str, bool]:
    """("ForAnyValue" | "ForAllValues" | "", base operator, whether it ends in IfExists)."""
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    return qualifier, base.removesuffix("IfExists"), if_exists


def _resources_pinned(statement: dict) -> bool:
    """Whether every resource the statement names is named in full: an ARN whose account is written out, or an S3
    bucket (or its objects) by name (S3's ARNs carry no account). Naming one's own buckets or tables is how AWS's
    examples limit a gateway endpoint, whose principal can only be "*"."""
    if "NotResource" in statement or "Resource" not in statement:
        return False
    resources = _as_list(statement["Resource"])
    return bool(resources) and all(_resource_pinned(resource) for resource in resources)


def _resource_pinned(resource: str) -> bool:
    if "${" in resource:
        return False
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    service, account, rest = parts[2], parts[4], parts[5]
    if service == "s3" and not account:
        bucket = rest.split("/", 1)[0]
        return bool(bucket) and "*" not in bucket and "?" not in bucket
    return bool(account) and "*" not in account and "?" not in account


def _only_aws_services(operator: str, key: str, values: list[str], allowed: str) -> bool:
    """Bool(IfExists) aws:PrincipalIsAWSService with only `allowed` ("true": the Allow is for AWS services only;
    "false": the Deny spares AWS services only)."""
    qualifier, base, _ = _split_operator(operator)
    return (key.lower() == _AWS_SERVICE_KEY and base == "Bool" and not qualifier and bool(values)
            and all(value.lower() == allowed for value in values))


def _why_not_limiting(operator: str, key: str, values: list[str]) -> str | None:
    """None when this condition limits the statement to known principals or resources, else why not."""
    qualifier, base, if_exists = _split_operator(operator)
    if _only_aws_services(operator, key, values, "true"):
        return f"{operator} on {key} passes when the key is absent" if if_exists else None
    if key.lower() in _NETWORK_KEYS:
        return f"{key} limits nothing inside an endpoint policy"
    if key.lower() not in _LIMITING_KEYS:
        return f"{key} does not name principals or resources"
    if base not in _POSITIVE_OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return f"{operator} on {key} is not a positive match"
    # IfExists and ForAllValues both pass when the key is absent (anonymous callers, callers in no
    # organization), so they let in exactly the unknown principals this rule looks for.
    if if_exists or qualifier == "ForAllValues":
        return f"{operator} on {key} passes when the key is absent"
    if not values:
        return f"{operator} on {key} has no value"
    if any("${" in value for value in values):
        return f"{operator} on {key} compares with a policy variable, which names whoever calls"
    unpinned = [value for value in values if not _pins(base, key, value)]
    if unpinned:
        return f"{operator} on {key} matches any account or organization: {_quoted(unpinned)}"
    return None


def _pins(operator: str, key: str, value: str) -> bool:
    """Whether a condition value names one account or organization (so a pattern like '*' does not)."""
    if "${" in value:  # a policy variable such as ${aws:PrincipalAccount} names whoever calls
        return False
    if operator in _LITERAL_OPERATORS:
        return True
    key = key.lower()
    if key in _ACCOUNT_OR_ORG_KEYS:
        pinned = value
    elif key in _ORG_PATH_KEYS:  # o-org/r-root/ou-.../: the organization must be fixed
        pinned = value.split("/", 1)[0]
    else:  # aws:PrincipalArn, arn:partition:service:region:account:resource: the account must be fixed
        parts = value.split(":", 5)
        pinned = parts[4] if len(parts) == 6 else ""
    return bool(pinned) and "*" not in pinned and "?" not in pinned


def _deny_limits_to_known(deny: dict) -> bool:
    """Whether a Deny refuses everyone (no condition) or everyone outside known accounts or organizations."""
    if "NotPrincipal" in deny or not _open_to_anyone(deny):
        return False
    if "Condition" not in deny:
        return True
    # Several conditions are ANDed: the Deny refuses whoever fails every one. It still refuses every unknown
    # principal when each condition is "not one of these known accounts or organizations" (so what passes is
    # known to one of them), or "not an AWS service" (AWS's data perimeter examples spare services so).
    conditions = _conditions(deny)
    refusing = [c for c in conditions if not _only_aws_services(*c, "false")]
    return bool(refusing) and all(_refuses_the_unknown(*condition) for condition in refusing)


def _refuses_the_unknown(operator: str, key: str, values: list[str]) -> bool:
    qualifier, base, _ = _split_operator(operator)
    # A negative operator is true when the key is absent, with or without IfExists, and so is ForAllValues;
    # ForAnyValue is false when the key is absent, so such a Deny lets anonymous callers through.
    return (base in _NEGATIVE_OPERATORS and qualifier in ("", "ForAllValues") and key.lower() in _LIMITING_KEYS
            and bool(values) and all(_pins(base, key, value) for value in values))


def _narrowed(allow: dict, denies: list[dict], service: str | None = None) -> bool:
    """Whether, for each action the Allow grants, one narrowing Deny covers it on all the Allow's resources. An
    endpoint that carries one service's actions only (`service`) is granted no more than "<service>:*"."""
    resources = _granted(allow, "Resource")
    actions = _granted(allow, "Action")
    if service:
        actions = [f"{service}:*" if action == "*" else action for action in actions]
    return all(any(_covers(deny, "Action", action, fold=True)
                   and all(_covers(deny, "Resource", resource, fold=False) for resource in resources)
                   for deny in denies)
               for action in actions)


def _granted(allow: dict, element: str) -> list[str]:
    # "everything except ..." is only covered by what covers everything, so it stands for "*"; so does a
    # missing element, which an Allow is judged as if it were "*".
    return ["*"] if f"Not{element}" in allow else _as_list(allow.get(element, "*"))


def _covers(deny: dict, element: str, granted: str, fold: bool) -> bool:
    # A Deny with NotAction or NotResource, or with neither element, is not trusted to cover anything.
    if f"Not{element}" in deny or element not in deny:
        return False
    return any(_wildcard_covers(pattern, granted, fold) for pattern in _as_list(deny[element]))


def _wildcard_covers(pattern: str, granted: str, fold: bool) -> bool:
    """Whether every name that `granted` (itself maybe a pattern) stands for matches `pattern`.

    IAM wildcards are * and ? only (fnmatch would also read [...]); a ? in the pattern must not swallow a
    * of the granted pattern, since that * may stand for more than one character or none.
    """
    if fold:
        pattern, granted = pattern.lower(), granted.lower()
    regex = "".join(".*" if char == "*" else "[^*]" if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, granted, flags=re.DOTALL) is not None


def _action_names(statement: dict) -> tuple[str, ...]:
    if "NotAction" in statement:
        return tuple(f"NOT {action}" for action in _as_list(statement["NotAction"]))
    return tuple(_as_list(statement.get("Action", "*")))


def _reason(index: int, sid: str | None, statement: dict, objections: list[str]) -> str:
    label = f"statement {index}" + (f" (Sid {sid!r})" if sid is not None else "")
    if "NotPrincipal" in statement:
        who = f"every principal except NotPrincipal {json.dumps(statement['NotPrincipal'], sort_keys=True)}"
    elif "Principal" not in statement:
        who = "any principal (it has no Principal element)"
    elif isinstance(statement["Principal"], dict):
        who = f"principal {json.dumps(statement['Principal'], sort_keys=True)}"
    else:
        who = f"principal {_quoted(statement['Principal'])}"
    grant = (f"{label} allows {who} to do {_element_text(statement, 'Action', 'every action except')}"
             f" on {_element_text(statement, 'Resource', 'every resource except')}")
    if not objections:
        return f"{grant} with no condition that limits it to known principals or resources"
    keys = list(dict.fromkeys(key for _, key, _ in _conditions(statement)))
    if all(key.lower() in _NETWORK_KEYS for key in keys):
        only = (f"condition is on {keys[0]}, which limits" if len(keys) == 1
                else f"conditions are on {' and '.join(keys)}, which limit")
        return f"{grant}, but its only {only} nothing inside an endpoint policy"
    return f"{grant}, but no condition limits it to known principals or resources: {'; '.join(objections)}"


def _element_text(statement: dict, element: str, everything_except: str) -> str:
    if f"Not{element}" in statement:
        return f"{everything_except} {_quoted(statement[f'Not{element}'])}"
    return _quoted(statement.get(element, "*"))


def _quoted(value: Any) -> str:
    return ", ".join(repr(item) for item in _as_list(value))


def _as_list(value: Any) -> list[str]:
    """A policy value, single or a list, as a list of strings (JSON numbers and booleans as written)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [item if isinstance(item, str) else json.dumps(item) for item in items]


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number", dict: "object"}
    return names.get(type(value), "null")
