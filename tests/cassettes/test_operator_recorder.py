"""`check --record-cassette PATH` and `run --once --record-cassette PATH`, as an operator runs them.

The simulator runs in a background thread (the CLI starts its own event loop); its orders carry
unmistakable canary customer data, so the tests can prove none of it reaches the cassette.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import main
from shopify_bridge.errors import BridgeError
from shopify_bridge.shopify.cassette import CassetteUnavailable, record_cassette
from shopify_bridge.simulator.server import SimulatorServer
from tests.cassettes.replay import replay_every_request
from tests.threaded_simulator import ThreadedSimulator, threaded_simulator, write_config

TOKEN = "shpat_canary_operator_3b7d21"
ADDRESS = {
    "firstName": "Canaryfirst",
    "lastName": "Canarylast",
    "address1": "12 Canary Lane",
    "city": "Toronto",
    "provinceCode": "ON",
    "zip": "C4N 4RY",
    "countryCodeV2": "CA",
    "phone": "+14165550777",
}
CUSTOMER = {
    "firstName": "Canaryfirst",
    "lastName": "Canarylast",
    "email": "ann.canary@customer-mail.example",
    "phone": "+14165550888",
    "address": ADDRESS,
}
GUEST_EMAIL = "guest.canary@other-mail.example"
PII = [
    "Canaryfirst",
    "Canarylast",
    "12 Canary Lane",
    "C4N 4RY",
    "+14165550777",
    "+14165550888",
    "+14165550999",
    CUSTOMER["email"],
    GUEST_EMAIL,
]


def seed_canary_orders(sim: SimulatorServer) -> None:
    """Two fresh orders full of canary customer data: one of a registered customer, one of a guest.

    They are processed a minute after the shop's clock, so the run connects before them whatever second it
    starts in: an order processed before the first connection is history and would never be forwarded.
    """
    processed = datetime.now(UTC) + timedelta(minutes=1)
    common: dict[str, Any] = {
        "processedAt": processed.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sourceName": "web",
        "test": False,
        "tags": [],
        "billingAddress": ADDRESS,
        "shippingAddress": ADDRESS,
    }
    sim.state.create_order(customer=CUSTOMER, email=CUSTOMER["email"], phone="+14165550999", **common)
    sim.state.create_order(customer=None, email=GUEST_EMAIL, **common)


@pytest.fixture
def shop() -> Iterator[ThreadedSimulator]:
    with threaded_simulator(seed_canary_orders, token=TOKEN, orders=0, search_lag_seconds=0) as threaded:
        yield threaded


def config_file(tmp_path: Path, url: str) -> Path:
    return write_config(tmp_path, url, source_name="Operator Store", store="sim-snowboards")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)


def test_check_records_a_replayable_cassette_without_the_token(
    shop: ThreadedSimulator, tmp_path: Path, env: None
) -> None:
    cassette = tmp_path / "check.yaml"
    assert (
        main(["--config", str(config_file(tmp_path, shop.url)), "check", "--record-cassette", str(cassette)])
        == 0
    )
    text = cassette.read_text()
    assert "BridgeShopInfo" in text and TOKEN not in text and "x-shopify-access-token" not in text.lower()
    [served] = asyncio.run(replay_every_request(cassette))
    assert served.data is not None and served.data["shop"]["name"] == "Sim Snowboards"


def test_run_once_cassette_has_no_customer_data_and_replays(
    shop: ThreadedSimulator,
    tmp_path: Path,
    env: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cassette = tmp_path / "run.yaml"
    argv = [
        "--config",
        str(config_file(tmp_path, shop.url)),
        "run",
        "--once",
        "--record-cassette",
        str(cassette),
    ]
    assert main(argv) == 0
    logged = caplog.text + "".join(capsys.readouterr())
    assert [value for value in [*PII, TOKEN] if value in logged] == []  # nor in the logs while recording
    assert len((tmp_path / "events.jsonl").read_text().splitlines()) == 2  # the run itself saw the real data
    text = cassette.read_text()
    assert "BridgeReadOrders" in text and TOKEN not in text
    assert [value for value in PII if value in text] == []
    assert "@example.invalid" in text and "First-" in text and "Last-" in text and "Zip-" in text
    # the guest's new-customer lookup searched by email: the request carries the same placeholder
    assert "email:'customer-" in text
    served = asyncio.run(replay_every_request(cassette))
    operations = {one.operation for one in served}
    assert operations >= {"BridgeListOrders", "BridgeReadOrders"}
    assert any(name.startswith("BridgeEarlierOrders") for name in operations)  # the new-customer lookups


def test_run_record_cassette_needs_once(
    tmp_path: Path, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--config",
        str(config_file(tmp_path, "http://127.0.0.1:9")),
        "run",
        "--record-cassette",
        "x.yaml",
    ]
    assert main(argv) == exit_codes.USAGE
    assert "use it with --once" in capsys.readouterr().err


def test_an_existing_cassette_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "kept.yaml"
    existing.write_text("keep me")
    with pytest.raises(BridgeError) as caught, record_cassette(existing):
        pass
    assert caught.value.exit_code == exit_codes.USAGE and "already exists" in str(caught.value)
    assert existing.read_text() == "keep me"


def test_without_vcrpy_recording_is_one_line_and_exit_78(
    tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "vcr", None)  # `import vcr` now raises ImportError
    with pytest.raises(CassetteUnavailable), record_cassette(tmp_path / "x.yaml"):
        pass
    argv = [
        "--config",
        str(config_file(tmp_path, "http://127.0.0.1:9")),
        "check",
        "--record-cassette",
        "x.yaml",
    ]
    assert main(argv) == exit_codes.CONFIG == 78
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: --record-cassette needs vcrpy, which is not installed: pip install 'shopify-bridge[test]'"
    ]
