"""What the config becomes for the service: each source's context for the rules, its poll settings, and
one sender per `[[destinations]]` entry with its retry policy. Pure construction, no I/O; the bridge, the
`resync` command and the tests build from here.
"""

from __future__ import annotations

from datetime import timedelta

from shopify_bridge.config import Config, Source
from shopify_bridge.config.destinations import HttpDestination as HttpSpec
from shopify_bridge.config.destinations import JsonlDestination as JsonlSpec
from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE
from shopify_bridge.decide.exclusions import ExclusionRules
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.decide.windows import PollSettings
from shopify_bridge.deliver.destinations.base import Destination
from shopify_bridge.deliver.destinations.jsonl import JsonlDestination
from shopify_bridge.deliver.loop import RetryPolicy
from shopify_bridge.deliver.routing import Router
from shopify_bridge.timeutil import Clock, system_clock


def source_context(config: Config, source: Source, router: Router | None = None) -> SourceContext:
    table = {**DEFAULT_CHANNEL_TABLE, **(config.channel_types or {})}
    everywhere = tuple(d.name for d in config.destinations)
    names = tuple(source.destinations) if source.destinations is not None else everywhere
    return SourceContext(
        shop=source.shop_domain,
        name=source.name,
        currency=source.currency,
        channel_table=table,
        rules=ExclusionRules(
            channels=tuple(source.exclude.channels),
            tags=tuple(source.exclude.tags),
            test_orders=source.exclude.test_orders,
            cancelled=source.exclude.cancelled,
        ),
        upsell_delay_seconds=source.upsell_delay_seconds if source.upsell_delay else None,
        destinations=names,
        forward_history=source.forward_history,
        refund_settle_days=source.refund_settle_days,
        keep_out=router if router is not None else Router(config.destinations),
    )


def poll_settings(source: Source) -> PollSettings:
    return PollSettings(
        poll_interval=timedelta(seconds=source.poll_interval_seconds),
        sweep_interval=timedelta(minutes=source.sweep_interval_minutes),
        sweep_window=timedelta(hours=source.sweep_window_hours),
    )


def build_destinations(
    config: Config, clock: Clock = system_clock
) -> tuple[list[Destination], dict[str, RetryPolicy]]:
    """One sender per `[[destinations]]` entry, and the retry policy of each network one (every type
    reached over HTTP retries, goes dead and replays alike)."""
    from shopify_bridge.deliver.destinations.http import HttpDestination
    from shopify_bridge.deliver.destinations.mapped import MappedDestination

    destinations: list[Destination] = []
    policies: dict[str, RetryPolicy] = {}
    for spec in config.destinations:
        if isinstance(spec, JsonlSpec):
            destinations.append(JsonlDestination(spec.name, spec.path))
            continue
        if isinstance(spec, HttpSpec):
            destinations.append(HttpDestination.from_config(spec))
        else:
            destinations.append(MappedDestination(spec, clock=clock))
        policies[spec.name] = RetryPolicy(max_attempts=spec.max_attempts, max_age=timedelta(hours=spec.max_age_hours))
    return destinations, policies
