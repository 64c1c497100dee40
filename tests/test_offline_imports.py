"""The commands that read only files never import an AWS library.

boto3 and botocore took about 0.4 s to import, most of a 0.6 s `audit --snapshot` (2026-11-27: 0.23 s without
them). Each command runs in a child process, through the CLI's entry point, which then lists the AWS modules
it had imported; `permissions --partition` imports botocore and shows the probe sees it. (`permissions` itself
reads the collectors' registry, and the `auditor.collect` package imports boto3 to collect: not one of these.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import SnapshotBuilder

REPO = Path(__file__).resolve().parents[1]
AWS_LIBRARIES = ("boto3", "botocore", "s3transfer", "moto")

PROBE = """
import json, sys
from auditor.cli import main
try:
    main(sys.argv[2:])
except SystemExit as ended:
    code = ended.code
else:
    code = 0
aws = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[1])))
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "aws": aws}) + "\\n")
"""


def imported(*args: str) -> tuple[object, list[str]]:
    """(the command's exit code, the AWS libraries it imported)."""
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(AWS_LIBRARIES), *args], cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in result.stderr.splitlines() if line.startswith("PROBE ")]
    assert lines, result.stderr
    report = json.loads(lines[-1][len("PROBE "):])
    return report["code"], report["aws"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("offline")
    builder = SnapshotBuilder()
    app, data = builder.vpc("10.0.0.0/16", name="app"), builder.vpc("10.1.0.0/16", name="data")
    pcx = builder.peering(app, data)
    builder.route(builder.main_table(app), "10.1.0.0/16", VpcPeeringConnectionId=pcx)  # one way: a finding
    snapshot = directory / "snapshot.json"
    snapshot.write_text(json.dumps(builder.build()), encoding="utf-8")
    history = directory / "history.sqlite"
    for _ in range(2):  # two runs recorded, for `diff`
        assert imported("audit", "--snapshot", str(snapshot), "--history", str(history), "--exit-zero")[0] == 0
    return {"snapshot": str(snapshot), "history": str(history), "dir": str(directory)}


@pytest.mark.parametrize("command", [
    "audit --snapshot {snapshot} --format table",
    "audit --snapshot {snapshot} --format json --history {history}",
    "audit --snapshot {snapshot} --format asff",
    "audit --snapshot {snapshot} --format ocsf",
    "audit --snapshot {snapshot} --format sarif",
    "audit --snapshot {snapshot} --format html --output {dir}/report.html",
    "path --snapshot {snapshot} --from 10.0.0.10 --to 10.1.0.10",
    "reach --snapshot {snapshot}",
    "graph --snapshot {snapshot} --format json --output {dir}/graph.json",
    "graph --snapshot {snapshot} --format mermaid",
    "merge {snapshot} --output {dir}/merged.json",
    "rules",
    "rules PCX001",
    "history --history {history}",
    "diff --history {history}",
])
def test_a_command_on_files_imports_no_aws_library(files: dict[str, str], command: str) -> None:
    code, aws = imported(*command.format(**files).split())
    assert code in (0, 1), f"{command}: exit {code}"  # 1: the snapshot's finding
    assert aws == [], f"{command} imported {aws}"


def test_the_probe_sees_an_aws_library_imported() -> None:
    code, aws = imported("permissions", "--role-name", "NetworkAudit", "--partition", "aws")
    assert code == 0
    assert "botocore" in aws
