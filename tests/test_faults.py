"""Faults: each one costs only the data it touches, is one error record, and shows in the audit (AUD001).

The CLI collects in a child process against a moto server on 127.0.0.1, through a fault-injecting proxy on
127.0.0.1 (tests/fault_proxy.py) that answers chosen operations in a chosen region with what AWS or
the network can do to a run: a 5xx, throttling every time (so retries cannot absorb it), a denied API,
a reset connection, a response slower than the read timeout, a truncated body, a region that cannot be
reached at all, a requested region the account has not enabled, and DescribeRegions denied when regions
are given. Every run is compared with a fault-free run through the same kind of proxy: everything else is
there, equal, and nothing is doubled. Each snapshot is then audited (AUD001) through the CLI's entry point in
this process. (AssumeRole denied for one account is in tests/test_accounts.py.)
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.collect.registry import GLOBAL, GLOBAL_REGION_KEY, REGISTRY
from tests.cli import run_cli
from tests.fault_proxy import Fault, FaultProxy, Rule, ec2_error, fault_proxy, query_error
from tests.servers import ACCOUNT_ID, CLI_TIMEOUT, cli_env, moto_server, no_local_aws_setup, seed_network, start_cli

pytestmark = pytest.mark.server

HOME, OTHER = "us-east-1", "eu-west-1"
REGIONS = f"{HOME},{OTHER}"
# The read-timeout run alone sets AUDITOR_READ_TIMEOUT, and runs after the others: under their load a moto
# server answers some calls in seconds, which a short timeout would turn into unrelated read timeouts. Alone
# (beside only the Ctrl-C runs, whose proxies hold each of their reads for half a second), it answers in tens
# of milliseconds.
READ_TIMEOUT = 1
SLOW = 4  # seconds the proxy holds the request it times out: well past READ_TIMEOUT
REGIONAL_KEYS = sorted(key for key, collector in REGISTRY.items() if collector.scope != GLOBAL)
ROLE = "NetworkAudit"


def json_error(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode()


def opt_out(region: str) -> Fault:
    """DescribeRegions as it reads when the account has not enabled `region` (an opt-in region)."""
    def rewrite(body: bytes) -> bytes:
        text = body.decode()
        name = text.index(f"<regionName>{region}</regionName>")
        start, end = text.rindex("<item>", 0, name), text.index("</item>", name)
        item, count = re.subn(r"<optInStatus>[^<]*</optInStatus>", "<optInStatus>not-opted-in</optInStatus>",
                              text[start:end])
        assert count == 1, item
        return (text[:start] + item + text[end:]).encode()
    return Fault.rewritten(rewrite)


@dataclass(frozen=True)
class Case:
    """One fault: the proxy's rules, the (region, key) -> (operation, code) it must cost, and extra CLI args."""

    rules: tuple[Rule, ...]
    expected: dict[tuple[str, str], tuple[str, str]]
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # run alone, after the others, with this environment
    region_lost: str | None = None  # a whole region: every regional key there is one error, nothing stored


