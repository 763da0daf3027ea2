"""Logging: structlog for the bridge's own events, the stdlib loggers of libraries routed through it.

Human-readable lines on a terminal, JSON lines on stderr otherwise (or with `--json-logs`). Every
record passes the `SecretRedactor` last before rendering, so neither the bridge nor a library (gql,
aiohttp) can print a token: known secret values are replaced by `***` wherever they appear (values,
nested containers, the message, formatted tracebacks), as are `X-Shopify-Access-Token` headers and
anything shaped like a Shopify token.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TextIO, cast

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

REDACTED = "***"
# Substring masking of very short values would shred ordinary log text ("1", "on"); such values are
# only masked when they are a whole string value.
MIN_SUBSTRING_SECRET = 4
# Header and key names whose values are always secret, whatever their value (compared lower-case,
# with "_" and "-" treated alike).
SECRET_KEY_NAMES = frozenset({"x-shopify-access-token", "access-token", "signing-secret", "authorization"})
_HEADER_IN_TEXT = re.compile(r"(?i)(x-shopify-access-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+")
# Shopify's token formats: shpat_ (admin API), shpca_ (custom app), shppa_ (private app), shpss_
# (shared secret), shpua_ (user); masked even when nobody registered them.
_SHOPIFY_TOKEN = re.compile(r"\bshp(?:at|ca|pa|ss|ua)_[A-Za-z0-9]{8,}")
# The libraries whose INFO logs carry whole request/response bodies (customer data).
_CHATTY_LOGGERS = ("gql.transport", "gql.dsl", "aiohttp.access")
WIRE_LOG_VARIABLE = "SHOPIFY_BRIDGE_LOG_WIRE"


class SecretRedactor:
    """A structlog processor masking every registered secret; thread-safe to extend at any time."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secret values (empty strings are ignored)."""
        with self._lock:
            self._secrets = self._secrets | {value for value in secrets if value}
            # Longest first, so a secret that contains another one is masked as a whole.
            long_ones = [secret for secret in self._secrets if len(secret) >= MIN_SUBSTRING_SECRET]
            long_ones.sort(key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, long_ones))) if long_ones else None

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def text(self, text: str) -> str:
        """`text` with every secret masked."""
        if text in self._secrets:
            return REDACTED
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        text = _HEADER_IN_TEXT.sub(lambda match: match[1] + REDACTED, text)
        return _SHOPIFY_TOKEN.sub(REDACTED, text)

    def value(self, value: Any) -> Any:
        """`value` with secrets masked in every string it holds (containers are copied, not mutated)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool | int | float) or value is None:
            return value
        if isinstance(value, Mapping):
            return {key: REDACTED if _is_secret_key(key) else self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(item) for item in value]
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "replace"))
        # Anything else renders through str/repr: mask that text, keep the object when it holds nothing.
        shown = str(value)
        masked = self.text(shown)
        return value if masked == shown else masked

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        return {key: REDACTED if _is_secret_key(key) else self.value(val) for key, val in event_dict.items()}


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower().replace("_", "-") in SECRET_KEY_NAMES


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
