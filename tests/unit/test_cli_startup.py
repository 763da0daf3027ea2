"""The console script defers cyclic garbage collection until start-up is over, then freezes what it made.

Each check runs in a process of its own: freezing the test runner's objects would keep them forever.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run_python(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()


def test_the_console_script_collects_again_once_the_command_is_done() -> None:
    lines = run_python(
        "import gc, sys; from shopify_bridge.cli import entry\n"
        "seen = []\n"
        "import shopify_bridge.cli.app as app\n"
        "def show_version(value):\n"
        "    if value: seen.append(gc.isenabled())\n"
        "    return real(value)\n"
        "real, app._show_version = app._show_version, show_version\n"
        "sys.argv = ['shopify-bridge', '--version']\n"
        "code = entry.main()\n"
        "print(code, seen, gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    assert lines[-1] == "0 [False] True True", "off while starting, then on with start-up frozen"


def test_the_package_does_not_load_the_app_before_the_console_script_defers_collection() -> None:
    lines = run_python("import sys, shopify_bridge.cli.entry; print('shopify_bridge.cli.app' in sys.modules)")
    assert lines == ["False"]


def test_run_ends_start_up_once_its_bridge_is_built(tmp_path: Path) -> None:
    config = tmp_path / "shopify-bridge.toml"
    config.write_text(
        f'database = "{tmp_path / "bridge.db"}"\n[[sources]]\nname = "S"\nstore = "sim-snowboards"\n'
        'access_token = "shpat_x"\nstart_date = "2026-01-01"\n'
    )
    lines = run_python(
        "import asyncio, gc; from pathlib import Path\n"
        "from shopify_bridge.cli import startup\n"
        "from shopify_bridge.cli.run import _run\n"
        "from shopify_bridge.config import load_config\n"
        "from shopify_bridge.service.bridge import Bridge\n"
        "async def cycle(self):\n"
        "    print(gc.isenabled())\n"
        "    return []\n"
        "Bridge.run_cycle = cycle\n"
        "gc.disable(); startup._deferred = True\n"
        f"asyncio.run(_run(load_config(Path({str(config)!r})), once=True))\n"
    )
    assert lines[-1] == "True", "collecting again when the first cycle runs"


@pytest.mark.parametrize("deferred", [False, True])
def test_start_up_done_only_acts_when_the_console_script_deferred_collection(deferred: bool) -> None:
    lines = run_python(
        "import gc; from shopify_bridge.cli import startup\n"
        f"if {deferred}: gc.disable(); startup._deferred = True\n"
        "startup.startup_done(); startup.startup_done()\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    assert lines == [f"True {deferred}"]


# Sends SIGTERM to itself at the moment the app's modules are about to be imported: the stop arrives while
# the interpreter is still starting, as when a supervisor stops a `run` in its first second.
STOP_WHILE_IMPORTING = """
import importlib.abc, os, runpy, signal, sys

class StopOnAppImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "shopify_bridge.cli.app":
            os.kill(os.getpid(), signal.SIGTERM)
        return None

sys.meta_path.insert(0, StopOnAppImport())
sys.argv = ["shopify-bridge", "--config", "absent.toml", "run"]
{launch}
print("not stopped")
"""


@pytest.mark.parametrize(
    "launch",
    [
        "runpy.run_module('shopify_bridge', run_name='__main__')",  # python -m shopify_bridge
        "from shopify_bridge.cli import entry; raise SystemExit(entry.main())",  # the console script
    ],
)
def test_a_stop_while_the_app_is_still_importing_ends_cleanly(launch: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", STOP_WHILE_IMPORTING.format(launch=launch)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, ""), done.stderr


# `run`'s start-up as the console script goes through it, up to the moment the bridge is built (before its
# first request): what it has imported then, and whether the config tables read their docstrings or built
# the validators of their bases.
RUN_STARTUP = """
import json, os, sys
import shopify_bridge.cli.startup as startup

def startup_done():
    from shopify_bridge.config import Config
    from shopify_bridge.config.destinations import NetworkDestination
    print(json.dumps({{
        "modules": sorted(sys.modules),
        "docstrings_read": any(field.description for field in Config.model_fields.values()),
        "base_built": NetworkDestination.__pydantic_complete__,
    }}))
    sys.stdout.flush()
    os._exit(0)

startup.startup_done = startup_done  # before `entry`, `app` and `run` import it
sys.argv = ["shopify-bridge", "--config", {config!r}, *{options!r}, "run", "--once"]
from shopify_bridge.cli import entry
entry.main()
print("start-up never ended")
"""

# Loaded only for what `run` with JSON log lines never does: structlog's console renderer's tracebacks (rich's
# traceback renderer, syntax highlighter and pretty-printer, pygments), and the dashboard's store reads.
# (attrs stays: aiohttp uses it.)
NOT_FOR_RUN = ("pygments", "rich.traceback", "rich.syntax", "rich.pretty", "shopify_bridge.store.reads_dashboard",
               "shopify_bridge.store.dashboard_rows")


@pytest.mark.parametrize("options", [["--json-logs"], []], ids=["json-logs", "stderr-not-a-terminal"])
def test_run_starts_without_what_it_does_not_use(tmp_path: Path, options: list[str]) -> None:
    config = tmp_path / "shopify-bridge.toml"
    config.write_text(
        'database = "bridge.db"\n[[sources]]\nname = "S"\nstore = "sim-snowboards"\naccess_token = "shpat_x"\n'
        'api_url = "http://127.0.0.1:9"\nstart_date = "2026-01-01"\n'
        '[[destinations]]\nname = "file"\ntype = "jsonl"\npath = "events.jsonl"\n'
    )
    done = subprocess.run([sys.executable, "-c", RUN_STARTUP.format(config=str(config), options=options)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout.splitlines()[-1])
    modules = set(state["modules"])
    assert "shopify_bridge.service.bridge" in modules and "structlog" in modules  # the bridge is built
    loaded = sorted(m for m in modules if any(m == name or m.startswith(f"{name}.") for name in NOT_FOR_RUN))
    assert loaded == []
    assert state == {**state, "docstrings_read": False, "base_built": False}
