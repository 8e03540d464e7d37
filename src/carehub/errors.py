"""The errors carehub raises on purpose, each with a hint of what to do next.

Every message says what failed and where (organisation, file, row, column, KPI or agreement id)
and never contains a row value. The CLI maps each class to an exit code and the web app to an HTTP
status; both tables live here so that they are documented in one place
(docs/reference/errors.md is generated from them).
"""

from __future__ import annotations


class CarehubError(Exception):
    """A carehub error of no more specific kind; ``hint`` tells the reader what to do next."""

    exit_code = 1
    http_status = 500
    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UserError(CarehubError):
    """Bad input or bad use of a command; shown without a traceback."""

    exit_code = 2
    http_status = 400


class ConfigurationError(UserError):
    """Settings, the metadata database or the key file are missing or wrong."""

    exit_code = 3
    http_status = 500
    default_hint = (
        "check the CAREHUB_* settings (docs/reference/settings.md) and run `carehub init`"
    )


class NotFound(UserError):
    """A named thing (file, submission, KPI, user) does not exist."""

    exit_code = 4
    http_status = 404


class DataContractError(UserError):
    """A submitted file does not meet its dataset's contract (whole-file checks)."""

    exit_code = 5
    http_status = 422


class AuthenticationRequired(CarehubError):
    """No signed-in user, or the sign-in failed."""

    exit_code = 6
    http_status = 401
    default_hint = "sign in first"


class PolicyDenied(CarehubError):
    """The access policy refused a read or an action; the message names what is missing."""

    exit_code = 7
    http_status = 403


class Conflict(UserError):
    """The action clashes with the current state (for example a duplicate name)."""

    exit_code = 8
    http_status = 409


class AuditChainBroken(CarehubError):
    """`carehub audit verify` found an edited, deleted or reordered audit event."""

    exit_code = 9
    http_status = 500
    default_hint = "treat the audit log as tampered with and investigate from the first bad event"


ERROR_CLASSES: tuple[type[CarehubError], ...] = (
    CarehubError,
    UserError,
    ConfigurationError,
    NotFound,
    DataContractError,
    AuthenticationRequired,
    PolicyDenied,
    Conflict,
    AuditChainBroken,
)
