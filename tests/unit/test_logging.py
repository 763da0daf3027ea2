"""Logging: JSON lines or console text, and no secret ever reaching the stream."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from shopify_bridge.observe.log import SecretRedactor, configure_logging, get_logger, redact

SECRET = "canary-secret-0123456789"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    gql_level = logging.getLogger("gql.transport").level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("gql.transport").setLevel(gql_level)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    get_logger(component="poller", source="Main").info("poll done", orders=3)
    (record,) = json_lines(stream)
    assert record["event"] == "poll done"
    assert (record["component"], record["source"], record["orders"], record["level"]) == (
        "poller",
        "Main",
        3,
        "info",
    )
    assert record["timestamp"].endswith("Z")


def test_console_text_on_a_terminal_and_json_when_asked() -> None:
    terminal = Terminal()
    configure_logging(stream=terminal)
    get_logger().info("hello", n=1)
    line = terminal.getvalue()
    assert "hello" in line and not line.startswith("{")
    terminal = Terminal()
    configure_logging(json_logs=True, stream=terminal)
    get_logger().info("hello")
    assert json_lines(terminal)[0]["event"] == "hello"


@pytest.mark.parametrize("json_logs", [True, False])
def test_registered_secrets_are_masked_everywhere(json_logs: bool) -> None:
    stream = Terminal() if not json_logs else io.StringIO()
    configure_logging(json_logs=json_logs, secrets=[SECRET], stream=stream)
    log = get_logger()
    log.info(
        f"message {SECRET}",
        value=SECRET,
        nested={"list": [f"x{SECRET}x", {"deep": SECRET}], "tuple": (SECRET,)},
        raw=SECRET.encode(),
        error=ValueError(f"failed: {SECRET}"),
    )
    try:
        raise RuntimeError(f"boom {SECRET}")
    except RuntimeError:
        log.exception("crashed")
    output = stream.getvalue()
    assert SECRET not in output
    assert output.count("***") >= 7


def test_a_logger_made_before_configuration_follows_it() -> None:
    early = get_logger(component="early")  # as modules do at import time
    stream = io.StringIO()
    configure_logging(secrets=[SECRET], stream=stream)
    early.warning("late " + SECRET)
    (record,) = json_lines(stream)
    assert (record["event"], record["component"]) == ("late ***", "early")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"headers": {"X-Shopify-Access-Token": "tok-unregistered"}},
            {"headers": {"X-Shopify-Access-Token": "***"}},
        ),
        ({"headers": {"x-shopify-access-token": "tok"}}, {"headers": {"x-shopify-access-token": "***"}}),
        ({"access_token": "tok-unregistered"}, {"access_token": "***"}),
        ({"signing_secret": "s"}, {"signing_secret": "***"}),
        ({"request": "X-Shopify-Access-Token: tok-unregistered"}, {"request": "X-Shopify-Access-Token: ***"}),
        (
            {"request": "{'X-Shopify-Access-Token': 'tok-unregistered'}"},
            {"request": "{'X-Shopify-Access-Token': '***'}"},
        ),
        ({"token": "shpat_0123456789abcdef0123"}, {"token": "***"}),
    ],
)
def test_access_token_headers_and_token_shapes_are_masked_unregistered(
    fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    get_logger().info("request", **fields)
    record = json_lines(stream)[0]
    assert {key: record[key] for key in expected} == expected


def test_library_logs_share_the_format_and_the_redaction() -> None:
    stream = io.StringIO()
    configure_logging(secrets=[SECRET], stream=stream)
    logging.getLogger("aiohttp.client").warning("retrying %s", SECRET)
    try:
        raise OSError(SECRET)
    except OSError:
        logging.getLogger("asyncio").exception("task failed")
    first, second = json_lines(stream)
    assert (first["event"], first["logger"], first["level"]) == ("retrying ***", "aiohttp.client", "warning")
    assert second["event"] == "task failed" and "OSError: ***" in second["exception"]
    assert SECRET not in stream.getvalue()


def test_debug_level_and_chatty_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPIFY_BRIDGE_LOG_WIRE", raising=False)
    stream = io.StringIO()
    configure_logging(stream=stream)
    get_logger().debug("hidden")
    logging.getLogger("gql.transport.aiohttp").info(">>> {'query': 'customer data'}")
    assert stream.getvalue() == ""
    configure_logging(debug=True, stream=stream)  # tracebacks and debug lines, still no bodies
    get_logger().debug("shown")
    logging.getLogger("gql.transport.aiohttp").info(">>> {'query': 'customer data'}")
    assert [record["event"] for record in json_lines(stream)] == ["shown"]
    monkeypatch.setenv("SHOPIFY_BRIDGE_LOG_WIRE", "1")
    configure_logging(debug=True, stream=stream)
    logging.getLogger("gql.transport.aiohttp").info("payload")
    assert [record["event"] for record in json_lines(stream)] == ["shown", "payload"]


def test_configuring_twice_does_not_duplicate_library_lines() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    configure_logging(stream=stream)
    logging.getLogger("x").warning("once")
    assert len(json_lines(stream)) == 1


def test_short_secrets_are_only_masked_as_whole_values() -> None:
    redactor = SecretRedactor(["abc", ""])
    assert redactor.text("abc") == "***"
    assert redactor.text("abcdef") == "abcdef"  # masking 3 characters everywhere would shred text
    assert redactor.text("anything") == "anything"  # the empty string is never a secret


def test_a_secret_containing_another_is_masked_whole() -> None:
    redactor = SecretRedactor(["token", "token-with-suffix"])
    assert redactor.text("a token-with-suffix b") == "a *** b"


def test_redact_uses_every_registered_secret() -> None:
    configure_logging(secrets=["registered-for-redact"], stream=io.StringIO())
    assert redact("error: registered-for-redact failed") == "error: *** failed"


def test_the_redactor_does_not_mutate_the_callers_data() -> None:
    payload = {"token": SECRET, "items": [SECRET]}
    redactor = SecretRedactor([SECRET])
    assert redactor.value(payload) == {"token": "***", "items": ["***"]}
    assert payload == {"token": SECRET, "items": [SECRET]}


HOSTILE = "[/bold] [redacted] \x1b[2J\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 cr\rbel\x07 \u202eevil"


def test_human_lines_show_text_from_outside_literally_with_controls_escaped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # so the only escape sequences would be the hostile ones
    terminal = Terminal()
    configure_logging(stream=terminal)
    get_logger().warning(f"delivery dead: {HOSTILE}", error=HOSTILE, tags=[HOSTILE])
    logging.getLogger("aiohttp.client").warning("lib says %s", HOSTILE)
    text = terminal.getvalue()
    assert len(text.splitlines()) == 2  # a CR or LF in a value cannot forge a line
    for raw in ("\x1b", "\r", "\x07", "\u202e"):
        assert raw not in text
    assert text.count("[/bold] [redacted] \\x1b[2J") >= 3 and "\\u202eevil" in text


def test_json_lines_keep_text_from_outside_exactly() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    get_logger().warning("delivery dead", error=HOSTILE)
    (record,) = json_lines(stream)
    assert record["error"] == HOSTILE
    assert "\x1b" not in stream.getvalue()  # JSON's escapes carry it


def test_a_traceback_keeps_its_lines_on_a_terminal() -> None:
    terminal = Terminal()
    configure_logging(stream=terminal)
    try:
        raise ValueError(f"bad {HOSTILE}")
    except ValueError:
        get_logger().exception("failed")
    text = terminal.getvalue()
    assert "Traceback (most recent call last):" in text and "\x1b[2J" not in text
    assert len(text.splitlines()) > 3


@pytest.mark.parametrize(("no_color", "coloured"), [("1", False), ("", True)])
def test_no_color_turns_off_colour_in_human_lines(
    monkeypatch: pytest.MonkeyPatch, no_color: str, coloured: bool
) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    terminal = Terminal()
    configure_logging(stream=terminal)
    get_logger().error("something failed", source="Main")
    assert ("\x1b[" in terminal.getvalue()) is coloured


# In a fresh interpreter, with `first` run before: configure logging for `kind` lines (human ones on a
# stream that is a terminal) and log a failure through structlog and one through a library.
FRESH_PROCESS = """
import io, logging, sys
{first}
from shopify_bridge.observe.log import configure_logging, get_logger

