"""Orders and their versions, with a search index that lags behind the database.

Shopify answers `order(id:)` from its database but `orders(query:)` and `ordersCount` from a
search index that catches up later (notes §2.3). The store keeps, per order, the versions written
recently, each with the moment the index sees it (`visible_at`: written + that change's own lag, so
changes of different orders — and even of one order — surface out of `updatedAt` order). The index
shows, per order, the newest-written version it already sees. A search decides *which* orders match
and in what order from the indexed version, then serves each order's *current* document (an order
deleted since is left out), as Shopify does.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

Doc = dict[str, Any]


@dataclass(frozen=True)
class Version:
    visible_at: datetime
    doc: Doc | None  # None: the order was deleted


class OrderStore:
    def __init__(self) -> None:
        self._current: dict[int, Doc] = {}
        self._versions: dict[int, list[Version]] = {}
        self._refund_owner: dict[str, int] = {}
        self._line_owner: dict[str, int] = {}

    def put(self, number: int, doc: Doc, written_at: datetime, lag_seconds: float = 0.0) -> None:
        """Store `doc` as the order's new version; the store owns it from now on.

        A stored document is never changed again — an edit changes a copy (`editable`) and puts that — so
        history is never rewritten and a bulk operation may hold on to the documents of its snapshot.
        `doc` itself is stored, not a copy: copying every version cost seeding half its time.
        """
        snapshot = doc
        self._current[number] = snapshot
        visible_at = written_at + timedelta(seconds=lag_seconds)
        self._versions.setdefault(number, []).append(Version(visible_at, snapshot))
        for refund in snapshot["refunds"]:
            self._refund_owner[refund["id"]] = number
        for line in snapshot["lineItems"]:
            self._line_owner[line["id"]] = number

    def delete(self, number: int, written_at: datetime, lag_seconds: float = 0.0) -> None:
        if number not in self._current:
            raise KeyError(number)
        del self._current[number]
        self._versions[number].append(Version(written_at + timedelta(seconds=lag_seconds), None))

    def current(self, number: int) -> Doc | None:
        return self._current.get(number)

    def editable(self, number: int) -> Doc:
        """A private copy of the current document to change and `put` back."""
        doc = self._current.get(number)
        if doc is None:
            raise KeyError(number)
        return copy.deepcopy(doc)

    def all_current(self) -> list[Doc]:
        return [self._current[n] for n in sorted(self._current)]

    def owner_of_refund(self, refund_gid: str) -> int | None:
        owner = self._refund_owner.get(refund_gid)
        return owner if owner in self._current else None

    def owner_of_line_item(self, line_gid: str) -> int | None:
        owner = self._line_owner.get(line_gid)
        return owner if owner in self._current else None

    def indexed(self, now: datetime) -> Iterator[tuple[int, Doc]]:
        """(order number, the version the search index sees now) for every order it knows."""
        for number, versions in self._versions.items():
            newest = next((i for i in range(len(versions) - 1, -1, -1) if versions[i].visible_at <= now), None)
            if newest is None:
                continue
            if newest:
                # Older versions can never be shown again: a newer one is already visible.
                del versions[:newest]
            if versions[0].doc is not None:
                yield number, versions[0].doc

    def __len__(self) -> int:
        return len(self._current)
