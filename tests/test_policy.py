"""Endpoint policy analysis: which Allow statements are open to anyone, and why (VPCE001's helper)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auditor.policy import DEFAULT_ENDPOINT_POLICY, OpenStatement, PolicyError, open_statements, parse_policy

ORG_ID = "o-a1b2c3d4e5"
ACCOUNT = "111122223333"
LIMITED_TO_ORG = {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
DENY_OUTSIDE_ORG = {"StringNotEquals": {"aws:PrincipalOrgID": ORG_ID}}


def allow(**fields: Any) -> dict:
    """A compliant Allow statement (anyone, but only from the organization); None removes a field."""
    statement = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": LIMITED_TO_ORG}
    statement.update(fields)
    return {name: value for name, value in statement.items() if value is not None}


def deny(**fields: Any) -> dict:
    """A Deny of everything to everyone outside the organization; None removes a field."""
    return allow(**{"Effect": "Deny", "Condition": DENY_OUTSIDE_ORG, **fields})


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


UNCONDITIONED = "with no condition that limits it to known principals or resources"
OPEN = [  # (document, what the reason must say)
    pytest.param(None, UNCONDITIONED, id="missing-policy-is-the-default-full-access-one"),
    pytest.param(policy(allow(Condition=None)), UNCONDITIONED, id="principal-star"),
    pytest.param(policy(allow(Principal={"AWS": "*"}, Condition=None)), 'principal {"AWS": "*"}',
                 id="principal-aws-star"),
    pytest.param(policy(allow(Principal={"AWS": ["*"]}, Condition=None)), 'principal {"AWS": ["*"]}',
                 id="principal-aws-star-in-list"),
    pytest.param(policy(allow(Principal={"AWS": [ACCOUNT, "*"]}, Condition=None)), UNCONDITIONED,
                 id="star-among-accounts"),
    pytest.param(policy(allow(Principal=None, Condition=None)), "any principal (it has no Principal element)",
                 id="missing-principal"),
    pytest.param(policy(allow(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, Condition=None)),
                 "every principal except NotPrincipal", id="not-principal-is-everyone-else"),
    pytest.param(policy(allow(Condition={"StringLike": {"aws:PrincipalOrgID": "*"}})),
                 "StringLike on aws:PrincipalOrgID matches any account or organization: '*'", id="string-like-star"),
    pytest.param(policy(allow(Condition={"StringLike": {"aws:PrincipalOrgID": [ORG_ID, "*"]}})),
                 "StringLike on aws:PrincipalOrgID matches any account or organization: '*'",
                 id="string-like-star-among-values"),
    pytest.param(policy(allow(Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}})),
                 "matches any account or organization: 'arn:aws:iam::*:role/Admin'", id="arn-like-any-account"),
    pytest.param(policy(allow(Condition={"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}})),
                 "a policy variable, which names whoever calls", id="policy-variable-names-whoever-calls"),
    pytest.param(policy(allow(Condition=DENY_OUTSIDE_ORG)),
                 "StringNotEquals on aws:PrincipalOrgID is not a positive match", id="negative-operator-on-allow"),
    pytest.param(policy(allow(Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID}})),
                 "StringEqualsIfExists on aws:PrincipalOrgID passes when the key is absent",
                 id="if-exists-passes-when-key-absent"),
    pytest.param(policy(allow(Condition={"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": f"{ORG_ID}/*"}})),
                 "ForAllValues:StringLike on aws:PrincipalOrgPaths passes when the key is absent",
                 id="for-all-values-passes-when-key-absent"),
    pytest.param(policy(allow(Condition={"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}})),
                 "its only condition is on aws:SourceVpce, which limits nothing inside an endpoint policy",
                 id="source-vpce"),
    pytest.param(policy(allow(Condition={"StringEquals": {"aws:SourceVpc": "vpc-0a1b2c3d"},
                                         "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
                 "its only conditions are on aws:SourceVpc and aws:SourceIp, which limit nothing",
                 id="source-vpc-and-ip"),
    pytest.param(policy(allow(Condition={"Bool": {"aws:SecureTransport": "true"}})),
                 "aws:SecureTransport does not name principals or resources", id="unrelated-condition"),
    pytest.param(policy(allow(Action="s3:*", Condition=None), deny(Action="s3:PutObject")), "to do 's3:*'",
                 id="deny-of-one-action-does-not-narrow-service-wildcard"),
    pytest.param(policy(allow(Action="s3:*", Condition=None), deny(Action="s3:Get*")), "to do 's3:*'",
                 id="deny-of-narrower-wildcard-does-not-narrow"),
    pytest.param(policy(allow(Action="s3:Get*", Condition=None), deny(Action="s3:Get?*")), "to do 's3:Get*'",
                 id="deny-question-mark-does-not-swallow-allow-star"),
    pytest.param(policy(allow(NotAction="s3:DeleteObject", Action=None, Condition=None), deny(Action="s3:*")),
                 "to do every action except 's3:DeleteObject'", id="not-action-needs-deny-of-everything"),
    pytest.param(policy(allow(Condition=None), deny(Resource="arn:aws:s3:::bucket/*")), UNCONDITIONED,
                 id="deny-on-some-resources-does-not-narrow-all"),
    pytest.param(policy(allow(Condition=None), deny(Resource=None, NotResource="arn:aws:s3:::bucket/*")),
                 UNCONDITIONED, id="deny-with-not-resource-does-not-narrow"),
    pytest.param(policy(allow(Condition=None), deny(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
                 UNCONDITIONED, id="deny-of-one-principal-does-not-narrow"),
    pytest.param(policy(allow(Condition=None), deny(Condition={"ForAnyValue:StringNotEquals": {
        "aws:PrincipalOrgID": ORG_ID}})), UNCONDITIONED, id="deny-for-any-value-lets-absent-key-through"),
    pytest.param(policy(allow(Condition=None), deny(Condition={**DENY_OUTSIDE_ORG,
                                                               "Bool": {"aws:SecureTransport": "false"}})),
                 UNCONDITIONED, id="deny-with-two-conditions-refuses-only-some-outsiders"),
    pytest.param(policy(allow(Condition=None), deny(Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})),
                 UNCONDITIONED, id="deny-outside-endpoint-does-not-narrow"),
    pytest.param(policy(allow(Resource="arn:aws:s3:::*", Condition=None)), UNCONDITIONED, id="every-bucket"),
    pytest.param(policy(allow(Resource=["arn:aws:s3:::reports", "arn:aws:s3:::logs-*/*"], Condition=None)),
                 UNCONDITIONED, id="a-bucket-name-pattern-among-named-buckets"),
    pytest.param(policy(allow(Resource="arn:aws:dynamodb:us-east-1:*:table/Stock", Condition=None)), UNCONDITIONED,
                 id="table-in-any-account"),
    pytest.param(policy(allow(Condition={"BoolIfExists": {"aws:PrincipalIsAWSService": "true"}})),
                 "BoolIfExists on aws:PrincipalIsAWSService", id="aws-service-if-exists-passes-when-key-absent"),
    pytest.param(policy(allow(Condition=None), deny(Action="s3:*")), UNCONDITIONED,
                 id="deny-of-one-service-does-not-cover-every-action"),
    pytest.param(json.dumps(policy(allow(Condition=None))), UNCONDITIONED, id="policy-as-json-string"),
    pytest.param({"Statement": allow(Condition=None)}, UNCONDITIONED, id="single-statement-object"),
]

LIMITED = [
    pytest.param(policy(allow(Principal=ACCOUNT, Condition=None)), id="account-principal"),
    pytest.param(policy(allow(Principal={"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}, Condition=None)),
                 id="account-arn-principal"),
    pytest.param(policy(allow(Principal={"Service": "ec2.amazonaws.com"}, Condition=None)), id="service-principal"),
    pytest.param(policy(allow()), id="string-equals-principal-org-id"),
    pytest.param(policy(allow(Condition={"StringEquals": {"aws:principalorgid": ORG_ID}})),
                 id="condition-key-case-insensitive"),
    pytest.param(policy(allow(Condition={"ForAnyValue:StringLike": {
        "aws:PrincipalOrgPaths": f"{ORG_ID}/r-ab12/ou-ab12-11111111/*"}})), id="for-any-value-org-paths"),
    pytest.param(policy(allow(Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}})),
                 id="arn-like-fixed-account"),
    pytest.param(policy(allow(Condition={"StringEquals": {"aws:PrincipalAccount": [ACCOUNT, "444455556666"]}})),
                 id="principal-account-list"),
    pytest.param(policy(allow(Condition={"StringEquals": {"aws:ResourceAccount": int(ACCOUNT)}})),
                 id="resource-account-as-json-number"),
    pytest.param(policy(allow(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})), id="source-account"),
    pytest.param(policy(allow(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1", "aws:PrincipalOrgID": ORG_ID}})),
                 id="source-vpce-and-org-id"),
    pytest.param(policy(allow(Action="s3:GetObject", Condition=None), deny()),
                 id="deny-outside-org-narrows-allow"),
    pytest.param(policy(allow(Condition=None), deny(Condition={"StringNotEqualsIfExists": {
        "aws:PrincipalOrgID": ORG_ID}})), id="deny-if-exists-also-refuses-absent-key"),
    pytest.param(policy(allow(Action=["s3:GetObject", "s3:PutObject"], Condition=None),
                        deny(Action="S3:*", Condition=None)), id="unconditional-deny-case-insensitive-action"),
    pytest.param(policy(allow(Action=["s3:GetObject", "s3:PutObject"], Condition=None),
                        deny(Action="s3:Get*"), deny(Action="s3:Put*")), id="two-denies-cover-together"),
    pytest.param(policy(allow(Resource="arn:aws:s3:::bucket/*", Condition=None), deny(Resource="arn:aws:s3:::*")),
                 id="deny-covers-allowed-resources"),
    pytest.param(policy(allow(NotAction="s3:DeleteObject", Action=None, Condition=None), deny()),
                 id="not-action-narrowed-by-deny-of-everything"),
    pytest.param(policy(deny(Condition=None)), id="only-a-deny"),
    # Found by a review on 2026-11-27: each was reported as open.
    pytest.param(policy(allow(Action=["s3:GetObject", "s3:PutObject"], Condition=None,
                              Resource=["arn:aws:s3:::amzn-s3-demo-bucket1", "arn:aws:s3:::amzn-s3-demo-bucket1/*"])),
                 id="named-buckets-the-s3-guides-example"),
    pytest.param(policy(allow(Action="dynamodb:GetItem", Condition=None,
                              Resource=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/StockTable")),
                 id="a-table-of-a-known-account"),
    pytest.param(policy(allow(), allow(Condition={"Bool": {"aws:PrincipalIsAWSService": "true"}})),
                 id="org-or-aws-services-the-data-perimeter-example"),
    pytest.param(policy(allow(Condition=None), deny(Condition={
        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}})), id="deny-outside-org-sparing-aws-services"),
    pytest.param(policy(allow(Condition=None), deny(Condition={
        "StringNotEquals": {"aws:PrincipalOrgID": ORG_ID, "aws:PrincipalAccount": ACCOUNT}})),
                 id="deny-outside-org-and-one-more-account"),
    pytest.param(policy(allow(Condition={"StringEquals": {"s3:ResourceAccount": ACCOUNT}})), id="s3-resource-account"),
    pytest.param(policy(allow(Condition={"ForAnyValue:StringLike": {
        "aws:ResourceOrgPaths": f"{ORG_ID}/r-ab12/ou-ab12-11111111/*"}})), id="resource-org-paths"),
    pytest.param(policy(allow(Condition={"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": ORG_ID}})),
                 id="string-equals-ignore-case"),
]


@pytest.mark.parametrize(("document", "because"), OPEN)
def test_open_policy_is_reported(document: Any, because: str) -> None:
    found = open_statements(document)

    assert [statement.index for statement in found] == [1]
    assert found[0].reason.startswith("statement 1 allows ")
    assert because in found[0].reason


@pytest.mark.parametrize("document", LIMITED)
def test_limited_policy_is_not_reported(document: Any) -> None:
    found = open_statements(document)

    assert found == []


@pytest.mark.parametrize("service", ["s3", "dynamodb"])
def test_on_a_gateway_endpoint_a_deny_of_its_service_covers_an_allow_of_everything(service: str) -> None:
    document = policy(allow(Condition=None), deny(Action=f"{service}:*"))

    assert open_statements(document, service) == []
    assert [s.index for s in open_statements(document, "s3" if service == "dynamodb" else "dynamodb")] == [1]


def test_reason_names_the_statement_index_and_sid() -> None:
    document = policy(allow(Sid="OrgOnly"), allow(Sid="AllowAll", Condition=None))

    found = open_statements(document)

    assert found == [OpenStatement(index=2, sid="AllowAll", actions=("*",), reason=(
        "statement 2 (Sid 'AllowAll') allows principal '*' to do '*' on '*'"
        " with no condition that limits it to known principals or resources"))]


def test_default_policy_reason_has_no_sid() -> None:
    found = open_statements(None)

    assert found[0].sid is None
    assert found[0].reason.startswith("statement 1 allows principal '*' to do '*' on '*' with no condition")


def test_source_vpce_reason_says_it_limits_nothing() -> None:
    document = policy(allow(Condition={"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}))

    [found] = open_statements(document)

    assert found.reason.endswith(
        "but its only condition is on aws:SourceVpce, which limits nothing inside an endpoint policy")


def test_negative_operator_reason_explains_it() -> None:
    document = policy(allow(Principal={"AWS": "*"}, Action="s3:GetObject", Condition=DENY_OUTSIDE_ORG))

    [found] = open_statements(document)

    assert found.reason == (
        "statement 1 allows principal {\"AWS\": \"*\"} to do 's3:GetObject' on '*', but no condition limits it"
        " to known principals or resources: StringNotEquals on aws:PrincipalOrgID is not a positive match")


def test_wildcard_value_reason_quotes_the_value() -> None:
    document = policy(allow(Condition={"StringLike": {"aws:PrincipalOrgID": "*"}}))

    [found] = open_statements(document)

    assert found.reason.endswith("StringLike on aws:PrincipalOrgID matches any account or organization: '*'")


def test_not_action_and_not_principal_are_spelled_out() -> None:
    document = policy(allow(Principal=None, NotPrincipal={"AWS": ACCOUNT}, Action=None, NotAction="s3:Delete*",
                            Resource=None, NotResource="arn:aws:s3:::secret/*", Condition=None))

    [found] = open_statements(document)

    assert found.actions == ("NOT s3:Delete*",)
    assert found.reason == (
        "statement 1 allows every principal except NotPrincipal {\"AWS\": \"111122223333\"} to do every action"
        " except 's3:Delete*' on every resource except 'arn:aws:s3:::secret/*' with no condition that limits it"
        " to known principals or resources")


def test_missing_policy_parses_to_a_copy_of_the_default() -> None:
    parsed = parse_policy(None)
    parsed["Statement"].clear()

    again = parse_policy(None)

    assert again == DEFAULT_ENDPOINT_POLICY
    assert DEFAULT_ENDPOINT_POLICY["Statement"][0] == {"Effect": "Allow", "Principal": "*", "Action": "*",
                                                       "Resource": "*"}


def test_single_statement_is_normalised_to_a_list() -> None:
    document = json.dumps({"Version": "2012-10-17", "Statement": allow()})

    parsed = parse_policy(document)

    assert parsed == {"Version": "2012-10-17", "Statement": [allow()]}


@pytest.mark.parametrize(("document", "message"), [
    pytest.param("{not json", "policy document is not JSON: ", id="invalid-json"),
    pytest.param("", "policy document is not JSON: ", id="empty-string"),
    pytest.param("[]", "policy document is a JSON array, not an object", id="array"),
    pytest.param({"Version": "2012-10-17"}, "policy document has no Statement", id="no-statement"),
    pytest.param({"Statement": "Allow"}, "policy document has a Statement that is a JSON string",
                 id="statement-string"),
    pytest.param({"Statement": ["Allow"]}, "policy statement 1 is a JSON string, not an object",
                 id="statement-not-object"),
    pytest.param(policy(allow(), allow(Effect="allow")), "policy statement 2 has Effect 'allow'", id="effect-case"),
])
def test_not_a_policy_raises_policy_error(document: Any, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(document)

    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_open_statements_rejects_what_is_not_a_policy() -> None:
    with pytest.raises(PolicyError, match="not JSON"):
        open_statements("Allow everything")
