"""One error hierarchy for flotod, with the process exit codes that go with it.

Every error flotod raises on purpose derives from :class:`FlotodError`, so callers can
catch "anything flotod knows about" without catching programming errors.
"""

from __future__ import annotations

import os

# sysexits.h codes; systemd units use EX_CONFIG in RestartPreventExitStatus= so that a bad
# config fails once instead of restarting in a loop.
EX_OK = os.EX_OK
EX_USAGE = 64
EX_DATAERR = 65
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CONFIG = 78


class FlotodError(Exception):
    """Base of every error flotod raises deliberately."""

    exit_code: int = EX_SOFTWARE


class SpecError(FlotodError, ValueError):
    """A task graph or decider spec that cannot be built: names the task or field at fault."""

    exit_code = EX_DATAERR


class IncompleteHistoryError(FlotodError):
    """A decision task's events do not run from event 1 to its started event.

    Deciding on part of a history would schedule finished tasks again, so the decider refuses:
    the service logs this and leaves the task unanswered (SWF redelivers it after its timeout).
    """


class UnservedVersionError(FlotodError):
    """A decision task of a workflow type version this decider has no spec for.

    The service logs it and leaves the task unanswered: another decider on the task list (or
    this one once a reload adds the version) decides it after the task times out, whereas a
    run failed here could never be taken back.
    """


class ConfigError(FlotodError):
    """Invalid configuration; ``problems`` holds one line per problem."""

    exit_code = EX_CONFIG

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class SwfError(FlotodError):
    """An SWF call failed; ``code`` is SWF's error code when it gave one."""

    exit_code = EX_UNAVAILABLE

    def __init__(self, message: str, code: str | None = None, operation: str | None = None):
        self.code = code
        self.operation = operation
        super().__init__(message)


class TransientSwfError(SwfError):
    """Throttling, a timeout or an unreachable endpoint: retrying later may succeed."""


class UnknownResourceError(SwfError):
    """SWF does not know the domain, type, execution or task token named."""


class AlreadyExistsError(SwfError):
    """The type, domain or workflow id is already registered or running."""


class TypeDeprecatedError(SwfError):
    """The domain or type is deprecated and cannot be used."""


class LimitExceededError(SwfError):
    """An SWF quota was exceeded."""


class AccessDeniedError(SwfError):
    """Credentials are missing, expired or lack permission."""


class ValidationError(SwfError):
    """SWF rejected the request's parameters."""
