"""The TOML configuration (PRODUCT.md, "Config file"): models, defaults and `load_config`.

Every field carries its documentation as an attribute docstring (read by `config.base.field_docs`),
so the docs, the example config and the validation messages speak about the same keys. Unknown keys
are errors at every level. Secrets are `SecretStr`; values that came from `${VAR}` are secret too and
are masked in every repr (see `config_base.Section`) and listed by `Config.secret_values()`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shopify_bridge.config.base import Section, path_given, resolved_path
from shopify_bridge.config.destinations import (
    Alerts,
    Destination,
    Ga4Destination,
    HttpDestination,
    JsonlDestination,
    MetaCapiDestination,
    SegmentDestination,
)
from shopify_bridge.config.env import KeyedProblem, expand_tree, key_path, literal_secrets
from shopify_bridge.config.problems import first_problem
from shopify_bridge.config.values import (
    POSTGRES_URL,
    canonical_shop_domain,
    checked_api_version,
    checked_http_url,
    checked_postgres_url,
    postgres_password,
)
from shopify_bridge.errors import ConfigError
from shopify_bridge.redaction import masked

DEFAULT_CONFIG_FILE = Path("shopify-bridge.toml")
CONFIG_ENV_VAR = "SHOPIFY_BRIDGE_CONFIG"


class Exclude(Section):
    """Which orders never produce events; each exclusion is recorded with the rule that matched."""

    channels: list[str] = Field(default_factory=list)
    """Channels to drop (e.g. "pos"): matched case-insensitively against `sourceName` and against
    `$sales_channel_type`."""

    tags: list[str] = Field(default_factory=list)
    """Order tags to drop (case-insensitive exact match), decided on the version the event is built from."""

    test_orders: bool = True
    """Drop orders Shopify marks `test: true`."""

    cancelled: bool = True
    """Drop orders that were cancelled before their Placed Order was released."""


class Source(Section):
    """One Shopify store (a `[[sources]]` table): its identity is the canonical myshopify domain."""

    name: str = Field(min_length=1)
    """Unique label shown everywhere; renaming it keeps the source's state (which follows the shop)."""

    store: str
    """The store: "name", "name.myshopify.com", "https://name.myshopify.com/admin" or
    "https://admin.shopify.com/store/name"."""

    access_token: SecretStr
    """Admin API access token of the custom app; never printed or logged (use "${VAR}")."""

    start_date: date | None = None
    """Backfill orders processed on or after this date (shop timezone); none: no backfill."""

    forward_history: bool = False
    """Forward backfilled (history) orders too; by default they are stored, not forwarded. Their
    `$is_new_customer` costs one more bulk operation (the earlier orders), never a request per customer."""

    upsell_delay: bool = False
    """Hold new orders until `processedAt + upsell_delay_seconds` so post-purchase upsells are included."""

    upsell_delay_seconds: int = Field(default=600, ge=0)
    """How long a new order is held when `upsell_delay` is on."""

    poll_interval_seconds: float = Field(default=15, gt=0)
    """Pause between two polls of the store's changed orders."""

    sweep_interval_minutes: float = Field(default=30, gt=0)
    """How often the sweep re-reads a wider window than the polls (Shopify's search index can show a change
    minutes late, and out of order); each order it recovers is logged with its lag and counted."""

    sweep_window_hours: float = Field(default=24, gt=0, le=24 * 60)
    """How far back the sweep reads (never before the source's first connection)."""

    api_version: str = "2026-07"
    """Admin API version, YYYY-MM; at least 2026-07 (Order.checkoutToken and cartToken)."""

    currency: Literal["shop", "presentment"] = "shop"
    """Which side of every MoneyBag fills the money fields: the shop's currency or the buyer's."""

    api_url: str | None = None
    """Replaces https://{store}.myshopify.com as the API base (the built-in simulator, proxies)."""

    destinations: list[str] | None = None
    """Names of the destinations this source forwards to; none: all destinations."""

    refund_settle_days: int = Field(default=14, ge=1)
    """How long a refund with a PENDING REFUND transaction is waited for (re-read with backoff from 1 minute
    doubling to 1 hour); still pending after that, it is recorded as `refund_unsettled` and read no more."""

    exclude: Exclude = Field(default_factory=Exclude)
    """Orders of this source that never produce events."""

    @field_validator("name")
    @classmethod
    def _name_is_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("store")
    @classmethod
    def _store_names_a_shop(cls, value: str) -> str:
        canonical_shop_domain(value)
        return value.strip()

    @field_validator("access_token")
    @classmethod
    def _token_present(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if not token:
            raise ValueError("is empty")
        return SecretStr(token)

    @field_validator("api_version")
    @classmethod
    def _supported_version(cls, value: str) -> str:
        return checked_api_version(value)

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        return None if value is None else checked_http_url(value).rstrip("/")

    @property
    def shop_domain(self) -> str:
        """The canonical `<name>.myshopify.com` of `store`: the source's identity."""
        return canonical_shop_domain(self.store)


class Config(Section):
    """The whole file: where state lives, the stores to read and the destinations to feed."""

    database: Path | str = Field(default=Path("shopify-bridge.db"), validate_default=True)
    """The SQLite file holding orders, events and delivery state, relative to the config file; or a
    PostgreSQL URL "postgresql://user@host/dbname" shared by several processes."""

    synchronous: Literal["full", "normal"] = "full"
    """SQLite durability: "full" survives power loss at every commit; "normal" (WAL) is faster but
    a power loss can undo the last commits (never corrupt), which the next poll re-reads."""

    channel_types: dict[str, str] = Field(default_factory=dict)
    """Extra `sourceName` -> `$sales_channel_type` entries, added to (or overriding) the built-in table."""

    sources: list[Source] = Field(default_factory=list)
    """The stores (`[[sources]]`); at least one."""

    destinations: list[Destination] = Field(default_factory=list)
    """Where events go (`[[destinations]]`)."""

    alerts: Alerts | None = None
    """Who is told when a source fails or recovers, events go dead or `reconcile` finds a mismatch."""

    _substituted: frozenset[str] = PrivateAttr(default=frozenset())
    _file: Path | None = PrivateAttr(default=None)

    @field_validator("database", mode="before")
    @classmethod
    def _database_given(cls, value: Any) -> Any:
        value = path_given(value)
        if isinstance(value, str) and POSTGRES_URL.match(value.strip()):
            return checked_postgres_url(value)
        return Path(value) if isinstance(value, str) else value

    @field_validator("database")
    @classmethod
    def _database_resolved(cls, value: Path | str, info: ValidationInfo) -> Path | str:
        return value if isinstance(value, str) else resolved_path(value, info)

    @field_validator("channel_types")
    @classmethod
    def _channel_types(cls, value: dict[str, str]) -> dict[str, str]:
        for source_name, channel in value.items():
            if not channel.strip():
                raise KeyedProblem(("channel_types", source_name), "must not be empty")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if not self.sources:
            raise KeyedProblem(("sources",), "no [[sources]] table; at least one source is required")
        _unique([s.name.casefold() for s in self.sources], "sources", "name", "source name")
        _unique([s.shop_domain for s in self.sources], "sources", "store", "shop (two sources on one store)")
        _unique([d.name for d in self.destinations], "destinations", "name", "destination name")
        files = [str(d.path) for d in self.destinations if isinstance(d, JsonlDestination)]
        _unique(files, "destinations", "path", "file (two destinations appending to it)")
        known = {d.name for d in self.destinations}
        for index, source in enumerate(self.sources):
            for position, name in enumerate(source.destinations or []):
                path = ("sources", index, "destinations", position)
                if name not in known:
                    names = ", ".join(sorted(known)) or "none are configured"
                    raise KeyedProblem(path, f"no destination named {name!r} (destinations: {names})")
                if name in (source.destinations or [])[:position]:
                    raise KeyedProblem(path, f"{name!r} is listed twice")
        return self

    @property
    def file(self) -> Path | None:
        """The file this config was loaded from (None when built in code)."""
        return self._file

    def secret_values(self) -> set[str]:
        """Every secret the config knows, for the log redactor: tokens, signing secrets, header values
        and every value substituted from `${VAR}`."""
        found = set(self._substituted)
        for source in self.sources:
            found.add(source.access_token.get_secret_value())
        for destination in self.destinations:
            if isinstance(destination, HttpDestination):
                found.update(value.get_secret_value() for value in destination.headers.values())
                if destination.signing_secret is not None:
                    found.add(destination.signing_secret.get_secret_value())
            elif isinstance(destination, Ga4Destination):
                found.add(destination.api_secret.get_secret_value())
            elif isinstance(destination, MetaCapiDestination):
                found.add(destination.access_token.get_secret_value())
            elif isinstance(destination, SegmentDestination):
                found.add(destination.write_key.get_secret_value())
        if self.alerts is not None and self.alerts.url:
            found.add(self.alerts.url)  # a chat webhook URL is a credential of its own
        if isinstance(self.database, str):
            found.update(postgres_password(self.database))
        return {value for value in found if value}

    def not_supported_yet(self) -> list[str]:
        """Keys of the contract this build cannot act on yet: `check` and `run` refuse them (exit 78)
        rather than accept a config whose promise they would silently break."""
        missing: list[str] = []
        return missing

    def local_path(self, suffix: str) -> Path:
        """A file (or folder) of this bridge's own beside its store: `<stem><suffix>` next to an SQLite file;
        with a PostgreSQL store, `shopify-bridge<suffix>` next to the config file (else in the working
        directory)."""
        if isinstance(self.database, Path):
            return self.database.parent / f"{self.database.stem}{suffix}"
        folder = self._file.parent if self._file is not None else Path.cwd()
        return folder / f"shopify-bridge{suffix}"

    def destination_names(self, source: Source) -> tuple[str, ...]:
        """The destinations `source` forwards to, in config order."""
        chosen = source.destinations
        return tuple(d.name for d in self.destinations if chosen is None or d.name in chosen)


def _unique(values: list[str], table: str, key: str, what: str) -> None:
    first_index: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in first_index:
            raise KeyedProblem((table, index, key), f"duplicate {what}: also {table}[{first_index[value]}]")
        first_index[value] = index


_TABLES: dict[tuple[Any, ...], type[Section]] = {
    (): Config,
    ("sources", 0): Source,
    ("sources", 0, "exclude"): Exclude,
    ("alerts",): Alerts,
    ("destinations", 0, "jsonl"): JsonlDestination,
    ("destinations", 0, "http"): HttpDestination,
    ("destinations", 0, "ga4"): Ga4Destination,
    ("destinations", 0, "meta_capi"): MetaCapiDestination,
    ("destinations", 0, "segment"): SegmentDestination,
}


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    pattern = tuple(0 if isinstance(part, int) else part for part in loc)
    model = _TABLES.get(pattern)
    return list(model.model_fields) if model else []


def config_path(path: Path | None, env: Mapping[str, str]) -> Path:
    """The config file to read: an explicit path, else $SHOPIFY_BRIDGE_CONFIG, else ./shopify-bridge.toml."""
    if path is not None:
        return path.expanduser()
    if env.get(CONFIG_ENV_VAR):
        return Path(env[CONFIG_ENV_VAR]).expanduser()
    return DEFAULT_CONFIG_FILE


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate the config file; any problem is a one-line ConfigError (exit 78)."""
    env = os.environ if env is None else env
    file = config_path(path, env)
    shown = str(file)
    try:
        raw = tomllib.loads(file.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{shown}: config file not found (write one with `shopify-bridge init`)", file=shown
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{shown}: is a directory, not a config file", file=shown) from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the config file: {exc.strerror}", file=shown) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: not UTF-8 text (byte {exc.start})", file=shown) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: invalid TOML: {exc}", file=shown) from None
    return config_from_toml(raw, env, file=file)


def config_from_toml(raw: dict[str, Any], env: Mapping[str, str], *, file: Path) -> Config:
    """Validate an already parsed TOML document as if it had been read from `file`."""
    shown = str(file)
    try:
        expansion = expand_tree(raw, env)
    except KeyedProblem as problem:
        raise ConfigError.at(shown, key_path(problem.path), problem.problem) from None
    secrets = frozenset(expansion.substituted | literal_secrets(expansion.data))
    try:
        config = Config.model_validate(expansion.data, context={"base_dir": file.resolve().parent})
    except ValidationError as exc:
        key, what = first_problem(exc, _known_keys)
        raise ConfigError.at(shown, key, masked(what, secrets)) from None
    config._substituted = frozenset(expansion.substituted)
    config._file = file
    config.mask_everywhere(frozenset(expansion.substituted))
    return config

