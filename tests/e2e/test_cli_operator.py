"""The CLI as an operator meets it: unknown names are usage errors, `run --once` says what it did,
`reconcile` counts whole days and never cuts its table when piped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shopify_bridge import exit_codes
from tests.e2e.cli_support import cli, write_cli_config
from tests.threaded_simulator import ThreadedSimulator, threaded_simulator

TOKEN = "shpat_operator_canary_31cc"
SHOP_TZ = ZoneInfo("America/Toronto")  # the simulator's shop

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedSimulator]:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    with threaded_simulator(token=TOKEN, orders=2, search_lag_seconds=0) as threaded:
        yield threaded


@pytest.fixture
def connected(
    tmp_path: Path, simulator: ThreadedSimulator, capsys: pytest.CaptureFixture[str], database: Path | str
) -> tuple[str, dict]:  # type: ignore[type-arg]
    """A config whose source has connected and forwarded one order, on SQLite and on PostgreSQL; (config path,
    that order)."""
    config = str(write_cli_config(tmp_path, simulator.url, database=database))
    assert cli(capsys, "--config", config, "run", "--once")[0] == exit_codes.OK
    assert simulator.sim is not None
    order = simulator.call(simulator.sim.state.create_order, sourceName="web", test=False, tags=[])
    assert cli(capsys, "--config", config, "run", "--once")[0] == exit_codes.OK
    return config, order


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["replay", "99999999"], "unknown event id: '99999999'"),
        (["replay", "{event_id}", "99999999", "88888888"], "unknown event ids: '99999999', '88888888'"),
        (["replay", "--dead", "--destination", "nope"], "unknown destination 'nope' (destinations: 'events-file')"),
        (["events", "--source", "nope"], "unknown source 'nope' (sources: 'CLI Store')"),
        (["events", "--name", "Placed Orders"], "unknown event name 'Placed Orders'"),
        (["explain", "{order}", "--source", "nope"], "unknown source 'nope'"),
        (["reconcile", "--source", "nope"], "unknown source 'nope'"),
        (["reconcile", "--until", "yesterday"], "--until 'yesterday': expected a date like 2026-05-31"),
    ],
)
def test_unknown_names_are_usage_errors_naming_them(
    connected: tuple[str, dict], capsys: pytest.CaptureFixture[str], args: list[str], named: str  # type: ignore[type-arg]
) -> None:
    config, order = connected
    filled = [arg.format(event_id=order["legacyResourceId"], order=order["name"]) for arg in args]
    code, out, err = cli(capsys, "--config", config, *filled)
    assert code == exit_codes.USAGE and out == ""
    [line] = err.splitlines()
    assert line.startswith("error: ") and named in line
    # Nothing was queued again: the one delivery stays delivered.
    code, out, _ = cli(capsys, "--config", config, "events", "--json")
    assert [d["state"] for e in json.loads(out) for d in e["deliveries"]] == ["delivered"]


def test_known_names_still_work(connected: tuple[str, dict], capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[type-arg]
    config, order = connected
    for args in (["events", "--source", "cli store"], ["events", "--source", "sim-snowboards.myshopify.com"],
                 ["explain", order["name"], "--source", "CLI Store"]):
        assert cli(capsys, "--config", config, *args)[0] == exit_codes.OK
    code, out, _ = cli(capsys, "--config", config, "replay", order["legacyResourceId"], "-d", "events-file")
    assert code == exit_codes.OK and out.startswith("1 deliveries queued again")


def test_run_once_prints_one_summary_line_per_source(
    tmp_path: Path, simulator: ThreadedSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_cli_config(tmp_path, simulator.url, extra_source="upsell_delay = true\n"))
    code, out, _ = cli(capsys, "--config", config, "run", "--once")
    assert code == exit_codes.OK
    assert out == "CLI Store: 0 orders seen, 0 events created, 0 deliveries delivered, 0 orders held\n"
    assert simulator.sim is not None
    simulator.call(simulator.sim.state.create_order, sourceName="web", test=False, tags=[])
    code, out, _ = cli(capsys, "--config", config, "run", "--once")
    assert out == "CLI Store: 1 orders seen, 0 events created, 0 deliveries delivered, 1 orders held\n"


def test_run_once_says_why_a_source_failed(
    tmp_path: Path, simulator: ThreadedSimulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_revoked")
    config = str(write_cli_config(tmp_path, simulator.url))
    code, out, _ = cli(capsys, "--config", config, "run", "--once")
    assert code == exit_codes.NOPERM
    assert out.startswith("CLI Store: failed (exit 77): ") and out.count("\n") == 1


def test_reconcile_covers_whole_days_up_to_yesterday_unless_told(
    connected: tuple[str, dict], capsys: pytest.CaptureFixture[str]  # type: ignore[type-arg]
) -> None:
    config, _order = connected
    today = datetime.now(SHOP_TZ).date()
    code, out, _ = cli(capsys, "--config", config, "reconcile", "--json")
    assert code == exit_codes.OK
    [source] = json.loads(out)["sources"]
    # Connected today: no whole day is over yet, so nothing is counted (today's order is not).
    assert (source["until"], source["days"]) == ((today - timedelta(days=1)).isoformat(), [])
    code, out, _ = cli(capsys, "--config", config, "reconcile")
    assert "no whole day since" in out and "nothing to reconcile" in out
    assert out.endswith("reconcile: no whole day to compare yet\n")

    code, out, _ = cli(capsys, "--config", config, "reconcile", "--until", today.isoformat(), "--json")
    [source] = json.loads(out)["sources"]
    [day] = source["days"]
    assert (day["day"], day["shopify"], day["counts"]["forwarded"], day["ok"]) == (today.isoformat(), 1, 1, True)


def test_reconcile_piped_never_cuts_its_columns(
    tmp_path: Path, simulator: ThreadedSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "A store with a rather long name that would not fit an eighty column terminal at all"
    config = str(write_cli_config(tmp_path, simulator.url, source_name=name))
    assert cli(capsys, "--config", config, "run", "--once")[0] == exit_codes.OK
    today = datetime.now(SHOP_TZ).date().isoformat()
    code, out, _ = cli(capsys, "--config", config, "reconcile", "--until", today)
    assert code == exit_codes.OK
    lines = out.splitlines()
    assert lines[0] == f"{name} (America/Toronto)"
    [header] = [line for line in lines if "shopify" in line]
    for column in ("day", "shopify", "forwarded", "excluded", "held", "pending", "dead", "history"):
        assert f" {column} " in header
    assert any(today in line and "✓" in line for line in lines)


def test_run_once_counts_what_it_created_and_delivered(
    connected: tuple[str, dict], simulator: ThreadedSimulator, capsys: pytest.CaptureFixture[str]  # type: ignore[type-arg]
) -> None:
    config, _order = connected
    assert simulator.sim is not None
    for _ in range(2):
        simulator.call(simulator.sim.state.create_order, sourceName="web", test=False, tags=[])
    code, out, _ = cli(capsys, "--config", config, "run", "--once")
    assert code == exit_codes.OK
    # The poll window overlaps the last one, so the order already forwarded is seen again (and not re-sent).
    assert out == "CLI Store: 3 orders seen, 2 events created, 2 deliveries delivered, 0 orders held\n"


def test_run_once_says_when_another_process_polls_a_source(
    tmp_path: Path, simulator: ThreadedSimulator, capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    """On a shared PostgreSQL store a source whose lease another live process holds is not polled here."""
    from datetime import UTC

    from shopify_bridge.store import Store

    config = str(write_cli_config(tmp_path, simulator.url, database=postgres_url))
    other = Store.open_writer(postgres_url, owner="other-host:1:abc")
    now = datetime.now(UTC)
    other.leases.heartbeat(now)
    assert other.leases.acquire("sim-snowboards.myshopify.com", now, timedelta(minutes=10))
    try:
        code, out, _ = cli(capsys, "--config", config, "run", "--once")
    finally:
        other.close()
    assert code == exit_codes.OK
    assert out == "CLI Store: polled by another process (it holds the lease)\n"
