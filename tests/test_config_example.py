"""config.example.toml documents every key the config accepts, and is itself a valid config."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.config import FLAG_KEYS, OTHER_KEYS, SUPPRESSION_KEYS, load

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
