"""The frame every command runs in: what the global options decided (`CliContext`), the global options
accepted after the command (`hoist_global_options`), and the single error router (`RoutedGroup.invoke`).

The router is the only place that turns exceptions into exits: `BridgeError` -> `error: <message>` and
its exit code; anything else -> `error: unexpected failure: <type>: <message>` and exit 1, with the
traceback only under `--debug`. Usage errors exit 2. A closed stdout (`| head -1`) ends quietly with 0
(`console.ClosedPipe`). The error line shows text from Shopify or a destination literally.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from shopify_bridge import exit_codes
from shopify_bridge.cli.console import ClosedPipe
from shopify_bridge.errors import BridgeError, one_line
from shopify_bridge.literal import visible
from shopify_bridge.observe.log import redact, register_secrets

if TYPE_CHECKING:
    from shopify_bridge.config import Config

# typer vendors its own copy of click; find its ClickException (usage errors and friends) by name so
# this keeps working whichever copy is in use.
_CLICK_EXCEPTION: type[Exception] = next(
    kind for kind in typer.BadParameter.__mro__ if kind.__name__ == "ClickException"
)
_USAGE_ERROR: type[Exception] = next(kind for kind in typer.BadParameter.__mro__ if kind.__name__ == "UsageError")
_CLI_SIGNALS: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, _CLICK_EXCEPTION)


@dataclass
class CliContext:
    """What the global options decided (`ctx.obj` of every command)."""

    config_path: Path | None = None
    """`--config`, when given (else $SHOPIFY_BRIDGE_CONFIG, else ./shopify-bridge.toml)."""
    json_logs: bool = False
    debug: bool = False
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def config_file(self) -> Path:
        """The config file this invocation refers to."""
        from shopify_bridge.config import config_path

        return config_path(self.config_path, self.env)

    def load_config(self) -> Config:
        """Load and validate the config, and register its secrets with the log redactor."""
        from shopify_bridge.config import load_config

        config = load_config(self.config_file(), self.env)
        register_secrets(config.secret_values())
        return config


# The program's own options that are also accepted after the command; the valued ones take one argument.
GLOBAL_FLAGS = frozenset({"--json-logs", "--debug"})
GLOBAL_VALUED = frozenset({"--config", "-c"})


def _takes_value(command: Any) -> set[str]:
    """The option strings of `command` that consume the next argument (so it is never mistaken for ours)."""
    found: set[str] = set()
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "option" and not getattr(param, "is_flag", False):
            found.update(param.opts)
    return found


def hoist_global_options(args: list[str], command_of: Any) -> list[str]:
    """`args` with the global options that follow the command moved in front of it.

    `command_of(name)` gives the command object (or None); its own valued options keep their argument
    (`--source --debug` stays the source named "--debug"), and nothing after `--` moves.
    """
    index = 0
    while index < len(args):  # the command is the first argument that is neither an option nor its value
        arg = args[index]
        if arg == "--":
            return args
        if not arg.startswith("-"):
            break
        index += 2 if arg in GLOBAL_VALUED else 1
    if index >= len(args):
        return args
    command = command_of(args[index])
    if command is None:
        return args
    valued = _takes_value(command)
    moved: list[str] = []
    kept: list[str] = []
    rest = args[index + 1 :]
    position = 0
    while position < len(rest):
        arg = rest[position]
        if arg == "--":
            kept += rest[position:]
            break
        if arg in GLOBAL_FLAGS or arg.startswith("--config="):
            moved.append(arg)
        elif arg in GLOBAL_VALUED:
            if position + 1 == len(rest):
                raise ValueError(f"Option {arg!r} requires an argument.")
            moved += rest[position : position + 2]
            position += 1
        elif arg in valued:
            kept += rest[position : position + 2]
            position += 1
        else:
            kept.append(arg)
        position += 1
    return [*args[:index], *moved, args[index], *kept]


class RoutedGroup(TyperGroup):
    """The command group whose `invoke` is the single error router of the program."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            hoisted = hoist_global_options(list(args), lambda name: self.get_command(ctx, name))
        except ValueError as exc:
            raise _USAGE_ERROR(str(exc), ctx) from None
        return super().parse_args(ctx, hoisted)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _CLI_SIGNALS:
            raise
        except ClosedPipe:
            raise typer.Exit(exit_codes.OK) from None
        except BridgeError as exc:
            _report(ctx, exc, f"error: {exc.message}")
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            detail = one_line(str(exc))
            cause = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
            _report(ctx, exc, f"error: unexpected failure: {cause}")
            raise typer.Exit(exit_codes.FAILURE) from None


def _report(ctx: Any, exc: BaseException, line: str) -> None:
    cli = ctx.obj if isinstance(ctx.obj, CliContext) else None
    if cli is not None and cli.debug:
        trace = "".join(traceback.format_exception(exc))
        typer.echo(visible(redact(trace), keep="\n").rstrip("\n"), err=True)
    typer.echo(visible(redact(line)), err=True)
