"""The decisions' records are frozen `msgspec.Struct`s: immutable at run time and to mypy, compared and hashed
field by field, changed only through `msgspec.structs.replace` (see `decide/decisions.py`)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from msgspec.structs import replace

from shopify_bridge.decide.decisions import Gone, NewEvent, NewVersion, OrderDecision, OrderFacts, Release, StoredOrder

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 1, 2, tzinfo=UTC)


def version(number: int = 1) -> NewVersion:
    return NewVersion(number, "2026-01-02T03:04:05Z", "bulk", "ab" * 32, '{"id":"gid://shopify/Order/1"}')


def test_records_compare_and_hash_field_by_field() -> None:
    assert version() == version() and version() != version(2)
    assert hash(version()) == hash(version())
    assert len({version(), version(), version(2)}) == 2
    assert StoredOrder("held") == StoredOrder("held", None) != StoredOrder("held", "pos")
    assert Gone() == Gone()
    assert replace(version(), number=5) == version(5)
    assert repr(StoredOrder("held")) == "StoredOrder(status='held', exclusion_rule=None)"


def test_records_cannot_be_changed_or_given_new_attributes() -> None:
    decision = OrderDecision("shop.myshopify.com", "1", NOW, version=version())
    with pytest.raises(AttributeError):
        decision.version = None  # type: ignore[misc]
    with pytest.raises(AttributeError):
        version().extra = 1  # type: ignore[attr-defined]
    assert OrderFacts().refunds == {} and OrderFacts().refunds is not OrderFacts().refunds  # a fresh default each


def test_changing_the_events_of_a_decision_leaves_the_decision_as_it_was() -> None:
    placed = NewEvent("shop.myshopify.com", "placed-1", "Placed Order", "1", None, "2026-01-02T03:04:05Z", "{}",
                      ("events-file",))
    decision = OrderDecision("shop.myshopify.com", "1", NOW, transition=Release(placed, 1))
    changed = decision.map_events(lambda event: replace(event, facts='{"n":1}'))
    assert isinstance(changed.transition, Release) and changed.transition.placed.facts == '{"n":1}'
    assert decision.transition == Release(placed, 1) and placed.facts is None
    assert changed.creates_events
    assert not OrderDecision("shop.myshopify.com", "1", NOW, transition=Gone()).creates_events


def test_strict_mypy_rejects_an_assignment_to_a_field(tmp_path: Path) -> None:
    snippet = tmp_path / "mutate.py"
    snippet.write_text(
        "from shopify_bridge.decide.decisions import NewOrder\n"
        "order = NewOrder('gid://shopify/Order/1', '#1', 'a', 'b', None, 'new')\n"
        "print(order.status)\n"
        "order.status = 'history'\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--follow-imports", "silent",
         "--cache-dir", str(tmp_path / "cache"), str(snippet)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert out.stdout.strip().splitlines() == [
        f'{snippet}:4: error: Property "status" defined in "NewOrder" is read-only  [misc]'
    ], out.stdout
