"""Retries: adaptive with 8 attempts unless the environment or the profile says otherwise; attempts count the first."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse

from auditor.aws import Clients


def _client() -> Any:
    session = boto3.Session(aws_access_key_id="AKIDCALLER", aws_secret_access_key="secret", region_name="us-east-1")
    return Clients(session).get("ec2", "us-east-1")


def _fail_locally(client: Any, sent: list[str]) -> None:
    """Answer every request in process with an HTTP 500, recording each one sent."""

    def respond(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        body = b"<Response><Errors><Error><Code>InternalError</Code><Message>boom</Message></Error></Errors></Response>"
        raw = type("Raw", (), {"stream": lambda self, *a, **k: iter([body])})()
        return AWSResponse(request.url, 500, {}, raw)

    client.meta.events.register("before-send", respond)


@pytest.mark.parametrize(("setting", "sends"), [("1", 1), ("3", 3)])
def test_aws_max_attempts_counts_every_attempt(monkeypatch: pytest.MonkeyPatch, setting: str, sends: int) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", setting)
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    client = _client()
    sent: list[str] = []
    _fail_locally(client, sent)
    with pytest.raises(botocore.exceptions.ClientError):
        client.describe_vpcs()
    assert client.meta.config.retries["total_max_attempts"] == sends
    assert len(sent) == sends


def test_eight_attempts_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    client = _client()
    assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 8}


def test_the_profile_settings_win_over_the_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nretry_mode = legacy\nmax_attempts = 4\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    client = _client()
    assert client.meta.config.retries == {"mode": "legacy", "total_max_attempts": 4}
