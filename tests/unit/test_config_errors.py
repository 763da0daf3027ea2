"""Every config problem is one line naming the file, the key path and the problem; exit 78 via the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import app
from shopify_bridge.config import load_config
from shopify_bridge.errors import ConfigError

TOKEN = "shpat_canary0token0value0123456789"
ENV = {"SHOPIFY_ACCESS_TOKEN": TOKEN}
SOURCE = '[[sources]]\nname = "Main"\nstore = "convergestore"\naccess_token = "${SHOPIFY_ACCESS_TOKEN}"\n'
SOURCE_B = '[[sources]]\nname = "Second"\nstore = "otherstore"\naccess_token = "t"\n'
JSONL = '[[destinations]]\nname = "f"\ntype = "jsonl"\npath = "e.jsonl"\n'
HTTP = '[[destinations]]\nname = "h"\ntype = "http"\nurl = "https://x.test/"\n'
GA4 = '[[destinations]]\nname = "g"\ntype = "ga4"\nmeasurement_id = "G-ABC123"\napi_secret = "s3cr3t-value"\n'
META = '[[destinations]]\nname = "m"\ntype = "meta_capi"\npixel_id = "1234567890"\naccess_token = "mt-value"\n'
SEGMENT = '[[destinations]]\nname = "s"\ntype = "segment"\nwrite_key = "wk-value"\n'

# (config text, key path, a fragment of the problem)
CASES = {
    "toml syntax": ("a = = 1\n", "", "invalid TOML: Invalid value (at line 1, column 5)"),
    "no sources": ('database = "x.db"\n', "sources", "at least one source is required"),
    "table not array": ('[sources]\nname = "x"\n', "sources", "write [[sources]], not [sources]"),
    "unknown top key": ('databse = "x"\n' + SOURCE, "databse", "unknown key (did you mean 'database'?)"),
    "unknown source key": (
        SOURCE + "upsell_dealy = true\n",
        "sources[0].upsell_dealy",
        "did you mean 'upsell_delay'",
    ),
    "unknown exclude key": (SOURCE + "[sources.exclude]\ntagz = []\n", "sources[0].exclude.tagz", "'tags'"),
    "unknown http key": (SOURCE + HTTP + "timeout = 3\n", "destinations[0].timeout", "'timeout_seconds'"),
    "unknown jsonl key": (SOURCE + JSONL + 'url = "https://x"\n', "destinations[0].url", "unknown key"),
    "missing var": (
        SOURCE.replace("SHOPIFY_ACCESS_TOKEN", "NOT_SET_VAR"),
        "sources[0].access_token",
        "environment variable NOT_SET_VAR is not set",
    ),
    "unterminated var": (
        SOURCE.replace('"convergestore"', '"${STORE"'),
        "sources[0].store",
        "unterminated ${",
    ),
    "bad var name": (
        SOURCE.replace('"convergestore"', '"${1X}"'),
        "sources[0].store",
        "not a variable reference",
    ),
    "missing token": (
        '[[sources]]\nname = "a"\nstore = "b"\n',
        "sources[0].access_token",
        "required key is missing",
    ),
    "empty token": (
        '[[sources]]\nname = "a"\nstore = "b"\naccess_token = " "\n',
        "sources[0].access_token",
        "is empty",
    ),
    "missing name": (
        '[[sources]]\nstore = "b"\naccess_token = "t"\n',
        "sources[0].name",
        "required key is missing",
    ),
    "custom domain": (
        SOURCE.replace('"convergestore"', '"shop.example.com"'),
        "sources[0].store",
        "looks like a custom domain",
    ),
    "foreign url": (
        SOURCE.replace('"convergestore"', '"https://example.com/admin"'),
        "sources[0].store",
        "not a Shopify admin URL",
    ),
    "admin url without store": (
        SOURCE.replace('"convergestore"', '"https://admin.shopify.com/orders"'),
        "sources[0].store",
        "does not name a store",
    ),
    "bad store name": (
        SOURCE.replace('"convergestore"', '"my_store!"'),
        "sources[0].store",
        "is not a store name",
    ),
    "old api version": (SOURCE + 'api_version = "2026-04"\n', "sources[0].api_version", "at least 2026-07"),
    "api version format": (SOURCE + 'api_version = "2026-7"\n', "sources[0].api_version", "YYYY-MM"),
    "api version month": (SOURCE + 'api_version = "2026-08"\n', "sources[0].api_version", "quarterly"),
    "unstable api version": (SOURCE + 'api_version = "unstable"\n', "sources[0].api_version", "YYYY-MM"),
    "currency": (SOURCE + 'currency = "usd"\n', "sources[0].currency", "must be 'shop' or 'presentment'"),
    "start date": (SOURCE + 'start_date = "2026-13-01"\n', "sources[0].start_date", "must be a date"),
    "start datetime": (
        SOURCE + "start_date = 2026-01-01T10:00:00\n",
        "sources[0].start_date",
        "without a time",
    ),
    "negative delay": (
        SOURCE + "upsell_delay_seconds = -1\n",
        "sources[0].upsell_delay_seconds",
        "greater than or equal to 0",
    ),
    "zero poll interval": (
        SOURCE + "poll_interval_seconds = 0\n",
        "sources[0].poll_interval_seconds",
        "greater than 0",
    ),
    "flag type": (SOURCE + 'upsell_delay = "maybe"\n', "sources[0].upsell_delay", "must be true or false"),
    "tags type": (SOURCE + '[sources.exclude]\ntags = "x"\n', "sources[0].exclude.tags", "must be an array"),
    "api url": (SOURCE + 'api_url = "ftp://x"\n', "sources[0].api_url", "http:// or https://"),
    "duplicate source": (
        SOURCE + SOURCE.replace("convergestore", "otherstore"),
        "sources[1].name",
        "duplicate source name: also sources[0]",
    ),
    "same shop twice": (
        SOURCE
        + SOURCE.replace('"Main"', '"Other"').replace(
            '"convergestore"', '"https://admin.shopify.com/store/convergestore"'
        ),
        "sources[1].store",
        "two sources on one store",
    ),
    "duplicate destination": (
        SOURCE + JSONL + JSONL.replace("e.jsonl", "f.jsonl"),
        "destinations[1].name",
        "duplicate destination name",
    ),
    "same jsonl file": (
        SOURCE + JSONL + JSONL.replace('"f"', '"g"'),
        "destinations[1].path",
        "duplicate file",
    ),
    "unknown destination": (
        SOURCE + 'destinations = ["nope"]\n' + JSONL,
        "sources[0].destinations[0]",
        "no destination named 'nope' (destinations: f)",
    ),
    "destination listed twice": (
        SOURCE + 'destinations = ["f", "f"]\n' + JSONL,
        "sources[0].destinations[1]",
        "listed twice",
    ),
    "missing type": (
        SOURCE + '[[destinations]]\nname = "x"\n',
        "destinations[0].type",
        "required key is missing",
    ),
    "unknown type": (
        SOURCE + '[[destinations]]\nname = "x"\ntype = "kafka"\n',
        "destinations[0].type",
        "unknown destination type 'kafka'",
    ),
    "bad url": (SOURCE + HTTP.replace("https://x.test/", "not a url"), "destinations[0].url", "not a URL"),
    "empty path": (SOURCE + JSONL.replace("e.jsonl", ""), "destinations[0].path", "must not be empty"),
    "max attempts": (
        SOURCE + HTTP + "max_attempts = 0\n",
        "destinations[0].max_attempts",
        "greater than or equal",
    ),
    "header name": (
        SOURCE + HTTP + 'headers = { "Bad Header" = "v" }\n',
        'destinations[0].headers."Bad Header"',
        "not a valid HTTP header name",
    ),
    "header newline": (
        SOURCE + HTTP + 'headers = { X-A = "v\\nX-B: 1" }\n',
        "destinations[0].headers.X-A",
        "line break",
    ),
    "signing secret": (
        SOURCE + HTTP + 'signing_secret = "whsec_!!!"\n',
        "destinations[0].signing_secret",
        "not valid base64",
    ),
    "synchronous": ('synchronous = "off"\n' + SOURCE, "synchronous", "must be 'full' or 'normal'"),
    "channel type": (SOURCE + '[channel_types]\npos = " "\n', "channel_types.pos", "must not be empty"),
    "channel table type": ('channel_types = ["pos"]\n' + SOURCE, "channel_types", "must be a table"),
    "settle days": (SOURCE + "refund_settle_days = 0\n", "sources[0].refund_settle_days", "greater than or equal"),
    "no events": (SOURCE + JSONL + "events = []\n", "destinations[0].events", "names no event"),
    "unknown event": (
        SOURCE + JSONL + 'events = ["Started Checkout"]\n',
        "destinations[0].events[0]",
        "'Placed Order' or 'Received Refund'",
    ),
    "event twice": (
        SOURCE + JSONL + 'events = ["Placed Order", "Placed Order"]\n',
        "destinations[0].events",
        "names an event twice",
    ),
    "blank channel": (SOURCE + HTTP + 'channels = [" "]\n', "destinations[0].channels", "empty entry"),
    "ga4 measurement id": (
        SOURCE + GA4.replace("G-ABC123", "UA-1"),
        "destinations[0].measurement_id",
        "not a GA4 measurement id",
    ),
    "ga4 no secret": (
        SOURCE + GA4.replace('api_secret = "s3cr3t-value"\n', ""),
        "destinations[0].api_secret",
        "required key is missing",
    ),
    "meta pixel": (SOURCE + META.replace("1234567890", "pixel"), "destinations[0].pixel_id", "not a pixel id"),
    "segment key": (SOURCE + SEGMENT.replace("wk-value", " "), "destinations[0].write_key", "is empty"),
    "segment endpoint": (
        SOURCE + SEGMENT + 'endpoint = "ftp://x"\n',
        "destinations[0].endpoint",
        "http:// or https://",
    ),
    "alerts nobody": (SOURCE + "[alerts]\ncommand = []\n", "alerts", "tells no one"),
    "alerts key": (SOURCE + '[alerts]\nurl = "https://x.test/"\nchannel = "#ops"\n', "alerts.channel", "unknown"),
    "postgres no db": ('database = "postgresql://bridge@db.test"\n' + SOURCE, "database", "names no database"),
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "key", "problem"), CASES.values(), ids=CASES.keys())
def test_problem_is_one_line_with_file_key_and_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV)
    error = caught.value
    assert error.exit_code == exit_codes.CONFIG
    assert "\n" not in str(error)
    where = f"{path}: {key}: " if key else f"{path}: "
    assert str(error).startswith(where), str(error)
    assert problem in str(error)
    assert (error.file, error.key or "") == (str(path), key)
    assert TOKEN not in str(error)


@pytest.mark.parametrize(("text", "key", "problem"), CASES.values(), ids=CASES.keys())
def test_the_cli_reports_it_on_one_line_and_exits_78(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    result = CliRunner().invoke(app, ["--config", str(path), "check"], env=ENV)
    assert result.exit_code == exit_codes.CONFIG, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: ")
    assert key in lines[0] and problem in lines[0]
    assert "Traceback" not in result.output


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found \(write one with"):
        load_config(tmp_path / "nope.toml", {})


def test_env_var_names_the_file_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "x = \n")
    result = CliRunner().invoke(app, ["check"], env={"SHOPIFY_BRIDGE_CONFIG": str(path)})
    assert result.exit_code == exit_codes.CONFIG
    assert result.stderr.startswith(f"error: {path}: invalid TOML") and "line 1" in result.stderr


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, {})


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_bytes(b'database = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, {})


def test_more_problems_are_counted_on_the_same_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nnme = "x"\nstore = "s"\naccess_token = "t"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    # The misspelt key is reported first: it explains the missing one.
    assert (
        str(caught.value)
        == f"{path}: sources[0].nme: unknown key (did you mean 'name'?) (and 1 more problem)"
    )


@pytest.mark.parametrize(
    "text",
    [
        SOURCE + 'currency = "${CANARY}"\n',
        SOURCE + 'api_version = "${CANARY}"\n',
        SOURCE.replace('"convergestore"', '"${CANARY}"'),
        SOURCE + HTTP + 'url = "${CANARY}"\n'.replace("url", "timeout_seconds"),
        SOURCE + HTTP + 'signing_secret = "whsec_${CANARY}"\n',
        SOURCE + HTTP + 'headers = { "X-${CANARY}" = "v" }\n',
    ],
)
def test_errors_never_show_a_secret_value(tmp_path: Path, text: str) -> None:
    canary = "canary.secret!value"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {**ENV, "CANARY": canary})
    assert canary not in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_secret_literal_is_not_echoed_in_a_type_error(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + HTTP + 'signing_secret = "whsec_plain-literal-canary"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV)
    assert "plain-literal-canary" not in str(caught.value)
    assert "destinations[0].signing_secret" in str(caught.value)


FILTERS = 'events = ["Placed Order"]\nchannels = ["web"]\nexclude_tags = ["wholesale"]\n'


def test_every_destination_type_and_its_filters_are_built(tmp_path: Path) -> None:
    """Once refused as not built: ga4, meta_capi, segment and the per-destination filters now run."""
    from shopify_bridge.deliver.destinations.http import HttpDestination
    from shopify_bridge.deliver.destinations.jsonl import JsonlDestination
    from shopify_bridge.deliver.destinations.mapped import MappedDestination
    from shopify_bridge.service.wiring import build_destinations

    config = load_config(write(tmp_path, SOURCE + JSONL + FILTERS + HTTP + GA4 + META + SEGMENT + FILTERS), ENV)
    assert config.not_supported_yet() == []
    destinations, policies = build_destinations(config)
    assert [(type(d), d.name) for d in destinations] == [
        (JsonlDestination, "f"), (HttpDestination, "h"), (MappedDestination, "g"), (MappedDestination, "m"),
        (MappedDestination, "s"),
    ]
    assert sorted(policies) == ["g", "h", "m", "s"]  # every network type retries and goes dead alike
    assert policies["s"].max_attempts == 12 and policies["g"].max_age is not None
    assert "s3cr3t-value" not in repr(destinations) and "wk-value" not in repr(destinations)


def test_alerts_are_built(tmp_path: Path) -> None:
    """Once refused as not built: `[alerts]` with a url and a command."""
    from shopify_bridge.observe.alerts import CommandSink, WebhookSink, sinks_of

    text = SOURCE + JSONL + '[alerts]\nurl = "https://hooks.x.test/T0/B0/s3cr3t-value"\ncommand = ["page-me", "-q"]\n'
    config = load_config(write(tmp_path, text), ENV)
    assert config.not_supported_yet() == [] and config.alerts is not None
    sinks = sinks_of(config.alerts)
    assert [type(sink) for sink in sinks] == [WebhookSink, CommandSink]
    assert "s3cr3t-value" not in repr(sinks)
    assert "https://hooks.x.test/T0/B0/s3cr3t-value" in config.secret_values()  # the url is a secret


def test_a_postgresql_store_is_accepted_and_an_unreachable_server_is_one_line_without_the_password(
    tmp_path: Path,
) -> None:
    """`run` acts on a PostgreSQL URL (issue #17): a server it cannot reach is a temporary failure (75)."""
    path = write(tmp_path, 'database = "postgresql://bridge:pw-canary@127.0.0.1:1/bridge"\n' + SOURCE + JSONL)
    assert load_config(path, ENV).not_supported_yet() == []
    result = CliRunner().invoke(app, ["--config", str(path), "run", "--once"], env=ENV)
    assert result.exit_code == exit_codes.TEMPFAIL, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot connect to PostgreSQL at 127.0.0.1:1/bridge: " in lines[0], lines[0]  # host:port/dbname only
    assert "pw-canary" not in result.output
