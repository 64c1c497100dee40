"""asff: findings that botocore's own Security Hub model accepts for BatchImportFindings, within its limits."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.model import Shape
from botocore.validate import validate_parameters

from auditor.reports import RENDERERS, Report
from tests.reports.conftest import GENERATED_AT

LIMITS = {"Title": 256, "Description": 1024}
RECOMMENDATION_LIMIT = 512


def _validate(findings: list[dict[str, Any]]) -> None:
    """botocore's own check of the request (types, required members), plus the model's enums, which it skips."""
    client = boto3.client("securityhub", region_name="us-east-1")
    shape = client.meta.service_model.operation_model("BatchImportFindings").input_shape
    params = {"Findings": findings}
    validate_parameters(params, shape)
    assert _enum_errors(params, shape, "") == []


def _enum_errors(value: Any, shape: Shape, path: str) -> list[str]:
    if shape.type_name == "structure":
        return [error for name, member in shape.members.items() if name in value
                for error in _enum_errors(value[name], member, f"{path}.{name}")]
    if shape.type_name == "list":
        return [error for i, item in enumerate(value) for error in _enum_errors(item, shape.member, f"{path}[{i}]")]
    if shape.type_name == "map":
        return [error for key, item in value.items() for error in _enum_errors(item, shape.value, f"{path}.{key}")]
    enum = getattr(shape, "enum", None)
    return [f"{path}: {value!r} is not one of {enum}"] if enum and value not in enum else []


def _assert_limits(finding: dict[str, Any]) -> None:
    """botocore checks types, required members and enums, not maximum lengths: these are the API's."""
    for field, limit in LIMITS.items():
        assert 1 <= len(finding[field]) <= limit, field
    assert len(finding["Remediation"]["Recommendation"]["Text"]) <= RECOMMENDATION_LIMIT
    assert len(finding["Id"]) <= 512 and len(finding["GeneratorId"]) <= 512


def _changed(report: Report, **fields: Any) -> Report:
    first = dataclasses.replace(report.result.findings[0], **fields)
    return dataclasses.replace(report, result=dataclasses.replace(
        report.result, findings=(first, *report.result.findings[1:])))


def test_findings_are_valid_for_batch_import_findings(report) -> None:
    findings = json.loads(RENDERERS["asff"](report))

    _validate(findings)
    for finding in findings:
        _assert_limits(finding)
    assert len(findings) == len(report.result.findings)


def test_the_model_would_catch_a_broken_finding(report) -> None:
    findings = json.loads(RENDERERS["asff"](report))
    del findings[0]["ProductArn"]
    findings[1]["Severity"]["Label"] = "URGENT"

    with pytest.raises(ParamValidationError, match="ProductArn"):
        _validate(findings)
    del findings[0]
    with pytest.raises(AssertionError, match="URGENT"):
        _validate(findings)


def test_findings_round_trip_ids_severities_and_resources(report) -> None:
    findings = json.loads(RENDERERS["asff"](report))

    source = report.result.findings
    assert [f["Id"] for f in findings] == [f.id for f in source]
    assert [f["Severity"]["Label"] for f in findings] == ["HIGH", "HIGH", "MEDIUM", "INFORMATIONAL"]
    assert [f["GeneratorId"] for f in findings] == [f.rule_id for f in source]
    assert {f["ProductArn"] for f in findings} == {
        "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"}
    assert {(f["SchemaVersion"], f["CreatedAt"], f["UpdatedAt"], f["RecordState"]) for f in findings} == {
        ("2018-10-08", GENERATED_AT, GENERATED_AT, "ACTIVE")}
    assert findings[0]["Resources"] == [{"Type": "AwsEc2VpcPeeringConnection", "Id": source[0].resource_arn,
                                         "Partition": "aws", "Region": "us-east-1"}]
    assert findings[0]["ProductFields"]["auditor/RuleName"] == "peering-missing-route"


def test_suppressed_finding_is_imported_suppressed_with_its_reason(report) -> None:
    findings = json.loads(RENDERERS["asff"](report))

    assert [f["Workflow"]["Status"] for f in findings] == ["NEW", "NEW", "SUPPRESSED", "NEW"]
    assert findings[2]["Note"]["Text"].startswith("Suppressed: names resolve through Route 53 Resolver rules")


def test_account_finding_names_the_account_as_security_hub_does(report) -> None:
    finding = json.loads(RENDERERS["asff"](report))[3]

    assert finding["Resources"][0]["Type"] == "AwsAccount"
    assert finding["Resources"][0]["Id"] == "AWS::::Account:111122223333"


def test_long_texts_are_clipped_to_the_api_limits(report) -> None:
    long = _changed(report, title="t" * 300, message="m " * 1000, remediation="r " * 400)

    finding = json.loads(RENDERERS["asff"](long))[0]

    _validate([finding])
    _assert_limits(finding)
    assert len(finding["Title"]) == 256 and finding["Title"].endswith("…")
    assert finding["Description"].endswith("…")


def test_global_resource_is_imported_in_the_partition_home_region(report) -> None:
    finding = json.loads(RENDERERS["asff"](_changed(report, region="global")))[0]

    assert finding["ProductArn"].startswith("arn:aws:securityhub:us-east-1:")
    assert "Region" not in finding["Resources"][0]
