"""`check` tries each destination without sending it an event: HEAD for http, a writable path for jsonl."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.service.check_destinations import probe_file, probe_http
from tests.e2e.cli_support import HttpReply, ScriptedHttp, cli, scripted_http, write_cli_config
from tests.threaded_simulator import ThreadedSimulator, threaded_simulator

TOKEN = "shpat_check_canary_19ab"
SECRET_PATH = "/hooks/T000-secret-path-token"

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def hook() -> Iterator[ScriptedHttp]:
    with scripted_http(HttpReply(500, b"must not be posted to"), head=HttpReply(405, b"")) as server:
        yield server


async def test_an_http_destination_that_answers_is_reachable_and_gets_no_event(hook: ScriptedHttp) -> None:
    url = hook.url.replace("/hook", SECRET_PATH)
    report = await probe_http("hook", "http", url, timeout=5)
    assert report.ok and report.exit_code == exit_codes.OK
    assert report.detail.startswith("answers (HEAD: 405) in ")
    assert (hook.heads, hook.posts) == (1, 0)
    assert report.target == f"http://127.0.0.1:{hook.server.server_address[1]}"  # never the path


async def test_an_http_destination_nobody_listens_on_is_unavailable(unused_tcp_port: int) -> None:
    report = await probe_http("hook", "http", f"http://127.0.0.1:{unused_tcp_port}/x", timeout=5)
    assert not report.ok and report.exit_code == exit_codes.UNAVAILABLE
    assert report.detail.startswith("cannot connect")


async def test_tls_that_fails_is_unavailable(hook: ScriptedHttp) -> None:
    # An https URL on a plain-HTTP port: the handshake cannot succeed.
    report = await probe_http("hook", "http", hook.url.replace("http://", "https://"), timeout=5)
    assert not report.ok and report.exit_code == exit_codes.UNAVAILABLE
    assert report.detail.startswith("TLS handshake failed")
    assert hook.posts == 0


def test_a_jsonl_file_is_checked_without_writing_to_it(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"event_id": "1"}\n')
    report = probe_file("file", events)
    assert (report.ok, report.detail) == (True, "appendable")
    assert events.read_text() == '{"event_id": "1"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl"]  # no scratch file left behind
    later = probe_file("file", tmp_path / "new" / "dir" / "events.jsonl")
    assert later.ok and later.detail == f"writable ({tmp_path / 'new' / 'dir'} will be created)"
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("setup", "problem"), [("directory", "is a directory"), ("file", "is not a directory")])
def test_a_jsonl_path_that_cannot_be_written_is_a_config_error(tmp_path: Path, setup: str, problem: str) -> None:
    path = tmp_path / "events.jsonl"
    if setup == "directory":
        path.mkdir()
    else:
        (tmp_path / "blocker").write_text("")
        path = tmp_path / "blocker" / "events.jsonl"
    report = probe_file("file", path)
    assert (report.ok, report.exit_code) == (False, exit_codes.CONFIG)
    assert problem in report.detail


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedSimulator]:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    with threaded_simulator(token=TOKEN, orders=1, search_lag_seconds=0) as threaded:
        yield threaded


def test_check_lists_each_destination_and_exits_69_when_one_is_unreachable(
    tmp_path: Path, simulator: ThreadedSimulator, hook: ScriptedHttp, unused_tcp_port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reachable = str(write_cli_config(tmp_path, simulator.url, http_url=hook.url.replace("/hook", SECRET_PATH)))
    code, out, _ = cli(capsys, "--config", reachable, "check")
    assert code == exit_codes.OK
    assert "✓ │ events-file │ jsonl" in out and "✓ │ hook        │ http" in out
    assert SECRET_PATH not in out and "all sources and destinations ok" in out

    broken = str(write_cli_config(tmp_path, simulator.url, http_url=f"http://127.0.0.1:{unused_tcp_port}/hook"))
    code, out, _ = cli(capsys, "--config", broken, "check")
    assert code == exit_codes.UNAVAILABLE
    assert "✗ │ hook" in out and "cannot connect" in out and "check failed (exit 69)" in out
    code, out, _ = cli(capsys, "--config", broken, "check", "--json")
    document = json.loads(out)
    assert (document["ok"], document["exit_code"], document["sources"][0]["ok"]) == (False, 69, True)
    assert [(d["name"], d["ok"], d["exit_code"]) for d in document["destinations"]] == [
        ("events-file", True, 0), ("hook", False, 69)
    ]
    assert hook.posts == 0
