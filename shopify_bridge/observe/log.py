"""Logging: structlog for the bridge's own events, the stdlib loggers of libraries routed through it.

Human-readable lines on a terminal, JSON lines on stderr otherwise (or with `--json-logs`). Human
lines show every string literally, control characters escaped (`shopify_bridge.literal`), and have no
colour under `NO_COLOR`; JSON lines keep the exact strings. Every record passes the `SecretRedactor`
last before rendering, so neither the bridge nor a library (gql,
aiohttp) can print a token: known secret values are replaced by `***` wherever they appear (values,
nested containers, the message, formatted tracebacks), as is anything shaped like a secret (see
`shopify_bridge.redaction`, the one implementation that logs, errors and the dashboard share).

structlog is imported when first needed (`_structlog`), as if rich were not installed: with rich, structlog's
own import loads rich's traceback renderer, syntax highlighter and pretty-printer, and pygments with them
(some 20 ms of CPU at every start), for the tracebacks of its console renderer, which never gets one to render
here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO, cast

from shopify_bridge.literal import visible
from shopify_bridge.redaction import REDACTED, Redactor, is_secret_key

if TYPE_CHECKING:
    from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

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


# Keys whose value is a formatted traceback: its line breaks are layout, not data.
_MULTILINE_KEYS = frozenset({"exception", "stack"})


def _visible_values(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """For human lines only: a value from Shopify or a destination cannot drive the terminal or forge a line.

    Non-string values are rendered with repr(), which escapes their strings already."""
    return {
        key: visible(value, keep="\n" if key in _MULTILINE_KEYS else "") if isinstance(value, str) else value
        for key, value in event_dict.items()
    }


_human_lines = {"on": False}


def human_logs() -> bool:
    """Whether log lines go to a person's terminal as text (not JSON): only then may progress bars share it."""
    return _human_lines["on"]


def _uses_json(json_logs: bool, stream: TextIO | None) -> bool:
    target = stream or sys.stderr
    isatty = getattr(target, "isatty", None)
    return json_logs or not (callable(isatty) and isatty())


@contextlib.contextmanager
def _as_if_not_installed(name: str) -> Iterator[None]:
    """Within it, `import name` fails with ImportError (a None entry in sys.modules), imported or not."""
    saved = sys.modules.get(name)
    sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if saved is None:
            del sys.modules[name]
        else:
            sys.modules[name] = saved


def _structlog() -> ModuleType:
    """structlog; imported here first, as if rich were not installed (see the module's docstring).

    Its rich parts would only render the tracebacks of an event that still carries `exc_info` when it reaches
    the console renderer, and none does: `format_exc_info` turns every traceback into text before (for JSON
    and human lines alike, so that the redactor sees it)."""
    if "structlog" not in sys.modules:
        with _as_if_not_installed("rich"):
            import structlog
    import structlog

    return structlog


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
    as_json = _uses_json(json_logs, stream)
    _human_lines["on"] = not as_json
    structlog = _structlog()
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=not os.environ.get("NO_COLOR"))
    )
    # Escaping comes after the redactor (it must see the exact secret) and only for human lines.
    rendering: list[Processor] = [REDACTOR] if as_json else [REDACTOR, _visible_values]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Tracebacks become text before the redactor runs, so the redactor sees them too.
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, *rendering, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *args: _StderrLogger(stream),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering, renderer],
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
    return cast("FilteringBoundLogger", _structlog().get_logger(**bound))
