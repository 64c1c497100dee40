"""AWS Security Finding Format: a JSON array of findings for Security Hub's BatchImportFindings, as they are."""

from __future__ import annotations

import json
import re
from typing import Any

from auditor import __version__
from auditor.engine import Finding
from auditor.reports import Report

SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = "Software and Configuration Checks/AWS Security Best Practices/Network Reachability"
LABELS = {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW", "info": "INFORMATIONAL"}
TITLE_LIMIT, DESCRIPTION_LIMIT, RECOMMENDATION_LIMIT, NOTE_LIMIT = 256, 1024, 512, 512
# Security Hub's own resource types where one exists; the others are "Other", as its documentation asks.
RESOURCE_TYPES = {
    "AWS::EC2::VPC": "AwsEc2Vpc",
    "AWS::EC2::Subnet": "AwsEc2Subnet",
    "AWS::EC2::RouteTable": "AwsEc2RouteTable",
    "AWS::EC2::SecurityGroup": "AwsEc2SecurityGroup",
    "AWS::EC2::VPCPeeringConnection": "AwsEc2VpcPeeringConnection",
    "AWS::EC2::VPCEndpointService": "AwsEc2VpcEndpointService",
    "AWS::EC2::TransitGateway": "AwsEc2TransitGateway",
    "AWS::EC2::VPNConnection": "AwsEc2VpnConnection",
    "AWS::EC2::ClientVpnEndpoint": "AwsEc2ClientVpnEndpoint",
    "AWS::::Account": "AwsAccount",
}
# A finding's ProductArn names the region it is imported into; global resources go to the partition's home.
HOME_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


def render(report: Report) -> str:
    return json.dumps(findings(report), indent=2, ensure_ascii=False, default=str) + "\n"


def findings(report: Report) -> list[dict[str, Any]]:
    return [_finding(report, f) for f in report.result.findings]


def _finding(report: Report, finding: Finding) -> dict[str, Any]:
    partition = str(report.snapshot.get("accounts", {}).get(finding.account_id, {}).get("partition", "aws"))
    region = finding.region if finding.region != "global" else HOME_REGIONS.get(partition, "us-east-1")
    account = finding.account_id
    resource: dict[str, Any] = {"Type": RESOURCE_TYPES.get(finding.resource_type, "Other"), "Id": _resource_id(finding),
                                "Partition": partition}
    if finding.region != "global":
        resource["Region"] = finding.region
    record: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding.id,
        "ProductArn": f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default",
        "GeneratorId": finding.rule_id,
        "AwsAccountId": account,
        "Types": [FINDING_TYPE],
        "CreatedAt": report.generated_at,
        "UpdatedAt": report.generated_at,
        "Severity": {"Label": LABELS[finding.severity], "Original": finding.severity},
        "Title": clip(finding.title or finding.rule_name, TITLE_LIMIT),
        "Description": clip(finding.message, DESCRIPTION_LIMIT),
        "Resources": [resource],
        "Workflow": {"Status": "SUPPRESSED" if finding.suppressed else "NEW"},
        "RecordState": "ACTIVE",
        "ProductFields": {"auditor/RuleId": finding.rule_id, "auditor/RuleName": finding.rule_name,
                          "auditor/ResourceType": finding.resource_type, "auditor/Version": __version__},
    }
    if finding.remediation:
        record["Remediation"] = {"Recommendation": {"Text": clip(unwrap(finding.remediation), RECOMMENDATION_LIMIT)}}
    if finding.suppressed and finding.suppression:
        expires = finding.suppression.get("expires")
        reason = str(finding.suppression.get("reason", "")) + (f" (until {expires})" if expires else "")
        record["Note"] = {"Text": clip(f"Suppressed: {reason}", NOTE_LIMIT), "UpdatedBy": "auditor",
                          "UpdatedAt": report.generated_at}
    return record


def _resource_id(finding: Finding) -> str:
    if finding.resource_arn:
        return finding.resource_arn
    if finding.resource_type == "AWS::::Account":
        return f"AWS::::Account:{finding.account_id}"  # how Security Hub's own checks name an account
    return finding.resource_id


def unwrap(text: str) -> str:
    """Join the hard-wrapped lines of each paragraph: consoles wrap text themselves."""
    return "\n\n".join(re.sub(r"\s*\n\s*", " ", block.strip()) for block in re.split(r"\n\s*\n", text.strip()))


def clip(text: str, limit: int) -> str:
    """Text cut to the field's limit, with an ellipsis when cut (the API refuses longer values)."""
    text = text.strip() or "-"
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
