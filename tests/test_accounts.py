"""Many accounts: AssumeRole into each (credentials that refresh), --accounts and --org, shards, faults, bad input.

moto in process plays every account: its STS maps the credentials of an assumed role to the role's account.
What moto does not do (deny an AssumeRole, deny ListAccounts) is injected with a botocore `before-call`
hook on the session the CLI opens, which answers the call in process as AWS would.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions
import pytest
from botocore.stub import Stubber
from moto import mock_aws

import auditor.collect as collection
from auditor import aws, snapshot
from auditor.account_request import AccountRequest, account_request
from auditor.accounts import (
    assume_role_fetcher,
    assumed_session,
    refreshing_credentials,
)
from auditor.collect.registry import REGISTRY
from auditor.engine import load_rules, run_audit
from auditor.errors import ReadOnlyViolation, Terminated, UserError
from auditor.index import Index
from auditor.merge import merge_snapshots
from tests.cli import run_cli
from tests.conftest import ACCOUNT_ID as CALLER
from tests.conftest import REGION
from tests.factories import NOW, OTHER_ACCOUNT, SnapshotBuilder

ROLE = "NetworkAudit"
MEMBER_A, MEMBER_B, MEMBER_C = "111111111111", "222222222222", "333333333333"
CIDRS = {MEMBER_A: "10.1.0.0/16", MEMBER_B: "10.2.0.0/16", MEMBER_C: "10.3.0.0/16"}
DEFAULT_VPC_CIDR = "172.31.0.0/16"


run = run_cli


def member_client(service: str, account_id: str) -> Any:
    """An unguarded client in another account, as its owner: credentials from AssumeRole into it."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    return boto3.client(service, region_name=REGION, aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Three member accounts in moto, each with one VPC of its own CIDR: account id -> VPC id.

    One moto for the module: the tests only read these accounts (what they deny is injected in process), and
    building the accounts' regions again for every test cost most of the module's time.
    """
    empty = tmp_path_factory.mktemp("aws-config")
    with pytest.MonkeyPatch.context() as patch:  # the seeding clients must not see this machine's AWS setup
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        with mock_aws():
            yield {account: member_client("ec2", account).create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
                   for account, cidr in CIDRS.items()}


def vpcs(document: dict[str, Any], account_id: str) -> dict[str, str]:
    items = document["accounts"][account_id]["regions"][REGION]["ec2:Vpcs"]
    return {item["VpcId"]: item["CidrBlock"] for item in items if item["CidrBlock"] != DEFAULT_VPC_CIDR}


def answer_with_error(event: str, code: str, status: int, when: Callable[[dict[str, Any]], bool] = lambda _: True,
                      ) -> Callable[..., Any]:
    """A `before-call` handler that answers matching calls with an AWS error instead of sending them."""

    def handler(params: dict[str, Any], **_: Any) -> Any:
        if not when(params.get("body") or {}):
            return None
        response = botocore.awsrequest.AWSResponse("https://sts.amazonaws.com/", status, {}, None)
        return response, {"Error": {"Code": code, "Message": f"injected {code} for {event}"},
                          "ResponseMetadata": {"HTTPStatusCode": status}}

    return handler


@pytest.fixture
def inject(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, Callable[..., Any]], None]:
    """Register a handler on the session the CLI opens: the caller's, which makes the AssumeRole and ListAccounts
    calls. A member account's session is a new botocore session (auditor.accounts.assumed_session) without it."""
    handlers: list[tuple[str, Callable[..., Any]]] = []
    original = aws.open_session

    def open_session(profile: str | None = None) -> boto3.Session:
        session = original(profile)
        for event, handler in handlers:
            session.events.register(event, handler)
        return session

    monkeypatch.setattr(aws, "open_session", open_session)
    return lambda event, handler: handlers.append((event, handler))


def deny_assume_role(account_id: str) -> tuple[str, Callable[..., Any]]:
    return "before-call.sts.AssumeRole", answer_with_error(
        "AssumeRole", "AccessDenied", 403, lambda body: f"::{account_id}:role/" in body.get("RoleArn", ""))


# ---------------------------------------------------------------------------------------------
# --accounts: one snapshot holds every account


def test_two_accounts_through_the_role_give_one_snapshot_with_each_accounts_vpcs(members, tmp_path, capsys) -> None:
    output = tmp_path / "snapshot.json"

    code, _, err = run(capsys, "collect", "--role-name", ROLE, "--accounts", f"{MEMBER_B},{MEMBER_A}",
                       "--regions", REGION, "--output", str(output))

    document = json.loads(output.read_text())
    assert code == 0, err
    assert sorted(document["accounts"]) == [MEMBER_A, MEMBER_B]  # not the caller's own account
    assert vpcs(document, MEMBER_A) == {members[MEMBER_A]: CIDRS[MEMBER_A]}
    assert vpcs(document, MEMBER_B) == {members[MEMBER_B]: CIDRS[MEMBER_B]}
    assert all(document["accounts"][a]["partition"] == "aws" for a in document["accounts"])
    assert not [e for e in document["errors"] if e["key"] in ("sts:AssumeRole", "ec2:Regions")]
    assert "trusted_accounts" not in document  # only --org says which accounts to trust
    assert re.match(r"collected 2 account\(s\)( in \d processes)?, 1 region\(s\):", err)


