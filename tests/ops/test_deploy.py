"""The service files: the systemd unit verifies and hands credentials over; both name real commands and paths."""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from aiohttp import web

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import app
from shopify_bridge.config import CONFIG_ENV_VAR

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "shopify-bridge.service"
CONTAINERFILE = REPO / "deploy" / "Containerfile"
PROGRAM = "/opt/shopify-bridge/bin/shopify-bridge"


def unit_entries() -> dict[str, list[str]]:
    """`Section.Key` -> its values (systemd allows a key several times)."""
    entries: dict[str, list[str]] = {}
    section = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.setdefault(f"{section}.{key}", []).append(value)
    return entries


def check_cli_accepts(argv: list[str]) -> None:
    """Fail unless `argv` (after the program) uses only the global options, a command and its options."""
    group: Any = typer.main.get_command(app)
    root = group.context_class(group, info_name="shopify-bridge")
    global_options = {opt for param in group.params for opt in param.opts}
    position = 0
    while argv[position].startswith("-"):
        assert argv[position] in global_options, f"unknown global option {argv[position]}"
        position += 1 + (argv[position] in ("--config", "-c"))
    command = group.get_command(root, argv[position])
    assert command is not None, f"no command {argv[position]}"
    ctx = command.context_class(command, info_name=argv[position], parent=root)
    command.parse_args(ctx, list(argv[position + 1:]))              # raises on an unknown option or a bad value


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text())
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert UNIT.name not in result.stderr, result.stderr          # warnings about our unit count too


def test_the_unit_is_hardened_and_stops_restarting_on_what_a_restart_cannot_fix() -> None:
    unit = unit_entries()
    assert unit["Service.DynamicUser"] == ["yes"] and unit["Service.User"] == ["shopify-bridge"]
    assert unit["Service.StateDirectory"] == ["shopify-bridge"]
    assert unit["Service.WorkingDirectory"] == ["/var/lib/shopify-bridge"]
    assert unit["Service.RestartPreventExitStatus"] == [f"{exit_codes.NOPERM} {exit_codes.CONFIG}"]
    assert unit["Service.Restart"] == ["on-failure"]
    assert unit["Service.KillSignal"] == ["SIGTERM"]
    for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("CapabilityBoundingSet", "")]:
        assert unit[f"Service.{key}"] == [value]
    assert unit["Service.Environment"] == [f"{CONFIG_ENV_VAR}=/etc/shopify-bridge/shopify-bridge.toml"]
    credential = unit["Service.LoadCredential"]
    assert credential == ["shopify-access-token:/etc/shopify-bridge/credentials/shopify-access-token"]


def exec_start_script() -> str:
    """The shell script of ExecStart, as /bin/sh receives it (systemd turns `$$` into `$`)."""
    (line,) = unit_entries()["Service.ExecStart"]
    shell, flag, script = shlex.split(line.replace("$$", "$"))
    assert (shell, flag) == ("/bin/sh", "-c")
    return script


def test_exec_start_runs_an_existing_command_line_of_the_program() -> None:
    script = exec_start_script()
    command = script.rsplit("exec ", 1)[1]
    program, *argv = shlex.split(command)
    assert program == PROGRAM
    check_cli_accepts(argv)
    assert argv[argv.index("--metrics-port") + 1] == "9464"


def test_each_credential_becomes_the_environment_variable_the_example_config_reads(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "shopify-access-token").write_text("shpat_from_credential_file")
    (credentials / "converge-webhook-token").write_text("tok en with spaces")
    script = exec_start_script().replace(f"exec {PROGRAM}", "exec env; :")
    shell = shutil.which("sh")
    assert shell is not None
    result = subprocess.run([shell, "-c", script], capture_output=True, text=True, timeout=30,
                            env={"CREDENTIALS_DIRECTORY": str(credentials), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    environment = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert environment["SHOPIFY_ACCESS_TOKEN"] == "shpat_from_credential_file"
    assert environment["CONVERGE_WEBHOOK_TOKEN"] == "tok en with spaces"
    example = (REPO / "shopify_bridge" / "config" / "example-config.toml").read_text()
    assert "${SHOPIFY_ACCESS_TOKEN}" in example


def containerfile_instructions() -> list[tuple[str, str]]:
    text = CONTAINERFILE.read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_the_containerfile_copies_existing_paths_and_runs_non_root() -> None:
    instructions = containerfile_instructions()
    copies = [rest for keyword, rest in instructions if keyword == "COPY" and not rest.startswith("--from")]
    sources = [item for rest in copies for item in rest.split()[:-1]]
    assert sources and all((REPO / item).exists() for item in sources), sources
    for required in ("pyproject.toml", "shopify_bridge", "tui"):
        assert required in sources                                # what `pip install .` needs
    (user,) = [rest for keyword, rest in instructions if keyword == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    assert ('VOLUME', '["/var/lib/shopify-bridge"]') in instructions
    assert all("python:3.11" in rest for keyword, rest in instructions if keyword == "FROM")
    assert ("STOPSIGNAL", "SIGTERM") in instructions


def test_the_containerfile_runs_an_existing_command_line_and_checks_healthz_on_its_port() -> None:
    import json

    instructions = dict(containerfile_instructions())
    entrypoint, cmd = json.loads(instructions["ENTRYPOINT"]), json.loads(instructions["CMD"])
    assert entrypoint[0] == "shopify-bridge"
    argv = entrypoint[1:] + cmd
    check_cli_accepts(argv)
    port = argv[argv.index("--metrics-port") + 1]
    assert instructions["EXPOSE"] == port
    assert f"http://127.0.0.1:{port}/healthz" in instructions["HEALTHCHECK"]


async def test_the_containers_health_probe_fails_exactly_when_healthz_does() -> None:
    import json

    probe = json.loads(re.search(r"CMD (\[.*\])", dict(containerfile_instructions())["HEALTHCHECK"])[1])  # type: ignore[index]
    assert probe[:2] == ["python", "-c"]
    status = {"code": 200}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok" if status["code"] == 200 else "stale"}, status=status["code"])

    server = web.Application()
    server.router.add_get("/healthz", healthz)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    code = probe[2].replace("127.0.0.1:9464", f"127.0.0.1:{port}")
    try:
        for wanted, expect_ok in ((200, True), (503, False)):
            status["code"] = wanted
            process = await asyncio.create_subprocess_exec(sys.executable, "-c", code,
                                                           stderr=asyncio.subprocess.DEVNULL)
            assert (await asyncio.wait_for(process.wait(), timeout=20) == 0) is expect_ok
    finally:
        await runner.cleanup()
