"""VCR cassettes of the bridge's Shopify traffic: the matcher, the filters, and the operator recorder.

`check --record-cassette PATH` and `run --once --record-cassette PATH` wrap their work in
`record_cassette(PATH)`; the test suite replays the cassettes in `cassettes/` with the same
configuration (`vcr_config`). Decisions, so a cassette is safe to share and replays anywhere:

- **Matching** is on method, scheme, port, path and the GraphQL body: the query text with
  ignored characters stripped (whitespace, commas, comments) and the parsed `variables`. Host and
  query string are not matched.
- **Port independence.** Loopback origins (`127.0.0.1`, `localhost`, `::1`, any port) are the
  simulator; they are rewritten to `SIMULATOR_ORIGIN` before recording *and* before matching, so a
  cassette recorded against a simulator on a random port replays against any loopback `api_url`.
- **Secrets.** Request headers are reduced to an allow-list; `X-Shopify-Access-Token`,
  `Authorization` and cookies never reach the file. Response headers are allow-listed too. Strings in
  bodies lose anything shaped like a secret (a token echoed in an error, say) through the redaction
  that logs use (`shopify_bridge.redaction.mask_shapes`); registered secret values are not applied here,
  since the process-wide set differs between recording and replaying and would break request matching.
- **Signed URLs** (bulk result downloads: `GoogleAccessId`/`Expires`/`Signature`, or `X-Goog-*`)
  lose their query string, in recorded requests and in URLs inside response bodies.
- **Only Shopify traffic** (the GraphQL endpoint and GET downloads) is recorded; deliveries to
  destinations go out as usual and stay out of the file.
- **Customer PII** (emails, phones, names, street addresses, zips, cart attribute values) becomes
  stable placeholders such as `customer-<hash>@example.invalid`: the hash is an HMAC of the value under
  a per-recording key, so one customer keeps one placeholder within a cassette, but values cannot be guessed back.
  Emails inside request variables (the new-customer lookup) are replaced the same way, so replay
  requests built from scrubbed answers match. Every filter is idempotent: vcrpy runs them again
  on load and on every match.

The replacements themselves (customer data, secret shapes, signed URLs) are `cassette_scrub`'s.

vcrpy is a test extra: it is imported only when a cassette is used; without it `record_cassette`
raises a one-line `BridgeError` with exit code 78 (an environment to fix, nothing attempted).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shopify_bridge import exit_codes
from shopify_bridge.errors import BridgeError
from shopify_bridge.private_files import open_private_text
from shopify_bridge.shopify.cassette_scrub import Scrubber, is_signed, pretty_json

RECORD_ENV = "SHOPIFY_BRIDGE_RECORD"
SIMULATOR_ORIGIN = "http://127.0.0.1:8787"
TOKEN_HEADER = "X-Shopify-Access-Token"
MATCH_ON = ("method", "scheme", "port", "path", "graphql_body")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
REQUEST_HEADERS = frozenset({"content-type", "accept", "user-agent"})
RESPONSE_HEADERS = frozenset(
    {"content-type", "retry-after", "location", "x-shopify-api-version", "x-shopify-shop-api-call-limit"}
)
_RECORD_MODES = {"1": "once", "true": "once", "once": "once", "new_episodes": "new_episodes", "all": "all"}

_GRAPHQL_PATH = re.compile(r"/admin/api/[^/]+/graphql\.json$")


class CassetteUnavailable(BridgeError):
    """vcrpy is not installed: recording a cassette needs the test extra."""

    exit_code = exit_codes.CONFIG


def record_mode_from_env(env: Mapping[str, str] = os.environ) -> str:
    """`SHOPIFY_BRIDGE_RECORD=1` (`once`, `new_episodes`, `all`) records; unset, `0` and CI only replay."""
    if env.get("CI", "").strip().lower() not in ("", "0", "false"):
        return "none"
    return _RECORD_MODES.get(env.get(RECORD_ENV, "").strip().lower(), "none")


# -- matching -------------------------------------------------------------------------------------
def _body_text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes | bytearray):
        try:
            return bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return None
    return body if isinstance(body, str) else None


def graphql_payload(body: Any) -> dict[str, Any] | None:
    """A request body (the dict aiohttp was given, or JSON bytes/text) as a GraphQL payload, else None."""
    if isinstance(body, dict):
        payload: Any = body
    else:
        text = _body_text(body)
        if not text:
            return None
        try:
            payload = json.loads(text)
        except ValueError:
            return None
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return None
    return payload


def normalized_query(query: str) -> str:
    """The query text without GraphQL's ignored characters (whitespace, commas, comments)."""
    from graphql import GraphQLError
    from graphql.utilities import strip_ignored_characters

    try:
        return strip_ignored_characters(query)
    except GraphQLError:  # not parseable: still compare whitespace-insensitively
        return " ".join(query.split())