def test_without_role_name_the_callers_account_is_read_as_before(members, tmp_path, capsys) -> None:
    output = tmp_path / "snapshot.json"

    code, _, err = run(capsys, "collect", "--regions", REGION, "--output", str(output))

    document = json.loads(output.read_text())
    assert code == 0, err
    assert list(document["accounts"]) == [CALLER]
    assert vpcs(document, CALLER) == {}


@pytest.mark.parametrize(("max_workers", "at_once"), [(16, 3), (64, 10)])
def test_one_process_reads_only_as_many_accounts_at_once_as_fill_its_calls(members, monkeypatch, max_workers,
                                                                            at_once) -> None:
    """Read in one process (not Linux, --processes 1), the accounts were all started at once: the clients of all
    of them alive together, the first done late in the run. Now as many as keep max_workers calls in flight, at 7
    a small account, and at least 3; the next starts as one is done."""
    accounts = tuple(f"{900000000001 + n:012d}" for n in range(12))
    lock = threading.Lock()
    in_progress = [0, 0]  # now, most

    def counted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            in_progress[0] += 1
            in_progress[1] = max(in_progress)
        try:
            time.sleep(0.1)  # every account that may start does, before one is done
            return member(*args, **kwargs)
        finally:
            with lock:
                in_progress[0] -= 1

    member = collection._collect_member  # noqa: SLF001 - counted where each account is read
    monkeypatch.setattr(collection, "_collect_member", counted)
    collected = collection.collect(boto3.Session(region_name=REGION), [REGION], now=NOW, max_processes=1,
                                   max_workers=max_workers, collectors=[REGISTRY["ec2:Vpcs"]],
                                   accounts=AccountRequest(role_name=ROLE, account_ids=accounts))
    assert sorted(collected.document["accounts"]) == list(accounts)
    assert not collected.document["errors"]
    assert in_progress == [0, at_once]


def test_the_role_session_name_and_external_id_are_sent_with_every_assume_role(members, inject, tmp_path,
                                                                               capsys) -> None:
    sent: list[dict[str, Any]] = []
    inject("before-call.sts.AssumeRole", lambda params, **_: sent.append(dict(params["body"])))

    code, _, err = run(capsys, "collect", "--role-name", ROLE, "--accounts", MEMBER_A, "--regions", REGION,
                       "--external-id", "audit-2026", "--role-session-name", "nightly-audit",
                       "--output", str(tmp_path / "snapshot.json"))

    assert code == 0, err
    assert [(b["RoleArn"], b["RoleSessionName"], b["ExternalId"]) for b in sent] == [
        (f"arn:aws:iam::{MEMBER_A}:role/{ROLE}", "nightly-audit", "audit-2026")]


# ---------------------------------------------------------------------------------------------
# --org: the organization's active accounts, trusted by the audit


def test_org_reads_every_active_account_skips_the_suspended_one_and_records_the_organization(tmp_path,
                                                                                              capsys) -> None:
    output = tmp_path / "snapshot.json"
    with mock_aws():
        organizations = boto3.client("organizations", region_name=REGION)
        organizations.create_organization(FeatureSet="ALL")
        for name in ("prod", "dev", "closed"):
            organizations.create_account(Email=f"{name}@example.com", AccountName=name)
        listed = {a["Name"]: a["Id"] for a in organizations.list_accounts()["Accounts"]}
        organizations.close_account(AccountId=listed["closed"])
        prod_vpc = member_client("ec2", listed["prod"]).create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]

        code, _, err = run(capsys, "collect", "--role-name", ROLE, "--org", "--regions", REGION,
                           "--output", str(output))

    document = json.loads(output.read_text())
    assert code == 0, err
    assert sorted(document["accounts"]) == sorted([CALLER, listed["prod"], listed["dev"]])
    assert vpcs(document, listed["prod"]) == {prod_vpc: "10.20.0.0/16"}
    assert document["trusted_accounts"] == sorted(listed.values())  # members, suspended or not
    assert "skipped 1 inactive account(s) of the organization (1 suspended)" in err


def test_an_audit_trusts_the_accounts_the_snapshot_records_as_the_organizations() -> None:
    builder = SnapshotBuilder()
    local = builder.vpc("10.0.0.0/16")
    builder.peering(local, "vpc-0fedcba9876543210", accepter_account=OTHER_ACCOUNT, accepter_cidrs=("10.1.0.0/16",))
    outside = builder.build()
    organization = {**outside, "trusted_accounts": [OTHER_ACCOUNT]}
    untrusted = load_rules()["PCX008"]

    findings_outside = run_audit(Index(outside), now=NOW, rules=[untrusted]).findings
    findings_organization = run_audit(Index(organization), now=NOW, rules=[untrusted]).findings

    assert [f.rule_id for f in findings_outside] == ["PCX008"]
    assert findings_organization == ()


