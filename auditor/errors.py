"""The tool's own exceptions. A UserError is bad input: one line for the user, exit code 2."""


class UserError(Exception):
    """Bad input (flag, config, snapshot, credentials, region, output path): exit code 2."""


class ReadOnlyViolation(Exception):
    """An AWS operation that is not a read reached the guard; it was refused before sending."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler stopping the run, `timeout`, `kill`): raised in the main thread as Ctrl-C's
    KeyboardInterrupt is, so that the run stops the same way (no half-written file), but exits with 143."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM: `terminated`) after some output was already written (complete files): `written` says
    what is on disk."""

    def __init__(self, written: str, terminated: bool = False) -> None:
        super().__init__(written)
        self.written = written
        self.terminated = terminated
