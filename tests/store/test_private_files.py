"""Files the bridge creates are 0600 from birth, whatever the umask; `check` warns about wider existing ones."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from shopify_bridge.cli.app import main
from shopify_bridge.cli.run import _log_to_file
from shopify_bridge.deliver.destinations.base import Outgoing
from shopify_bridge.deliver.destinations.jsonl import JsonlDestination
from shopify_bridge.observe.log import configure_logging, get_logger
from shopify_bridge.shopify.bulk.assemble import stage_file
from shopify_bridge.shopify.bulk.download import FileSink, download
from shopify_bridge.shopify.bulk.staging import lines_path, open_staging
from shopify_bridge.shopify.cassette import PrivatePersister, vcr_config
from shopify_bridge.store import Store


def mode(path: Path) -> str:
    return f"{stat.S_IMODE(path.stat().st_mode):04o}"


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The usual 022: without explicit modes every file below would come out 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_database_its_wal_shm_lock_and_identity_witness_are_0600(tmp_path: Path) -> None:
    database = tmp_path / "bridge.db"
    store = Store.open_writer(database, exclusive=True)
    try:
        store.sources.ensure("private.myshopify.com", "Private")     # a commit: the WAL has frames
        created = sorted(path.name for path in tmp_path.iterdir())
        assert created == ["bridge.db", "bridge.db-shm", "bridge.db-wal", "bridge.db.identity", "bridge.db.lock"]
        assert {name: mode(tmp_path / name) for name in created} == dict.fromkeys(created, "0600")
    finally:
        store.close()


async def test_jsonl_events_file_bulk_result_and_staging_files_are_0600(tmp_path: Path) -> None:
    destination = JsonlDestination("events-file", tmp_path / "out" / "events.jsonl")
    await destination.open()
    assert [r.outcome for r in await destination.send([Outgoing("1", b'{"event_id": "1"}')])] == ["delivered"]
    assert mode(tmp_path / "out" / "events.jsonl") == "0600"

    async def result(request: web.Request) -> web.Response:
        return web.Response(body=b'{"id": "gid://shopify/Order/1"}\n')

    app = web.Application()
    app.router.add_get("/result.jsonl", result)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        sink = FileSink(tmp_path / "bulk" / "result.jsonl")  # the earlier-orders result is downloaded whole
        assert await download(f"http://127.0.0.1:{port}/result.jsonl", sink) > 0
        sink.close()
    finally:
        await runner.cleanup()
    assert mode(tmp_path / "bulk" / "result.jsonl") == "0600"

    staging = open_staging(tmp_path / "bulk" / "staging.db")
    stage_file(staging, "gid://shopify/BulkOperation/1", io.BytesIO(b'{"id":"gid://shopify/Order/1"}\n'))
    staging.close()
    assert mode(tmp_path / "bulk" / "staging.db") == "0600"
    assert mode(lines_path(tmp_path / "bulk" / "staging.db")) == "0600"  # the staged lines themselves


def test_cassettes_are_written_0600(tmp_path: Path) -> None:
    assert vcr_config("all").persister is PrivatePersister
    target = tmp_path / "cassettes" / "check.yaml"
    PrivatePersister.save_cassette(target, {"requests": [], "responses": []}, vcr_config("all").serializers[
        "bridge-yaml"])
    assert mode(target) == "0600"


def test_the_dashboards_log_file_is_0600(tmp_path: Path) -> None:
    log_file = tmp_path / "bridge.log"
    _log_to_file(log_file)
    try:
        get_logger(component="test").warning("a line for the file")
    finally:
        configure_logging()
    assert "a line for the file" in log_file.read_text()
    assert mode(log_file) == "0600"


def test_check_warns_about_a_database_and_events_file_others_can_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_modes_canary_0c4d")
    config = tmp_path / "shopify-bridge.toml"
    config.write_text(
        'database = "bridge.db"\n\n[[sources]]\nname = "Modes"\nstore = "modes"\n'
        'access_token = "${SHOPIFY_ACCESS_TOKEN}"\napi_url = "http://127.0.0.1:9"\n\n'
        '[[destinations]]\nname = "events-file"\ntype = "jsonl"\npath = "events.jsonl"\n'
    )
    Store.open_writer(tmp_path / "bridge.db").close()
    (tmp_path / "bridge.db").chmod(0o644)
    (tmp_path / "events.jsonl").write_text("")
    (tmp_path / "events.jsonl").chmod(0o640)
    main(["--config", str(config), "check"])
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {tmp_path / 'bridge.db'} has mode 0644: it holds order data; `chmod 600 {tmp_path / 'bridge.db'}` "
        "keeps it private",
        f"warning: {tmp_path / 'events.jsonl'} has mode 0640: it holds order data; "
        f"`chmod 600 {tmp_path / 'events.jsonl'}` keeps it private",
    ]


def test_the_files_check_looks_at_follow_the_store_sqlite_or_postgresql(tmp_path: Path) -> None:
    """A PostgreSQL store has no database file, lock or identity witness here, but its dashboard log is
    local (beside the config file): that one is still checked."""
    from shopify_bridge.config import config_from_toml
    from shopify_bridge.service.local_files import bridge_files

    def files(database: str) -> list[Path]:
        raw = {"database": database, "sources": [{"name": "Modes", "store": "modes", "access_token": "t"}],
               "destinations": [{"name": "events-file", "type": "jsonl", "path": "events.jsonl"}]}
        return bridge_files(config_from_toml(raw, {}, file=tmp_path / "shopify-bridge.toml"))

    assert files("postgresql://bridge@db.test/bridge") == [tmp_path / "shopify-bridge.log", tmp_path / "events.jsonl"]
    assert files("bridge.db") == [
        tmp_path / name for name in ("bridge.db", "bridge.db-wal", "bridge.db-shm", "bridge.db.lock",
                                     "bridge.db.identity", "bridge.log", "events.jsonl")
    ]