def test_with_shards_a_run_keeps_only_the_counts_and_errors_of_each_account_done(members) -> None:
    """Each account's items are written to its shard and let go: the run does not hold the organization's data in
    memory. Its summary, calls and errors are those of the run without shards."""
    request = AccountRequest(role_name=ROLE, account_ids=tuple(sorted(members)))
    shards: dict[str, dict[str, Any]] = {}

    def read(**kwargs: Any) -> Any:
        return collection.collect(boto3.Session(region_name=REGION), [REGION], now=NOW, max_processes=1,
                                  accounts=request, **kwargs)

    whole, sharded = read(), read(on_shard=shards.__setitem__)

    assert {account_id: shard["accounts"][account_id] for account_id, shard in shards.items()} \
        == whole.document["accounts"]
    assert sharded.document["accounts"] == {}
    assert sharded.document["errors"] == whole.document["errors"]
    assert [items for kept in sharded.collections for data in kept.regions.values() for items in data.values()
            if items] == []
    untimed = re.compile(r", [0-9.]+ s")
    assert untimed.sub("", sharded.summary()) == untimed.sub("", whole.summary())
    assert sharded.api_calls == whole.api_calls


def test_merging_shards_keeps_the_union_of_their_trusted_accounts() -> None:
    first, second = SnapshotBuilder(MEMBER_A).build(), SnapshotBuilder(MEMBER_B).build()

    merged = merge_snapshots([("a.json", {**first, "trusted_accounts": [MEMBER_A, MEMBER_C]}),
                              ("b.json", {**second, "trusted_accounts": [MEMBER_B, MEMBER_C]})])

    assert merged["trusted_accounts"] == [MEMBER_A, MEMBER_B, MEMBER_C]


# ---------------------------------------------------------------------------------------------
# --shard-dir: one snapshot per account, which merge back into the single snapshot


def test_shards_are_one_private_file_per_account_and_merge_into_the_single_snapshot(members, inject, tmp_path,
                                                                                    capsys) -> None:
    inject(*deny_assume_role(MEMBER_C))
    accounts = ",".join(sorted(members))
    shard_dir, single, merged = tmp_path / "shards", tmp_path / "single.json", tmp_path / "merged.json"

    code, _, err = run(capsys, "collect", "--role-name", ROLE, "--accounts", accounts, "--regions", REGION,
                       "--shard-dir", str(shard_dir))
    run(capsys, "collect", "--role-name", ROLE, "--accounts", accounts, "--regions", REGION, "-o", str(single))
    shards = sorted(shard_dir.iterdir())
    merge_code, _, merge_err = run(capsys, "merge", *map(str, shards), "--output", str(merged))

    assert code == 0, err
    assert err.endswith(f"-> 3 shard(s) in {shard_dir}\n")
    assert [p.name for p in shards] == [f"{a}.json" for a in sorted(members)]  # no temp file left behind
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in shards)
    assert list(json.loads(shards[0].read_text())["accounts"]) == [MEMBER_A]
    assert json.loads((shard_dir / f"{MEMBER_C}.json").read_text())["accounts"] == {}
    assert merge_code == 0, merge_err
    ignored = ("collected_at", "shards")
    assert ({k: v for k, v in json.loads(merged.read_text()).items() if k not in ignored}
            == {k: v for k, v in json.loads(single.read_text()).items() if k not in ignored})


def _collection_threads_left() -> list[str]:
    """The collection's threads still alive a while after a Ctrl-C. The pools are shut down without waiting, and
    must still end: the interpreter joins them at exit, so one left waiting would keep the process from exiting
    (and, in a test process, later tests from forking worker processes)."""
    for thread in threading.enumerate():
        if thread.name.startswith(("collect_", "account_")):
            thread.join(timeout=10)
    return [thread.name for thread in threading.enumerate() if thread.name.startswith(("collect_", "account_"))]


def _collect_into_shards(capsys: pytest.CaptureFixture[str], members: dict[str, str],
                         shard_dir: Any) -> tuple[int, str, list[str]]:
    """`collect --shard-dir` of every member in one process: (exit code, stderr, the collection's threads left)."""
    code, _, err = run(capsys, "collect", "--role-name", ROLE, "--accounts", ",".join(sorted(members)),
                       "--regions", REGION, "--shard-dir", str(shard_dir), "--processes", "1")
    return code, err, _collection_threads_left()


@pytest.mark.parametrize(("stop", "code", "said"), [(KeyboardInterrupt, 130, "interrupted"),
                                                    (Terminated, 143, "terminated")], ids=["ctrl_c", "sigterm"])
