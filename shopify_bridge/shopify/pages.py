"""Reading a connection to its last page: the nodes a first page left out, with follow-up queries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shopify_bridge.errors import BridgeError
from shopify_bridge.shopify.new_customer import Executes

Connection = Mapping[str, Any]


def page_info(connection: Connection | None) -> tuple[bool, str | None]:
    """Whether a connection page says there is more, and the cursor to ask for it with."""
    info = (connection or {}).get("pageInfo") or {}
    return bool(info.get("hasNextPage")), info.get("endCursor")


async def rest_of(
    client: Executes,
    first_page: Connection | None,
    document: str,
    variables: Mapping[str, Any],
    connection_in: Callable[[dict[str, Any]], Connection | None],
) -> list[dict[str, Any]]:
    """The nodes after `first_page`: `document` is asked with `variables` and `after`, page after page,
    until one says it is the last; `connection_in` finds the connection in an answer's `data` (None when
    the object is gone, which ends the reading)."""
    more, cursor = page_info(first_page)
    found: list[dict[str, Any]] = []
    while more:
        if cursor is None:  # a page that promises more without saying where it is would loop forever
            query = document.split("(", 1)[0].strip()
            raise BridgeError(f"Shopify answered {query} with a next page but no cursor to ask for it")
        page = connection_in(await client.execute(document, {**variables, "after": cursor}))
        found += list((page or {}).get("nodes") or [])
        more, cursor = page_info(page)
    return found
