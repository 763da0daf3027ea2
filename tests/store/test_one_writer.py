"""One writer: `run`, `tui` and `demo` hold an OS lock beside the database; a second one exits 75 naming the
holder's pid; readers never take it; the lock goes with the process, however it ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import main
from shopify_bridge.store import Store, StoreError
from shopify_bridge.store.writer_lock import lock_path
from tui.writer_status import lock_holder

TOKEN = "shpat_lock_canary_5d1e"
REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
from shopify_bridge.store import Store
store = Store.open_writer(sys.argv[1], exclusive=True)
print("held", flush=True)
sys.stdin.read()  # until the test closes stdin (or kills this process)
"""


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "shopify-bridge.toml"
    path.write_text(
        'database = "bridge.db"\n\n[[sources]]\nname = "Lock Store"\nstore = "lock-store"\n'
        'access_token = "${SHOPIFY_ACCESS_TOKEN}"\napi_url = "http://127.0.0.1:9"\n\n'
        '[[destinations]]\nname = "events-file"\ntype = "jsonl"\npath = "events.jsonl"\n'
    )
    return path


def hold_lock(database: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(database)], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_in_the_same_process_is_refused_with_75_and_the_lock_is_released_on_close(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bridge.db"
    first = Store.open_writer(database, exclusive=True)
    try:
        with pytest.raises(StoreError) as refused:
            Store.open_writer(database, exclusive=True)
        assert refused.value.exit_code == exit_codes.TEMPFAIL
        assert f"pid {os.getpid()}" in str(refused.value) and "tui --attach" in str(refused.value)
        assert lock_holder(database) == os.getpid()        # the format the dashboard's --attach reads
        assert oct(lock_path(database).stat().st_mode & 0o777) == oct(0o600)
        Store.open_writer(database).close()                  # a short-lived writer (replay) does not take it
    finally:
        first.close()
    assert lock_holder(database) is None                     # no stale pid left to mislead the dashboard
    Store.open_writer(database, exclusive=True).close()


def test_run_exits_75_naming_the_holder_readers_go_on_and_a_killed_holder_frees_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    config = str(write_config(tmp_path))
    database = tmp_path / "bridge.db"
    holder = hold_lock(database)
    try:
        assert main(["--config", config, "run", "--once"]) == exit_codes.TEMPFAIL
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"pid {holder.pid}" in err[0] and "tui --attach" in err[0], err
        # Readers never take the lock: they work while the writer runs.
        assert main(["--config", config, "events", "--json"]) == exit_codes.OK
        assert capsys.readouterr().out.strip() == "[]"
    finally:
        holder.kill()                                        # SIGKILL: no clean-up code runs in the holder
        holder.wait(timeout=10)
    Store.open_writer(database, exclusive=True).close()      # the kernel released the lock with the process