def test_ctrl_c_after_some_shards_says_which_are_on_disk(members, tmp_path, capsys, stop, code, said,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    write_shard = snapshot.ShardWriter.__call__

    def interrupted_after_the_first(self: snapshot.ShardWriter, account_id: str, document: dict[str, Any]) -> None:
        write_shard(self, account_id, document)
        raise stop  # Ctrl-C (or SIGTERM, raised by the program's handler) while the other accounts are read

    monkeypatch.setattr(snapshot.ShardWriter, "__call__", interrupted_after_the_first)
    shard_dir = tmp_path / "shards"

    exit_code, err, left = _collect_into_shards(capsys, members, shard_dir)

    [shard] = list(shard_dir.iterdir())
    assert left == []
    assert exit_code == code
    assert err.endswith(f"auditor: {said}; the 1 shard(s) already in {shard_dir} are complete; "
                        "the accounts not finished have none\n")
    assert list(json.loads(shard.read_text())["accounts"]) == [shard.stem]  # complete: it loads and names its account


@pytest.mark.parametrize(("failure", "line"), [
    pytest.param(UserError("cannot write the shard: disk full"), "auditor: error: cannot write the shard: disk full",
                 id="bad_input"),
    pytest.param(RuntimeError("a bug"), "auditor: internal error: RuntimeError: a bug (set AUDITOR_DEBUG=1 for a "
                 "traceback)", id="internal_error"),
])
def test_a_run_that_fails_after_some_shards_says_which_are_on_disk(members, tmp_path, capsys, failure, line,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write_shard, written = snapshot.ShardWriter.__call__, []

    def failing_after_the_first(self: snapshot.ShardWriter, account_id: str, document: dict[str, Any]) -> None:
        if written:
            raise failure
        write_shard(self, account_id, document)
        written.append(account_id)

    monkeypatch.setattr(snapshot.ShardWriter, "__call__", failing_after_the_first)
    shard_dir = tmp_path / "shards"

    code, err, left = _collect_into_shards(capsys, members, shard_dir)

    assert left == []
    assert code == 2
    assert err.endswith(f"{line}; the 1 shard(s) already in {shard_dir} are complete; the accounts not finished "
                        "have none\n")
    assert [path.stem for path in shard_dir.iterdir()] == written


def test_ctrl_c_before_any_shard_names_no_file(members, tmp_path, capsys,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot.ShardWriter, "__call__", interrupted)
    shard_dir = tmp_path / "shards"

    code, err, left = _collect_into_shards(capsys, members, shard_dir)

    assert left == []
    assert code == 130
    assert err.endswith("\nauditor: interrupted\n")
    assert not shard_dir.exists()  # the run made it, and leaves none behind when it wrote nothing


def test_shard_dir_and_output_together_are_refused(tmp_path, capsys) -> None:
    code, _, err = run(capsys, "collect", "--shard-dir", str(tmp_path / "shards"), "--output", "x.json")

    assert code == 2
    assert err == "auditor: error: give --output FILE or --shard-dir DIR, not both\n"
    assert not (tmp_path / "shards").exists()


# ---------------------------------------------------------------------------------------------
# AssumeRole denied for one account: one error for it, the others complete


def test_assume_role_denied_for_one_account_is_one_error_and_the_other_account_is_complete(
        members, inject, tmp_path, capsys) -> None:
    alone, both = tmp_path / "alone.json", tmp_path / "both.json"
    run(capsys, "collect", "--role-name", ROLE, "--accounts", MEMBER_A, "--regions", REGION, "-o", str(alone))
    inject(*deny_assume_role(MEMBER_B))

    code, _, err = run(capsys, "collect", "--role-name", ROLE, "--accounts", f"{MEMBER_A},{MEMBER_B}",
                       "--regions", REGION, "-o", str(both))

    document, reference = json.loads(both.read_text()), json.loads(alone.read_text())
    assert code == 0, err
    assert list(document["accounts"]) == [MEMBER_A]
    assert document["accounts"][MEMBER_A] == reference["accounts"][MEMBER_A]
    assert [e for e in document["errors"] if e["account_id"] == MEMBER_A] == reference["errors"]
    assert [e for e in document["errors"] if e["account_id"] == MEMBER_B] == [{
        "account_id": MEMBER_B, "region": "global", "key": "sts:AssumeRole", "operation": "AssumeRole",
        "code": "AccessDenied", "message": "injected AccessDenied for AssumeRole"}]
    assert f"collected 1 account(s), 1 not read ({MEMBER_B})" in err


def test_the_audit_reports_the_account_whose_role_could_not_be_assumed(members, inject, tmp_path, capsys) -> None:
    inject(*deny_assume_role(MEMBER_B))

    code, out, err = run(capsys, "audit", "--role-name", ROLE, "--accounts", f"{MEMBER_A},{MEMBER_B}",
                         "--regions", REGION, "--format", "json", "--select", "AUD001", "--exit-zero")

    findings = [f for f in json.loads(out)["findings"] if f["account_id"] == MEMBER_B]
    assert code == 0, err
    assert [(f["rule_id"], f["resource_id"], f["region"]) for f in findings] == [
        ("AUD001", "sts:AssumeRole", "global")]
    assert "AccessDenied" in findings[0]["message"]


def test_when_no_account_can_be_reached_it_is_one_line_exit_2_and_nothing_written(members, inject, tmp_path,
                                                                                   capsys) -> None:
    inject(*deny_assume_role(MEMBER_A))
    output, shard_dir = tmp_path / "snapshot.json", tmp_path / "shards"

    code, out, err = run(capsys, "collect", "--role-name", ROLE, "--accounts", MEMBER_A, "--regions", REGION,
                         "--output", str(output))
    shard_code, _, _ = run(capsys, "collect", "--role-name", ROLE, "--accounts", MEMBER_A, "--regions", REGION,
                           "--shard-dir", str(shard_dir))

    assert (code, out) == (2, "")
    assert err == (f"auditor: error: could not read any of the 1 account(s); {MEMBER_A}: AssumeRole AccessDenied: "
                   "injected AccessDenied for AssumeRole\n")
    assert not output.exists()
    assert shard_code == 2
    assert not shard_dir.exists()


def test_when_no_account_has_a_requested_region_enabled_it_is_one_line_exit_2_and_no_shard(members, tmp_path,
                                                                                          capsys) -> None:
    opt_in_region = "ap-east-1"  # moto lists it as not opted in, in every account
    shard_dir = tmp_path / "shards"

    code, out, err = run(capsys, "collect", "--role-name", ROLE, "--accounts", f"{MEMBER_A},{MEMBER_B}",
                         "--regions", opt_in_region, "--shard-dir", str(shard_dir))

    assert (code, out) == (2, "")
    assert err == (f"auditor: error: could not read any of the 2 account(s); {MEMBER_A} {opt_in_region}: "
                   f"DescribeRegions OptInRequired: region {opt_in_region} is not enabled for account {MEMBER_A} "
                   "(opt-in required): not read\n")
    assert not shard_dir.exists()


def test_a_shard_directory_that_was_there_stays_when_nothing_is_written(members, inject, tmp_path,
                                                                         capsys) -> None:
    inject(*deny_assume_role(MEMBER_A))
    shard_dir = tmp_path / "shards"
    shard_dir.mkdir()

    code, _, _ = run(capsys, "collect", "--role-name", ROLE, "--accounts", MEMBER_A, "--regions", REGION,
                     "--shard-dir", str(shard_dir))

    assert code == 2
    assert shard_dir.is_dir() and list(shard_dir.iterdir()) == []


def test_a_member_that_may_not_describe_regions_is_read_in_the_regions_given(members, monkeypatch, tmp_path,
                                                                             capsys) -> None:
    def denied(*_: Any) -> Any:
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"}}, "DescribeRegions")

    monkeypatch.setattr(aws, "describe_regions", denied)  # only member accounts call it with --role-name
    output = tmp_path / "snapshot.json"

    code, _, err = run(capsys, "collect", "--role-name", ROLE, "--accounts", MEMBER_A, "--regions", REGION,
                       "--output", str(output))

    document = json.loads(output.read_text())
    assert code == 0, err
    assert vpcs(document, MEMBER_A) == {members[MEMBER_A]: CIDRS[MEMBER_A]}
    assert [(e["account_id"], e["region"], e["key"], e["code"]) for e in document["errors"]
            if e["key"] == "ec2:Regions"] == [(MEMBER_A, "global", "ec2:Regions", "UnauthorizedOperation")]


# ---------------------------------------------------------------------------------------------
# Credentials: assumed once per account, refreshed by another AssumeRole before they expire

ARN = f"arn:aws:iam::{MEMBER_A}:role/{ROLE}"
REQUEST = AccountRequest(role_name=ROLE, account_ids=(MEMBER_A,), external_id="audit-2026")


def _assumed(key_id: str, expires: dt.datetime) -> dict[str, Any]:
    return {"Credentials": {"AccessKeyId": key_id, "SecretAccessKey": "secret", "SessionToken": "token",
                            "Expiration": expires},
            "AssumedRoleUser": {"AssumedRoleId": "AROAEXAMPLE:aws-network-auditor", "Arn": ARN}}


@pytest.fixture
def stubbed_sts() -> Iterator[tuple[aws.Clients, Stubber]]:
    clients = aws.Clients(boto3.Session(region_name=REGION))
    with Stubber(clients.get("sts", REGION)) as stubber:
        yield clients, stubber


EXPECTED_PARAMS = {"RoleArn": ARN, "RoleSessionName": "aws-network-auditor", "ExternalId": "audit-2026"}


def _expiring_soon_then(clients: aws.Clients, stubber: Stubber,
                        second_key: str) -> botocore.credentials.RefreshableCredentials:
    """Credentials from a first AssumeRole that expire in 5 minutes; the next one the stubber gives `second_key`."""
    now = dt.datetime.now(dt.UTC)
    stubber.add_response("assume_role", _assumed("ASIAFIRSTKEY0000001", now + dt.timedelta(minutes=5)),
                         EXPECTED_PARAMS)
    stubber.add_response("assume_role", _assumed(second_key, now + dt.timedelta(hours=1)), EXPECTED_PARAMS)
    return refreshing_credentials(assume_role_fetcher(lambda: clients.get("sts", REGION), ARN, REQUEST))


def test_credentials_near_expiry_are_refreshed_by_assuming_the_role_again(stubbed_sts) -> None:
    clients, stubber = stubbed_sts
    credentials = _expiring_soon_then(clients, stubber, "ASIASECONDKEY000002")

    frozen = credentials.get_frozen_credentials()

    assert frozen.access_key == "ASIASECONDKEY000002"
    stubber.assert_no_pending_responses()
    assert clients.calls == 2  # AssumeRole passed the guard both times


def test_a_renewal_after_the_clients_were_forgotten_uses_a_new_sts_client(stubbed_sts) -> None:
    """What a worker process does: it forgets the caller's clients and connections (Clients.forget) and makes its
    own. A renewal there went through the caller's STS client, on a connection every worker had inherited."""
    clients, before_fork = stubbed_sts
    credentials = _expiring_soon_then(clients, before_fork, "ASIAWRONGCLIENT0003")
    clients.forget()

    with Stubber(clients.get("sts", REGION)) as in_worker:
        in_worker.add_response("assume_role", _assumed("ASIASECONDKEY000002", dt.datetime.now(dt.UTC)
                                                       + dt.timedelta(hours=1)), EXPECTED_PARAMS)
        frozen = credentials.get_frozen_credentials()
        in_worker.assert_no_pending_responses()

    assert frozen.access_key == "ASIASECONDKEY000002"
    with pytest.raises(AssertionError):  # the caller's client was not asked again
        before_fork.assert_no_pending_responses()


def test_credentials_far_from_expiry_are_not_refreshed(stubbed_sts) -> None:
    clients, stubber = stubbed_sts
    stubber.add_response("assume_role", _assumed("ASIAFIRSTKEY0000001", dt.datetime.now(dt.UTC)
                                                 + dt.timedelta(hours=1)), EXPECTED_PARAMS)
    credentials = refreshing_credentials(assume_role_fetcher(lambda: clients.get("sts", REGION), ARN, REQUEST))

    first, again = credentials.get_frozen_credentials(), credentials.get_frozen_credentials()

    assert first.access_key == again.access_key == "ASIAFIRSTKEY0000001"
    assert clients.calls == 1


def test_a_member_accounts_session_uses_its_credentials_and_is_guarded(stubbed_sts) -> None:
    clients, stubber = stubbed_sts
    stubber.add_response("assume_role", _assumed("ASIAFIRSTKEY0000001", dt.datetime.now(dt.UTC)
                                                 + dt.timedelta(hours=1)), EXPECTED_PARAMS)
    credentials = refreshing_credentials(assume_role_fetcher(lambda: clients.get("sts", REGION), ARN, REQUEST))
    member = aws.Clients(assumed_session(clients.session, credentials, REGION))

    ec2 = member.get("ec2", REGION)

    assert member.session.get_credentials() is credentials
    with pytest.raises(ReadOnlyViolation, match="ec2:CreateVpc"):
        ec2.create_vpc(CidrBlock="10.0.0.0/16")


# ---------------------------------------------------------------------------------------------
# Config: the account flags' defaults come from the file; the command line wins


def config_file(tmp_path, **keys: Any) -> str:
    path = tmp_path / "auditor.toml"
    path.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items()))
    return str(path)


