"""Shared fixtures: fake credentials, an in-process moto account, and unguarded seeding clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}


@pytest.fixture(scope="session", autouse=True)
def cheap_moto_and_models() -> Iterator[None]:
    """Two costs every in-process AWS test paid again and again, paid once.

    moto builds a region's default images (a thousand-odd AMIs, each with a volume and a snapshot) when an
    account's EC2 region is first touched, in process or in the moto servers the tests start here: nothing here
    reads an image, so it loads none (as the demo does). And every boto3 session parses the API models (EC2's
    alone is megabytes of JSON) again: here the sessions of the whole run share one botocore loader per data
    path, as the sessions of one collection already do (auditor.accounts.assumed_session). Only this process;
    the CLI's child processes load their own.
    """
    loaders: dict[Any, Any] = {}
    create_loader = botocore.session.create_loader

    def shared_loader(search_path_string: Any = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        patch.setattr(botocore.session, "create_loader", shared_loader)
        yield


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test runs with fake credentials and no real AWS configuration of the machine."""
    empty = tmp_path_factory.mktemp("aws-config")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN",
                 "AWS_SECURITY_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def moto_account() -> Iterator[None]:
    """An empty in-process moto account (it still has each region's default VPC)."""
    with mock_aws():
        yield


def seed_client(service: str, region: str = REGION):  # noqa: ANN201 - a boto3 client
    """A client with no guard: it plays the account's owner, creating what the tests read."""
    return boto3.client(service, region_name=region)
