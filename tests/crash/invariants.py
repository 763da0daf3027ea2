"""The crash-safety invariants: what the shop implies, against what the bridge stored and sent.

`expectations()` derives from the simulator (the truth) and the traffic ledger which event_ids
must exist, which must not, and which may go either way (racy orders). `check()` then holds the
store, the JSONL file and the recording receiver to it:

- every required event exists once, nothing unexplained exists, no event_id was created twice;
- every event reached every destination, byte for byte what the store holds;
- a destination received an event more than once only when that delivery was in flight at a kill
  (at-least-once redelivery), and at most once more per such kill;
- the JSONL file has no torn line except possibly a final one (whose event is then re-written).

`missing()` is the cheap "is it done yet?" used while a bridge runs to completion.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.crash.recorder import RecordingServer
from tests.crash.store_view import JsonlScan, StoreView
from tests.crash.traffic import PlannedOrder

DECIDED = ("released", "excluded")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class Expectations:
    required: dict[str, str] = field(default_factory=dict)
    """event_id -> why it must exist."""
    forbidden: dict[str, str] = field(default_factory=dict)
    """event_id -> why it must not exist."""
    either: dict[str, str] = field(default_factory=dict)
    """event_id -> why both outcomes are correct."""
    undecided: list[str] = field(default_factory=list)
    """Orders the bridge has not decided yet (or never saw): a loss if it stays so."""
    wrong_decisions: list[str] = field(default_factory=list)
    """Orders decided against what their kind implies."""
    history_orders: int = 0
    excluded_orders: int = 0
    racy_orders: int = 0


def _refund_amount(refund: dict[str, Any]) -> Decimal:
    return sum(
        (Decimal(t["amountSet"]["shopMoney"]["amount"]) for t in refund.get("transactions") or []
         if t.get("kind") == "REFUND" and t.get("status") == "SUCCESS"),
        Decimal(0),
    )


def expectations(
    orders: list[dict[str, Any]], ledger: dict[str, PlannedOrder], store: StoreView
) -> Expectations:
    found = Expectations()
    if store.first_connected_at is None:
        found.undecided.append("the bridge never completed a first poll (no first_connected_at)")
        return found
    connected = parse_time(store.first_connected_at)
    for doc in orders:
        plan = ledger.get(doc["id"])
        order_id = doc["legacyResourceId"]
        history = parse_time(doc["processedAt"]) < connected
        status = store.order_status.get(order_id)
        label = f"order {doc['name']} ({order_id}, {plan.kind if plan else 'unplanned'})"
        if history:
            found.history_orders += 1
            found.forbidden[order_id] = f"{label} is history (processed before first connection)"
        elif status not in DECIDED:
            found.undecided.append(f"{label}: stored status {status!r}")
        elif plan is not None and plan.racy:
            found.racy_orders += 1
            found.either[order_id] = f"{label}: {plan.racy}"
            _require_decision(found, order_id, status, label)
        elif plan is not None and plan.excluded_by_kind:
            found.excluded_orders += 1
            found.forbidden[order_id] = f"{label} is excluded by its kind"
            if status != "excluded":
                found.wrong_decisions.append(f"{label} was {status} though its kind excludes it")
        else:
            found.required[order_id] = f"{label}: a forwarded order"
            if status != "released":
                found.wrong_decisions.append(f"{label} was {status} though nothing excludes it")
        for refund in doc.get("refunds") or []:
            _expect_refund(found, doc, refund, plan, history, status, connected)
    return found


def _require_decision(found: Expectations, order_id: str, status: str | None, label: str) -> None:
    if status == "released":
        found.required[order_id] = f"{label}: released by the bridge"
    else:
        found.forbidden[order_id] = f"{label}: excluded by the bridge"


def _expect_refund(
    found: Expectations,
    doc: dict[str, Any],
    refund: dict[str, Any],
    plan: PlannedOrder | None,
    order_history: bool,
    order_status: str | None,
    connected: datetime,
) -> None:
    event_id = f"{doc['legacyResourceId']}-refund-{refund['legacyResourceId']}"
    label = f"refund {refund['legacyResourceId']} of {doc['name']}"
    stamp = refund.get("createdAt") or refund.get("processedAt")
    if stamp is not None and parse_time(stamp) < connected:
        found.forbidden[event_id] = f"{label} is history"
    elif _refund_amount(refund) == 0:
        found.forbidden[event_id] = f"{label} moved no money"
    elif order_history:
        if plan is not None and (plan.racy or plan.excluded_by_kind):
            # The order has no exclusion decision (history is never decided); the spec does not say
            # whether its kind still silences its refunds, so both outcomes are accepted here.
            found.either[event_id] = f"{label}: refund on a history order of kind {plan.kind}"
        else:
            found.required[event_id] = f"{label}: refund on a history order goes on its own"
    elif order_status == "released":
        found.required[event_id] = f"{label}: refund on a forwarded order"
    elif order_status == "excluded":
        found.forbidden[event_id] = f"{label}: its order is excluded"


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)
    placed_events: int = 0
    refund_events: int = 0
    copies: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    torn_jsonl_inside: int = 0
    torn_jsonl_tail: int = 0


def missing(exp: Expectations, store: StoreView, jsonl: JsonlScan, recorder: RecordingServer,
            destinations: tuple[str | None, str]) -> list[str]:
    """What still keeps the run from being complete (empty: complete). No JSONL destination: None."""
    jsonl_name, http_name = destinations
    accepted = recorder.accepted_counts()
    gaps = list(exp.undecided)
    gaps += [f"event {e} not created ({why})" for e, why in exp.required.items() if e not in store.events]
    gaps += [f"delivery of {e} to {d} is {s}" for e, d, s in store.undelivered()]
    for event_id in store.events:
        if jsonl_name is not None and jsonl.copies[event_id] == 0:
            gaps.append(f"event {event_id} not in the {jsonl_name} file")
        if accepted[event_id] == 0:
            gaps.append(f"event {event_id} not accepted by the {http_name} receiver")
    return gaps


def check(exp: Expectations, store: StoreView, jsonl: JsonlScan, recorder: RecordingServer,
          destinations: tuple[str | None, str], in_flight_at_kills: Counter[tuple[str, str]],
          kill_sizes: list[int]) -> Findings:
    found = Findings()
    bad = found.violations
    bad += [f"not complete: {gap}" for gap in missing(exp, store, jsonl, recorder, destinations)]
    bad += exp.wrong_decisions
    if store.event_id_rows != len(store.events):
        bad.append(f"events holds {store.event_id_rows} rows for {len(store.events)} distinct event_ids")
    for event_id, (name, _) in store.events.items():
        if event_id in exp.forbidden:
            bad.append(f"event {event_id} ({name}) exists but must not: {exp.forbidden[event_id]}")
        elif event_id not in exp.required and event_id not in exp.either:
            bad.append(f"event {event_id} ({name}) exists and nothing in the shop explains it")
        found.placed_events += name == "Placed Order"
        found.refund_events += name == "Received Refund"
    jsonl_name, http_name = destinations
    copies = {} if jsonl_name is None else {jsonl_name: jsonl.copies}
    copies[http_name] = recorder.accepted_counts()
    for dest, counts in copies.items():
        found.copies[dest] = sum(counts.values())
        found.duplicates[dest] = sum(n - 1 for n in counts.values() if n > 1)
        for event_id, n in counts.items():
            if event_id not in store.events:
                bad.append(f"{dest} received {event_id}, which the store does not hold")
            allowed = 1 + in_flight_at_kills[(event_id, dest)]
            if n > allowed:
                bad.append(f"{dest} received {event_id} {n} times; "
                           f"only {allowed - 1} kill(s) caught it in flight")
    _check_bodies(bad, store, jsonl, recorder)
    _check_torn(found, jsonl, kill_sizes)
    return found


def _check_bodies(bad: list[str], store: StoreView, jsonl: JsonlScan, recorder: RecordingServer) -> None:
    for event_id, lines in jsonl.lines.items():
        payload = store.events.get(event_id, ("", ""))[1]
        if any(line != payload for line in lines):
            bad.append(f"a jsonl line for {event_id} differs from the stored payload")
    for receipt in recorder.receipts:
        if receipt.event_id is None:
            continue
        if receipt.webhook_id != receipt.event_id:
            bad.append(f"request for {receipt.event_id} carried webhook-id {receipt.webhook_id!r}")
        if receipt.signature_ok is False:
            bad.append(f"request for {receipt.event_id} has a signature that does not verify")
        if receipt.body.decode() != store.events.get(receipt.event_id, ("", ""))[1]:
            bad.append(f"request body for {receipt.event_id} differs from the stored payload")


def _check_torn(found: Findings, jsonl: JsonlScan, kill_sizes: list[int]) -> None:
    for torn in jsonl.torn:
        # The kill that tore it: the first one after which the file reached past the line's start.
        kill = next((i + 1 for i, size in enumerate(kill_sizes) if size > torn.offset), None)
        where = f"bytes {torn.offset}..{torn.offset + torn.length} (after kill #{kill}): {torn.head!r}"
        if torn.last:
            found.torn_jsonl_tail += 1
            found.violations.append(f"jsonl file ends in a torn line at {where}")
        else:
            found.torn_jsonl_inside += 1
            found.violations.append(f"torn jsonl line inside the file at {where}")