def assume_role_calls(inject) -> list[tuple[str, str, str]]:
    sent: list[tuple[str, str, str]] = []
    inject("before-call.sts.AssumeRole", lambda params, **_: sent.append(
        (params["body"]["RoleArn"], params["body"]["RoleSessionName"], params["body"].get("ExternalId"))))
    return sent


def test_every_account_flag_can_come_from_the_config_file(members, inject, tmp_path, capsys) -> None:
    sent = assume_role_calls(inject)
    config = config_file(tmp_path, role_name=ROLE, accounts=[MEMBER_A], external_id="from-file",
                         role_session_name="nightly-audit", shard_dir=str(tmp_path / "shards"),
                         max_workers_per_account=2)

    code, _, err = run(capsys, "collect", "--config", config, "--regions", REGION)

    assert code == 0, err
    assert sent == [(f"arn:aws:iam::{MEMBER_A}:role/{ROLE}", "nightly-audit", "from-file")]
    assert [p.name for p in (tmp_path / "shards").iterdir()] == [f"{MEMBER_A}.json"]


def test_the_command_line_wins_over_the_file_and_accounts_replace_its_org(members, inject, tmp_path,
                                                                          capsys) -> None:
    sent = assume_role_calls(inject)
    inject(*deny_assume_role(MEMBER_B))  # nothing is read: a quick run that still shows what it was asked
    config = config_file(tmp_path, role_name="FileRole", org=True, external_id="from-file",
                         shard_dir=str(tmp_path / "shards"))

    code, _, err = run(capsys, "collect", "--config", config, "--role-name", ROLE, "--accounts", MEMBER_B,
                       "--external-id", "from-flag", "--output", str(tmp_path / "out.json"), "--regions", REGION)

    assert code == 2  # not "give --accounts or --org" (the file's org gave way), nor "--output or --shard-dir"
    assert err.startswith(f"auditor: error: could not read any of the 1 account(s); {MEMBER_B}: AssumeRole ")
    assert sent == [(f"arn:aws:iam::{MEMBER_B}:role/{ROLE}", "aws-network-auditor", "from-flag")]
    assert not (tmp_path / "shards").exists()