class Terminal(io.StringIO):
    def isatty(self):
        return True

stream = Terminal() if {kind!r} == "human" else io.StringIO()
configure_logging(stream=stream)
try:
    raise ValueError("bad value")
except ValueError:
    get_logger(component="poller").exception("poll failed", orders=3)
    logging.getLogger("aiohttp.client").exception("library failed")
print(stream.getvalue(), end="")
print("rich traceback module:", "rich.traceback" in sys.modules)
"""


def logged_in_a_fresh_process(kind: str, first: str = "") -> str:
    code = FRESH_PROCESS.format(first=first, kind=kind)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", "<time>", done.stdout)


@pytest.mark.parametrize("kind", ["json", "human"])
def test_lines_are_the_same_whether_or_not_structlog_was_loaded_with_rich(kind: str) -> None:
    lean = logged_in_a_fresh_process(kind)  # the console script's way: structlog is first loaded by our logging
    usual = logged_in_a_fresh_process(kind, first="import structlog")  # as it loads by itself, with rich
    assert lean.endswith("rich traceback module: False\n") and usual.endswith("rich traceback module: True\n")
    assert lean.count("Traceback (most recent call last)") == 2 and lean.count("bad value") == 2
    assert lean.removesuffix("False\n") == usual.removesuffix("True\n")
