"""One collector's run in one account and region: paging, and turning failures into error records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
from botocore import xform_name
from botocore.parsers import ResponseParserError

from auditor.errors import ReadOnlyViolation

# Output token member -> input token member, for operations botocore has no paginator for.
MANUAL_TOKENS = (("NextToken", "NextToken"), ("nextToken", "nextToken"), ("NextMarker", "Marker"))


@dataclass(frozen=True)
class CollectionError:
    """One failed read, as stored in the snapshot's `errors` list."""

    account_id: str
    region: str
    key: str
    operation: str
    code: str
    message: str
    resource_id: str | None = None
    depends_on: str | None = None  # for DependencyFailed: the key whose failure kept this one from being read

    def as_dict(self) -> dict[str, str]:
        record = {
            "account_id": self.account_id, "region": self.region, "key": self.key,
            "operation": self.operation, "code": self.code, "message": self.message,
        }
        if self.resource_id:
            record["resource_id"] = self.resource_id
        if self.depends_on:
            record["depends_on"] = self.depends_on
        return record


def describe_failure(error: BaseException) -> tuple[str, str]:
    """(code, message) for a failed call: the API's error code, or the transport failure's name."""
    if isinstance(error, botocore.exceptions.ClientError):
        details = error.response.get("Error", {})
        return details.get("Code") or "ClientError", details.get("Message") or str(error)
    if isinstance(error, NotImplementedError):
        return "NotImplemented", str(error) or "the endpoint does not implement this operation"
    if isinstance(error, ResponseParserError):
        # botocore appends the raw response body, which can hold secrets (a VPN connection's pre-shared
        # keys) that redaction never sees: keep only its first line.
        return type(error).__name__, str(error).split("\n", 1)[0].rstrip(":").rstrip() or "unparsable response"
    return type(error).__name__, str(error)


@dataclass
class CallContext:
    """What a collector function gets: a guarded client for its region and an error sink."""

    client: Any
    account_id: str
    region: str
    key: str
    errors: list[CollectionError] = field(default_factory=list)

    def pages(self, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of an operation, through botocore's paginator or its token by hand."""
        method_name = xform_name(operation)
        if self.client.can_paginate(method_name):
            yield from self.client.get_paginator(method_name).paginate(**params)
            return
        method = getattr(self.client, method_name)
        input_members = self.client.meta.service_model.operation_model(operation).input_shape
        accepted = set(input_members.members) if input_members else set()
        seen_tokens: set[str] = set()
        while True:
            response = method(**params)
            yield response
            token = next(
                ((out, inp) for out, inp in MANUAL_TOKENS if response.get(out) and inp in accepted),
                None,
            )
            if token is None or response[token[0]] in seen_tokens:
                return
            seen_tokens.add(response[token[0]])
            params = {**params, token[1]: response[token[0]]}

    def items(self, operation: str, result_key: str, **params: Any) -> list[dict[str, Any]]:
        return [item for page in self.pages(operation, **params) for item in page.get(result_key, [])]

    def record(self, operation: str, error: BaseException, resource_id: str | None = None) -> None:
        if isinstance(error, ReadOnlyViolation):
            raise error
        code, message = describe_failure(error)
        self.errors.append(CollectionError(
            self.account_id, self.region, self.key, operation, code, message, resource_id
        ))

    def truncation(self, resource_id: str, reason: str = "") -> CollectionError:
        return CollectionError(
            self.account_id, self.region, self.key, "SearchTransitGatewayRoutes", "Truncated",
            reason or "more routes than SearchTransitGatewayRoutes returns, even split by type and prefix; "
            "the routes stored for this table are incomplete", resource_id,
        )