def test_org_on_the_command_line_replaces_the_files_accounts(moto_account, inject, tmp_path, capsys) -> None:
    inject("before-call.organizations.ListAccounts",
           answer_with_error("ListAccounts", "AWSOrganizationsNotInUseException", 400))
    config = config_file(tmp_path, role_name=ROLE, accounts=[MEMBER_A])

    code, _, err = run(capsys, "collect", "--config", config, "--org", "--output", str(tmp_path / "out.json"))

    assert code == 2
    assert err.startswith("auditor: error: --org: the caller's account is not in an organization")


def test_an_offline_audit_ignores_the_files_live_account_settings(tmp_path, capsys) -> None:
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text(json.dumps(SnapshotBuilder().build()))
    config = config_file(tmp_path, role_name=ROLE, org=True, external_id="from-file")

    code, out, err = run(capsys, "audit", "--config", config, "--snapshot", str(snapshot), "--format", "json")

    assert code == 0, err
    assert json.loads(out)["findings"] == []


def test_the_role_name_flag_still_does_not_apply_to_an_offline_audit(tmp_path, capsys) -> None:
    code, _, err = run(capsys, "audit", "--snapshot", str(tmp_path / "snapshot.json"), "--role-name", ROLE,
                       "--accounts", MEMBER_A)

    assert code == 2
    assert err == "auditor: error: --role-name reads live accounts: it does not apply to --snapshot FILE\n"


