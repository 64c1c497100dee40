"""Running the CLI in process, as the console script does, for tests that check exit codes and output."""

from __future__ import annotations

import pytest

from auditor.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`auditor ARGS...` through `main` (so bad input maps to exit 2): (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