CASES: dict[str, Case] = {
    # A 5xx: botocore retries it (AWS_MAX_ATTEMPTS=2 here), then gives up with the API's code.
    "5xx ServiceUnavailable": Case(
        (Rule(Fault.error(503, ec2_error("ServiceUnavailable", "Service is unavailable")),
              "DescribeNatGateways", HOME),),
        {(HOME, "ec2:NatGateways"): ("DescribeNatGateways", "ServiceUnavailable")}),
    # Throttling on every attempt, EC2's code and the other query services' code.
    "throttled RequestLimitExceeded": Case(
        (Rule(Fault.error(400, ec2_error("RequestLimitExceeded", "Request limit exceeded.")),
              "DescribeVpnConnections", HOME),),
        {(HOME, "ec2:VpnConnections"): ("DescribeVpnConnections", "RequestLimitExceeded")}),
    "throttled Throttling": Case(
        (Rule(Fault.error(400, query_error("Throttling", "Rate exceeded")), "DescribeLoadBalancers", HOME),),
        {(HOME, "elbv2:LoadBalancers"): ("DescribeLoadBalancers", "Throttling")}),
    # One API denied: EC2's UnauthorizedOperation (HTTP 403), a JSON service's AccessDeniedException.
    "denied UnauthorizedOperation": Case(
        (Rule(Fault.error(403, ec2_error("UnauthorizedOperation", "You are not authorized to perform this "
                                         "operation.")), "DescribeFlowLogs", HOME),),
        {(HOME, "ec2:FlowLogs"): ("DescribeFlowLogs", "UnauthorizedOperation")}),
    "denied AccessDeniedException": Case(
        (Rule(Fault.error(400, json_error("AccessDeniedException", "User is not authorized")),
              "DescribeConnections", HOME),),
        {(HOME, "directconnect:connections"): ("DescribeConnections", "AccessDeniedException")}),
    # The connection dropped with no response, on every attempt.
    "connection reset": Case(
        (Rule(Fault.reset(), "DescribeCustomerGateways", HOME),),
        {(HOME, "ec2:CustomerGateways"): ("DescribeCustomerGateways", "ConnectionClosedError")}),
    # No response within the read timeout, on every attempt. Four calls in flight, not the default: moto and the
    # proxies answer from the test process, and with every call of a region at once its answers took up to 0.96 s
    # (median 0.48 s, logged on 2026-11-27), against the 1 s that only the held call is to miss.
    "read timeout": Case(
        (Rule(Fault.delay(SLOW), "DescribeTransitGateways", HOME),),
        {(HOME, "ec2:TransitGateways"): ("DescribeTransitGateways", "ReadTimeoutError")},
        args=("--max-workers", "4"), env=(("AUDITOR_READ_TIMEOUT", str(READ_TIMEOUT)),)),
    # HTTP 200 with half an XML document.
    "malformed response": Case(
        (Rule(Fault.truncate(), "DescribeSecurityGroups", HOME),),
        {(HOME, "ec2:SecurityGroups"): ("DescribeSecurityGroups", "ResponseParserError")}),
    # The same where the body holds a secret: the VPN connection's pre-shared key (only its end is cut off).
    "malformed response with a secret": Case(
        (Rule(Fault.truncate(cut=40), "DescribeVpnConnections", HOME),),
        {(HOME, "ec2:VpnConnections"): ("DescribeVpnConnections", "ResponseParserError")}),
    # The same for a JSON service: botocore read a cut or empty body as an empty answer, stored as read.
    "malformed JSON response": Case(
        (Rule(Fault.truncate(), "DescribeConnections", HOME),),
        {(HOME, "directconnect:connections"): ("DescribeConnections", "ResponseParserError")}),
    "empty JSON response": Case(
        (Rule(Fault.rewritten(lambda body: b""), "DescribeConnections", HOME),),
        {(HOME, "directconnect:connections"): ("DescribeConnections", "ResponseParserError")}),
    # Nothing in the region answers: every request to it is reset.
    "region unreachable": Case((Rule(Fault.reset(), None, OTHER),), {}, region_lost=OTHER),
    # The account has not enabled a requested region (read through the role, as an organization run is).
    "region disabled": Case(
        (Rule(opt_out(OTHER), "DescribeRegions", HOME),),
        {(OTHER, "ec2:Regions"): ("DescribeRegions", "OptInRequired")},
        args=("--role-name", ROLE, "--accounts", ACCOUNT_ID), region_lost=OTHER),
    # The same, for the caller's own account (no --role-name).
    "region disabled, caller's account": Case(
        (Rule(opt_out(OTHER), "DescribeRegions", HOME),),
        {(OTHER, "ec2:Regions"): ("DescribeRegions", "OptInRequired")}, region_lost=OTHER),
    # DescribeRegions itself denied: the regions given are read all the same, and the denial is the account's.
    "DescribeRegions denied": Case(
        (Rule(Fault.error(403, ec2_error("UnauthorizedOperation", "You are not authorized to perform this "
                                         "operation.")), "DescribeRegions", HOME),),
        {(GLOBAL_REGION_KEY, "ec2:Regions"): ("DescribeRegions", "UnauthorizedOperation")}),
}


