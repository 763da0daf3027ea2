"""Logging: structlog for the bridge's own events, the stdlib loggers of libraries routed through it.

Human-readable lines on a terminal, JSON lines on stderr otherwise (or with `--json-logs`). Every
record passes the `SecretRedactor` last before rendering, so neither the bridge nor a library (gql,
aiohttp) can print a token: known secret values are replaced by `***` wherever they appear (values,
nested containers, the message, formatted tracebacks), as is anything shaped like a secret (see
`shopify_bridge.redaction`, the one implementation that logs, errors and the dashboard share).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from typing import Any, TextIO, cast

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from shopify_bridge.redaction import REDACTED, Redactor, is_secret_key

# The libraries whose INFO logs carry whole request/response bodies (customer data).
_CHATTY_LOGGERS = ("gql.transport", "gql.dsl", "aiohttp.access")
WIRE_LOG_VARIABLE = "SHOPIFY_BRIDGE_LOG_WIRE"


class SecretRedactor(Redactor):
    """The redaction (`shopify_bridge.redaction`) as a structlog processor: every record passes it last."""

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        return {key: REDACTED if is_secret_key(key) else self.value(val) for key, val in event_dict.items()}


REDACTOR = SecretRedactor()
"""The process-wide redactor every configured logger uses; the CLI registers the config's secrets."""


def register_secrets(values: Iterable[str]) -> None:
    """Mask these values in every log record from now on (e.g. `Config.secret_values()`)."""
    REDACTOR.add(values)


def redact(text: str) -> str:
    """`text` with every registered secret masked: for error lines and other output outside logging."""
    return REDACTOR.text(text)


class _StderrLogger:
    """Writes rendered lines to the *current* `sys.stderr` (test runners swap it) or a fixed stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def msg(self, message: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(message + "\n")
        stream.flush()

    debug = info = warning = warn = error = err = critical = exception = fatal = log = msg


class _StdlibHandler(logging.Handler):
    """Sends stdlib records (gql, aiohttp, asyncio) to the same stream and renderer as structlog's."""

    def __init__(self, stream: TextIO | None, formatter: logging.Formatter) -> None:
        super().__init__()
        self._stream = stream
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _StderrLogger(self._stream).msg(self.format(record))
        except Exception:
            self.handleError(record)


def _uses_json(json_logs: bool, stream: TextIO | None) -> bool:
    target = stream or sys.stderr
    isatty = getattr(target, "isatty", None)
    return json_logs or not (callable(isatty) and isatty())


def configure_logging(
    *,
    json_logs: bool = False,
    debug: bool = False,
    wire: bool | None = None,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Set up structlog and the stdlib root logger; safe to call again (the last call wins).

    JSON lines when `json_logs` or when the stream is not a terminal; DEBUG level with `debug`.
    `stream` defaults to whatever `sys.stderr` is at the time of each write. The libraries' wire logs
    (whole request and response bodies, i.e. customer data) only with `wire`, which defaults to the
    `SHOPIFY_BRIDGE_LOG_WIRE=1` environment variable: `--debug` output can be shared without them.
    """
    if wire is None:
        wire = os.environ.get(WIRE_LOG_VARIABLE, "") == "1"
    register_secrets(secrets)
    level = logging.DEBUG if debug else logging.INFO
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if _uses_json(json_logs, stream)
        else structlog.dev.ConsoleRenderer(colors=not _uses_json(False, stream))
    )
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Tracebacks become text before the redactor runs, so the redactor sees them too.
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, REDACTOR, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *args: _StderrLogger(stream),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, REDACTOR, renderer],
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StdlibHandler)]:
        root.removeHandler(handler)
    root.addHandler(_StdlibHandler(stream, formatter))
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if wire else logging.WARNING)


def get_logger(**bound: Any) -> FilteringBoundLogger:
    """A logger with `bound` key/values on every event; safe at import time (configuration is lazy)."""
    return cast(FilteringBoundLogger, structlog.get_logger(**bound))
