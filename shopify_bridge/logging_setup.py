"""structlog set-up: human lines on a TTY, JSON lines otherwise; every known secret redacted.

Secrets (access tokens, webhook secrets, header values, values substituted from ${VAR}) are
registered with `register_secrets` once the config is loaded; a processor replaces each of them
with `***` anywhere in an event before it is rendered, as a last line of defence behind the rule
that code never logs them in the first place.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

REDACTED = "***"
_SECRETS: set[str] = set()
_MIN_SECRET_LENGTH = 4  # shorter values would redact ordinary words


def register_secrets(values: Iterable[str]) -> None:
    _SECRETS.update(v for v in values if v and len(v) >= _MIN_SECRET_LENGTH)


def redact_text(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() == "x-shopify-access-token" else _redact_value(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    return value


def redact_processor(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        event[key] = _redact_value(event[key])
    return event


def configure(*, json_logs: bool | None = None, level: int = logging.INFO, stream: Any = None) -> None:
    stream = stream or sys.stderr
    if json_logs is None:
        json_logs = not stream.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(**bound: Any) -> Any:
    return structlog.get_logger().bind(**bound)
