"""Downloading a completed bulk operation's result file from its signed URL."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from shopify_bridge.errors import TemporaryFailure
from shopify_bridge.private_files import open_private

DOWNLOAD_CHUNK = 1 << 20


async def download(url: str, target: Path) -> int:
    """Stream the result to `target` in chunks; its size in bytes. The signed URL gets no Shopify token."""
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        if response.status != 200:
            raise TemporaryFailure(f"bulk result download failed: HTTP {response.status}")
        with open_private(target, "wb") as handle:  # every order of the shop: 0600 from the first byte
            async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK):
                handle.write(chunk)
                size += len(chunk)
    return size