def graphql_key(body: Any) -> tuple[str, Any] | None:
    """(normalized query, variables) of a GraphQL request body; None for any other body."""
    payload = graphql_payload(body)
    if payload is None:
        return None
    return normalized_query(payload["query"]), payload.get("variables") or {}


def graphql_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: same GraphQL query and variables (other bodies: byte-equal). Raises on mismatch."""
    k1, k2 = graphql_key(r1.body), graphql_key(r2.body)
    if k1 is None and k2 is None:
        if (r1.body or b"") != (r2.body or b""):
            raise AssertionError("the (non-GraphQL) request bodies differ")
        return
    if k1 != k2:
        raise AssertionError(f"GraphQL bodies differ: {str(k1)[:160]} != {str(k2)[:160]}")


# -- URLs -----------------------------------------------------------------------------------------
def canonical_url(url: str) -> str:
    """Loopback origins → `SIMULATOR_ORIGIN`; a signed URL loses its query string."""
    parts = urlsplit(url)
    if is_signed(url):
        parts = parts._replace(query="")
    if (parts.hostname or "") in LOOPBACK_HOSTS:
        origin = urlsplit(SIMULATOR_ORIGIN)
        parts = parts._replace(scheme=origin.scheme, netloc=origin.netloc)
    return urlunsplit(parts)


# -- the vcrpy hooks ------------------------------------------------------------------------------
def is_shopify_traffic(method: str, url: str) -> bool:
    """The Admin GraphQL endpoint, or a GET (bulk result downloads: the only GETs the bridge makes).

    Everything else — deliveries to destinations above all, whose bodies are events full of customer
    data and whose headers carry webhook secrets — is neither recorded nor replayed.
    """
    return method.upper() == "GET" or bool(_GRAPHQL_PATH.search(urlsplit(url).path))


def request_filter(scrubber: Scrubber) -> Any:
    """`before_record_request`: Shopify traffic only; canonical URL, allow-listed headers, canonical body."""

    def before_record_request(request: Any) -> Any:
        if not is_shopify_traffic(request.method, request.uri):
            return None
        request.uri = canonical_url(request.uri)
        for name in list(request.headers):
            if name.lower() not in REQUEST_HEADERS:
                del request.headers[name]
        payload = graphql_payload(request.body)
        if payload is not None:
            variables = scrubber.json(payload.get("variables") or {})
            request.body = pretty_json({"query": normalized_query(payload["query"]), "variables": variables})
        return request

    return before_record_request


def response_filter(scrubber: Scrubber) -> Any:
    """`before_record_response`: allow-listed headers, customer data and signed URLs scrubbed."""

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers") or {}
        response["headers"] = {k: v for k, v in headers.items() if k.lower() in RESPONSE_HEADERS}
        body = response.get("body") or {}
        raw = body.get("string")
        if isinstance(raw, str):
            raw = raw.encode()
        if isinstance(raw, bytes) and raw:
            body["string"] = scrubber.body(raw)
        return response

    return before_record_response


class LiteralYaml:
    """vcrpy serializer: YAML with multi-line strings (the JSON bodies) as literal blocks; safe loading."""

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        import yaml

        def text(dumper: Any, value: str) -> Any:
            style = "|" if "\n" in value else None
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

        dumper: Any = type("LiteralDumper", (yaml.SafeDumper,), {})  # a subclass: SafeDumper stays as it is
        dumper.add_representer(str, text)
        options = {"sort_keys": False, "allow_unicode": True, "width": 1 << 16}
        return str(yaml.dump(cassette_dict, Dumper=dumper, **options))

    @staticmethod
    def deserialize(cassette_string: str) -> Any:
        import yaml

        return yaml.safe_load(cassette_string)


class PrivatePersister:
    """vcrpy's file persister, except that a cassette it creates is 0600: scrubbed or not, it is a shop's traffic."""

    @classmethod
    def load_cassette(cls, cassette_path: str | Path, serializer: Any) -> Any:
        from vcr.persisters.filesystem import FilesystemPersister

        return FilesystemPersister.load_cassette(cassette_path, serializer)

    @staticmethod
    def save_cassette(cassette_path: str | Path, cassette_dict: dict[str, Any], serializer: Any) -> None:
        from vcr.serialize import serialize

        path = Path(cassette_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_private_text(path, "w") as handle:
            handle.write(serialize(cassette_dict, serializer))


def vcr_config(record_mode: str = "none", *, scrub_key: bytes | None = None) -> Any:
    """A `vcr.VCR` with the bridge's matcher and filters (imports vcrpy; see `require_vcr`)."""
    vcr = require_vcr()
    # vcrpy logs every exchange at INFO *before* our filters run (tokens, customer data): keep it quiet.
    logging.getLogger("vcr").setLevel(logging.WARNING)
    scrubber = Scrubber(scrub_key)
    config = vcr.VCR(
        record_mode=record_mode,
        match_on=MATCH_ON,
        filter_headers=[TOKEN_HEADER, "Authorization", "Cookie"],
        before_record_request=request_filter(scrubber),
        before_record_response=response_filter(scrubber),
        decode_compressed_response=False,
        serializer="bridge-yaml",
    )
    config.register_serializer("bridge-yaml", LiteralYaml)
    config.register_matcher("graphql_body", graphql_body_matcher)
    config.register_persister(PrivatePersister)
    return config


