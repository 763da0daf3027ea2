"""Display helpers: pure functions of their inputs."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shopify_bridge.observe.log import register_secrets
from tests.tui.store_builder import NOW, placed_payload
from tui.format import age, countdown, indent_json, money, redact

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
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
    assert countdown(NOW + timedelta(minutes=4, seconds=12), NOW).plain == "in 4m 12s"
    assert countdown(NOW + timedelta(hours=2, minutes=3), NOW).plain == "in 2h 03m"
    assert countdown(NOW - timedelta(seconds=1), NOW).plain == "due now"
    assert age(NOW - timedelta(seconds=15), NOW) == "15s ago"
    assert age(None, NOW) == "never"


def test_money_shows_cents_without_rounding_away_digits() -> None:
    assert money(Decimal("10.0"), "EUR") == "10.00 EUR"
    assert money(Decimal("2629.95"), "CAD") == "2629.95 CAD"
    assert money(Decimal("1.005"), None) == "1.005"
    assert money(None, "EUR") == "—"
