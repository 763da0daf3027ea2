"""The `/_sim` JSON control API: the state changes of `SimulatorState`, over HTTP.

Protected by the same `X-Shopify-Access-Token` as the GraphQL endpoint. Orders are addressed by
numeric id or name (`1001` or `%231001`). Answers are JSON; a refused change is HTTP 422 with
`{"error": …}`, an unknown order or refund 404.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from shopify_bridge.simulator.changes import ChangeRefused
from shopify_bridge.simulator.clock import wire_time
from shopify_bridge.simulator.faults import INVALID_TOKEN
from shopify_bridge.simulator.refunds import RefundRefused
from shopify_bridge.simulator.shop import ManualClockRequired, SimulatorState


def _required(body: dict[str, Any], key: str) -> Any:
    if body.get(key) is None:
        raise ValueError(f"the body needs {key!r}")
    return body[key]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _reply(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def add_routes(app: web.Application, state: SimulatorState) -> None:
    def guarded(action: Callable[[web.Request, dict[str, Any]], Any], status: int = 200) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            given = request.headers.get("X-Shopify-Access-Token", "")
            if not hmac.compare_digest(given.encode(), state.token.encode()):
                return _reply({"errors": INVALID_TOKEN}, 401)
            try:
                body = await request.json() if request.can_read_body else {}
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
            except ValueError as exc:
                return _reply({"error": f"invalid JSON body: {exc}"}, 400)
            try:
                return _reply(action(request, body), status)
            except KeyError as exc:
                return _reply({"error": f"not found: {exc.args[0] if exc.args else exc}"}, 404)
            except ManualClockRequired as exc:
                return _reply({"error": str(exc)}, 409)
            except (ChangeRefused, RefundRefused, ValueError) as exc:
                return _reply({"error": str(exc)}, 422)

        return handler

    def ref(request: web.Request) -> str:
        return request.match_info["ref"]

    def summary(request: web.Request, body: dict[str, Any]) -> Any:
        return {
            "now": wire_time(state.now()),
            "orders": len(state.store),
            "searchLagSeconds": state.search_lag_seconds,
            "searchLagMaxSeconds": state.options.search_lag_max_seconds,
            "competingAppShare": state.options.competing_app_share,
            "refundSplit": state.options.refund_split,
            "scopes": state.scopes,
            "apiVersions": list(state.api_versions),
            "throttleStatus": state.bucket.status(),
            "faults": state.faults.pending(),
            "shop": state.shop["myshopifyDomain"],
        }

    def refund(request: web.Request, body: dict[str, Any]) -> Any:
        if body.get("full"):
            return state.refund_all(ref(request), status=body.get("status", "SUCCESS"), note=body.get("note"))
        return state.refund(
            ref(request),
            body.get("lines") or [],
            shipping=body.get("shipping", False),
            status=body.get("status", "SUCCESS"),
            note=body.get("note"),
            amount=body.get("amount"),
            transactions=body.get("transactions"),
            created_at_null=bool(body.get("createdAtNull", False)),
        )

    def delete(request: web.Request, body: dict[str, Any]) -> Any:
        state.delete(ref(request))
        return {"deleted": ref(request)}

    def advance(request: web.Request, body: dict[str, Any]) -> Any:
        return {"now": wire_time(state.advance(float(body.get("seconds", 0))))}

    def inject(request: web.Request, body: dict[str, Any]) -> Any:
        params = {k: v for k, v in body.items() if k not in ("kind", "count")}
        return state.inject(str(body.get("kind")), int(body.get("count", 1)), **params).describe()

    def clear_faults(request: web.Request, body: dict[str, Any]) -> Any:
        state.faults.clear()
        return {"faults": []}

    def drain(request: web.Request, body: dict[str, Any]) -> Any:
        state.bucket.drain(body.get("points"))
        return state.bucket.status()

    router = app.router
    router.add_get("/_sim/state", guarded(summary))
    router.add_get("/_sim/orders", guarded(lambda r, b: state.orders()))
    router.add_post("/_sim/orders", guarded(lambda r, b: state.create_order(**b), 201))
    router.add_get("/_sim/orders/{ref}", guarded(lambda r, b: state.order(ref(r))))
    router.add_delete("/_sim/orders/{ref}", guarded(delete))
    router.add_post(
        "/_sim/orders/{ref}/line_items",
        guarded(lambda r, b: state.add_line_item(ref(r), b.get("line"), paid=b.get("paid", True))),
    )
    router.add_post(
        "/_sim/orders/{ref}/tags", guarded(lambda r, b: state.add_tag(ref(r), str(_required(b, "tag"))))
    )
    router.add_post(
        "/_sim/orders/{ref}/cancel", guarded(lambda r, b: state.cancel(ref(r), b.get("reason", "CUSTOMER")))
    )
    router.add_post("/_sim/orders/{ref}/refunds", guarded(refund, 201))
    router.add_post(
        "/_sim/refunds/{ref}/settle",
        guarded(lambda r, b: state.settle_refund(ref(r), b.get("status", "SUCCESS"))),
    )
    router.add_post("/_sim/clock/advance", guarded(advance))
    router.add_get("/_sim/faults", guarded(lambda r, b: state.faults.pending()))
    router.add_post("/_sim/faults", guarded(inject, 201))
    router.add_delete("/_sim/faults", guarded(clear_faults))
    router.add_post("/_sim/bucket/drain", guarded(drain))
    router.add_get("/_sim/bulk", guarded(lambda r, b: state.bulk.operations()))
