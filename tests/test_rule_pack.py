"""Meta-tests of the rule pack: every rule documented, tested, uniquely named; the README catalogue current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.engine import RULES, load_rules
from auditor.reports.catalogue import BEGIN, END, markdown

ROOT = Path(__file__).resolve().parents[1]
RULE_TESTS = "\n".join(p.read_text() for p in (ROOT / "tests" / "rules").glob("test_*.py"))
load_rules()


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_is_documented(rule_id: str) -> None:
    rule = RULES[rule_id]

    assert re.fullmatch(r"[A-Z]+[0-9]{3}", rule.id)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name)
    assert rule.summary.endswith(".") and len(rule.summary) <= 100
    assert len(rule.section("Why it matters")) > 80
    assert "aws " in rule.section("Remediation"), "remediation shows the AWS CLI command that fixes it"


@pytest.mark.parametrize("rule_id", sorted(set(RULES) - {"AUD001"}))
def test_rule_has_a_test_table(rule_id: str) -> None:
    assert re.search(rf'run_rule\(\s*"{rule_id}"|"{rule_id}"', RULE_TESTS), f"no test in tests/rules names {rule_id}"


def test_rule_ids_and_names_are_unique() -> None:
    assert len({r.name for r in RULES.values()}) == len(RULES)
    assert all(key == rule.id for key, rule in RULES.items())


def test_readme_catalogue_is_current() -> None:
    readme = (ROOT / "README.md").read_text()

    current = readme[readme.index(BEGIN):readme.index(END) + len(END)] + "\n"

    assert current == markdown(), "run `auditor rules --markdown` and paste it into README.md"


def test_readme_permissions_match_the_collectors() -> None:
    from auditor.permissions import policy_json

    readme = (ROOT / "README.md").read_text()

    shown = readme.split("<!-- permissions:begin -->\n```json\n", 1)[1].split("```\n<!-- permissions:end -->")[0]

    assert shown == policy_json()
