"""`check` for destinations: can each one be reached, without sending it an event?

- A destination reached over HTTP (http, ga4, meta_capi, segment) gets one `HEAD` of its URL, without
  its credentials and without following redirects. Any HTTP answer, whatever its status (a webhook
  receiver may well refuse HEAD with 405), proves what can fail before an event: the name resolves,
  the port accepts, TLS verifies, a server answers within the destination's timeout. No answer is
  exit 69 (unavailable), the code of an unreachable Shopify too.
- A `jsonl` destination must be a file the bridge can append to: an existing file is opened for
  appending (nothing written); otherwise a scratch file is created and removed in its directory, or in
  the nearest existing parent when the directory is still to be made. A path that cannot be written
  is a configuration problem: exit 78, like a database path that cannot be written.

Targets are shown as scheme, host and port only: webhook URLs often carry a token in the path or
query.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from shopify_bridge import exit_codes
from shopify_bridge.errors import one_line
from shopify_bridge.observe.log import redact

USER_AGENT = "shopify-bridge check"


@dataclass(frozen=True)
class DestinationReport:
    name: str
    type: str
    target: str
    ok: bool
    detail: str
    exit_code: int = exit_codes.OK


def probe_url(spec: Any) -> str:
    """The URL a network destination sends to: its `url`, else its `endpoint` base."""
    return str(getattr(spec, "url", None) or spec.endpoint)


def shown_target(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.scheme}://{parsed.host}:{parsed.port}"


def _failure(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate not accepted: {exc.certificate_error}"
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"TLS handshake failed: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def probe_http(name: str, kind: str, url: str, timeout: float) -> DestinationReport:
    target = shown_target(url)
    started = time.monotonic()
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.head(url, allow_redirects=False, headers={"User-Agent": USER_AGENT}) as response,
        ):
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        detail = one_line(redact(_failure(exc, timeout)))
        return DestinationReport(name, kind, target, False, detail, exit_codes.UNAVAILABLE)
    elapsed = (time.monotonic() - started) * 1000
    secure = ", TLS verified" if URL(url).scheme == "https" else ""
    return DestinationReport(name, kind, target, True, f"answers (HEAD: {status}) in {elapsed:.0f} ms{secure}")


def _nearest_existing(directory: Path) -> Path:
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def probe_file(name: str, path: Path) -> DestinationReport:
    def fail(problem: str) -> DestinationReport:
        return DestinationReport(name, "jsonl", str(path), False, problem, exit_codes.CONFIG)

    try:
        if path.is_dir():
            return fail("is a directory")
        if path.exists():
            with open(path, "ab"):
                pass
            return DestinationReport(name, "jsonl", str(path), True, "appendable")
        directory = _nearest_existing(path.parent)
        if not directory.is_dir():
            return fail(f"{directory} is not a directory")
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".shopify-bridge-check-"):
            pass
    except OSError as exc:
        return fail(f"cannot be written: {exc.strerror or exc}")
    made = "" if directory == path.parent else f" ({path.parent} will be created)"
    return DestinationReport(name, "jsonl", str(path), True, f"writable{made}")


async def probe_destinations(destinations: list[Any]) -> list[DestinationReport]:
    """One report per configured destination, probed concurrently, in config order."""

    async def probe(spec: Any) -> DestinationReport:
        if spec.type == "jsonl":
            return await asyncio.to_thread(probe_file, spec.name, Path(spec.path))
        return await probe_http(spec.name, spec.type, probe_url(spec), float(spec.timeout_seconds))

    return list(await asyncio.gather(*(probe(spec) for spec in destinations)))
