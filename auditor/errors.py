"""The tool's own exceptions. A UserError is bad input: one line for the user, exit code 2."""


class UserError(Exception):
    """Bad input (flag, config, snapshot, credentials, region, output path): exit code 2."""


class ReadOnlyViolation(Exception):
    """An AWS operation that is not a read reached the guard; it was refused before sending."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C after some output was already written (complete files): `written` says what is on disk."""

    def __init__(self, written: str) -> None:
        super().__init__(written)
        self.written = written
