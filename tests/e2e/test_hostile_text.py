"""Text is data: markup-like and control characters from Shopify, a destination and the config, in every
field the CLI shows, are printed literally (controls escaped), and kept exact under --json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shopify_bridge import exit_codes
from tests.e2e.cli_support import HttpReply, ScriptedHttp, cli, scripted_http, write_cli_config
from tests.threaded_simulator import ThreadedSimulator, threaded_simulator

TOKEN = "shpat_hostile_canary_77aa"
# Rich markup (a closing tag alone raises, an unknown style vanishes, a link hides its target), a terminal
# escape that clears the screen, CR that overwrites the line, BEL, an OSC 8 hyperlink.
MARKUP = "[/bold] [red]x[/red] [link=https://evil.example]click[/link] [redacted]"
CONTROLS = "\x1b[2J\rBEL\x07 \x1b]8;;https://evil.example\x07ok\x1b]8;;\x07"
SOURCE_NAME = f"Shop {MARKUP} {CONTROLS}"
SHOP_NAME = f"Sim {MARKUP} {CONTROLS}"
TAGS = ["[/bold]", "[redacted]", "[link=https://evil.example]t[/link]", "esc\x1b[31mred", "cr\rover", "bel\x07"]
BODY = f"refused {MARKUP} {CONTROLS}"
RAW_CONTROLS = ("\x1b", "\r", "\x07")

pytestmark = pytest.mark.usefixtures("restore_logging", "settle_now")


def shows_literally(text: str, *expected: str) -> None:
    for char in RAW_CONTROLS:
        assert char not in text, f"raw {char!r} reached the terminal"
    for part in ("[/bold]", "[red]x[/red]", "[link=https://evil.example]click[/link]", "[redacted]", "\\x1b[2J"):
        assert part in text
    for part in expected:
        assert part in text


@pytest.fixture
def hostile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ThreadedSimulator, ScriptedHttp, str, dict[str, str]]]:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("NO_COLOR", raising=False)
    with (
        threaded_simulator(token=TOKEN, orders=2, search_lag_seconds=0) as simulator,
        scripted_http(HttpReply(400, BODY.encode())) as hook,
    ):
        assert simulator.sim is not None
        simulator.call(simulator.sim.state.shop.__setitem__, "name", SHOP_NAME)
        config = str(write_cli_config(tmp_path, simulator.url, source_name=SOURCE_NAME, http_url=hook.url))
        assert cli_main(config, "run", "--once") == exit_codes.OK
        order = simulator.call(simulator.sim.state.create_order, sourceName="web", test=False, tags=TAGS)
        assert cli_main(config, "run", "--once") == exit_codes.OK
        yield simulator, hook, config, order


def cli_main(config: str, *args: str) -> int:
    from shopify_bridge.cli.app import main

    return main(["--config", config, *args])


def test_events_show_a_destinations_answer_literally_and_json_keeps_it(hostile: tuple, capsys) -> None:  # type: ignore[no-untyped-def,type-arg]
    _sim, hook, config, order = hostile
    assert hook.posts == 1  # 400: dead at once, its body head stored
    code, out, _err = cli(capsys, "--config", config, "events")
    assert code == exit_codes.OK
    shows_literally(out, "hook: dead", order["legacyResourceId"])
    code, out, _err = cli(capsys, "--config", config, "events", "--json")
    [event] = json.loads(out)
    [dead] = [d for d in event["deliveries"] if d["destination"] == "hook"]
    assert dead["last_error"] == f"HTTP 400: {' '.join(BODY.split())}"  # exact, controls included
    assert event["source"] == SOURCE_NAME


def test_explain_shows_tags_names_and_errors_literally_and_json_keeps_them(hostile: tuple, capsys) -> None:  # type: ignore[no-untyped-def,type-arg]
    _sim, _hook, config, order = hostile
    code, out, _err = cli(capsys, "--config", config, "explain", order["name"])
    assert code == exit_codes.OK
    shows_literally(out, "esc\\x1b[31mred", "cr\\rover", "bel\\x07", "Shop [/bold]")
    code, out, _err = cli(capsys, "--config", config, "explain", order["name"], "--json")
    explained = json.loads(out)
    assert explained["versions"][-1]["tags"] == sorted(TAGS, key=str.lower)
    assert explained["source"] == SOURCE_NAME
    assert explained["events"][0]["payload"]["properties"]["tags"] == explained["versions"][-1]["tags"]


def test_check_run_and_reconcile_show_shop_and_source_names_literally(hostile: tuple, capsys) -> None:  # type: ignore[no-untyped-def,type-arg]
    _sim, _hook, config, _order = hostile
    code, out, _err = cli(capsys, "--config", config, "check")
    assert code == exit_codes.OK
    shows_literally(out, "Sim [/bold]", "Shop [/bold]")
    code, out, _err = cli(capsys, "--config", config, "check", "--json")
    document = json.loads(out)
    assert document["sources"][0]["shop_name"] == SHOP_NAME and document["sources"][0]["name"] == SOURCE_NAME

    code, out, _err = cli(capsys, "--config", config, "run", "--once")
    assert code == exit_codes.OK
    shows_literally(out, "Shop [/bold]")

    today = datetime.now(ZoneInfo("America/Toronto")).date().isoformat()
    code, out, _err = cli(capsys, "--config", config, "reconcile", "--until", today)
    assert code == exit_codes.OK
    shows_literally(out, "Shop [/bold]")


def test_an_error_line_shows_what_was_typed_literally(hostile: tuple, capsys) -> None:  # type: ignore[no-untyped-def,type-arg]
    _sim, _hook, config, _order = hostile
    code, out, err = cli(capsys, "--config", config, "explain", f"#9 {MARKUP} {CONTROLS}")
    assert code == exit_codes.USAGE and out == ""
    [line] = err.splitlines()
    shows_literally(line, "no stored order matches")