def require_vcr() -> Any:
    try:
        import vcr
    except ImportError:
        raise CassetteUnavailable(
            "--record-cassette needs vcrpy, which is not installed: pip install 'shopify-bridge[test]'"
        ) from None
    return vcr


@contextmanager
def record_cassette(path: Path | str, *, scrub_key: bytes | None = None) -> Iterator[Any]:
    """Record every HTTP exchange inside the block into a new cassette at `path` (never overwritten)."""
    target = Path(path).expanduser()
    config = vcr_config("all", scrub_key=scrub_key)
    if target.exists():
        raise BridgeError(
            f"cassette {target} already exists; remove it or choose another path", exit_code=exit_codes.USAGE
        )
    if not target.parent.is_dir():
        raise BridgeError(
            f"cannot record a cassette in {target.parent}: no such directory", exit_code=exit_codes.USAGE
        )
    with config.use_cassette(str(target)) as cassette:
        yield cassette


__all__ = [
    "MATCH_ON",
    "RECORD_ENV",
    "SIMULATOR_ORIGIN",
    "CassetteUnavailable",
    "LiteralYaml",
    "PrivatePersister",
    "Scrubber",
    "canonical_url",
    "graphql_body_matcher",
    "graphql_key",
    "graphql_payload",
    "is_shopify_traffic",
    "is_signed",
    "record_cassette",
    "record_mode_from_env",
    "request_filter",
    "response_filter",
    "vcr_config",
]
