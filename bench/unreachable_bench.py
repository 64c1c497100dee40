"""A region whose endpoint the network drops: how long, and how many attempts, before its keys are errors.

    .venv/bin/python bench/unreachable_bench.py               # 10 s a connect timeout
    .venv/bin/python bench/unreachable_bench.py --timeout 2

The caller's account of bench/collect_bench.py's moto server (on 127.0.0.1), in us-east-1 and eu-west-1, read in
one process with the default retries. Nothing is dropped for real: a `before-send` handler on the session holds
each request to eu-west-1 for --timeout seconds, then fails it as botocore fails a connection that timed out
(ConnectTimeoutError). It prints the run's time, the attempts made to eu-west-1, and the error codes there.
Before auditor/unreachable.py (2026-11-27), at 10 s: 123 s and 83 attempts.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import Counter
from typing import Any

import collect_bench as base

DROPPED = "eu-west-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds each attempt to connect takes to fail")
    args = parser.parse_args()
    for name in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):  # the defaults, as a user's run has them
        os.environ.pop(name, None)

    moto_url, moto_process = base.start_moto()
    try:
        os.environ["AWS_ENDPOINT_URL"] = moto_url
        import botocore.exceptions

        attempts = Counter[str]()
        lock = threading.Lock()

        def network(request: Any, **_: Any) -> None:
            if f"/{DROPPED}/" in str(request.headers.get("Authorization", b""), "latin-1"):
                with lock:
                    attempts["sent"] += 1
                time.sleep(args.timeout)
                raise botocore.exceptions.ConnectTimeoutError(endpoint_url=request.url)

        collected, seconds, codes = base.read_beside(network, DROPPED)
        print(f"{DROPPED} dropped, {args.timeout:g} s a connect timeout: the run took {seconds:.1f} s; "
              f"{attempts['sent']} attempts to {DROPPED}; its errors: "
              + ", ".join(f"{code} {n}" for code, n in sorted(codes.items())))
        print(collected.summary())
    finally:
        base.stop(None, moto_process)


if __name__ == "__main__":
    main()
