"""The result file: JSONL exactly as Shopify writes it, behind a GCS-like signed URL on the simulator."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from shopify_bridge.simulator import ManualClock, SimulatorServer
from tests.conftest import RECORDED
from tests.simulator.conftest import Caller
from tests.simulator.test_bulk_lifecycle import ORDERS, poll, start

RAW_RECORDINGS = ("2026-04__bulk-root-count-run.raw.jsonl", "2026-04__bulk-root-count-variantRun.raw.jsonl")


def conventions(raw: bytes) -> dict[str, Any]:
    """The properties every Shopify JSONL file shows, computed the same way for a recording and for ours."""
    lines = raw.split(b"\n")[:-1]
    records = [json.loads(line) for line in lines]
    reencoded = [
        json.dumps(r, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/").encode() for r in records
    ]
    children = [r for r in records if "__parentId" in r]
    return {
        "ends_with_newline": raw.endswith(b"\n"),
        "compact_with_escaped_slashes": reencoded == lines,
        "parent_id_is_the_last_key": all(list(r)[-1] == "__parentId" for r in children),
        "parents_are_in_the_file": {r["__parentId"] for r in children} <= {r["id"] for r in records},
        "has_children": bool(children),
    }


@pytest.mark.parametrize("name", RAW_RECORDINGS)
def test_the_recordings_show_the_conventions(name: str) -> None:
    path = RECORDED / name
    if not path.exists():
        pytest.skip(f"reference recording {path} is absent")
    assert set(conventions(path.read_bytes()).values()) == {True}


async def download(url: str, **headers: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def finished(caller: Caller, clock: ManualClock, query: str = ORDERS, **options: Any) -> dict[str, Any]:
    created = await start(caller, query, **options)
    clock.advance(10)
    operation: dict[str, Any] = await poll(caller, created["id"])
    assert operation["status"] == "COMPLETED"
    return operation


async def test_the_file_follows_shopifys_conventions(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    operation = await finished(caller, clock)
    status, content_type, raw = await download(operation["url"])  # no Shopify token sent
    assert (status, content_type) == (200, "application/jsonl")
    assert set(conventions(raw).values()) == {True}
    assert int(operation["fileSize"]) == len(raw)
    assert b"gid:\\/\\/shopify\\/Order\\/" in raw and b"gid://" not in raw
    records = [json.loads(line) for line in raw.splitlines()]
    assert (int(operation["objectCount"]), int(operation["rootObjectCount"])) == (
        len(records),
        sum("__parentId" not in r for r in records),
    )
    order = next(r for r in records if "__parentId" not in r)
    assert isinstance(order["refunds"], list) and set(order["totalPriceSet"]) == {
        "shopMoney",
        "presentmentMoney",
    }
    assert "lineItems" not in order, "a nested connection's nodes get lines of their own"


async def test_children_are_not_kept_next_to_their_parent(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    operation = await finished(caller, clock)
    records = [json.loads(line) for line in (await download(operation["url"]))[2].splitlines()]
    kinds = ["child" if "__parentId" in r else "root" for r in records]
    first_child = kinds.index("child")
    assert set(kinds[:first_child]) == {"root"} and set(kinds[first_child:]) == {"child"}
    parents_in_order = [r["__parentId"] for r in records[first_child:]]
    assert parents_in_order != sorted(parents_in_order), "shuffled (seeded), not parent by parent"


async def test_group_objects_puts_children_right_below_their_parent(
    caller: Caller, clock: ManualClock
) -> None:
    operation = await finished(caller, clock, group=True)
    records = [json.loads(line) for line in (await download(operation["url"]))[2].splitlines()]
    current = None
    for record in records:
        if "__parentId" not in record:
            current = record["id"]
        else:
            assert record["__parentId"] == current


async def test_zero_results_complete_without_a_url(caller: Caller, clock: ManualClock) -> None:
    operation = await finished(
        caller, clock, ORDERS.replace("sortKey:", 'query: "tag:no-such-tag", sortKey:')
    )
    assert (operation["url"], operation["fileSize"], operation["objectCount"]) == (None, None, "0")


async def test_the_url_is_signed_expires_after_seven_days_and_needs_no_token(
    caller: Caller, sim: SimulatorServer, clock: ManualClock
) -> None:
    operation = await finished(caller, clock)
    url = operation["url"]
    assert url.startswith(f"{sim.url}/_bulk/") and "GoogleAccessId=" in url and "Signature=" in url
    assert (await download(url, **{"X-Shopify-Access-Token": "shpat_wrong"}))[0] == 200, (
        "the token is not looked at"
    )
    tampered = url.replace("Signature=", "Signature=x")
    status, content_type, body = await download(tampered)
    assert (status, content_type) == (403, "application/xml; charset=UTF-8")
    assert b"<Code>SignatureDoesNotMatch</Code>" in body
    assert (await download(url.replace("/_bulk/", "/_bulk/x")))[0] == 404
    clock.advance(7 * 24 * 3600)
    status, _, body = await download(url)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body
    assert (await poll(caller, operation["id"]))["status"] == "EXPIRED"
