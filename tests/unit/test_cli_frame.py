"""The CLI frame: global options, the error router, `init`, and how commands reach their group's module."""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import stat
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from shopify_bridge import __version__, exit_codes
from shopify_bridge.cli.app import COMMAND_MODULES, app, example_config_text, main
from shopify_bridge.config import (
    Alerts,
    Config,
    Exclude,
    Ga4Destination,
    HttpDestination,
    JsonlDestination,
    MetaCapiDestination,
    SegmentDestination,
    Source,
    load_config,
)
from shopify_bridge.errors import (
    AuthError,
    BridgeError,
    ConfigError,
    ReconcileMismatch,
    ShopUnavailable,
    TemporaryFailure,
)
from shopify_bridge.observe.log import get_logger

REPO = Path(__file__).resolve().parents[2]
PRODUCT = REPO.parent / "shared" / "spec" / "PRODUCT.md"
TOKEN = "shpat_cli0canary0token0123456789"
CONFIG = f'[[sources]]\nname = "Main"\nstore = "convergestore"\naccess_token = "{TOKEN}"\n'
COMMANDS = ["init", "check", "run", "tui", "demo", "simulate", "explain", "events", "replay", "reconcile",
            "migrate"]


pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG)
    return path


def install_groups(monkeypatch: pytest.MonkeyPatch, functions: dict[str, Callable[..., Any]]) -> None:
    """Stand-in command-group modules (`shopify_bridge.cli.setup`, `.run`, `.inspect`) holding only `functions`."""
    groups = {group: types.ModuleType(f"shopify_bridge.cli.{group}") for group in set(COMMAND_MODULES.values())}
    for name, function in functions.items():
        setattr(groups[COMMAND_MODULES[name]], name, function)
    for module in groups.values():
        monkeypatch.setitem(sys.modules, module.__name__, module)


@pytest.fixture
def fake_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., list[tuple[str, tuple[Any, ...], dict[str, Any]]]]:
    """Install stand-in command groups whose functions record their calls or run `behaviour`."""

    def install(**behaviour: Callable[..., Any]) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
        calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        functions: dict[str, Callable[..., Any]] = {}
        for name in COMMANDS[1:]:

            def command(*args: Any, _name: str = name, **kwargs: Any) -> Any:
                calls.append((_name, args, kwargs))
                return behaviour[_name](*args, **kwargs) if _name in behaviour else None

            functions[name] = command
        install_groups(monkeypatch, functions)
        return calls

    return install


def invoke(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, args, env={"SHOPIFY_BRIDGE_CONFIG": None, **(env or {})})


