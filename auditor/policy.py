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
    "aws:sourceaccount", "aws:sourceorgid",
})
_LIMITING_KEYS = _ACCOUNT_OR_ORG_KEYS | {"aws:principalorgpaths", "aws:principalarn"}
# Every request through the endpoint comes from its own VPC: these say where, never who.
_NETWORK_KEYS = frozenset({"aws:sourcevpce", "aws:sourcevpc", "aws:sourceip", "aws:vpcsourceip"})
# Operators are matched exactly as AWS spells them (condition keys, above, case-insensitively).
_POSITIVE_OPERATORS = frozenset({"StringEquals", "StringLike", "ArnEquals", "ArnLike"})
_NEGATIVE_OPERATORS = frozenset({"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"})
_LITERAL_OPERATORS = frozenset({"StringEquals", "StringNotEquals"})  # the others expand * and ?


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


def open_statements(document: str | dict | None) -> list[OpenStatement]:
    """Allow statements open to anyone that no condition limits to known principals and no Deny narrows."""
    statements = parse_policy(document)["Statement"]
    narrowing_denies = [s for s in statements if s["Effect"] == "Deny" and _deny_limits_to_known(s)]
    found = []
    for index, statement in enumerate(statements, 1):
        if statement["Effect"] != "Allow" or not _open_to_anyone(statement):
            continue
        objections = [_why_not_limiting(*condition) for condition in _conditions(statement)]
        if None in objections or _narrowed(statement, narrowing_denies):
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


def _why_not_limiting(operator: str, key: str, values: list[str]) -> str | None:
    """None when this condition limits the statement to known principals or resources, else why not."""
    qualifier, base, if_exists = _split_operator(operator)
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
    elif key == "aws:principalorgpaths":  # o-org/r-root/ou-.../: the organization must be fixed
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
    conditions = _conditions(deny)
    if len(conditions) != 1:  # several keys are ANDed: the Deny then refuses only some outsiders
        return False
    operator, key, values = conditions[0]
    qualifier, base, _ = _split_operator(operator)
    # A negative operator is true when the key is absent, with or without IfExists, and so is ForAllValues;
    # ForAnyValue is false when the key is absent, so such a Deny lets anonymous callers through.
    return (base in _NEGATIVE_OPERATORS and qualifier in ("", "ForAllValues") and key.lower() in _LIMITING_KEYS
            and bool(values) and all(_pins(base, key, value) for value in values))


def _narrowed(allow: dict, denies: list[dict]) -> bool:
    """Whether, for each action the Allow grants, one narrowing Deny covers it on all the Allow's resources."""
    resources = _granted(allow, "Resource")
    return all(any(_covers(deny, "Action", action, fold=True)
                   and all(_covers(deny, "Resource", resource, fold=False) for resource in resources)
                   for deny in denies)
               for action in _granted(allow, "Action"))


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
