"""How the http destination classifies each answer of a real local receiver."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
from structlog.testing import capture_logs

from shopify_bridge.retry import MAX_RETRY_AFTER_SECONDS, parse_retry_after
from tests.delivery.conftest import NOW_UNIX, MakeDestination, event
from tests.delivery.receiver import Receiver, Reply, closed_port


async def test_2xx_is_delivered_with_exact_body_and_json_content_type(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    receiver.default = Reply(status=202)
    destination = await make_destination()
    item = event("5801", total=2629.95)
    [result] = await destination.send([item])
    assert (result.outcome, result.status, result.error) == ("delivered", 202, None)
    [request] = receiver.requests
    assert request.body == item[1]
    assert request.headers["Content-Type"] == "application/json"
    assert request.path == "/hook"


@pytest.mark.parametrize("status", [500, 502, 503, 408])
async def test_transient_statuses_are_retried_with_the_body_head(
    receiver: Receiver, make_destination: MakeDestination, status: int
) -> None:
    receiver.default = Reply(status=status, body="upstream   is\n down")
    [result] = await (await make_destination()).send([event("1")])
    assert result.outcome == "retry"
    assert result.status == status
    assert result.error == f"HTTP {status}: upstream is down"
    assert result.retry_after is None


async def test_429_retry_after_seconds(receiver: Receiver, make_destination: MakeDestination) -> None:
    receiver.default = Reply(status=429, headers={"Retry-After": "7"})
    [result] = await (await make_destination()).send([event("1")])
    assert (result.outcome, result.status, result.retry_after) == ("retry", 429, 7.0)


async def test_429_retry_after_http_date_is_relative_to_the_injected_clock(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    receiver.default = Reply(status=429, headers={"Retry-After": formatdate(NOW_UNIX + 30, usegmt=True)})
    [result] = await (await make_destination()).send([event("1")])
    assert result.retry_after == 30.0


async def test_503_retry_after_is_honoured_too(receiver: Receiver, make_destination: MakeDestination) -> None:
    receiver.default = Reply(status=503, headers={"Retry-After": "120"})
    [result] = await (await make_destination()).send([event("1")])
    assert (result.outcome, result.retry_after) == ("retry", 120.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        (" 12 ", 12.0),
        (formatdate(NOW_UNIX - 60, usegmt=True), 0.0),  # a date in the past: retry now
        ("99999999", MAX_RETRY_AFTER_SECONDS),  # capped, so max_attempts/max_age still get a say
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW_UNIX) == expected


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
async def test_other_4xx_are_dead_at_once_with_status_and_200_chars_of_body(
    receiver: Receiver, make_destination: MakeDestination, status: int
) -> None:
    body = "x" * 199 + "Y" + "Z" * 500
    receiver.default = Reply(status=status, body=body)
    [result] = await (await make_destination()).send([event("1")])
    assert (result.outcome, result.status) == ("dead", status)
    assert result.error == f"HTTP {status}: " + "x" * 199 + "Y"


async def test_redirect_loop_is_dead_without_following(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    receiver.default = Reply(status=301, body="moved", headers={"Location": "/hook"})
    started = time.monotonic()
    [result] = await (await make_destination()).send([event("1")])
    assert time.monotonic() - started < 2
    assert (result.outcome, result.status) == ("dead", 301)
    assert result.error == "HTTP 301 redirect to /hook (redirects are not followed): moved"
    assert len(receiver.requests) == 1


async def test_html_2xx_is_delivered_and_warned_about_once(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    page = "<!DOCTYPE html><html><body>Sign in</body></html>"
    receiver.default = Reply(status=200, body=page, headers={"Content-Type": "text/html"})
    destination = await make_destination()
    with capture_logs() as logs:
        first = await destination.send([event("1"), event("2")])
        second = await destination.send([event("3")])
    assert [r.outcome for r in first + second] == ["delivered"] * 3
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert len(warnings) == 1
    assert "HTML" in warnings[0]["event"]
    assert warnings[0]["destination"] == "hook"


async def test_json_2xx_is_not_warned_about(receiver: Receiver, make_destination: MakeDestination) -> None:
    receiver.default = Reply(status=200, body='{"ok":true}', headers={"Content-Type": "application/json"})
    with capture_logs() as logs:
        await (await make_destination()).send([event("1")])
    assert [entry for entry in logs if entry["log_level"] == "warning"] == []


async def test_a_hanging_server_times_out_as_retry(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    receiver.default = Reply(hang=True)
    destination = await make_destination(timeout_seconds=0.2)
    started = time.monotonic()
    [result] = await destination.send([event("1")])
    assert time.monotonic() - started < 2
    assert result.outcome == "retry"
    assert result.status is None
    assert result.error == "no answer within 0.2s (timeout)"


async def test_unreachable_host_is_retried(make_destination: MakeDestination) -> None:
    destination = await make_destination(url=f"http://127.0.0.1:{closed_port()}/hook")
    [result] = await destination.send([event("1")])
    assert result.outcome == "retry"
    assert result.error is not None and result.error.startswith("connection failed:")


async def test_tls_failure_is_retried(receiver: Receiver, make_destination: MakeDestination) -> None:
    # The receiver speaks plain HTTP, so the TLS handshake fails.
    destination = await make_destination(url=receiver.url.replace("http://", "https://"), timeout_seconds=2)
    [result] = await destination.send([event("1")])
    assert result.outcome == "retry"
    assert result.error is not None and "TLS" in result.error


async def test_results_are_per_item_and_in_input_order(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    receiver.script("a", Reply(status=200))
    receiver.script("b", Reply(status=500))
    receiver.script("c", Reply(status=404, body="gone"))
    receiver.script("d", Reply(status=429, headers={"Retry-After": "3"}))
    receiver.script("e", Reply(status=204, body=""))
    destination = await make_destination()
    results = await destination.send([event(i) for i in "abcde"])
    assert [(r.outcome, r.status) for r in results] == [
        ("delivered", 200), ("retry", 500), ("dead", 404), ("retry", 429), ("delivered", 204)
    ]
    assert results[3].retry_after == 3.0
    assert sorted(receiver.ids()) == list("abcde")
