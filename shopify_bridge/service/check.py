"""`shopify-bridge check`: can each source reach its shop, with a working token and the scopes it needs?

The verdict per source is computed by `evaluate` (pure) from what Shopify answered, so each
rule is tested without a network; `check_source` only does the one read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shopify_bridge import exit_codes
from shopify_bridge.errors import BridgeError
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.scopes import ALL_ORDERS_SCOPE, REQUIRED_SCOPES, granted_scopes, missing_scopes


@dataclass
class CheckLine:
    label: str
    ok: bool
    detail: str = ""


@dataclass
class CheckReport:
    source: str
    shop: str
    lines: list[CheckLine] = field(default_factory=list)
    exit_code: int = exit_codes.OK
    shop_name: str | None = None
    currency: str | None = None
    timezone: str | None = None
    bucket: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == exit_codes.OK


def evaluate(
    source: str,
    shop: str,
    data: dict[str, Any],
    *,
    start_date: date | None,
    today: date,
    bucket: tuple[float, float] | None = None,
) -> CheckReport:
    report = CheckReport(source=source, shop=shop)
    info = data.get("shop") or {}
    report.shop_name = info.get("name")
    report.currency = info.get("currencyCode")
    report.timezone = info.get("ianaTimezone")
    if bucket:
        report.bucket = f"{bucket[0]:.0f} points, restores {bucket[1]:.0f}/s"
    report.lines.append(CheckLine("shop answers", True, f"{report.shop_name} ({info.get('myshopifyDomain', shop)})"))
    report.lines.append(CheckLine("token accepted", True))
    missing = missing_scopes(granted_scopes(data), start_date, today)
    for scope in REQUIRED_SCOPES:
        report.lines.append(CheckLine(f"scope {scope}", scope not in missing))
    if start_date is not None and ALL_ORDERS_SCOPE in missing:
        report.lines.append(
            CheckLine(f"scope {ALL_ORDERS_SCOPE}", False, f"start_date {start_date} is more than 60 days back")
        )
    if missing:
        report.exit_code = exit_codes.NOPERM
        report.lines.append(CheckLine("verdict", False, f"missing scope: {', '.join(missing)}"))
    return report


def failed(source: str, shop: str, error: BridgeError) -> CheckReport:
    report = CheckReport(source=source, shop=shop, exit_code=error.exit_code)
    report.lines.append(CheckLine("shop answers", False, str(error)))
    return report


async def check_source(client: Any, source: str, shop: str, *, start_date: date | None, today: date) -> CheckReport:
    try:
        data = await client.execute(queries.SHOP_INFO)
    except BridgeError as exc:
        return failed(source, shop, exc)
    bucket = (client.bucket.maximum, client.bucket.restore_rate) if hasattr(client, "bucket") else None
    return evaluate(source, shop, data, start_date=start_date, today=today, bucket=bucket)