# ---------------------------------------------------------------------------------------------
# Bad input: one line, exit code 2, before anything is read or written


ARABIC_INDIC_ID = "\u0661" * 12  # twelve digits, but not 0-9
NEWLINE = "\n"


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--role-name", ROLE, "--accounts", "12345"],
                 "--accounts: '12345' is not an AWS account id (12 digits)", id="short_account_id"),
    pytest.param(["--role-name", ROLE, "--accounts", f"{MEMBER_A},abcdefghijkl"],
                 "--accounts: 'abcdefghijkl' is not an AWS account id (12 digits)", id="letters_account_id"),
    pytest.param(["--accounts", MEMBER_A], "--accounts needs --role-name NAME: the role the auditor assumes in "
                 "each account", id="accounts_without_role"),
    pytest.param(["--org"], "--org needs --role-name NAME: the role the auditor assumes in each account",
                 id="org_without_role"),
    pytest.param(["--external-id", "x-123"], "--external-id needs --role-name NAME: the role the auditor assumes in "
                 "each account", id="external_id_without_role"),
    pytest.param(["--external-id", ""], "--external-id needs --role-name NAME: the role the auditor assumes in "
                 "each account", id="empty_external_id_without_role"),
    pytest.param(["--role-name", ROLE], "--role-name needs the accounts to read: --accounts ID,ID or --org",
                 id="role_without_accounts"),
    pytest.param(["--role-name", ROLE, "--org", "--accounts", MEMBER_A], "give --accounts ID,ID or --org, not both",
                 id="accounts_and_org"),
    pytest.param(["--role-name", "bad role!", "--accounts", MEMBER_A],
                 "--role-name 'bad role!' is not an IAM role name (letters, digits and +=,.@_-)", id="bad_role_name"),
    # What AWS would refuse, refused before any call: other scripts' digits and letters (Python's \d and \w take
    # them), and a final newline (which `$` lets through; --accounts strips its items, a config file does not).
    pytest.param(["--role-name", ROLE, "--accounts", ARABIC_INDIC_ID],
                 f"--accounts: {ARABIC_INDIC_ID!r} is not an AWS account id (12 digits)", id="arabic_indic_digits"),
    pytest.param(["--role-name", ROLE + NEWLINE, "--accounts", MEMBER_A],
                 f"--role-name {ROLE + NEWLINE!r} is not an IAM role name (letters, digits and +=,.@_-)",
                 id="role_name_newline"),
    pytest.param(["--role-name", ROLE, "--accounts", MEMBER_A, "--role-session-name", "n\u00e4chtlich"],
                 "--role-session-name 'n\u00e4chtlich' must be 2 to 64 characters of letters, digits and +=,.@_-",
                 id="session_name_not_ascii"),
    pytest.param(["--role-name", ROLE, "--accounts", MEMBER_A, "--external-id", "cl\u00e9-2026"],
                 "--external-id must be 2 to 1224 characters of letters, digits and +=,.@:/_-",
                 id="external_id_not_ascii"),
])
def test_bad_account_input_is_one_line_and_exit_2(moto_account, tmp_path, capsys, args, message) -> None:
    output = tmp_path / "snapshot.json"

    code, out, err = run(capsys, "collect", *args, "--regions", REGION, "--output", str(output))

    assert (code, out) == (2, "")
    assert err == f"auditor: error: {message}\n"
    assert not output.exists()


# moto lists no account (rather than refusing) outside an organization, and never denies: both are injected.
@pytest.mark.parametrize(("code", "message"), [
    pytest.param("AccessDeniedException", "--org: the caller may not list the organization's accounts "
                 "(AccessDeniedException): run from the management account or a delegated administrator, "
                 "with organizations:ListAccounts", id="member_account"),
    pytest.param("AWSOrganizationsNotInUseException", "--org: the caller's account is not in an organization "
                 "(AWSOrganizationsNotInUseException); use --accounts ID,ID", id="no_organization"),
])
def test_org_from_an_account_that_may_not_list_accounts_is_one_line_and_exit_2(moto_account, inject, tmp_path,
                                                                                capsys, code, message) -> None:
    inject("before-call.organizations.ListAccounts", answer_with_error("ListAccounts", code, 400))
    output = tmp_path / "snapshot.json"

    exit_code, _, err = run(capsys, "collect", "--role-name", ROLE, "--org", "--output", str(output))

    assert exit_code == 2
    assert err == f"auditor: error: {message}\n"
    assert not output.exists()


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_the_callers_policy_names_the_role_in_its_partition(partition: str, capsys) -> None:
    code, out, _ = run(capsys, "permissions", "--role-name", ROLE, "--partition", partition)

    [statement] = json.loads(out)["Statement"]
    assert code == 0
    assert (statement["Action"], statement["Resource"]) == ("sts:AssumeRole", f"arn:{partition}:iam::*:role/{ROLE}")


@pytest.mark.parametrize(("args", "message"), [
    (("--role-name", ROLE, "--partition", "aws-gov"), "--partition 'aws-gov' is not an AWS partition (aws, "),
    (("--partition", "aws-cn"), "--partition needs --role-name NAME: the member accounts' policy names no ARN"),
])
def test_a_bad_partition_is_one_line(args: tuple[str, ...], message: str, capsys) -> None:
    code, out, err = run(capsys, "permissions", *args)

    assert code == 2
    assert out == ""
    assert err.startswith(f"auditor: error: {message}")
    assert err.count("\n") == 1


