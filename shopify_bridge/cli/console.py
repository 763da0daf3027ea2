"""Where the commands write: one console rule for stdout and stderr, JSON documents, and closed pipes.

- Data is never markup. Rich parses `[…]` in plain strings as styles (`[/bold]` raises, `[redacted]`
  vanishes), so every string that reaches a console goes through `lit`/`styled`, which build Rich
  `Text` from `visible()` text (control characters escaped, see `shopify_bridge.literal`).
- `NO_COLOR` (https://no-color.org/) set to anything: no ANSI styling at all.
- Piped or redirected, tables are never cut to a terminal width: the console is as wide as the text.
- A closed pipe (`| head -1`) is not an error: the writer points the stream at /dev/null (so nothing
  fails again at exit) and raises `ClosedPipe`, which the error router turns into a quiet exit 0.
  0 rather than the shell's 141: the reader chose to stop reading, and `set -o pipefail` scripts
  must not fail because of it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from shopify_bridge.literal import json_text, visible

# Wide enough for any row the commands print; Rich renders a table at its natural width within it.
PIPE_WIDTH = 4096


class ClosedPipe(Exception):
    """The reader of our output went away (`shopify-bridge events | head -1`)."""


def no_color(env: dict[str, str] | None = None) -> bool:
    """NO_COLOR is set (to any non-empty value)."""
    return bool((os.environ if env is None else env).get("NO_COLOR"))


def silence(stream: IO[Any]) -> None:
    """Point `stream`'s file descriptor at /dev/null: later writes (and the flush at exit) go nowhere."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich's default exits 1; a reader that stopped reading is not a failure.
        self.quiet = True
        silence(self.file)
        raise ClosedPipe


def _is_terminal(stream: IO[Any]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty())


def console(*, stderr: bool = False) -> Console:
    """The console a command prints people's output on (stdout, or stderr for progress and notes)."""
    stream = sys.stderr if stderr else sys.stdout
    return _Console(
        file=stream,
        highlight=False,
        emoji=False,
        soft_wrap=True,
        color_system=None if no_color() else "auto",
        width=None if _is_terminal(stream) else PIPE_WIDTH,
    )


@contextlib.contextmanager
def pipe_guard(stream: IO[Any]) -> Iterator[None]:
    """Turn a broken pipe while writing to `stream` into `ClosedPipe`, with the stream silenced."""
    try:
        yield
    except BrokenPipeError:
        silence(stream)
        raise ClosedPipe from None


def write_out(text: str) -> None:
    """Plain text on stdout, flushed (so a closed pipe shows up here, not at exit)."""
    with pipe_guard(sys.stdout):
        sys.stdout.write(text)
        sys.stdout.flush()


def print_json(value: Any) -> None:
    """`--json`: one indented document on stdout; every string exact (see `json_text`)."""
    write_out(json_text(value) + "\n")


def lit(value: object, style: str = "") -> Text:
    """A value from Shopify, a destination or the config as Text: shown exactly, never parsed as markup."""
    return Text("" if value is None else visible(str(value)), style=style)


def styled(*parts: str | Text | tuple[str, str]) -> Text:
    """One line from parts: our own words as `str` or `(str, style)`, data already wrapped by `lit`.

    Strings are never parsed as markup here either; data must still go through `lit` so that its
    control characters are escaped.
    """
    return Text.assemble(*parts)
