"""What the core needs to know about one source while it ingests, releases and maps orders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from shopify_bridge.decide.exclusions import ExclusionRules
from shopify_bridge.decide.kept_out import KeepOut


@dataclass(frozen=True)
class SourceContext:
    shop: str  # canonical <shop>.myshopify.com
    name: str
    currency: Literal["shop", "presentment"] = "shop"
    channel_table: Mapping[str, str] = field(default_factory=dict)
    rules: ExclusionRules = field(default_factory=ExclusionRules)
    upsell_delay_seconds: int | None = None  # None: upsell delay off
    destinations: tuple[str, ...] = ()
    forward_history: bool = False
    refund_settle_days: int = 14  # how long a refund's money is waited for (then `refund_unsettled`)
    keep_out: KeepOut | None = None  # which destinations do not take an event (None: every one takes all)
