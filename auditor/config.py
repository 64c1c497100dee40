"""The TOML config file: flag defaults, trusted accounts, rule options, suppressions. Every key is checked."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor import account_request
from auditor.account_request import ACCOUNT_ID
from auditor.engine import SEVERITIES, Suppression, resolve_rule
from auditor.errors import UserError
from auditor.reports import RENDERERS

FORMATS = tuple(sorted(RENDERERS))

# Whole-number keys: key -> the largest value (the smallest is 1); the flags of that name take the same range.
WHOLE_NUMBERS = {"max_workers": 256, "max_workers_per_account": 256, "max_workers_per_region": 256, "processes": 64}
# Keys that give command-line flags their defaults: key -> (type check, description of the type).
FLAG_KEYS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "profile": (str, "a string"),
    "regions": (list, "a list of region names"),
    **{name: (int, f"a whole number from 1 to {top}") for name, top in WHOLE_NUMBERS.items() if name != "processes"},
    "format": (str, f"one of {', '.join(FORMATS)}"),
    "fail_on": (str, f"one of {', '.join(SEVERITIES)}"),
    "select": (list, "a list of rule ids or names"),
    "ignore": (list, "a list of rule ids or names"),
    "exit_zero": (bool, "true or false"),
    "history": (str, "the path of a history file (SQLite)"),
    "role_name": (str, "an IAM role name (letters, digits and +=,.@_-, optionally under a path)"),
    "accounts": (list, "a list of 12-digit account ids as strings"),
    "org": (bool, "true or false"),
    "external_id": (str, "2 to 1224 characters of letters, digits and +=,.@:/_-"),
    "role_session_name": (str, "2 to 64 characters of letters, digits and +=,.@_-"),
    "shard_dir": (str, "the path of a directory"),
    "processes": (int, f"a whole number from 1 to {WHOLE_NUMBERS['processes']}"),
}
# String keys checked against auditor.account_request's pattern of that name.
ACCOUNT_PATTERNS = {"role_name": "ROLE_NAME", "external_id": "EXTERNAL_ID", "role_session_name": "SESSION_NAME"}
OTHER_KEYS = ("trusted_accounts", "rules", "suppressions")
SUPPRESSION_KEYS = ("rule", "resource", "reason", "expires")


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    flag_defaults: dict[str, Any] = field(default_factory=dict)
    trusted_accounts: tuple[str, ...] = ()
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    suppressions: tuple[Suppression, ...] = ()


def load(path: Path) -> Config:
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except OSError as error:
        raise UserError(f"cannot read config {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"config {path} is not valid TOML: {error}") from None
    return parse(raw, path)


def parse(raw: dict[str, Any], path: Path | None = None) -> Config:
    where = f"config {path}" if path else "config"
    unknown = sorted(set(raw) - set(FLAG_KEYS) - set(OTHER_KEYS))
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} (see config.example.toml)")
    defaults = {name: _flag_value(name, raw[name], where) for name in FLAG_KEYS if name in raw}
    return Config(
        path=path,
        flag_defaults=defaults,
        trusted_accounts=_accounts(raw.get("trusted_accounts", []), where),
        rule_options=_rule_options(raw.get("rules", {}), where),
        suppressions=tuple(_suppression(item, n, where) for n, item in enumerate(raw.get("suppressions", []), 1)),
    )


def _flag_value(name: str, value: Any, where: str) -> Any:
    expected, description = FLAG_KEYS[name]
    valid = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if valid and name in WHOLE_NUMBERS:
        valid = 1 <= value <= WHOLE_NUMBERS[name]
    if valid and name == "format":
        valid = value in FORMATS
    if valid and name == "fail_on":
        valid = value in SEVERITIES
    if valid and isinstance(value, list):
        valid = all(isinstance(v, str) for v in value)
    if valid and name == "accounts":
        valid = all(ACCOUNT_ID.match(v) for v in value)
    if valid and name in ACCOUNT_PATTERNS:
        valid = bool(getattr(account_request, ACCOUNT_PATTERNS[name]).match(value))
    if valid and name == "shard_dir":
        valid = bool(value.strip())
    if not valid:
        raise UserError(f"{where}: {name} must be {description}, not {value!r}")
    if name in ("select", "ignore"):
        for rule_name in value:
            try:
                resolve_rule(rule_name)
            except UserError:
                raise UserError(f"{where}: {name}: unknown rule {rule_name!r} (see `auditor rules`)") from None
    return value


def _accounts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and ACCOUNT_ID.match(v) for v in value):
        raise UserError(f"{where}: trusted_accounts must be a list of 12-digit account ids as strings")
    return tuple(value)


def _rule_options(value: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise UserError(f"{where}: [rules] must be a table of rule ids")
    options: dict[str, dict[str, Any]] = {}
    for key, settings in value.items():
        try:
            rule = resolve_rule(key)
        except UserError:
            raise UserError(f"{where}: [rules.{key}]: unknown rule {key!r} (see `auditor rules`)") from None
        if not isinstance(settings, dict):
            raise UserError(f"{where}: [rules.{key}] must be a table of options")
        for option, setting in settings.items():
            if option not in rule.options:
                known = ", ".join(sorted(rule.options)) or "none"
                raise UserError(f"{where}: [rules.{key}]: unknown option {option!r} (options of {rule.id}: {known})")
            default = rule.options[option]
            if type(setting) is not type(default) or (isinstance(setting, int) and setting < 0):
                raise UserError(f"{where}: [rules.{key}] {option} must be like {default!r}, not {setting!r}")
        options[rule.id] = dict(settings)
    return options


def _suppression(item: Any, number: int, where: str) -> Suppression:
    label = f"{where}: suppressions[{number}]"
    if not isinstance(item, dict):
        raise UserError(f"{label} must be a table with rule, resource and reason")
    unknown = sorted(set(item) - set(SUPPRESSION_KEYS))
    if unknown:
        raise UserError(f"{label}: unknown key {unknown[0]!r} (allowed: {', '.join(SUPPRESSION_KEYS)})")
    for required in ("rule", "resource", "reason"):
        if not isinstance(item.get(required), str) or not item[required].strip():
            raise UserError(f"{label}: {required} is required and must be a non-empty string")
    expires = item.get("expires")
    if expires is not None:
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise UserError(f"{label}: expires must be a date (YYYY-MM-DD), not {expires!r}") from None
        elif isinstance(expires, dt.datetime):
            expires = expires.date()
        elif not isinstance(expires, dt.date):
            raise UserError(f"{label}: expires must be a date (YYYY-MM-DD), not {expires!r}")
    try:
        rule = resolve_rule(item["rule"])
    except UserError:
        raise UserError(f"{label}: unknown rule {item['rule']!r} (see `auditor rules`)") from None
    return Suppression(rule=rule.id, resource=item["resource"], reason=item["reason"], expires=expires)
