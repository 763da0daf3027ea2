"""The `simulate` command's harshness flags map onto SimulatorOptions; a bad value is one line and exit 2."""

from __future__ import annotations

from typing import Any

import pytest

from shopify_bridge import cli
from shopify_bridge.cli import run as commands
from shopify_bridge.simulator.options import HARSH_LAG_MAX_SECONDS, SimulatorOptions


def test_from_cli_starts_from_the_profile_and_flags_override_it() -> None:
    plain = SimulatorOptions.from_cli(seed=3, orders=7)
    assert plain == SimulatorOptions(seed=3, orders=7)
    harsh = SimulatorOptions.from_cli(harsh=True, competing_app=0.5)
    assert harsh.search_lag_max_seconds == HARSH_LAG_MAX_SECONDS and harsh.competing_app_share == 0.5
    constant = SimulatorOptions.from_cli(harsh=True, search_lag=2)
    assert (constant.search_lag_seconds, constant.search_lag_max_seconds) == (2, None)
    shaped = SimulatorOptions.from_cli(
        no_read_all_orders=True, currency="jpy", presentment=("usd", "kwd"), ignore_range=True, refund_split=2,
        history_days=90, search_lag_max=120,
    )
    assert not shaped.read_all_orders and shaped.shop_currency == "JPY"
    assert shaped.presentment_currencies == ("USD", "KWD") and not shaped.bulk_honours_range
    assert (shaped.refund_split, shaped.history_days, shaped.search_lag_max_seconds) == (2, 90, 120)


@pytest.mark.parametrize(
    ("flags", "cause"),
    [
        (["--competing-app", "1.5"], "competing app"),
        (["--refund-split", "0"], "refund_split"),
        (["--currency", "y3n"], "currency code"),
        (["--search-lag", "-1"], "negative"),
    ],
)
def test_a_bad_flag_is_one_line_and_exit_two(
    flags: list[str], cause: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(*_: Any) -> None:
        raise AssertionError("the simulator must not start")

    monkeypatch.setattr(commands, "_simulate", never)
    assert cli.main(["simulate", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and cause in err


def test_the_command_serves_what_the_flags_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    async def fake(host: str, port: int, shops: int, options: SimulatorOptions) -> None:
        seen.update(host=host, port=port, shops=shops, options=options)

    monkeypatch.setattr(commands, "_simulate", fake)
    code = cli.main(["simulate", "--port", "0", "--harsh", "--shops", "3", "--orders", "4", "--ignore-range"])
    assert code == 0 and seen["shops"] == 3 and seen["port"] == 0
    assert seen["options"] == SimulatorOptions.from_cli(harsh=True, orders=4, ignore_range=True)