@dataclass
class Run:
    name: str
    directory: Path
    returncode: int = -1
    stdout: str = ""
    stderr: str = ""
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def snapshot(self) -> dict[str, Any]:
        return json.loads((self.directory / "snap.json").read_text(encoding="utf-8"))

    def regions(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return self.snapshot["accounts"][ACCOUNT_ID]["regions"]


@dataclass
class World:
    baseline: Run
    runs: dict[str, Run]
    proxies: dict[str, FaultProxy]
    ids: dict[str, str]
    interrupted: dict[str, Interrupted]


@dataclass(frozen=True)
class Interruption:
    older: str | None  # out.json already in the directory
    args: tuple[str, ...] = ()
    hold: float = 0.5  # seconds each read is held (the proxy resets it when it stops)
    stop: signal.Signals = signal.SIGINT  # Ctrl-C; or SIGTERM, a scheduler's stop


@dataclass(frozen=True)
class Interrupted:
    directory: Path
    done: subprocess.CompletedProcess[str]
    seconds: float  # from Ctrl-C to the end of the process


# Ctrl-C mid-collection, into an empty directory and into one that holds an older snapshot; and in one process
# with every read held for good (worker processes are stopped; in one process, the threads making calls are
# left: until 2026-11-27 the run waited for them, the read timeout of 60 s and the retries after it).
INTERRUPTED = {
    "no file": Interruption(None),
    "an older snapshot": Interruption('{"an": "older snapshot"}\n'),
    "reads held, one process": Interruption(None, ("--processes", "1"), hold=3600),
    # SIGTERM (systemd, `timeout`, Kubernetes) stops a run as Ctrl-C does; until 2026-11-27 it killed the program
    # at once, a temporary file left behind when it landed during a write, and no line said so.
    "terminated": Interruption(None, stop=signal.SIGTERM),
    "terminated, reads held, one process, an older snapshot": Interruption(
        '{"an": "older snapshot"}\n', ("--processes", "1"), hold=3600, stop=signal.SIGTERM),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One seeded moto server; a fault-free run and one run per fault, all at once, each through its proxy.

    The runs that must be alone on the moto server (the read timeout) come next, while the others are audited
    in process and the Ctrl-C runs, which hardly load the server, are interrupted beside them.
    """
    base = tmp_path_factory.mktemp("faults")
    with ExitStack() as stack:
        url = stack.enter_context(moto_server())
        with no_local_aws_setup(base):
            ids = seed_network(url)
        env = cli_env(url, base / "aws-config")
        proxies = {"baseline": stack.enter_context(fault_proxy(url, []))}
        proxies.update({name: stack.enter_context(fault_proxy(url, list(case.rules))) for name, case in CASES.items()})
        runs: dict[str, Run] = {}
        for index, name in enumerate(proxies):
            runs[name] = Run(name, base / f"run{index}")
            runs[name].directory.mkdir()
        together = [name for name in proxies if name not in CASES or not CASES[name].env]
        alone = [name for name in proxies if name not in together]
        processes: dict[str, subprocess.Popen[str]] = {}
        interrupted: dict[str, Interrupted] = {}
        try:
            start_collections(env, runs, proxies, processes, together)
            finish_collections(runs, processes, together)
            start_collections(env, runs, proxies, processes, alone)
            with ThreadPoolExecutor(max_workers=len(INTERRUPTED)) as threads:
                pending = {label: threads.submit(interrupted_collect, url, env, base / f"interrupted{index}", how)
                           for index, (label, how) in enumerate(INTERRUPTED.items())}
                audit_in_process(runs, together)
                finish_collections(runs, processes, alone)
                interrupted = {label: future.result() for label, future in pending.items()}
            audit_in_process(runs, alone)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
        baseline = runs.pop("baseline")
        yield World(baseline, runs, proxies, ids, interrupted)


def start_collections(env: dict[str, str], runs: dict[str, Run], proxies: dict[str, FaultProxy],
                      processes: dict[str, subprocess.Popen[str]], names: list[str]) -> None:
    """`collect` for these runs at once, each through its proxy, as child processes."""
    for name in names:
        case = CASES.get(name, Case((), {}))
        processes[name] = start_cli(
            ["collect", "--regions", REGIONS, "--output", "snap.json", *case.args],
            {**env, "AWS_ENDPOINT_URL": proxies[name].url, **dict(case.env)}, runs[name].directory)


def finish_collections(runs: dict[str, Run], processes: dict[str, subprocess.Popen[str]], names: list[str]) -> None:
    for name in names:
        runs[name].stdout, runs[name].stderr = processes[name].communicate(timeout=CLI_TIMEOUT)
        runs[name].returncode = processes[name].returncode


def audit_in_process(runs: dict[str, Run], names: list[str]) -> None:
    """The AUD001 audit of each collected snapshot, through the CLI's entry point in this process (an audit
    of a file makes no AWS call; a child process per audit cost a second of start-up each)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AUDITOR_CONFIG", raising=False)
        for name in names:
            run = runs[name]
            if run.returncode != 0:
                continue
            try:
                main(["audit", "--snapshot", str(run.directory / "snap.json"), "--format", "json",
                      "--select", "AUD001", "--output", str(run.directory / "audit.json")])
                code = 0
            except SystemExit as done:
                code = int(done.code or 0)
            assert code in (0, 1), f"the audit of {name} exited {code}"
            run.audit = json.loads((run.directory / "audit.json").read_text(encoding="utf-8"))


def errors_for(document: dict[str, Any], region: str, key: str) -> list[dict[str, Any]]:
    return [e for e in document["errors"] if (e["region"], e["key"]) == (region, key)]


def error_rows(document: dict[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    return sorted((e["account_id"], e["region"], e["key"], e.get("resource_id") or "", e["operation"], e["code"])
                  for e in document["errors"])


def test_the_fault_free_run_through_the_proxy_is_complete(world: World) -> None:
    baseline = world.baseline
    assert baseline.returncode == 0, baseline.stderr
    regions = baseline.regions()
    assert set(regions) >= {HOME, OTHER}
    assert world.proxies["baseline"].faulted() == []
    # The seeded resources are there, so a key a fault removes is a key that had data.
    for key in ("ec2:NatGateways", "ec2:VpnConnections", "elbv2:LoadBalancers", "ec2:FlowLogs",
                "directconnect:connections", "ec2:CustomerGateways", "ec2:TransitGateways", "ec2:SecurityGroups"):
        assert regions[HOME][key], key
    failed = {(e["region"], e["key"]) for e in baseline.snapshot["errors"]}
    for case in CASES.values():
        assert not failed & set(case.expected), "a key that fails without a fault proves nothing"


@pytest.mark.parametrize("name", list(CASES))
def test_a_fault_is_one_error_with_account_region_operation_and_code(world: World, name: str) -> None:
    case, run = CASES[name], world.runs[name]
    assert run.returncode == 0, run.stderr
    assert world.proxies[name].faulted(), "the proxy never injected the fault"
    errors = run.snapshot["errors"]
    for (region, key), (operation, code) in case.expected.items():
        mine = [e for e in errors if (e["region"], e["key"]) == (region, key)]
        assert len(mine) == 1, mine
        assert mine[0]["account_id"] == ACCOUNT_ID
        assert (mine[0]["operation"], mine[0]["code"]) == (operation, code), mine[0]
        assert mine[0]["message"]
        assert "<" not in mine[0]["message"], "an error message quotes the response body"
    if case.region_lost:
        lost = [e for e in errors if e["region"] == case.region_lost]
        if name == "region unreachable":  # every regional key there, once each: its own failure or its parent's
            assert Counter(e["key"] for e in lost) == Counter(REGIONAL_KEYS)
            for error in lost:
                collector = REGISTRY[error["key"]]
                expected = "DependencyFailed" if collector.parent else "ConnectionClosedError"
                assert (error["account_id"], error["operation"], error["code"]) == (
                    ACCOUNT_ID, collector.operation, expected), error
        else:  # a region not read at all: its one error is the DescribeRegions one above
            assert [e["key"] for e in lost] == ["ec2:Regions"]
    # The run's summary line says when every read of a region failed, which its count of errors does not.
    said = f"(nothing could be read in 1 region(s): {ACCOUNT_ID}/{OTHER})"
    assert (said in run.stderr) == (name == "region unreachable"), run.stderr


@pytest.mark.parametrize("name", list(CASES))
def test_a_fault_costs_only_the_data_it_touches(world: World, name: str) -> None:
    case, run = CASES[name], world.runs[name]
    assert run.returncode == 0, run.stderr
    before, after = world.baseline.regions(), run.regions()
    lost = set(case.expected)
    if case.region_lost:
        assert after.get(case.region_lost, {}) == {}
        lost |= {(case.region_lost, key) for key in before[case.region_lost]}
    for region, keys in before.items():
        for key, items in keys.items():
            if (region, key) in lost:
                assert key not in after.get(region, {}), f"{region} {key} was not read but is stored"
                continue
            assert key in after.get(region, {}), (
                f"{region} {key} is missing; its errors: {errors_for(run.snapshot, region, key)}")
            assert after[region][key] == items, f"{region} {key} differs from the fault-free run"
    assert {(r, k) for r, keys in after.items() for k in keys} <= {(r, k) for r, keys in before.items() for k in keys}
    # Every other error is the fault-free run's, once: nothing lost, nothing doubled.
    expected_rows = [row for row in error_rows(world.baseline.snapshot)
                     if (row[1], row[2]) not in lost and row[1] != case.region_lost]
    faulted_rows = [row for row in error_rows(run.snapshot)
                    if (row[1], row[2]) not in lost and row[1] != case.region_lost
                    and (row[1], row[2]) not in case.expected]
    assert faulted_rows == expected_rows


@pytest.mark.parametrize("name", list(CASES))
def test_a_fault_shows_in_the_audit_as_aud001_naming_the_key(world: World, name: str) -> None:
    case, run = CASES[name], world.runs[name]
    assert run.returncode == 0, run.stderr
    findings = [f for f in run.audit["findings"] if f["rule_id"] == "AUD001"]
    named = {(f["region"], f["resource_id"]) for f in findings}
    for region, key in case.expected:
        assert (region, key) in named, findings
    if name == "region unreachable":  # one finding for the region, naming every key it could not read
        [lost] = [f for f in findings if f["region"] == OTHER]
        assert lost["resource_id"] == "*"
        assert lost["evidence"]["keys_not_read"] == REGIONAL_KEYS
        roots = {key for key in REGIONAL_KEYS if not REGISTRY[key].parent}
        assert {error["key"] for error in lost["evidence"]["errors"]} == roots


def test_a_malformed_response_puts_none_of_its_body_in_the_snapshot(world: World) -> None:
    run = world.runs["malformed response with a secret"]
    assert run.returncode == 0, run.stderr
    text = (run.directory / "snap.json").read_text(encoding="utf-8")
    assert world.ids["vpn_psk"] not in text
    assert world.ids["vpn_psk"] not in run.stdout + run.stderr


def interrupted_collect(url: str, env: dict[str, str], directory: Path, how: Interruption) -> Interrupted:
    """`collect --output out.json` in `directory` (holding `how.older` as out.json, if given) through a proxy that
    holds every read, interrupted mid-way."""
    directory.mkdir()
    if how.older is not None:
        (directory / "out.json").write_text(how.older, encoding="utf-8")
    setup = ("GetCallerIdentity", "DescribeRegions")  # answered at once: only the collection itself is held
    rules = [*(Rule(Fault.delay(0), operation) for operation in setup), Rule(Fault.delay(how.hold))]
    with fault_proxy(url, rules) as proxy:
        process = start_cli(["collect", "--regions", REGIONS, "--output", "out.json", *how.args],
                            {**env, "AWS_ENDPOINT_URL": proxy.url}, directory)
        try:
            deadline = time.monotonic() + 30
            while proxy.count(lambda s: s.operation not in setup) < 3:
                assert process.poll() is None and time.monotonic() < deadline, "collection never started"
                time.sleep(0.05)
            process.send_signal(how.stop)
            interrupted_at = time.monotonic()
            stdout, stderr = process.communicate(timeout=CLI_TIMEOUT)
            seconds = time.monotonic() - interrupted_at
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    return Interrupted(directory, subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
                       seconds)


@pytest.mark.parametrize("label", ["no file", "reads held, one process"])
def test_ctrl_c_mid_collection_is_exit_130_and_leaves_no_file(world: World, label: str) -> None:
    directory, done = world.interrupted[label].directory, world.interrupted[label].done

    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["auditor: interrupted"]  # one line (after the progress), no traceback
    assert sorted(p.name for p in directory.iterdir()) == []


def test_ctrl_c_does_not_wait_for_the_calls_in_flight(world: World) -> None:
    # Every read is held for an hour: waiting for them would take the read timeout (60 s) at least.
    assert world.interrupted["reads held, one process"].seconds < 30


def test_sigterm_mid_collection_is_exit_143_one_line_and_leaves_no_file(world: World) -> None:
    directory, done = world.interrupted["terminated"].directory, world.interrupted["terminated"].done

    assert done.returncode == 143, done.stderr
    assert done.stderr == "auditor: terminated\n"  # one line: no empty one before it (click's, for a terminal's ^C)
    assert sorted(p.name for p in directory.iterdir()) == []


def test_sigterm_keeps_an_existing_output_and_does_not_wait_for_the_calls_in_flight(world: World) -> None:
    stopped = world.interrupted["terminated, reads held, one process, an older snapshot"]

    assert stopped.done.returncode == 143, stopped.done.stderr
    assert stopped.done.stderr == "auditor: terminated\n"
    assert (stopped.directory / "out.json").read_text(encoding="utf-8") == '{"an": "older snapshot"}\n'
    assert sorted(p.name for p in stopped.directory.iterdir()) == ["out.json"]
    assert stopped.seconds < 30


def test_ctrl_c_mid_collection_leaves_an_existing_output_unchanged(world: World) -> None:
    directory, done = world.interrupted["an older snapshot"].directory, world.interrupted["an older snapshot"].done

    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr
    assert (directory / "out.json").read_text(encoding="utf-8") == '{"an": "older snapshot"}\n'
    assert sorted(p.name for p in directory.iterdir()) == ["out.json"]


def test_a_bad_read_timeout_setting_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AUDITOR_READ_TIMEOUT", "soon")  # refused before any call: no server needed

    code, out, err = run_cli(capsys, "collect", "--regions", HOME, "--output", str(tmp_path / "out.json"))

    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        "auditor: error: AUDITOR_READ_TIMEOUT must be a positive number of seconds, not 'soon'"]
    assert list(tmp_path.iterdir()) == []
