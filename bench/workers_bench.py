"""The default bound on calls in flight, against the fixed 64 it replaced, as the network's latency grows.

    .venv/bin/python bench/workers_bench.py                          # 12 accounts x 2 regions; 50, 150, 300 ms
    .venv/bin/python bench/workers_bench.py --latencies 0.1,0.2 --runs 5

The same moto server, latency proxy and network per account and region as bench/collect_bench.py (answers
replayed), with --accounts member accounts in two regions, read through their role with the default worker
processes (two per CPU). At each latency, interleaved, --runs times each:

  (default) --max-workers not given: 32 calls in flight per worker process the run may use (64 in one process);
  (64)      --max-workers 64, the default until 2026-11-27, shared out between the same worker processes.

50 ms a request is the proxy's default elsewhere; AWS's own regions are farther from most runners, and its
Describe calls take from tens to hundreds of milliseconds to answer. A run is correct when every run makes the
same number of requests (printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import collect_bench as base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=12, help="member accounts (default 12)")
    parser.add_argument("--latencies", default="0.05,0.15,0.3", help="seconds a request, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs of each setting at each latency (default 3)")
    args = parser.parse_args()
    accounts = tuple(f"{200000000001 + n:012d}" for n in range(args.accounts))
    latencies = [float(value) for value in args.latencies.split(",")]

    moto_url, moto_process = base.start_moto()
    proxy: base.ProxyProcess | None = None
    try:
        started = time.perf_counter()
        base.seed(moto_url, accounts)
        print(f"seeded {len(accounts)} accounts x {len(base.REGIONS)} regions in {time.perf_counter() - started:.0f} s")
        proxy = base.start_proxy(moto_url, 0.0)
        os.environ["AWS_ENDPOINT_URL"] = proxy.url
        from auditor.collect import max_workers_default

        # Warm-up, one call at a time and no latency: moto's first answers, which the proxy replays from then on.
        base.run(proxy, accounts=accounts, regions=base.REGIONS, max_workers=1, per_account=None)
        print(f"{os.cpu_count()} CPUs: the default is --max-workers {max_workers_default()}")
        for latency in latencies:
            proxy.set_latency(latency)
            runs: dict[str, list[base.Run]] = {"default": [], "64": []}
            for _ in range(args.runs):
                for setting, runs_of in runs.items():
                    runs_of.append(base.run(proxy, accounts=accounts, regions=base.REGIONS,
                                            max_workers=None if setting == "default" else int(setting),
                                            per_account=None))
            for setting, runs_of in runs.items():
                times = [run.seconds for run in runs_of]
                cpu = statistics.median(run.cpu for run in runs_of)
                print(f"{latency * 1000:4.0f} ms a request, --max-workers {setting:>7}: best {min(times):5.2f} s, "
                      f"median {statistics.median(times):5.2f} s; CPU {cpu:.2f} s "
                      f"(median) in {runs_of[0].collected.processes} processes; requests per run "
                      f"{sorted({r.requests for r in runs_of})}")
    finally:
        base.stop(proxy, moto_process)


if __name__ == "__main__":
    main()
