"""The bridge's error hierarchy: every expected failure is a `BridgeError` that carries its exit code.

The CLI's error router prints `error: <message>` and exits with `exit_code`, so the message must be one
line that names the cause (the field, the source, the scope) and never contains a secret.
"""

from __future__ import annotations

from shopify_bridge import exit_codes


def one_line(text: str) -> str:
    """`text` with line breaks folded into spaces: an error is reported as exactly one line."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class BridgeError(Exception):
    """An expected failure with a one-line message and the process exit code it maps to."""

    exit_code: int = exit_codes.FAILURE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        self.message = one_line(message)
        super().__init__(self.message)
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigError(BridgeError):
    """The configuration is wrong: `<file>: <key path>: <problem>`, or a store that does not exist (404)."""

    exit_code = exit_codes.CONFIG

    def __init__(
        self, message: str, *, file: str | None = None, key: str | None = None, problem: str | None = None
    ) -> None:
        super().__init__(message)
        self.file = file
        self.key = key
        self.problem = problem

    @classmethod
    def at(cls, file: str, key: str, problem: str) -> ConfigError:
        """The error for `problem` at `key` (a path like `sources[0].exclude.tags`, or "") of `file`."""
        where = f"{file}: {key}" if key else file
        return cls(f"{where}: {problem}", file=file, key=key, problem=problem)


class AuthError(BridgeError):
    """The shop rejected the token (401/403) or a required scope is missing (ACCESS_DENIED)."""

    exit_code = exit_codes.NOPERM


class ShopUnavailable(BridgeError):
    """Shopify cannot be reached, or the shop is unavailable (402) or locked (423)."""

    exit_code = exit_codes.UNAVAILABLE


class TemporaryFailure(BridgeError):
    """Throttling, 5xx or timeouts that outlasted the retries; the next attempt may well succeed."""

    exit_code = exit_codes.TEMPFAIL


class ReconcileMismatch(BridgeError):
    """`reconcile` found orders that Shopify counts but the bridge cannot account for."""

    exit_code = exit_codes.RECONCILE_MISMATCH


class StoreError(BridgeError):
    """The store failed (`store` raises its subclasses). Defined here so that code which must not import the
    store — a Shopify call made while a callback writes, say — can still let a store failure through."""

    exit_code = exit_codes.FAILURE
