"""The least-privilege IAM policy, generated from the collectors themselves. Pure."""

from __future__ import annotations

import json
from typing import Any

from auditor.collect.runner import REGISTRY

# Calls the tool makes around the collectors (GetCallerIdentity needs no permission).
BASE_ACTIONS = ("ec2:DescribeRegions",)


def required_actions() -> list[str]:
    actions = set(BASE_ACTIONS)
    for collector in REGISTRY.values():
        actions.update(collector.iam_actions)
    return sorted(actions)


def policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AwsNetworkAuditorReadOnly",
            "Effect": "Allow",
            "Action": required_actions(),
            "Resource": "*",
        }],
    }


def policy_json() -> str:
    return json.dumps(policy(), indent=2) + "\n"


def caller_policy(role_name: str, organization: bool, partition: str = "aws") -> dict[str, Any]:
    """What the caller needs to read many accounts: AssumeRole on their role (and, for --org, ListAccounts).

    The role in each member account gets `policy()`; this one is for the caller only, so that no member role
    can assume roles. The role's ARN is in `partition` (aws-us-gov in GovCloud, aws-cn in China).
    """
    statements: list[dict[str, Any]] = [{
        "Sid": "AwsNetworkAuditorAssumeMemberRole",
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": f"arn:{partition}:iam::*:role/{role_name}",
    }]
    if organization:
        statements.append({
            "Sid": "AwsNetworkAuditorListAccounts",
            "Effect": "Allow",
            "Action": "organizations:ListAccounts",
            "Resource": "*",
        })
    return {"Version": "2012-10-17", "Statement": statements}


def caller_policy_json(role_name: str, organization: bool, partition: str = "aws") -> str:
    return json.dumps(caller_policy(role_name, organization, partition), indent=2) + "\n"
