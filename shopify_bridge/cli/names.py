"""Names an operator types (`--source`, `--destination`, event ids): unknown ones are usage errors.

A typo must not turn into "0 deliveries queued again" or an empty listing that looks like a healthy
bridge: each unknown name ends the command with exit 2 and one line naming it and what exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shopify_bridge import exit_codes
from shopify_bridge.config import Config, Source
from shopify_bridge.errors import BridgeError

SHOWN_CHOICES = 10


class UnknownName(BridgeError):
    exit_code = exit_codes.USAGE


def _choices(names: Sequence[str]) -> str:
    listed = ", ".join(repr(name) for name in names[:SHOWN_CHOICES])
    more = f" and {len(names) - SHOWN_CHOICES} more" if len(names) > SHOWN_CHOICES else ""
    return f"{listed}{more}" if names else "none"


def config_source(config: Config, name: str) -> Source:
    """The configured source called `name` (exactly, else ignoring case), or its shop domain."""
    for matches in (
        lambda s: name in (s.name, s.shop_domain),
        lambda s: s.name.casefold() == name.casefold(),
    ):
        found = [s for s in config.sources if matches(s)]
        if found:
            return found[0]
    raise UnknownName(f"unknown source {name!r} (sources: {_choices([s.name for s in config.sources])})")


def source_shop(config: Config, name: str, stored: Mapping[str, str]) -> str:
    """The shop of the source `name`: a configured one, or one the store still knows (`stored`: shop -> name),
    e.g. removed from the config since; read-only commands may still look at its events."""
    try:
        return config_source(config, name).shop_domain
    except UnknownName:
        for shop, stored_name in stored.items():
            if name in (shop, stored_name) or stored_name.casefold() == name.casefold():
                return shop
        raise


def destination(config: Config, name: str) -> str:
    names = [d.name for d in config.destinations]
    if name not in names:
        raise UnknownName(f"unknown destination {name!r} (destinations: {_choices(names)})")
    return name


def known_event_ids(unknown: Sequence[str]) -> None:
    """Refuse when any event id given is not in the store (`unknown`: those the store lacks)."""
    if unknown:
        shown = ", ".join(repr(event_id) for event_id in unknown[:SHOWN_CHOICES])
        more = f" and {len(unknown) - SHOWN_CHOICES} more" if len(unknown) > SHOWN_CHOICES else ""
        noun = "event id" if len(unknown) == 1 else "event ids"
        raise UnknownName(f"unknown {noun}: {shown}{more} (see `shopify-bridge events`)")
