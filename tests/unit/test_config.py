"""Loading the TOML config: defaults, `${VAR}`, store forms, API versions, paths, secrets."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from shopify_bridge.config import (
    Config,
    Exclude,
    HttpDestination,
    JsonlDestination,
    MetaCapiDestination,
    Source,
    config_path,
    load_config,
)
from shopify_bridge.config.base import field_docs

TOKEN = "shpat_canary0token0value0123456789"
MINIMAL = """
[[sources]]
name = "Main"
store = "convergestore"
access_token = "${SHOPIFY_ACCESS_TOKEN}"
"""
ENV = {"SHOPIFY_ACCESS_TOKEN": TOKEN}


def write(directory: Path, text: str, name: str = "bridge.toml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    return load_config(write(tmp_path, text), {**ENV, **(env or {})})


def test_defaults_follow_the_contract(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)
    assert config.database == tmp_path / "shopify-bridge.db"
    assert config.synchronous == "full"
    assert config.channel_types == {}
    assert config.destinations == []
    source = config.sources[0]
    assert (source.name, source.shop_domain) == ("Main", "convergestore.myshopify.com")
    assert source.access_token.get_secret_value() == TOKEN
    assert source.start_date is None
    assert source.forward_history is False
    assert source.upsell_delay is False
    assert source.upsell_delay_seconds == 600
    assert source.poll_interval_seconds == 15
    assert source.api_version == "2026-07"
    assert source.currency == "shop"
    assert source.api_url is None
    assert source.destinations is None
    assert source.exclude == Exclude(channels=[], tags=[], test_orders=True, cancelled=True)
    assert config.file == tmp_path / "bridge.toml"


def test_every_key_of_the_contract_is_read(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
database = "state/bridge.db"
synchronous = "normal"
[channel_types]
"1234" = "marketplace"
[[sources]]
name = "Main"
store = "https://admin.shopify.com/store/convergestore"
access_token = "${SHOPIFY_ACCESS_TOKEN}"
start_date = 2026-01-01
forward_history = true
upsell_delay = true
upsell_delay_seconds = 120
poll_interval_seconds = 2.5
api_version = "2026-10"
currency = "presentment"
api_url = "http://127.0.0.1:8787/"
destinations = ["events-file"]
[sources.exclude]
channels = ["pos"]
tags = ["Exclude"]
test_orders = false
cancelled = false
[[destinations]]
name = "events-file"
type = "jsonl"
path = "events.jsonl"
[[destinations]]
name = "converge"
type = "http"
url = "https://example.invalid/webhook"
headers = { "X-Webhook-Token" = "hook-token-canary" }
signing_secret = "whsec_c2VjcmV0LWtleS1jYW5hcnk="
timeout_seconds = 3
max_attempts = 5
max_age_hours = 1.5
""",
    )
    assert config.database == tmp_path / "state" / "bridge.db"
    assert config.synchronous == "normal"
    assert config.channel_types == {"1234": "marketplace"}
    source = config.sources[0]
    assert source.start_date == date(2026, 1, 1)
    assert (source.forward_history, source.upsell_delay, source.upsell_delay_seconds) == (True, True, 120)
    assert source.poll_interval_seconds == 2.5
    assert (source.api_version, source.currency) == ("2026-10", "presentment")
    assert source.api_url == "http://127.0.0.1:8787"  # trailing slash dropped: paths are appended
    assert source.exclude == Exclude(channels=["pos"], tags=["Exclude"], test_orders=False, cancelled=False)
    jsonl, http = config.destinations
    assert isinstance(jsonl, JsonlDestination) and jsonl.path == tmp_path / "events.jsonl"
    assert isinstance(http, HttpDestination)
    assert http.url == "https://example.invalid/webhook"
    assert http.headers["X-Webhook-Token"].get_secret_value() == "hook-token-canary"
    assert http.signing_secret is not None
    assert (http.timeout_seconds, http.max_attempts, http.max_age_hours) == (3, 5, 1.5)
    assert config.destination_names(source) == ("events-file",)


def test_http_destination_defaults(tmp_path: Path) -> None:
    config = load(
        tmp_path, MINIMAL + '[[destinations]]\nname = "h"\ntype = "http"\nurl = "https://x.test/"\n'
    )
    http = config.destinations[0]
    assert isinstance(http, HttpDestination)
    assert (http.timeout_seconds, http.max_attempts, http.max_age_hours) == (10, 12, 72)
    assert http.headers == {} and http.signing_secret is None


def test_a_source_without_destinations_key_forwards_to_all(tmp_path: Path) -> None:
    text = MINIMAL + "".join(
        f'[[destinations]]\nname = "{n}"\ntype = "jsonl"\npath = "{n}.jsonl"\n' for n in "ab"
    )
    config = load(tmp_path, text)
    assert config.destination_names(config.sources[0]) == ("a", "b")


@pytest.mark.parametrize(
    "store",
    [
        "convergestore",
        "convergestore.myshopify.com",
        "https://convergestore.myshopify.com/admin",
        "https://convergestore.myshopify.com",
        "https://admin.shopify.com/store/convergestore",
        "https://admin.shopify.com/store/convergestore/orders/123",
        "admin.shopify.com/store/convergestore",
        "  ConvergeStore.MyShopify.com  ",
    ],
)
def test_every_store_form_names_the_same_shop(store: str) -> None:
    source = Source(name="Main", store=store, access_token=TOKEN)  # type: ignore[arg-type]
    assert source.shop_domain == "convergestore.myshopify.com"


@pytest.mark.parametrize("version", ["2026-07", "2026-10", "2027-01"])
def test_supported_api_versions(version: str) -> None:
    source = Source(name="M", store="s", access_token=TOKEN, api_version=version)  # type: ignore[arg-type]
    assert source.api_version == version


