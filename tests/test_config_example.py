"""The config's keys: config.example.toml documents every one and is itself valid; each is a flag's name."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import cli
from auditor.config import FLAG_KEYS, OTHER_KEYS, SUPPRESSION_KEYS, load, parse
from auditor.errors import UserError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_config_is_valid() -> None:
    config = load(EXAMPLE)

    assert config.flag_defaults["fail_on"] == "low"
    assert config.trusted_accounts == ()


def test_example_config_shows_every_key() -> None:
    text = EXAMPLE.read_text()

    shown = set(re.findall(r"^#?\s*\[*([a-z_]+)\]*\s*=", text, flags=re.MULTILINE))
    shown |= set(re.findall(r"^#?\s*\[\[?([a-z_]+)", text, flags=re.MULTILINE))

    missing = (set(FLAG_KEYS) | set(OTHER_KEYS) | set(SUPPRESSION_KEYS)) - shown
    assert not missing, f"config.example.toml does not show {sorted(missing)}"


def test_every_key_the_example_shows_commented_out_is_valid_once_uncommented() -> None:
    lines = EXAMPLE.read_text().splitlines()
    flag_line = re.compile(r"^# ([a-z_]+) = ")

    uncommented = [line[2:] if (m := flag_line.match(line)) and m.group(1) in FLAG_KEYS else line for line in lines]
    config = parse(tomllib.loads("\n".join(uncommented)))

    assert set(config.flag_defaults) == set(FLAG_KEYS)


def test_every_flag_key_is_the_name_of_a_parameter_of_collect_or_audit() -> None:
    parameters = {param.name for command in (cli.commands["collect"], cli.commands["audit"])
                  for param in command.params}

    assert set(FLAG_KEYS) <= parameters, "a config key no command reads would be silently ignored"


@pytest.mark.parametrize(("key", "value", "expected"), [
    pytest.param("accounts", ["12345"], "a list of 12-digit account ids as strings", id="short_account_id"),
    pytest.param("accounts", [111122223333], "a list of 12-digit account ids as strings", id="account_as_number"),
    pytest.param("role_name", "bad role!", "an IAM role name", id="bad_role_name"),
    pytest.param("org", "yes", "true or false", id="org_not_boolean"),
    pytest.param("external_id", "x", "2 to 1224 characters", id="short_external_id"),
    pytest.param("role_session_name", "a b", "2 to 64 characters", id="bad_session_name"),
    pytest.param("shard_dir", 7, "the path of a directory", id="shard_dir_not_a_path"),
    # Final newlines (`$` matched before them) and other scripts' digits and letters (\d and \w matched them).
    pytest.param("accounts", ["111122223333\n"], "a list of 12-digit account ids as strings", id="account_newline"),
    pytest.param("accounts", ["\u0661" * 12], "a list of 12-digit account ids as strings", id="arabic_indic_digits"),
    pytest.param("role_name", "NetworkAudit\n", "an IAM role name", id="role_name_newline"),
    pytest.param("role_session_name", "n\u00e4chtlich", "2 to 64 characters", id="session_name_not_ascii"),
])
def test_a_bad_account_setting_is_one_line_naming_the_key(key: str, value: Any, expected: str) -> None:
    with pytest.raises(UserError) as raised:
        parse({key: value}, Path("auditor.toml"))

    assert str(raised.value).startswith(f"config auditor.toml: {key} must be {expected}")
    assert "\n" not in str(raised.value)
