"""Display helpers: pure functions of their inputs."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shopify_bridge.observe.log import register_secrets
from tests.tui.store_builder import NOW, placed_payload
from tui.format import (
    age,
    bucket,
    countdown,
    cursor_lag,
    delivery_state,
    indent_json,
    money,
    per_minute,
    redact,
    source_state,
    sparkline,
)
from tui.models import Delivery
from tui.text import literal

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=12,
)


def _without_whitespace_outside_strings(text: str) -> str:
    return indent_json(text, indent=0).replace("\n", "").replace(": ", ":")


def test_indenting_keeps_every_token_verbatim() -> None:
    payload = placed_payload("5802", "#1002", "10.10")
    indented = indent_json(payload)
    assert '"total_price": 10.10' in indented  # not 10.1: the bytes that were sent
    assert "\n" in indented
    assert _without_whitespace_outside_strings(indented) == _without_whitespace_outside_strings(payload)
    assert json.loads(indented) == json.loads(payload)


@given(json_values)
def test_indented_json_parses_to_the_same_value(value: object) -> None:
    text = json.dumps(value, separators=(",", ":"))
    assert json.loads(indent_json(text)) == value


def test_redact_hides_token_shapes_but_keeps_the_context() -> None:
    message = (
        "HTTP 401 X-Shopify-Access-Token: shpat_0123456789abcdef0123456789abcdef; "
        'Authorization: Bearer abc.def-ghi; {"signing_secret": "whsec_c2VjcmV0"} token shpss_999'
    )
    shown = redact(message)
    for secret in ("shpat_0123456789abcdef", "abc.def-ghi", "whsec_c2VjcmV0", "shpss_999"):
        assert secret not in shown
    assert shown.startswith("HTTP 401 X-Shopify-Access-Token: ***")
    assert redact("poll failed: 502 Bad Gateway") == "poll failed: 502 Bad Gateway"


def test_redact_also_masks_the_registered_secrets_of_the_config() -> None:
    register_secrets(["dashboard-canary-secret"])
    assert redact("destination said: dashboard-canary-secret rejected") == "destination said: *** rejected"


def test_countdown_and_age_read_the_given_clock() -> None:
    assert countdown(NOW + timedelta(minutes=4, seconds=12), NOW).plain == "04:12"
    assert countdown(NOW + timedelta(hours=2, minutes=3), NOW).plain == "2:03:00"
    assert countdown(NOW - timedelta(seconds=1), NOW).plain == "due"
    assert age(NOW - timedelta(seconds=15), NOW) == "15 s ago"
    assert age(NOW - timedelta(minutes=3, seconds=20), NOW) == "3 min ago"
    assert age(NOW - timedelta(hours=3, minutes=5), NOW) == "3 h 5 min ago"
    assert age(NOW - timedelta(days=2), NOW) == "2 d ago"
    assert age(None, NOW) == "never"


def test_bucket_lag_and_backfill_share_read_like_sentences() -> None:
    assert bucket(1981.4, 2000) == "1,981 / 2,000"
    assert cursor_lag("2026-05-01T11:59:40+00:00", NOW) == "20 s"
    assert cursor_lag(None, NOW) == "—"
    assert source_state("backfilling", None, "backfill a..b: storing orders 4,500/10,000 (45 %)").plain == (
        "backfilling 45 %"
    )
    assert source_state("polling", None).plain == "ok"
    assert source_state("failed", "401 [/bold] nope").plain == "failed: 401 [/bold] nope"


def test_sparkline_scales_to_the_busiest_bar_and_rate_skips_the_filling_minute() -> None:
    counts = [0] * 55 + [5, 5, 5, 5, 5] + [100]  # the current minute (last) is still filling
    assert len(sparkline(counts[-60:])) == 12
    assert sparkline([0] * 60) == "▁" * 12
    assert sparkline([0] * 55 + [10] * 5)[-1] == "█"
    assert per_minute(counts[-60:]) == "5.0"


def test_literal_shows_markup_and_control_characters_as_written() -> None:
    for nasty in ("[/bold]", "[red]x", "[link=https://evil.example]me[/link]", "[redacted]"):
        assert literal(nasty).plain == nasty  # never parsed: no crash, no link, nothing vanishes
    shown = literal("a\x1b[31mb\rc\x07d\u202ee\n")
    assert shown.plain == "a\\x1b[31mb\\rc\\x07d\\u202ee\\n"
    assert all(ord(char) >= 32 for char in shown.plain)
    assert [shown.plain[s.start : s.end] for s in shown.spans] == ["\\x1b", "\\r", "\\x07", "\\u202e", "\\n"]


def test_money_shows_cents_without_rounding_away_digits() -> None:
    assert money(Decimal("10.0"), "EUR") == "10.00 EUR"
    assert money(Decimal("2629.95"), "CAD") == "2629.95 CAD"
    assert money(Decimal("1.005"), None) == "1.005"
    assert money(None, "EUR") == "—"


def test_a_kept_out_delivery_shows_its_reason_quietly() -> None:
    skipped = delivery_state(Delivery("ga4", "skipped", 0, reason="too_old_for_destination"))
    assert (skipped.plain, str(skipped.style)) == ("skipped: too_old_for_destination", "dim")
    assert delivery_state(Delivery("meta", "filtered", 0, reason="events")).plain == "filtered: events"
    assert delivery_state(Delivery("hook", "retrying", 3)).plain == "retrying ×3"
