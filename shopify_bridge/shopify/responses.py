"""Classify one Shopify answer (pure): ok, throttled, temporary, or a permanent BridgeError.

The rules follow what Shopify really sends (see the gotchas of shopify-api-notes.md):
- THROTTLED comes as HTTP 200 with `errors[].extensions.code == "THROTTLED"` and no data;
  HTTP 429 carries `Retry-After`.
- MAX_COST_EXCEEDED (notes §3.1, secondary sources) comes as HTTP 200 with
  `errors[].extensions.code == "MAX_COST_EXCEEDED"` and the message "Query cost is N, which exceeds
  the single query max cost limit (1000)." (quoted in Shopify/shopify-app-js issue #577), no data.
  Not a failure of the source: the client halves a page size and asks again.
- 401/402/404/423 carry `{"errors": "<string>"}`, not a GraphQL errors array.
- ACCESS_DENIED is per field with HTTP 200: the rest of `data` is there, the field is null.
  We refuse the whole answer so that nulls are never stored as real values.
- Any `errors` next to partial `data` is refused for the same reason.
- `extensions.search` warnings mean a filter was ignored and the result set silently widened.
"""

from __future__ import annotations

from typing import Any, Literal

from msgspec import Struct

from shopify_bridge.errors import AuthError, BridgeError, ConfigError, ShopUnavailable, TemporaryFailure
from shopify_bridge.shopify.throttle import CostReport, parse_cost

Kind = Literal["ok", "throttled", "too_costly", "temporary", "fatal"]

COST_LIMIT_MESSAGE = "exceeds the single query max cost limit"


class ShopifyBug(BridgeError):
    """A query we sent was refused as invalid: a defect in shopify-bridge, reported as such."""

    exit_code = 1


class ShopifyAnswer(Struct):
    status: int
    data: dict[str, Any] | None = None
    errors: Any = None
    extensions: dict[str, Any] | None = None
    retry_after: float | None = None
    body_problem: str | None = None
    connection_problem: str | None = None
    served_version: str | None = None

    @property
    def cost(self) -> CostReport | None:
        return parse_cost(self.extensions)


class Outcome(Struct):
    kind: Kind
    data: dict[str, Any] | None = None
    reason: str = ""
    error: BridgeError | None = None


def _codes(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return []
    codes = []
    for err in errors:
        if isinstance(err, dict):
            code = (err.get("extensions") or {}).get("code")
            if code:
                codes.append(str(code))
    return codes


def _first_message(errors: Any) -> str:
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))
    return str(errors)[:200]


def _denied_fields(errors: list[Any]) -> str:
    paths = []
    for err in errors:
        if isinstance(err, dict) and (err.get("extensions") or {}).get("code") == "ACCESS_DENIED":
            paths.append(".".join(str(p) for p in err.get("path") or []) or "?")
    return ", ".join(paths)


def _required_scope(errors: list[Any]) -> str | None:
    for err in errors:
        if not isinstance(err, dict):
            continue
        ext = err.get("extensions") or {}
        scope = ext.get("requiredAccess") or ext.get("required_access")
        if scope:
            return str(scope)
        message = str(err.get("message", ""))
        marker = "access scope"
        if marker in message:
            return message
    return None


def classify(answer: ShopifyAnswer, *, source: str, shop: str, query: str) -> Outcome:
    status = answer.status
    if answer.connection_problem is not None:
        return Outcome(
            "temporary",
            reason=f"connection: {answer.connection_problem}",
            error=ShopUnavailable(f"Shopify unreachable for {source} ({shop}): {answer.connection_problem}"),
        )
    if status == 401:
        return Outcome("fatal", error=AuthError(f"token rejected for {source} ({shop}): 401 Unauthorized"))
    if status == 402:
        return Outcome("fatal", error=ShopUnavailable(f"shop unavailable for {source} ({shop}): 402 Payment Required"))
    if status == 423:
        return Outcome("fatal", error=ShopUnavailable(f"shop locked for {source} ({shop}): 423 Locked"))
    if status == 404:
        return Outcome("fatal", error=ConfigError(f"no shop named {shop} (404) for source {source}"))
    if status == 403:
        return Outcome("fatal", error=AuthError(f"access forbidden for {source} ({shop}): 403 Forbidden"))
    if status == 429:
        return Outcome("throttled", reason="HTTP 429")
    if status >= 500 or status == 0:
        reason = f"HTTP {status}" + (f": {answer.body_problem}" if answer.body_problem else "")
        return Outcome("temporary", reason=reason, error=TemporaryFailure(f"Shopify failing for {source}: {reason}"))
    if answer.body_problem is not None:
        # HTML or non-GraphQL JSON with a 2xx/3xx status: a proxy or an outage page.
        return Outcome(
            "temporary",
            reason=f"not a GraphQL answer (HTTP {status})",
            error=TemporaryFailure(f"Shopify sent no GraphQL answer for {source} (HTTP {status})"),
        )
    if status >= 400:
        return Outcome(
            "fatal",
            error=ShopifyBug(f"Shopify refused {query} for {source}: HTTP {status} {_first_message(answer.errors)}"),
        )

    errors = answer.errors
    codes = _codes(errors)
    if "THROTTLED" in codes:
        return Outcome("throttled", reason="THROTTLED")
    if "MAX_COST_EXCEEDED" in codes or COST_LIMIT_MESSAGE in _first_message(errors):
        message = next((line.strip() for line in _first_message(errors).splitlines() if line.strip()), "")
        return Outcome(
            "too_costly",
            reason=message,
            error=ShopifyBug(f"query {query} exceeds Shopify's single-query cost limit for {source}: {message}"),
        )
    if "ACCESS_DENIED" in codes:
        assert isinstance(errors, list)
        scope = _required_scope(errors)
        detail = f"; {scope}" if scope else ""
        return Outcome(
            "fatal",
            error=AuthError(
                f"access denied for {source} ({shop}) on {_denied_fields(errors)} in {query}: missing scope{detail}"
            ),
        )
    if "INTERNAL_SERVER_ERROR" in codes:
        return Outcome(
            "temporary",
            reason="INTERNAL_SERVER_ERROR",
            error=TemporaryFailure(f"Shopify internal error for {source} in {query}"),
        )
    if errors:
        return Outcome(
            "fatal",
            error=ShopifyBug(f"Shopify rejected {query} for {source}: {_first_message(errors)}"),
        )
    search = (answer.extensions or {}).get("search")
    if search:
        warnings = [w for entry in search for w in (entry.get("warnings") or [])]
        if warnings:
            return Outcome(
                "fatal",
                error=ShopifyBug(f"Shopify ignored a search filter in {query} for {source}: {warnings[0]}"),
            )
    if answer.data is None:
        return Outcome("temporary", reason="empty answer", error=TemporaryFailure(f"empty answer for {source}"))
    return Outcome("ok", data=answer.data)