def test_help_lists_every_command() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.stdout
    for option in ("--config", "--json-logs", "--debug", "--version"):
        assert option in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = invoke([command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"shopify-bridge {command}" in result.stdout


def test_version() -> None:
    result = invoke(["--version"])
    assert (result.exit_code, result.stdout.strip()) == (0, f"shopify-bridge {__version__}")


@pytest.mark.parametrize("args", [["--bogus"], ["no-such-command"], ["explain"], ["run", "--twice"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert invoke(args).exit_code == exit_codes.USAGE


def test_commands_receive_the_loaded_config_and_their_options(config_file: Path, fake_commands: Any) -> None:
    calls = fake_commands()
    base = ["--config", str(config_file)]
    for args in (
        ["check"],
        ["check", "--json"],
        ["check", "--send-test"],
        ["run", "--once"],
        ["tui", "--attach"],
        ["explain", "#1001", "--source", "Main", "--json"],
        ["events", "--dead", "--since", "2h", "--name", "Placed Order", "-n", "5"],
        ["replay", "1", "2", "--destination", "f"],
        ["reconcile"],
        ["reconcile", "--source", "Main", "--until", "2026-05-31", "--json"],
    ):
        assert invoke(base + args).exit_code == 0
    assert all(isinstance(args[0], Config) and args[0].sources[0].name == "Main" for _, args, _ in calls)
    assert [(name, kwargs) for name, _, kwargs in calls] == [
        ("check", {"as_json": False}),
        ("check", {"as_json": True}),
        ("check", {"as_json": False, "send_test": True}),
        ("run", {"once": True}),
        ("tui", {"attach": True}),
        ("explain", {"order": "#1001", "source": "Main", "as_json": True}),
        (
            "events",
            {
                "source": None,
                "name": "Placed Order",
                "dead": True,
                "since": "2h",
                "limit": 5,
                "as_json": False,
            },
        ),
        ("replay", {"event_ids": ["1", "2"], "dead": False, "since": None, "destination": "f"}),
        ("reconcile", {"source": None, "until": None, "as_json": False}),
        ("reconcile", {"source": "Main", "until": "2026-05-31", "as_json": True}),
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["events", "--config", "{config}"],
        ["events", "-c", "{config}", "--dead"],
        ["events", "--dead", "--config={config}", "--json-logs", "--debug"],
        ["--debug", "events", "--config", "{config}", "--json-logs"],
    ],
)
def test_global_options_are_accepted_after_the_command(
    config_file: Path, fake_commands: Any, args: list[str]
) -> None:
    seen: list[tuple[Path | None, bool, bool]] = []

    def events(config: Config, **options: Any) -> int:
        cli = click_context().obj
        seen.append((cli.config_path, cli.json_logs, cli.debug))
        return 0

    fake_commands(events=events)
    result = invoke([arg.format(config=config_file) for arg in args])
    assert result.exit_code == 0, result.output
    [(path, json_logs, debug)] = seen
    assert path == config_file
    assert json_logs == ("--json-logs" in args) and debug == ("--debug" in args)


def click_context() -> Any:
    from typer._click.globals import get_current_context  # typer's own copy of click

    return get_current_context()


def test_a_command_option_value_that_looks_global_stays_with_the_command(
    config_file: Path, fake_commands: Any
) -> None:
    calls = fake_commands()
    assert invoke(["--config", str(config_file), "events", "--source", "--debug"]).exit_code == 0
    assert calls[-1][2]["source"] == "--debug"
    result = invoke(["events", "--", "--config", str(config_file)])
    assert result.exit_code == exit_codes.USAGE  # after `--` nothing is an option of ours


def test_a_global_option_after_the_command_still_needs_its_value(config_file: Path, fake_commands: Any) -> None:
    fake_commands()
    result = invoke(["events", "--config"])
    assert result.exit_code == exit_codes.USAGE
    assert "--config" in result.stderr


def test_demo_and_simulate_need_no_config(tmp_path: Path, fake_commands: Any) -> None:
    calls = fake_commands()
    missing = str(tmp_path / "missing.toml")
    assert invoke(["--config", missing, "demo", "--headless"]).exit_code == 0
    assert invoke(["--config", missing, "simulate", "--port", "0"]).exit_code == 0
    assert calls == [
        ("demo", (), {"headless": True, "out": None, "duration": None, "fresh": False}),
        ("simulate", (), {"host": "127.0.0.1", "port": 0, "orders": 50, "seed": 0}),
    ]


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], 0),
        ([0, 0], 0),
        ([0, 75, 69], 69),
        ([75, 77, 78], 78),
        ([78, 1, 0], 1),
        ([0, 3], 3),
    ],
)
def test_the_most_severe_code_wins(codes: list[int], expected: int) -> None:
    assert exit_codes.most_severe(codes) == expected


def test_the_command_exit_code_is_the_process_exit_code(config_file: Path, fake_commands: Any) -> None:
    fake_commands(reconcile=lambda config, **options: exit_codes.RECONCILE_MISMATCH)
    assert invoke(["--config", str(config_file), "reconcile"]).exit_code == exit_codes.RECONCILE_MISMATCH


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthError("token rejected for Main"), 77),
        (ShopUnavailable("shop locked for Main (423)"), 69),
        (TemporaryFailure("still throttled"), 75),
        (ReconcileMismatch("3 orders fall through"), 65),
        (ConfigError("no shop named x.myshopify.com (404) for source Main"), 78),
        (BridgeError("something\nspanning lines"), 1),
    ],
)
def test_a_bridge_error_is_one_line_and_its_exit_code(
    config_file: Path, fake_commands: Any, error: BridgeError, code: int
) -> None:
    def fail(config: Config, **options: Any) -> None:
        raise error

    fake_commands(check=fail)
    result = invoke(["--config", str(config_file), "check"])
    assert result.exit_code == code
    assert result.stderr == f"error: {error.message}\n"
    assert "\n" not in error.message


def test_an_unexpected_failure_is_one_line_and_exit_1(config_file: Path, fake_commands: Any) -> None:
    def crash(config: Config, **options: Any) -> None:
        raise RuntimeError(f"boom with {config.sources[0].access_token.get_secret_value()}")

    fake_commands(check=crash)
    result = invoke(["--config", str(config_file), "check"])
    assert result.exit_code == exit_codes.FAILURE
    assert result.stderr == "error: unexpected failure: RuntimeError: boom with ***\n"


