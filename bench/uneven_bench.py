"""An uneven organization: a few large accounts among small ones, read by worker processes.

    .venv/bin/python bench/uneven_bench.py                 # 12 accounts x 1 region, 2 worker processes
    .venv/bin/python bench/uneven_bench.py --processes 4
    .venv/bin/python bench/uneven_bench.py --tls           # HTTPS (see collect_bench.py)

The same moto server and latency proxy as bench/collect_bench.py (50 ms a request, answers replayed). 12 member
accounts in one region; accounts 1, 3, 5 and 7 of the list hold 80 VPCs each (two DescribeVpcAttribute calls per
VPC), the others one. Dealt out in turn, as accounts were before 2026-11-27, every large account would go to the
same one of two workers. Times, interleaved, --runs times each:

  (a) the whole organization, --processes N (default 2);
  (d) the largest account alone: no run of the organization can end before it.

The run is correct when (a) reads every account (the call count is printed, and is the same each run).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time

import collect_bench as base

ACCOUNTS = tuple(f"{100000000001 + n:012d}" for n in range(12))
LARGE = frozenset(ACCOUNTS[n] for n in (0, 2, 4, 6))
VPCS_IN_LARGE = 80
REGION = base.HOME


def seed(url: str) -> None:
    for account_id in ACCOUNTS:
        ec2 = base._client(url, "ec2", account_id, REGION)  # noqa: SLF001 - the benchmark's own helper
        for n in range(VPCS_IN_LARGE if account_id in LARGE else 1):
            ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2, help="worker processes for (a) (default 2)")
    parser.add_argument("--runs", type=int, default=5, help="runs of (a) and of (d) (default 5)")
    base.add_tls_flag(parser)
    args = parser.parse_args()

    moto_url, moto_process = base.start_moto()
    proxy: base.ProxyProcess | None = None
    try:
        started = time.perf_counter()
        seed(moto_url)
        print(f"seeded {len(ACCOUNTS)} accounts in {REGION} ({len(LARGE)} with {VPCS_IN_LARGE} VPCs) in "
              f"{time.perf_counter() - started:.1f} s")
        proxy = base.start_proxy(moto_url, 0.05, tls=args.tls)
        os.environ["AWS_ENDPOINT_URL"] = proxy.url
        largest = ACCOUNTS[0]
        # Warm-up, one call at a time: moto's first answers, which the proxy replays from then on.
        base.run(proxy, accounts=ACCOUNTS, regions=(REGION,), max_workers=1, per_account=None)
        whole: list[base.Run] = []
        alone: list[float] = []
        for _ in range(args.runs):
            gc.collect()
            whole.append(base.run(proxy, accounts=ACCOUNTS, regions=(REGION,), max_workers=None,
                                  per_account=None, processes=args.processes))
            gc.collect()
            alone.append(base.run(proxy, accounts=(largest,), regions=(REGION,), max_workers=None,
                                  per_account=None).seconds)
        times = [r.seconds for r in whole]
        calls = sorted({r.requests for r in whole})
        print(f"(a) the organization, --processes {args.processes}: best {min(times):.2f} s, "
              f"median {statistics.median(times):.2f} s; requests at the proxy per run: {calls}")
        print(f"(d) the largest account alone ({largest}): best {min(alone):.2f} s, "
              f"median {statistics.median(alone):.2f} s")
        print(f"    CPU time of (a), median: {statistics.median(r.cpu for r in whole):.2f} s on "
              f"{os.cpu_count()} CPUs; {statistics.median(r.connections for r in whole):.0f} connections opened")
    finally:
        base.stop(proxy, moto_process)


if __name__ == "__main__":
    main()
