"""Shared pieces of the CLI end-to-end tests: a config with any names, a scripted HTTP destination in a
thread, and a run of `main` that returns what it printed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.cli.app import main


def toml_string(text: str) -> str:
    """A TOML basic string holding `text` exactly (JSON's escapes are TOML's)."""
    return json.dumps(text)


def write_cli_config(
    tmp_path: Path,
    url: str,
    *,
    source_name: str = "CLI Store",
    http_url: str | None = None,
    events_path: str = "events.jsonl",
    extra_source: str = "",
    extra_destinations: str = "",
    database: Path | str = "bridge.db",
) -> Path:
    """A one-source config (token from $SHOPIFY_ACCESS_TOKEN): a jsonl destination, and an http one at `http_url`."""
    http = (
        f'\n[[destinations]]\nname = "hook"\ntype = "http"\nurl = {toml_string(http_url)}\ntimeout_seconds = 5\n'
        if http_url
        else ""
    )
    path = tmp_path / "shopify-bridge.toml"
    path.write_text(
        f"database = {toml_string(str(database))}\n\n"
        f'[[sources]]\nname = {toml_string(source_name)}\nstore = "sim-snowboards"\n'
        f'access_token = "${{SHOPIFY_ACCESS_TOKEN}}"\napi_url = {toml_string(url)}\n{extra_source}\n'
        f'[[destinations]]\nname = "events-file"\ntype = "jsonl"\npath = {toml_string(events_path)}\n'
        f"{http}{extra_destinations}"
    )
    return path


@dataclass
class HttpReply:
    status: int = 200
    body: bytes = b"ok"


class ScriptedHttp:
    """A local HTTP server on a thread: POSTs get `post`, HEADs get `head`; it counts what it received."""

    def __init__(self, post: HttpReply, head: HttpReply | None = None) -> None:
        self.posts = 0
        self.heads = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, reply: HttpReply, body: bool) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if body:
                    self.wfile.write(reply.body)

            def do_POST(self) -> None:
                owner.posts += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self._answer(post, body=True)

            def do_HEAD(self) -> None:
                owner.heads += 1
                self._answer(head or HttpReply(405, b""), body=False)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@contextmanager
def scripted_http(post: HttpReply, head: HttpReply | None = None) -> Iterator[ScriptedHttp]:
    server = ScriptedHttp(post, head)
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `shopify-bridge ARGS…` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err
