"""`check` for destinations: credential shapes (pure), GA4's validation server (`--send-test`), the CLI frame."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli import setup
from shopify_bridge.config import config_from_toml
from shopify_bridge.service.destination_check import (
    check_destinations,
    credential_line,
    debug_url,
    ga4_send_test,
    validation_line,
)
from shopify_bridge.simulator.server import SimulatorServer
from tests.deliver.payloads import config_entries
from tests.delivery.receiver import Receiver, Reply

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
GOOD_GA4 = "AbCdEfGhIjKlMnOpQrStUv"  # 22 characters, as GA4 shows them
GOOD_META = "EAAB" + "x" * 60
GOOD_SEGMENT = "Q5Yvf2K8mJxPqN3rT7wZ1aBcDeFgHiJk"  # 32, as Segment's


@pytest.mark.parametrize(
    ("entry", "ok", "detail"),
    [
        (config_entries.ga4(api_secret=GOOD_GA4), True, "22 characters"),
        (config_entries.ga4(api_secret="short"), False, "has 5 characters; expected 16–64 letters"),
        (config_entries.ga4(api_secret="AbCdEfGh IjKlMnOpQrSt"), False, "contains white space"),
        (config_entries.meta(access_token=GOOD_META), True, "64 characters"),
        (config_entries.meta(access_token="Z" * 40), True, "does not start with EAA"),
        (config_entries.meta(access_token="EAA-too-short"), False, "has 13 characters"),
        (config_entries.segment(write_key=GOOD_SEGMENT), True, "32 characters"),
        (config_entries.segment(write_key="s2s.abc123.def456"), True, "17 characters"),  # Jitsu's form
        (config_entries.segment(write_key="key"), False, "has 3 characters"),
        (config_entries.http(), True, "no credential to check"),
    ],
)
def test_each_credential_shape_is_judged_without_being_shown(entry: Any, ok: bool, detail: str) -> None:
    line = credential_line(entry)
    assert line.ok is ok and detail in line.detail, line
    for secret in ("AbCdEfGh IjKlMnOpQrSt", "EAA-too-short", GOOD_META, GOOD_SEGMENT, GOOD_GA4):
        assert secret not in line.detail and secret not in line.label


def test_the_validation_servers_answer_is_the_verdict() -> None:
    assert validation_line("g", 200, {"validationMessages": []}).ok
    message = {"fieldPath": "events", "description": "Event at index: [0] has invalid name",
               "validationCode": "NAME_INVALID"}
    refused = validation_line("g", 200, {"validationMessages": [message]})
    assert not refused.ok and refused.detail == "events: Event at index: [0] has invalid name (NAME_INVALID)"
    assert validation_line("g", 404, None).detail == "the validation server answered HTTP 404"
    assert debug_url("https://region1.google-analytics.com/mp/collect?measurement_id=G-1&api_secret=s") == (
        "https://region1.google-analytics.com/debug/mp/collect?measurement_id=G-1&api_secret=s")


async def test_send_test_posts_a_real_mapping_to_the_debug_path(receiver: Receiver) -> None:
    destination = config_entries.ga4(api_secret=GOOD_GA4, endpoint=receiver.base_url("/mp/collect"))
    receiver.default = Reply(200, '{"validationMessages": []}')
    line = await ga4_send_test(destination, NOW)
    assert line.ok, line
    [request] = receiver.requests
    assert request.path == "/debug/mp/collect"
    assert request.query == {"measurement_id": "G-TEST123", "api_secret": GOOD_GA4}
    body = json.loads(request.body)
    assert body["validation_behavior"] == "ENFORCE_RECOMMENDATIONS"
    assert body["events"][0]["name"] == "purchase" and body["events"][0]["params"]["value"] == 25.0  # a number
    receiver.default = Reply(200, '{"validationMessages": [{"fieldPath": "x", "description": "bad", '
                                  '"validationCode": "VALUE_INVALID"}]}')
    assert not (await ga4_send_test(destination, NOW)).ok


async def test_check_reports_the_destinations_and_exits_78_on_a_bad_one(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "240")  # one table row per line
    good = await check_destinations([config_entries.ga4(api_secret=GOOD_GA4), config_entries.segment()], NOW,
                                    send_test=False)
    assert good.exit_code == exit_codes.OK and len(good.lines) == 2
    bad = await check_destinations([config_entries.meta()], NOW, send_test=False)
    assert bad.exit_code == exit_codes.CONFIG  # the fixtures' 16-character token is too short to be Meta's
    token = "shpat_check_destinations_1"
    async with SimulatorServer(token=token, orders=0) as sim:
        raw = {"sources": [{"name": "S", "store": "sim-snowboards", "access_token": token, "api_url": sim.url}],
               # check also probes the endpoint: any local HTTP answer counts as reachable
               "destinations": [{"name": "seg", "type": "segment", "write_key": GOOD_SEGMENT, "endpoint": sim.url}]}
        config = config_from_toml(raw, {}, file=tmp_path / "shopify-bridge.toml")
        assert await setup._check(config) == exit_codes.OK
        out = capsys.readouterr().out
        assert "destination seg (segment) write_key" in out and GOOD_SEGMENT not in out
        wrong_key = {"name": "seg", "type": "segment", "write_key": "x y z w v", "endpoint": sim.url}
        bad = config_from_toml({**raw, "destinations": [wrong_key]}, {}, file=tmp_path / "shopify-bridge.toml")
        assert await setup._check(bad) == exit_codes.CONFIG
        assert "contains white space" in capsys.readouterr().out
