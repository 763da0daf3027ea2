"""Why a destination does not take an event: the value recorded on its delivery instead of `pending`.

The rules themselves live with the destinations (`deliver.routing`: the `events`/`channels`/`exclude_tags`
filters and each payload's skips); the core only carries their verdict, through `SourceContext.keep_out`,
from the moment an event is created to the delivery row written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, Protocol

from msgspec import Struct

KeptOutState = Literal["filtered", "skipped"]
FILTERED: KeptOutState = "filtered"
SKIPPED: KeptOutState = "skipped"
KEPT_OUT_STATES: tuple[KeptOutState, ...] = (FILTERED, SKIPPED)


class KeptOut(Struct, frozen=True):
    """A delivery that will not be sent: `filtered` by a destination's key (`reason` names it: events,
    channels, exclude_tags), or `skipped` by its payload rules (`reason`: too_old_for_destination, …)."""

    state: KeptOutState
    reason: str
    detail: str


class KeepOut(Protocol):
    """Whether `destination` does not take the event `payload` (its stored JSON), given the order `facts`
    stored with it (JSON, or None) at `now`; None: send it. May raise `ValueError` when it cannot judge."""

    def __call__(self, destination: str, payload: str, facts: str | None, now: datetime) -> KeptOut | None: ...


KeptOutByDestination = Mapping[str, KeptOut]
