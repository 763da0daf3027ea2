"""Parsing of single config values that need more than a type: store names, API versions, URLs.

Pure functions raising `ValueError` with a message that names the accepted forms; the config models
call them from validators so pydantic attaches the key path.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

MYSHOPIFY_SUFFIX = ".myshopify.com"
ADMIN_HOST = "admin.shopify.com"
# Shopify store handles are lower-case letters, digits and hyphens (the myshopify subdomain).
_SHOP_HANDLE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
STORE_FORMS = (
    '"name", "name.myshopify.com", "https://name.myshopify.com/admin" '
    'or "https://admin.shopify.com/store/name"'
)

MINIMUM_API_VERSION = (2026, 7)
"""Order.checkoutToken and Order.cartToken (two of the aliases) exist from 2026-07 on."""
_API_VERSION = re.compile(r"^(\d{4})-(\d{2})$")
_RELEASE_MONTHS = {1, 4, 7, 10}


def canonical_shop_domain(store: str) -> str:
    """`name.myshopify.com` for any of the accepted ways of naming a store (see STORE_FORMS)."""
    text = store.strip().lower()
    if not text:
        raise ValueError(f"is empty; name the store as {STORE_FORMS}")
    if "/" in text and "://" not in text:
        text = "https://" + text  # "admin.shopify.com/store/name" pasted without its scheme
    if "://" in text:
        handle = _handle_from_url(text)
    elif text.endswith(MYSHOPIFY_SUFFIX):
        handle = text[: -len(MYSHOPIFY_SUFFIX)]
    elif "." in text:
        raise ValueError(
            f"{store.strip()!r} looks like a custom domain; use the store's myshopify name: {STORE_FORMS}"
        )
    else:
        handle = text
    if not _SHOP_HANDLE.match(handle):
        raise ValueError(f"{store.strip()!r} is not a store name; use {STORE_FORMS}")
    return handle + MYSHOPIFY_SUFFIX


def _handle_from_url(text: str) -> str:
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{text!r} is not an http(s) URL; use {STORE_FORMS}")
    if host == ADMIN_HOST:
        segments = [segment for segment in parts.path.split("/") if segment]
        if len(segments) >= 2 and segments[0] == "store":
            return segments[1]
        raise ValueError(f"{text!r} does not name a store; expected https://admin.shopify.com/store/<name>")
    if host.endswith(MYSHOPIFY_SUFFIX):
        return host[: -len(MYSHOPIFY_SUFFIX)]
    raise ValueError(f"{text!r} is not a Shopify admin URL; use {STORE_FORMS}")


def checked_api_version(value: str) -> str:
    """A stable quarterly Admin API version `YYYY-MM` that is at least MINIMUM_API_VERSION."""
    text = value.strip()
    match = _API_VERSION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an API version; write it as YYYY-MM, e.g. \"2026-07\"")
    year, month = int(match[1]), int(match[2])
    if month not in _RELEASE_MONTHS:
        raise ValueError(f"{text!r} is not a Shopify release; versions are quarterly (YYYY-01/04/07/10)")
    if (year, month) < MINIMUM_API_VERSION:
        oldest = "{:04d}-{:02d}".format(*MINIMUM_API_VERSION)
        raise ValueError(
            f"{text} is too old; at least {oldest} is required (Order.checkoutToken and cartToken)"
        )
    return text


def checked_http_url(value: str) -> str:
    """An absolute http(s) URL with a host, without surrounding whitespace."""
    text = value.strip()
    if any(char.isspace() for char in text):
        raise ValueError("is not a URL: it contains whitespace")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018 - urlsplit only checks the port when asked
    except ValueError:
        raise ValueError("is not a URL: its port is not a number from 0 to 65535") from None
    return text


# RFC 9110 token characters: what a header field name may contain.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def checked_header_name(name: str) -> str:
    if not _HEADER_NAME.match(name):
        raise ValueError(f"{name!r} is not a valid HTTP header name")
    return name


def checked_header_value(value: str) -> str:
    # A line break in a header value would let the config smuggle extra headers into every request.
    if "\r" in value or "\n" in value:
        raise ValueError("a header value must not contain a line break")
    return value


POSTGRES_URL = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def checked_postgres_url(value: str) -> str:
    """A `postgresql://[user[:password]@]host[:port]/dbname` URL (libpq's form), stripped."""
    text = value.strip()
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - urlsplit only checks the port when asked
    except ValueError:
        raise ValueError("is not a PostgreSQL URL: its port is not a number from 0 to 65535") from None
    if not parts.path.strip("/"):
        raise ValueError('names no database; write it as "postgresql://user@host/dbname"')
    return text


def postgres_password(url: str) -> set[str]:
    """The password of a PostgreSQL URL, raw and decoded, for the redactor (empty when none)."""
    password = urlsplit(url).password
    return {password, unquote(password)} if password else set()
