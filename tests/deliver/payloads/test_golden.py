"""Golden files: each case's envelope (and order facts) → the request each destination type gets.

The expected files under golden/<type>/ were written by hand from the contract (PRODUCT.md,
"Destination payloads beyond http/jsonl"); hashes in them are sha256sum of the normalised literal,
timestamps `date -u +%s` of the event time. They are compared twice: as parsed JSON (a readable diff)
and as bytes of the canonical writer, so that `15.0` vs `15` or `5.250` vs `5.25` cannot slip through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.decide.money import dumps_event, loads_event
from shopify_bridge.deliver.payloads import DestinationRequest, OrderFacts, Skip, build_request
from tests.deliver.payloads import config_entries

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in (GOLDEN / "cases").glob("*.json"))
# Within 72 hours of every case's event time (the oldest is 2026-05-01T10:00:00Z).
NOW = datetime(2026, 5, 3, 9, 0, tzinfo=UTC)
SETTINGS = {"ga4": config_entries.ga4(), "meta_capi": config_entries.meta(), "segment": config_entries.segment()}


def load(path: Path) -> dict[str, Any]:
    return loads_event(path.read_bytes())


def case(name: str) -> tuple[dict[str, Any], OrderFacts]:
    data = load(GOLDEN / "cases" / f"{name}.json")
    return data["envelope"], OrderFacts.from_order_doc(data["order"])


def as_golden(result: DestinationRequest | Skip) -> dict[str, Any]:
    if isinstance(result, Skip):
        return {"skip": result.reason}
    return {"method": result.method, "url": result.url, "headers": dict(result.headers), "body": result.body}


def test_every_case_has_an_expected_request_per_type() -> None:
    assert len(CASES) == 5
    for kind in SETTINGS:
        assert sorted(path.stem for path in (GOLDEN / kind).glob("*.json")) == CASES


@pytest.mark.parametrize("kind", sorted(SETTINGS))
@pytest.mark.parametrize("name", CASES)
def test_golden_request(kind: str, name: str) -> None:
    envelope, order = case(name)
    expected = load(GOLDEN / kind / f"{name}.json")
    got = as_golden(build_request(SETTINGS[kind], envelope, now=NOW, order=order))
    assert got == expected
    assert dumps_event(got) == dumps_event(expected)  # the exact digits of every amount


REQUESTS = [
    (kind, name) for kind in sorted(SETTINGS) for name in CASES if "body" in load(GOLDEN / kind / f"{name}.json")
]


@pytest.mark.parametrize(("kind", "name"), REQUESTS)
def test_the_body_bytes_are_the_golden_body(kind: str, name: str) -> None:
    envelope, order = case(name)
    result = build_request(SETTINGS[kind], envelope, now=NOW, order=order)
    assert isinstance(result, DestinationRequest)
    expected = load(GOLDEN / kind / f"{name}.json")["body"]
    assert result.body_bytes() == dumps_event(expected)
    assert loads_event(result.body_bytes()) == expected
