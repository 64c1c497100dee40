"""A region that a service control policy denies: the calls made there before its keys are errors.

    .venv/bin/python bench/denied_bench.py                 # 50 ms a denial, 5 runs each
    .venv/bin/python bench/denied_bench.py --latency 0.1

The caller's account of a moto server (on 127.0.0.1) in us-east-1 and eu-west-1, read in one process with the
default settings but one attempt a call. eu-west-1 is denied by an SCP: tests/scp.py's `before-send` handler
answers each request there after --latency seconds as AWS answers a call an SCP denies (nothing is sent). Runs
with the services given up after three denials (auditor/scp_denied.py) and without (its watch replaced by one
that watches nothing), interleaved after a warm-up run: the calls sent to eu-west-1, the run's calls, its time
and the error codes in eu-west-1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import Counter
from pathlib import Path

import collect_bench as base

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DENIED = "eu-west-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each denial (default 0.05)")
    parser.add_argument("--runs", type=int, default=5, help="runs each way (default 5)")
    args = parser.parse_args()
    # One attempt a call, as in collect_bench.py: moto answers the keys it does not implement with HTTP 500, whose
    # retries would be most of the run's time. A denial is never retried either way.
    os.environ.update(AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard")

    moto_url, moto_process = base.start_moto()
    try:
        os.environ["AWS_ENDPOINT_URL"] = moto_url
        from auditor import scp_denied
        from tests.scp import Organization

        watch = scp_denied.watch
        results: dict[str, list[tuple[int, int, float, Counter[str]]]] = {"given up": [], "every call": []}
        base.read_beside(Organization(DENIED, passing=True), DENIED)  # warm-up: moto builds the account's backends
        for run in range(args.runs):
            for way in sorted(results, reverse=bool(run % 2)):  # each way first in every other run
                scp_denied.watch = watch if way == "given up" else (lambda client, denials=0: False)
                organization = Organization(DENIED, passing=True, latency=args.latency)
                collected, seconds, codes = base.read_beside(organization, DENIED)
                results[way].append((sum(organization.sent.values()), collected.api_calls, seconds, codes))
        scp_denied.watch = watch
        print(f"{DENIED} denied by an SCP, {args.latency * 1000:.0f} ms a denial, {args.runs} runs each:")
        for way, runs in results.items():
            sent = [run[0] for run in runs]
            print(f"  {way:10s}: calls to {DENIED} {min(sent)} to {max(sent)} (median {statistics.median(sent):g}); "
                  f"the run's calls, median {statistics.median(run[1] for run in runs):g}; "
                  f"time, median {statistics.median(run[2] for run in runs):.2f} s")
            print("              its errors (last run): "
                  + ", ".join(f"{code} {n}" for code, n in sorted(runs[-1][3].items())))
    finally:
        base.stop(None, moto_process)


if __name__ == "__main__":
    main()
