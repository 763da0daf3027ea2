"""Transport of the http destination: headers, signing, pooling, concurrency, TLS, and secrets kept out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from pydantic import SecretStr
from structlog.testing import capture_logs

from shopify_bridge.deliver.destinations.http import HttpDestination
from tests.delivery.conftest import NOW_UNIX, MakeDestination, event
from tests.delivery.receiver import Receiver, Reply, closed_port

TOKEN_CANARY = "CANARY-token-4f1e9c2a77"
SECRET_KEY_BYTES = b"CANARY-signing-key-bytes-0123456789"
SIGNING_CANARY = "whsec_" + base64.b64encode(SECRET_KEY_BYTES).decode()


@dataclass
class HttpSpec:
    """Shaped like the config's http destination entry."""

    name: str
    url: str
    headers: dict[str, SecretStr] = field(default_factory=dict)
    signing_secret: SecretStr | None = None
    timeout_seconds: float = 10.0
    max_attempts: int = 12
    max_age_hours: float = 72.0


def expected_signature(key: bytes, event_id: str, timestamp: str, body: bytes) -> str:
    # Derived here independently of shopify_bridge.deliver.destinations.signing.
    mac = hmac.new(key, event_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


async def test_configured_headers_are_sent(receiver: Receiver, make_destination: MakeDestination) -> None:
    destination = await make_destination(headers={"X-Webhook-Token": TOKEN_CANARY, "X-Tenant": "t1"})
    await destination.send([event("1")])
    [request] = receiver.requests
    assert request.headers["X-Webhook-Token"] == TOKEN_CANARY
    assert request.headers["X-Tenant"] == "t1"
    assert "webhook-signature" not in request.headers


async def test_signed_requests_verify_on_the_receiver(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    destination = await make_destination(signing_secret=SIGNING_CANARY)
    await destination.send([event("5801"), event("5801-refund-9")])
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        assert request.headers["webhook-id"] == request.event_id
        assert request.headers["webhook-timestamp"] == str(int(NOW_UNIX))
        assert request.headers["webhook-signature"] == expected_signature(
            SECRET_KEY_BYTES, request.event_id, request.headers["webhook-timestamp"], request.body
        )


async def test_plain_signing_secret_is_its_own_utf8_key(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    destination = await make_destination(signing_secret="not-prefixed-secret", clock=lambda: 1700000000.9)
    await destination.send([event("e1")])
    [request] = receiver.requests
    assert request.headers["webhook-timestamp"] == "1700000000"
    assert request.headers["webhook-signature"] == expected_signature(
        b"not-prefixed-secret", "e1", "1700000000", request.body
    )


async def test_from_config_reads_secrets_and_timeout(receiver: Receiver) -> None:
    spec = HttpSpec("converge", receiver.url, {"X-Webhook-Token": SecretStr(TOKEN_CANARY)},
                    SecretStr(SIGNING_CANARY), timeout_seconds=0.2)
    destination = HttpDestination.from_config(spec, clock=lambda: NOW_UNIX)
    receiver.script("slow", Reply(hang=True))
    await destination.open()
    try:
        fast, slow = await destination.send([event("fast"), event("slow")])
    finally:
        await destination.close()
    assert destination.name == "converge"
    assert (fast.outcome, slow.outcome) == ("delivered", "retry")
    assert "timeout" in (slow.error or "")
    request = receiver.requests[0]
    assert request.headers["X-Webhook-Token"] == TOKEN_CANARY
    assert request.headers["webhook-signature"] == expected_signature(
        SECRET_KEY_BYTES, request.event_id, str(int(NOW_UNIX)), request.body
    )


async def test_concurrency_is_bounded_and_reached(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    # The receiver holds every request until 4 are in flight at once, so 4 is both reached and the ceiling.
    receiver.hold_until_in_flight = 4
    destination = await make_destination(concurrency=4)
    results = await destination.send([event(str(i)) for i in range(12)])
    assert [r.outcome for r in results] == ["delivered"] * 12
    assert receiver.max_in_flight == 4


async def test_one_pooled_session_reuses_connections(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    destination = await make_destination(concurrency=4)
    for batch in range(5):
        await destination.send([event(f"{batch}-{i}") for i in range(8)])
    assert len(receiver.requests) == 40
    assert len({request.client_port for request in receiver.requests}) <= 4


async def test_send_before_open_is_a_programming_error(receiver: Receiver) -> None:
    destination = HttpDestination("hook", receiver.url)
    with pytest.raises(RuntimeError, match="before open"):
        await destination.send([event("1")])


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "not a url", "/relative/hook"])
def test_a_non_http_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        HttpDestination("hook", url)


def test_a_header_with_a_line_break_is_refused_without_showing_its_value() -> None:
    with pytest.raises(ValueError, match="X-Token") as caught:
        HttpDestination("hook", "https://h.invalid/hook", headers={"X-Token": f"{TOKEN_CANARY}\r\nX: y"})
    assert "CANARY" not in str(caught.value)


async def test_secrets_never_reach_errors_logs_or_repr(
    receiver: Receiver, make_destination: MakeDestination
) -> None:
    # A receiver that echoes the request (headers and all) into its error bodies and redirects.
    receiver.script("bad", Reply(status=400, echo_request=True))
    receiver.script("down", Reply(status=500, echo_request=True))
    receiver.script("moved", Reply(status=302, headers={"Location": f"/elsewhere?token={TOKEN_CANARY}"}))
    receiver.script("slow", Reply(hang=True))
    url = f"{receiver.url}?key=CANARY-query-secret-77"
    destination = await make_destination(
        url=url, headers={"X-Webhook-Token": TOKEN_CANARY}, signing_secret=SIGNING_CANARY, timeout_seconds=0.3
    )
    unreachable = await make_destination(
        url=f"http://127.0.0.1:{closed_port()}/h?key=CANARY-query-secret-77", headers={"X": TOKEN_CANARY}
    )
    with capture_logs() as logs:
        results = await destination.send([event(i) for i in ("bad", "down", "moved", "slow")])
        results += await unreachable.send([event("x")])
    assert [r.outcome for r in results] == ["dead", "retry", "dead", "retry", "retry"]
    assert TOKEN_CANARY in receiver.requests[0].headers.values()  # the receiver really did echo it
    texts = [r.error or "" for r in results] + [repr(destination), repr(unreachable), repr(logs)]
    for text in texts:
        assert "CANARY" not in text
    assert "[redacted]" in (results[0].error or "")


async def answer_ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


@pytest.fixture(scope="module")
def self_signed_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI is not installed; cannot make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


async def test_untrusted_certificate_is_retried_as_tls_error(
    self_signed_cert: tuple[Path, Path], make_destination: MakeDestination
) -> None:
    cert, key = self_signed_cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_post("/hook", answer_ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    port = runner.addresses[0][1]
    try:
        destination = await make_destination(url=f"https://127.0.0.1:{port}/hook", timeout_seconds=2)
        [result] = await destination.send([event("1")])
    finally:
        await runner.cleanup()
    assert result.outcome == "retry"
    assert (result.error or "").startswith("TLS certificate error:")