def test_an_unexpected_failure_without_message_names_its_type(config_file: Path, fake_commands: Any) -> None:
    def crash(config: Config, **options: Any) -> None:
        raise NotImplementedError

    fake_commands(check=crash)
    result = invoke(["--config", str(config_file), "check"])
    assert (result.exit_code, result.stderr) == (1, "error: unexpected failure: NotImplementedError\n")


def test_debug_shows_the_traceback_before_the_error_line(config_file: Path, fake_commands: Any) -> None:
    def crash(config: Config, **options: Any) -> None:
        raise KeyError(TOKEN)

    fake_commands(check=crash)
    result = invoke(["--config", str(config_file), "--debug", "check"])
    assert result.exit_code == exit_codes.FAILURE
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "in crash" in result.stderr
    assert result.stderr.splitlines()[-1] == "error: unexpected failure: KeyError: '***'"
    assert TOKEN not in result.stderr


def test_a_missing_command_function_fails_only_that_command(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_groups(monkeypatch, {"check": lambda config, **options: 0})
    assert invoke(["--config", str(config_file), "check"]).exit_code == 0
    result = invoke(["--config", str(config_file), "tui"])
    assert result.exit_code == exit_codes.FAILURE
    assert result.stderr.startswith("error: the tui command is not available")


def test_every_command_but_init_has_its_body_in_its_group() -> None:
    assert set(COMMAND_MODULES) == set(COMMANDS) - {"init"}
    for name, group in COMMAND_MODULES.items():
        assert callable(getattr(importlib.import_module(f"shopify_bridge.cli.{group}"), name)), name


def test_json_logs_parse_and_hide_secrets(config_file: Path, fake_commands: Any) -> None:
    def noisy(config: Config, **options: Any) -> int:
        log = get_logger(component="test")
        log.info("token is " + TOKEN, headers={"X-Shopify-Access-Token": TOKEN}, source="Main")
        logging.getLogger("aiohttp.client").warning("sent %s", TOKEN)
        return 0

    fake_commands(check=noisy)
    result = invoke(["--config", str(config_file), "--json-logs", "check"])
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert [record["level"] for record in records] == ["info", "warning"]
    assert records[0]["event"] == "token is ***" and records[0]["headers"] == {
        "X-Shopify-Access-Token": "***"
    }
    assert records[1]["event"] == "sent ***"
    assert TOKEN not in result.stderr


def test_init_writes_the_example_and_next_steps(tmp_path: Path) -> None:
    target = tmp_path / "conf" / "bridge.toml"
    result = invoke(["init", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == example_config_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it may end up holding a token
    assert "Next steps" in result.stdout and f"--config {target} check" in result.stdout


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "bridge.toml"
    target.write_text("mine")
    result = invoke(["init", str(target)])
    assert result.exit_code == exit_codes.USAGE
    assert result.stderr == f"error: {target} already exists; use --force to overwrite it\n"
    assert target.read_text() == "mine"
    assert invoke(["init", str(target), "--force"]).exit_code == 0
    assert target.read_text() == example_config_text()


def test_init_uses_the_config_option_and_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    via_option = tmp_path / "option.toml"
    assert invoke(["--config", str(via_option), "init"]).exit_code == 0
    assert via_option.exists()
    assert invoke(["init", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "shopify-bridge.toml").exists()
    monkeypatch.chdir(tmp_path / "..")
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    result = invoke(["init"])
    assert result.exit_code == 0 and (workdir / "shopify-bridge.toml").exists()
    assert "  3. shopify-bridge check" in result.stdout


def test_the_example_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(example_config_text())
    config = load_config(path, {"SHOPIFY_ACCESS_TOKEN": TOKEN})
    source = config.sources[0]
    assert source.shop_domain == "my-store.myshopify.com"
    assert source.access_token.get_secret_value() == TOKEN
    assert source.exclude == Exclude()
    assert [d.name for d in config.destinations] == ["events-file"]
    assert isinstance(config.destinations[0], JsonlDestination)
    assert config.destinations[0].path == tmp_path / "events.jsonl"


def _uncommented_examples(text: str) -> str:
    """The example with every commented-out table (`# [[destinations]]`, `# [alerts]` up to the next blank
    line) uncommented, as a user enabling them would."""
    lines, out, inside = text.splitlines(), [], False
    for line in lines:
        if line in ("# [[destinations]]", "# [alerts]"):
            inside = True
        if not line.strip():
            inside = False
        out.append(line.removeprefix("# ") if inside else line)
    return "\n".join(out) + "\n"


def test_the_example_destinations_load_once_uncommented(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(_uncommented_examples(example_config_text()))
    env = {
        "SHOPIFY_ACCESS_TOKEN": TOKEN,
        "CONVERGE_WEBHOOK_TOKEN": "hook-canary",
        "WEBHOOK_SECRET": "sign-canary",
        "GA4_API_SECRET": "ga4-canary",
        "META_CAPI_TOKEN": "meta-canary",
        "SEGMENT_WRITE_KEY": "segment-canary",
        "ALERT_WEBHOOK_URL": "https://hooks.example.invalid/alert-canary",
    }
    config = load_config(path, env)
    http = config.destinations[1]
    assert isinstance(http, HttpDestination)
    assert http.headers["X-Webhook-Token"].get_secret_value() == "hook-canary"
    assert (http.timeout_seconds, http.max_attempts, http.max_age_hours) == (10, 12, 72)
    assert [d.type for d in config.destinations] == ["jsonl", "http", "ga4", "meta_capi", "segment"]
    ga4, meta, segment = config.destinations[2:]
    assert isinstance(ga4, Ga4Destination) and ga4.api_secret.get_secret_value() == "ga4-canary"
    assert isinstance(meta, MetaCapiDestination) and meta.events == ["Placed Order"]
    assert isinstance(segment, SegmentDestination) and segment.events == ["Placed Order", "Received Refund"]
    assert config.alerts is not None and config.alerts.url == env["ALERT_WEBHOOK_URL"]
    assert {"ga4-canary", "meta-canary", "segment-canary", env["ALERT_WEBHOOK_URL"]} <= config.secret_values()


def _model_keys() -> set[str]:
    models = (
        Config,
        Source,
        Exclude,
        JsonlDestination,
        HttpDestination,
        Ga4Destination,
        MetaCapiDestination,
        SegmentDestination,
        Alerts,
    )
    return {name for model in models for name in model.model_fields}


def test_the_example_names_every_key() -> None:
    text = example_config_text()
    for key in sorted(_model_keys()):
        as_key = re.search(rf"^(# )?{key} = ", text, re.MULTILINE)
        as_table = re.search(rf"^(# )?\[\[?([a-z_]+\.)?{key}\]\]?$", text, re.MULTILINE)
        assert as_key or as_table, key


def test_the_example_names_every_key_of_the_product_spec() -> None:
    if not PRODUCT.exists():
        pytest.skip(f"{PRODUCT} is absent (../shared is not checked out beside the repo)")
    block = PRODUCT.read_text().split("```toml", 1)[1].split("```", 1)[0]
    keys = {line.split("=", 1)[0].strip() for line in block.splitlines() if "=" in line.split("#", 1)[0]}
    keys |= {"sources", "destinations", "exclude"}
    assert keys <= _model_keys() | {"sources.exclude"}
    text = example_config_text()
    for key in keys:
        assert key in text, key


def test_main_returns_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert main(["--bogus"]) == exit_codes.USAGE
    assert capsys.readouterr().out.strip() == f"shopify-bridge {__version__}"


def test_python_dash_m_works(tmp_path: Path, config_file: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SHOPIFY_BRIDGE_CONFIG", None)
    broken = tmp_path / "broken.toml"
    broken.write_text("colour = 1\n" + CONFIG)
    done = subprocess.run(
        [sys.executable, "-m", "shopify_bridge", "--config", str(broken), "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == exit_codes.CONFIG
    assert (
        done.stderr == f"error: {broken}: colour: unknown key (accepted here: database, synchronous, "
        "channel_types, sources, destinations, alerts)\n"
    )


def test_the_cli_does_not_import_textual() -> None:
    code = "import sys, shopify_bridge.cli.app; print('textual' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_the_events_table_names_why_a_destination_keeps_an_event_out() -> None:
    from shopify_bridge.cli.output import delivery_state

    filtered = {"destination": "seg", "state": "filtered", "reason": "channels", "attempts": 0,
                "last_status": None, "last_error": "kept out by its channels = ['web']"}
    assert delivery_state(filtered).plain == "seg: filtered (channels)"  # type: ignore[arg-type]
