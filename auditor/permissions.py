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
