"""A refund that waits for its money, as the order detail shows it: what for, since when, the next read."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.tui.conftest import settle
from tests.tui.store_builder import SHOP
from tests.tui.test_app import SIZE, cells
from tui.app import DashboardApp
from tui.messages import OrderDetailRequested
from tui.order_detail import OrderDetailScreen


def add_refunds(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO refunds (shop, refund_id, order_id, gid, timestamp, status, waits_for, waiting_since, "
            "read_attempts, next_read_at) VALUES (?, '91', '5801', 'gid://shopify/Refund/91', "
            "'2026-05-01T11:30:00Z', 'waiting', 'pending', '2026-05-01T11:30:05+00:00', 3, "
            "'2026-05-01T12:04:00+00:00')",
            (SHOP,),
        )
        conn.execute(
            "INSERT INTO refunds (shop, refund_id, order_id, gid, timestamp, status) VALUES "
            "(?, '92', '5801', 'gid://shopify/Refund/92', '2026-05-01T11:31:00Z', 'zero_amount_refund')",
            (SHOP,),
        )


async def test_the_order_detail_shows_a_waiting_refunds_settling_state(
    make_app: Callable[..., DashboardApp], demo_store: tuple[Path, dict[str, int]]
) -> None:
    add_refunds(demo_store[0])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(OrderDetailRequested(SHOP, "5801"))
        await settle(app, pilot)
        assert isinstance(app.screen, OrderDetailScreen)
        states = dict(zip(cells(app, "#order-events", 1), cells(app, "#order-events", 3), strict=True))
        assert states["91"] == (
            "waiting — waits for a pending REFUND transaction to settle · since 2026-05-01T11:30:05+00:00 · "
            "read 3× · next read in 4 min"
        )
        assert states["92"] == "zero_amount_refund"
