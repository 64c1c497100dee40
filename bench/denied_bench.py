"""A region that a service control policy denies: the calls made there before its keys are errors.

    .venv/bin/python bench/denied_bench.py                 # the caller's account, 50 ms a denial, 5 runs each
    .venv/bin/python bench/denied_bench.py --accounts 12   # 12 member accounts through a role, 2 processes
    .venv/bin/python bench/denied_bench.py --latency 0.1

A moto server (on 127.0.0.1): the caller's account, or --accounts member accounts read through a role (as
`--role-name` does, in --processes worker processes), in us-east-1 and eu-west-1, with the default settings but
one attempt a call. eu-west-1 is denied by an SCP: tests/scp.py's `before-send` handler, on every session of the
run, answers each request there after --latency seconds as AWS answers a call an SCP denies (nothing is sent).
Runs with auditor/scp_denied.py and without it (its watch replaced by one that watches nothing), interleaved after
a warm-up run: the calls made to eu-west-1 (its keys' errors, less those never sent: DeniedByServiceControlPolicy,
and DependencyFailed for the children of keys that failed), the run's calls, its time and the error codes there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import collect_bench as base

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DENIED = "eu-west-1"
NOT_SENT = ("DeniedByServiceControlPolicy", "DependencyFailed")


def read_members(organization: Any, accounts: tuple[str, ...], processes: int) -> tuple[Any, float, Counter[str]]:
    """As collect_bench.read_beside, for member accounts through the role: every account's session meets
    `organization` too."""
    import time

    import boto3

    import auditor.collect as collect_package
    from auditor.account_request import AccountRequest

    assume = collect_package.assumed_session

    def assumed_session(*args: Any, **kwargs: Any) -> Any:
        session = assume(*args, **kwargs)
        session.events.register("before-send", organization)
        return session

    collect_package.assumed_session = assumed_session
    try:
        session = boto3.Session(region_name=base.HOME)
        started = time.perf_counter()
        collected = collect_package.collect(session, [base.HOME, DENIED], max_processes=processes,
                                            accounts=AccountRequest(role_name=base.ROLE, account_ids=accounts))
        seconds = time.perf_counter() - started
    finally:
        collect_package.assumed_session = assume
    return collected, seconds, Counter(e["code"] for e in collected.document["errors"] if e["region"] == DENIED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each denial (default 0.05)")
    parser.add_argument("--runs", type=int, default=5, help="runs each way (default 5)")
    parser.add_argument("--accounts", type=int, default=0, help="member accounts through a role (default: none, "
                        "the caller's own account)")
    parser.add_argument("--processes", type=int, default=2, help="with --accounts: worker processes (default 2)")
    args = parser.parse_args()
    # One attempt a call, as in collect_bench.py: moto answers the keys it does not implement with HTTP 500, whose
    # retries would be most of the run's time. A denial is never retried either way.
    os.environ.update(AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard")
    accounts = tuple(f"{n:012d}" for n in range(100000000001, 100000000001 + args.accounts))

    moto_url, moto_process = base.start_moto()
    try:
        os.environ["AWS_ENDPOINT_URL"] = moto_url
        from auditor import scp_denied
        from tests.scp import Organization

        def read(latency: float) -> tuple[Any, float, Counter[str]]:
            organization = Organization(DENIED, passing=True, latency=latency)
            if accounts:
                return read_members(organization, accounts, args.processes)
            return base.read_beside(organization, DENIED)

        watch = scp_denied.Denials.watch
        results: dict[str, list[tuple[int, int, float, Counter[str]]]] = {"given up": [], "every call": []}
        read(0.0)  # warm-up: moto builds the accounts' backends
        for run in range(args.runs):
            for way in sorted(results, reverse=bool(run % 2)):  # each way first in every other run
                scp_denied.Denials.watch = watch if way == "given up" else (lambda self, client: False)
                collected, seconds, codes = read(args.latency)
                made = sum(n for code, n in codes.items() if code not in NOT_SENT)
                results[way].append((made, collected.api_calls, seconds, codes))
        scp_denied.Denials.watch = watch
        who = (f"{len(accounts)} member accounts in {args.processes} process(es)" if accounts
               else "the caller's account")
        print(f"{who}; {DENIED} denied by an SCP, {args.latency * 1000:.0f} ms a denial, {args.runs} runs each:")
        for way, runs in results.items():
            made = [run[0] for run in runs]
            print(f"  {way:10s}: calls to {DENIED} {min(made)} to {max(made)} (median {statistics.median(made):g}); "
                  f"the run's calls, median {statistics.median(run[1] for run in runs):g}; "
                  f"time, median {statistics.median(run[2] for run in runs):.2f} s")
            print("              its errors (last run): "
                  + ", ".join(f"{code} {n}" for code, n in sorted(runs[-1][3].items())))
    finally:
        base.stop(None, moto_process)


if __name__ == "__main__":
    main()
