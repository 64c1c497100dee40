"""One account in six regions: its regions read in worker processes.

    .venv/bin/python bench/regions_bench.py                # 6 regions, 50 ms a request, the caller's own account
    .venv/bin/python bench/regions_bench.py --role         # the same account through --role-name
    .venv/bin/python bench/regions_bench.py --latency 0.1

The same moto server, latency proxy and network per region as bench/collect_bench.py (answers replayed), in
one account, read with that account's own credentials, as `auditor collect` without --role-name reads it, or
with --role as `auditor collect --role-name NetworkAudit --accounts ID` reads it (AssumeRole from the default
account). Until 2026-11-27 such a run read every region in one process, on one CPU. Times, interleaved, --runs
times each:

  (a) the defaults (--processes: two per CPU, never more than the regions), and the same with --processes 1;
  (c) each region alone (one region: one process): the slowest is the critical path of a region.

The run is correct when (a) and --processes 1 make the same calls, the computed minimum, and write the same
snapshot (checked).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from typing import Any, NamedTuple

import collect_bench as base

ACCOUNT = base.ACCOUNTS[0]
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "eu-central-1", "ap-southeast-1", "ap-northeast-1")


class Run(NamedTuple):
    seconds: float
    collected: Any
    requests: int  # at the proxy
    cpu: float  # CPU seconds of the collection: this process and its workers


def run(proxy: base.ProxyProcess, credentials: dict[str, str] | None, regions: tuple[str, ...],
        processes: int | None) -> Run:
    """One collection of the account in these regions: with its own `credentials`, or (None) through the role."""
    import boto3

    from auditor.account_request import AccountRequest
    from auditor.collect import collect

    gc.collect()  # as a new process would start: without the garbage of the runs before
    if credentials is None:
        session = boto3.Session(region_name=base.HOME)
        role = AccountRequest(role_name=base.ROLE, account_ids=(ACCOUNT,))
    else:
        session = boto3.Session(region_name=base.HOME, aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"],
                                aws_session_token=credentials["SessionToken"])
        role = None
    proxy.take()
    cpu_before = base._cpu_seconds()  # noqa: SLF001 - the benchmark's own helper
    started = time.perf_counter()
    collected = collect(session, list(regions), max_processes=processes, accounts=role)
    seconds = time.perf_counter() - started
    return Run(seconds, collected, proxy.take(), base._cpu_seconds() - cpu_before)  # noqa: SLF001


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each request is held (default 0.05)")
    parser.add_argument("--runs", type=int, default=5, help="runs of (a) and of each region alone (default 5)")
    parser.add_argument("--role", action="store_true", help="read the account through its role (--role-name)")
    args = parser.parse_args()

    moto_url, moto_process = base.start_moto()
    proxy: base.ProxyProcess | None = None
    try:
        created = sum((base.seed_region(moto_url, ACCOUNT, region, 0, r, base.ACCOUNTS[1])
                       for r, region in enumerate(REGIONS)), start=base.Counter())
        print(f"seeded account {ACCOUNT} in {len(REGIONS)} regions: "
              + ", ".join(f"{n} {kind}" for kind, n in sorted(created.items())))
        proxy = base.start_proxy(moto_url, args.latency)
        import boto3

        credentials = None if args.role else boto3.client(
            "sts", region_name=base.HOME, endpoint_url=moto_url).assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{base.ROLE}", RoleSessionName="bench")["Credentials"]
        os.environ["AWS_ENDPOINT_URL"] = proxy.url
        # Warm-up: moto's first answers, one process (the proxy replays them from then on), then each region.
        run(proxy, credentials, REGIONS, 1)
        for region in REGIONS:
            run(proxy, credentials, (region,), None)
        defaults: list[Run] = []
        one_process: list[Run] = []
        alone: dict[str, list[float]] = {region: [] for region in REGIONS}
        for _ in range(args.runs):
            defaults.append(run(proxy, credentials, REGIONS, None))
            one_process.append(run(proxy, credentials, REGIONS, 1))
            for region in REGIONS:
                alone[region].append(run(proxy, credentials, (region,), None).seconds)
        minimum, _ = base.minimum_calls(defaults[-1].collected.document, 1, assumed=args.role)
        same = all(r.collected.document["accounts"] == one_process[0].collected.document["accounts"]
                   for r in defaults + one_process)
        calls = sorted({r.collected.api_calls for r in defaults + one_process} | {r.requests for r in defaults})
        print(f"(a) defaults ({defaults[-1].collected.processes} worker processes): "
              f"{base._spread([r.seconds for r in defaults])}; "  # noqa: SLF001
              f"CPU {statistics.median(r.cpu for r in defaults):.2f} s (median) on {os.cpu_count()} CPUs")
        print(f"    --processes 1:                 {base._spread([r.seconds for r in one_process])}; "  # noqa: SLF001
              f"CPU {statistics.median(r.cpu for r in one_process):.2f} s")
        print(f"    calls (guard and proxy, every run): {calls}; the minimum: {minimum}; the same snapshot: {same}")
        slowest = max(alone, key=lambda region: min(alone[region]))
        critical_best = min(alone[slowest])
        critical_median = max(statistics.median(times) for times in alone.values())
        print(f"(c) slowest region alone ({slowest}): best {critical_best:.2f} s; the highest median of any region "
              f"{critical_median:.2f} s")
        for label, pick, critical in (("best", min, critical_best), ("median", statistics.median, critical_median)):
            wall = pick([r.seconds for r in defaults])
            one = pick([r.seconds for r in one_process])
            print(f"  {label}: (a) / (c) = {wall / critical:.2f} (with --processes 1: {one / critical:.2f}); "
                  f"{one / wall:.2f} times faster than one process")
    finally:
        base.stop(proxy, moto_process)


if __name__ == "__main__":
    main()
