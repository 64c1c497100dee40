"""The tool's own exceptions. A UserError is bad input: one line for the user, exit code 2."""


class UserError(Exception):
    """Bad input (flag, config, snapshot, credentials, region, output path): exit code 2."""


class ReadOnlyViolation(Exception):
    """An AWS operation that is not a read reached the guard; it was refused before sending."""


class Terminated(BaseException):
    """SIGTERM (a scheduler stopping the run, `timeout`, `kill`), raised in the main thread by the program's
    handler; `written` says what is on disk when some output was already written (complete files).

    Like KeyboardInterrupt it is no Exception, so every `except Exception` lets it through and the run stops as
    Ctrl-C stops it (no half-written file); unlike it, click prints no empty line before it (that line ends a
    terminal's ^C, and would only be an empty line in a scheduler's log)."""

    def __init__(self, written: str = "") -> None:
        super().__init__(written)
        self.written = written


class Interrupted(KeyboardInterrupt):
    """Ctrl-C after some output was already written (complete files): `written` says what is on disk."""

    def __init__(self, written: str) -> None:
        super().__init__(written)
        self.written = written