def test_env_expansion_everywhere(tmp_path: Path) -> None:
    env = {"HOST": "hooks.example.test", "DELAY": "90", "TAG": "NoEvent", "PRICE": "5"}
    config = load(
        tmp_path,
        MINIMAL.replace(
            'store = "convergestore"', 'store = "convergestore"\nupsell_delay_seconds = "${DELAY}"'
        )
        + '[sources.exclude]\ntags = ["${TAG}", "cost$$${PRICE}"]\n'
        + '[[destinations]]\nname = "h"\ntype = "http"\nurl = "https://${HOST}/in/${HOST}"\n',
        env,
    )
    assert config.sources[0].upsell_delay_seconds == 90
    assert config.sources[0].exclude.tags == ["NoEvent", "cost$5"]
    http = config.destinations[0]
    assert (
        isinstance(http, HttpDestination) and http.url == "https://hooks.example.test/in/hooks.example.test"
    )
    assert {TOKEN, "hooks.example.test", "90", "NoEvent", "5"} <= config.secret_values()


def test_dollar_dollar_is_a_literal_dollar(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL.replace('name = "Main"', 'name = "Shop $${NOT_A_VAR}"'))
    assert config.sources[0].name == "Shop ${NOT_A_VAR}"


def test_relative_paths_follow_the_config_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    confdir = tmp_path / "conf"
    confdir.mkdir()
    text = (
        'database = "data/b.db"\n'
        + MINIMAL
        + '[[destinations]]\nname = "f"\ntype = "jsonl"\npath = "out/e.jsonl"\n'
    )
    config = load_config(write(confdir, text), ENV)
    assert config.database == confdir / "data" / "b.db"
    destination = config.destinations[0]
    assert isinstance(destination, JsonlDestination) and destination.path == confdir / "out" / "e.jsonl"


def test_absolute_and_home_paths_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    absolute = tmp_path / "abs.db"
    config = load(tmp_path, f'database = "{absolute}"\n' + MINIMAL)
    assert config.database == absolute
    config = load(tmp_path, 'database = "~/b.db"\n' + MINIMAL)
    assert config.database == tmp_path / "home" / "b.db"


def test_config_path_precedence(tmp_path: Path) -> None:
    explicit, from_env = tmp_path / "explicit.toml", tmp_path / "env.toml"
    assert config_path(explicit, {"SHOPIFY_BRIDGE_CONFIG": str(from_env)}) == explicit
    assert config_path(None, {"SHOPIFY_BRIDGE_CONFIG": str(from_env)}) == from_env
    assert config_path(None, {}) == Path("shopify-bridge.toml")


def test_default_file_is_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, MINIMAL, "shopify-bridge.toml")
    monkeypatch.chdir(tmp_path)
    assert load_config(None, ENV).sources[0].name == "Main"
    other = tmp_path / "other"
    other.mkdir()
    write(other, MINIMAL.replace('"Main"', '"Other"'))
    assert (
        load_config(None, {**ENV, "SHOPIFY_BRIDGE_CONFIG": str(other / "bridge.toml")}).sources[0].name
        == "Other"
    )


def test_secret_values_lists_every_secret(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        MINIMAL
        + '[[destinations]]\nname = "h"\ntype = "http"\nurl = "https://x.test/"\n'
        + 'headers = { A = "header-one-canary", B = "${B_VALUE}" }\n'
        + 'signing_secret = "plain-signing-canary"\n',
        {"B_VALUE": "header-two-canary"},
    )
    assert config.secret_values() == {TOKEN, "header-one-canary", "header-two-canary", "plain-signing-canary"}


def test_repr_and_str_never_show_secrets(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        MINIMAL.replace('"Main"', '"Main ${SUFFIX}"')
        + '[[destinations]]\nname = "h"\ntype = "http"\nurl = "https://${HOST}/x"\n'
        + 'headers = { A = "header-one-canary" }\nsigning_secret = "plain-signing-canary"\n',
        {"HOST": "host-canary.test", "SUFFIX": "suffix-canary"},
    )
    canaries = [TOKEN, "header-one-canary", "plain-signing-canary", "host-canary.test", "suffix-canary"]
    for shown in (repr(config), str(config), repr(config.sources[0]), str(config.destinations[0])):
        assert "***" in shown or "**********" in shown
        for canary in canaries:
            assert canary not in shown


def test_the_config_is_immutable(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)
    with pytest.raises(ValidationError):
        config.sources[0].name = "Other"


def _models() -> list[type[BaseModel]]:
    return [Config, Source, Exclude, JsonlDestination, HttpDestination]


@pytest.mark.parametrize("model", _models(), ids=lambda model: model.__name__)
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    docs = field_docs(model)
    undocumented = [name for name in model.model_fields if not docs.get(name, "").strip()]
    assert undocumented == []


def test_field_docs_come_from_the_class_that_declares_the_field() -> None:
    meta = field_docs(MetaCapiDestination)
    assert list(meta) == list(MetaCapiDestination.model_fields)  # inherited fields too, in field order
    assert meta["name"] == field_docs(JsonlDestination)["name"]  # declared once, in DestinationBase
    assert meta["timeout_seconds"] == field_docs(HttpDestination)["timeout_seconds"]
    assert "Placed Order\" only" in meta["events"]  # declared again, documented again
    assert "default: both" in field_docs(JsonlDestination)["events"]


@pytest.mark.parametrize("model", _models(), ids=lambda model: model.__name__)
def test_field_docs_are_sentences_not_placeholders(model: type[BaseModel]) -> None:
    for name, doc in field_docs(model).items():
        assert len(doc) > 10, name
        assert not re.search(r"\bTODO\b", doc)