def test_the_callers_policy_for_many_accounts_is_assume_role_and_list_accounts(capsys) -> None:
    code, out, _ = run(capsys, "permissions", "--role-name", ROLE, "--org")

    statements = json.loads(out)["Statement"]
    assert code == 0
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("sts:AssumeRole", f"arn:aws:iam::*:role/{ROLE}"), ("organizations:ListAccounts", "*")]


def test_a_role_path_may_hold_any_printable_ascii_but_its_name_only_iams_characters() -> None:
    # IAM: a path's characters are ! (U+0021) to DEL (U+007F); a role name's, letters, digits and +=,.@_-.
    accepted = account_request("ops~team/(net)/NetworkAudit", [MEMBER_A], False, None, None)

    assert accepted is not None and accepted.role_name == "ops~team/(net)/NetworkAudit"
    with pytest.raises(UserError):
        account_request("ops/Network(Audit)", [MEMBER_A], False, None, None)
    with pytest.raises(UserError):
        account_request("ops team/NetworkAudit", [MEMBER_A], False, None, None)


@pytest.mark.usefixtures("members")
def test_an_account_given_twice_to_collect_is_read_once() -> None:
    # The CLI drops repeats; a caller of collect() may not.
    twice = collection.collect(boto3.Session(region_name=REGION), [REGION], now=NOW, max_processes=1,
                    accounts=AccountRequest(role_name=ROLE, account_ids=(MEMBER_A, MEMBER_A)))
    once = collection.collect(boto3.Session(region_name=REGION), [REGION], now=NOW, max_processes=1,
                   accounts=AccountRequest(role_name=ROLE, account_ids=(MEMBER_A,)))

    assert (twice.document, twice.api_calls) == (once.document, once.api_calls)


# ---------------------------------------------------------------------------------------------
# An account's clients are made while its DescribeRegions is in flight


class _Recorded:
    """Stands for an account's aws.Clients: records what is asked for, fails for the services in `failing`."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.asked: list[tuple[str, str]] = []
        self.failing = failing

    def get(self, service: str, region: str) -> object:
        self.asked.append((service, region))
        if service in self.failing:
            raise ValueError(f"no endpoint for {service} in {region}")
        return object()


def test_make_clients_makes_every_regional_service_in_each_requested_region_and_the_global_ones_in_home() -> None:
    made = _Recorded()
    collection.make_clients(made, REGISTRY.values(), ["eu-west-1", "us-west-2"], "us-east-1")  # type: ignore[arg-type]

    regional = {c.service for c in REGISTRY.values() if c.scope != "global"}
    global_ = {c.service for c in REGISTRY.values() if c.scope == "global"}
    assert regional == {"ec2", "elbv2", "directconnect"} and global_ == {"directconnect"}  # what follows counts on it
    assert sorted(made.asked) == sorted({*((s, r) for s in regional for r in ("eu-west-1", "us-west-2")),
                                         *((s, "us-east-1") for s in global_)})
    assert len(made.asked) == len(set(made.asked))  # each once


def test_make_clients_without_requested_regions_makes_only_the_home_regions_and_skips_one_that_fails() -> None:
    made = _Recorded(failing=("elbv2",))
    collection.make_clients(made, REGISTRY.values(), None, "us-east-1")  # type: ignore[arg-type]

    assert sorted(made.asked) == [("directconnect", "us-east-1"), ("ec2", "us-east-1"), ("elbv2", "us-east-1")]


def test_an_accounts_clients_are_made_while_its_describe_regions_is_in_flight(members, monkeypatch) -> None:
    session = boto3.Session(region_name=REGION)
    clients = aws.Clients(session)
    identity = aws.caller_identity(clients, REGION)
    answered = threading.Event()
    clients_made = threading.Event()
    regions_to_read = collection._regions_to_read  # noqa: SLF001

    def describe_once_the_clients_are_made(*args: Any) -> Any:  # DescribeRegions, held until the clients exist
        assert clients_made.wait(10), "DescribeRegions waited for clients that were never made meanwhile"
        answered.set()
        return regions_to_read(*args)

    def meanwhile(member: aws.Clients) -> None:
        assert not answered.is_set()
        collection.make_clients(member, REGISTRY.values(), [REGION], REGION)
        clients_made.set()

    monkeypatch.setattr(collection, "_regions_to_read", describe_once_the_clients_are_made)
    request = AccountRequest(role_name=ROLE, account_ids=(MEMBER_A,))
    with ThreadPoolExecutor(max_workers=2) as pool:
        member = collection._prepare_member(  # noqa: SLF001
            session, clients, collection.role_arn(identity.partition, MEMBER_A, ROLE), request, MEMBER_A, [REGION],
            REGION, run=lambda call: pool.submit(call).result(), caller_limit=threading.Semaphore(1),
            max_pool_connections=4, submit=pool.submit, meanwhile=meanwhile)

    assert isinstance(member, collection._Member) and member.chosen == [REGION]  # noqa: SLF001
    assert answered.is_set()
    made = member.clients._clients  # noqa: SLF001
    assert {("ec2", REGION), ("elbv2", REGION), ("directconnect", REGION)} <= set(made)
