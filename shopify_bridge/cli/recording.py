"""`--record-cassette PATH` of `check` and `run --once`: Shopify's answers go into a new, scrubbed cassette."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shopify_bridge.cli.console import console, lit, styled


@contextmanager
def recording(path: Path | None) -> Iterator[None]:
    """Record the Shopify traffic of the block into `path` (`shopify.cassette`); nothing when `path` is None."""
    if path is None:
        yield
        return
    from shopify_bridge.shopify.cassette import record_cassette

    with record_cassette(path) as cassette:
        yield
    console(stderr=True).print(styled(f"recorded {len(cassette)} Shopify request(s) into ", lit(path)))
