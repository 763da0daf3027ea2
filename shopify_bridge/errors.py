"""Errors that end a command with one clear line and a documented exit code."""

from __future__ import annotations

from shopify_bridge import exit_codes


class BridgeError(Exception):
    """A failure the operator can act on: `str(error)` is one line naming the cause, never a secret."""

    exit_code: int = exit_codes.FAILURE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(BridgeError):
    exit_code = exit_codes.CONFIG


class AuthError(BridgeError):
    exit_code = exit_codes.NOPERM


class ShopUnavailable(BridgeError):
    exit_code = exit_codes.UNAVAILABLE


class TemporaryFailure(BridgeError):
    exit_code = exit_codes.TEMPFAIL


class ReconcileMismatch(BridgeError):
    exit_code = exit_codes.RECONCILE_MISMATCH
