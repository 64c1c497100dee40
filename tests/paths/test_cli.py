"""`auditor path` and `auditor reach` through the command line: exit codes, the documented JSON shape, bad input."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from auditor import snapshot as snapshots
from tests.cli import run_cli
from tests.factories import SnapshotBuilder
from tests.paths.network import hub, peered_pair

HOP_FIELDS = {"resource_id", "resource_type", "account_id", "region", "detail"}
BLOCKER_FIELDS = {"code", "resource_id", "message", "fix"}


def _write(tmp_path: Path, b: SnapshotBuilder) -> str:
    target = tmp_path / "snapshot.json"
    snapshots.write_private(target, snapshots.dumps(b.build()))
    return str(target)


@pytest.fixture()
def one_way(tmp_path: Path) -> tuple[str, dict[str, str]]:
    b = SnapshotBuilder()
    net = peered_pair(b, back_route=False)
    return _write(tmp_path, b), net


def test_reachable_exits_0_and_not_reachable_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    b = SnapshotBuilder()
    net = peered_pair(b)
    third = b.vpc("10.9.0.0/16")
    snapshot = _write(tmp_path, b)

    reachable = run_cli(capsys, "path", "--snapshot", snapshot, "--from", net["subnet_a"], "--to", net["subnet_b"])
    unreachable = run_cli(capsys, "path", "--snapshot", snapshot, "--from", net["subnet_a"], "--to", third)

    assert reachable[0] == 0
    assert "REACHABLE" in reachable[1] and "path: reachable" in reachable[2]
    assert unreachable[0] == 1
    assert "NO_ROUTE_TO_DESTINATION" in unreachable[1]


def test_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str], one_way: tuple[str, Any]) -> None:
    snapshot, net = one_way

    code, out, _ = run_cli(capsys, "path", "--snapshot", snapshot, "--from", net["subnet_a"], "--to", "10.1.1.7",
                           "--protocol", "tcp", "--port", "443", "--format", "json")

    document = json.loads(out)
    assert code == 1
    assert set(document) == {"source", "destination", "protocol", "port", "reachable", "forward", "return"}
    assert document["source"] == {"input": net["subnet_a"], "resolved": {
        "kind": "subnet", "network": "10.0.1.0/24", "account_id": "111122223333", "region": "us-east-1",
        "vpc_id": net["a"], "subnet_id": net["subnet_a"]}}
    assert document["destination"]["resolved"]["subnet_id"] == net["subnet_b"]
    assert (document["protocol"], document["port"], document["reachable"]) == ("tcp", 443, False)
    assert document["forward"]["reachable"] is True and document["forward"]["blockers"] == []
    assert document["return"]["reachable"] is False
    for hop in document["forward"]["hops"] + document["return"]["hops"]:
        assert set(hop) == HOP_FIELDS
    (blocker,) = document["return"]["blockers"]
    assert set(blocker) == BLOCKER_FIELDS
    assert (blocker["code"], blocker["resource_id"]) == ("NO_ROUTE_TO_DESTINATION", net["table_b"])


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "subnet-0000000000000dead", "--to", "10.1.1.7"), "subnet subnet-0000000000000dead is not in"),
    (("--from", "vpc-0000000000000dead", "--to", "10.1.1.7"), "VPC vpc-0000000000000dead is not in"),
    (("--from", "eni-0000000000000dead", "--to", "10.1.1.7"), "network interface eni-0000000000000dead is not in"),
    (("--from", "10.0.1.5", "--to", "203.0.113.9"), "203.0.113.9 is in no VPC and no customer network"),
    (("--from", "10.0.1.5", "--to", "banana"), "'banana' is not a subnet, VPC, network interface or VPC endpoint id"),
    (("--from", "10.0.1.5", "--to", "10.1.1.7", "--protocol", "icmp", "--port", "8"), "--port applies to tcp"),
    (("--from", "10.0.1.5", "--to", "cvpn-endpoint-0000000000000dead"), "source of a path, not its destination"),
    (("--from", "vpce-0000000000000dead", "--to", "10.1.1.7"), "destination of a path, not its source"),
    (("--from", "cvpn-endpoint-0000000000000dead", "--to", "10.1.1.7"), "Client VPN endpoint cvpn-endpoint-"),
    (("--from", "10.0.1.5", "--to", "vpce-0000000000000dead"), "VPC endpoint vpce-0000000000000dead is not in"),
])
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], one_way: tuple[str, Any],
                                          args: tuple[str, ...], message: str) -> None:
    snapshot, _ = one_way

    code, out, err = run_cli(capsys, "path", "--snapshot", snapshot, *args)

    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_demo_refuses_a_snapshot_path_it_cannot_write_before_collecting(capsys: pytest.CaptureFixture[str],
                                                                        tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "demo", "--save-snapshot", str(tmp_path / "missing" / "demo.json"))

    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and "demo.json" in err


def test_a_broken_snapshot_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")

    for command in (("path", "--from", "10.0.0.1", "--to", "10.0.0.2"), ("reach",)):
        code, _, err = run_cli(capsys, *command, "--snapshot", str(broken))

        assert code == 2
        assert "is not valid JSON" in err


def test_output_file_is_written_private(capsys: pytest.CaptureFixture[str], one_way: tuple[str, Any],
                                        tmp_path: Path) -> None:
    snapshot, net = one_way
    target = tmp_path / "answer.json"

    code, out, _ = run_cli(capsys, "path", "--snapshot", snapshot, "--from", net["subnet_a"], "--to", net["subnet_b"],
                           "--format", "json", "--output", str(target))

    assert (code, out) == (1, "")
    assert json.loads(target.read_text())["reachable"] is False
    assert os.stat(target).st_mode & 0o777 == 0o600


def test_reach_prints_the_matrix_in_each_format(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    b = SnapshotBuilder()
    net = peered_pair(b, back_route=False)
    spokes = hub(b, spokes=2, first=5)["spokes"]
    one, two = spokes[0]["vpc"], spokes[1]["vpc"]
    snapshot = _write(tmp_path, b)

    _, table, err = run_cli(capsys, "reach", "--snapshot", snapshot)
    _, as_json, _ = run_cli(capsys, "reach", "--snapshot", snapshot, "--format", "json")
    code, as_csv, _ = run_cli(capsys, "reach", "--snapshot", snapshot, "--format", "csv")

    document = json.loads(as_json)
    assert code == 0
    assert document["reachable_pairs"] == [sorted([one, two])]
    assert document["one_way"] == [[net["a"], net["b"]]]
    rows = {row["from"]: row for row in csv.DictReader(io.StringIO(as_csv))}
    assert (rows[net["a"]][net["b"]], rows[net["b"]][net["a"]]) == ("forward", "return")
    assert rows[one][two] == "both" and rows[one][one] == "self"
    assert "1 of 6 pairs reach each other both ways" in table
    assert "4 VPCs, 1 pairs reachable both ways" in err


def test_path_reads_a_live_account_when_no_snapshot_is_given(capsys: pytest.CaptureFixture[str],
                                                             moto_account: None) -> None:
    from tests.conftest import seed_client

    ec2 = seed_client("ec2")
    vpcs = [ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"] for cidr in ("10.70.0.0/16", "10.71.0.0/16")]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"))["Subnet"]["SubnetId"]
               for vpc, cidr in zip(vpcs, ("10.70.0.0/16", "10.71.0.0/16"), strict=True)]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpcs[0], PeerVpcId=vpcs[1])["VpcPeeringConnection"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    tables = {vpc: ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]
              for vpc in vpcs}
    ec2.create_route(RouteTableId=tables[vpcs[0]]["RouteTableId"], DestinationCidrBlock="10.71.0.0/16",
                     VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])

    one_way = run_cli(capsys, "path", "--regions", "us-east-1", "--from", subnets[0], "--to", "10.71.1.9",
                      "--protocol", "tcp", "--port", "443", "--format", "json")
    ec2.create_route(RouteTableId=tables[vpcs[1]]["RouteTableId"], DestinationCidrBlock="10.70.0.0/16",
                     VpcPeeringConnectionId=pcx["VpcPeeringConnectionId"])
    both_ways = run_cli(capsys, "path", "--regions", "us-east-1", "--from", subnets[0], "--to", subnets[1])

    assert one_way[0] == 1
    document = json.loads(one_way[1])
    assert document["forward"]["reachable"] is True  # moto's default network ACLs allow all, both ways
    assert [b["code"] for b in document["return"]["blockers"]] == ["NO_ROUTE_TO_DESTINATION"]
    assert any(h["resource_type"] == "AWS::EC2::NetworkAcl" for h in document["forward"]["hops"])
    assert both_ways[0] == 0
