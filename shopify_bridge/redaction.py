"""The one way secrets are masked as `***`, wherever text leaves the process: logs, error lines, the
dashboard, config reprs and error messages, recorded cassettes.

A `Redactor` masks two things:

- **known secret values** (registered: the config's tokens and keys): a value of at least
  `MIN_SUBSTRING_SECRET` characters wherever it appears, longest first so that a secret holding
  another is masked whole; a shorter one only when it is the whole text (masking "on" everywhere
  would shred ordinary text);
- **secret shapes**, whoever wrote them and whether or not anybody registered them: Shopify tokens
  (`shpat_`, `shpca_`, `shppa_`, `shpss_`, `shpua_`), Standard Webhooks secrets (`whsec_`), bearer
  credentials, and the value after a secret-named header or field (`X-Shopify-Access-Token: …`,
  `"signing_secret": "…"`, `access_token=…`). A field name followed by plain prose (`access_token:
  must not be empty`, as config errors say) keeps its text: only a quoted or `=` value is a value.

Every mask is idempotent (`***` stays `***`), so filters that run twice (cassettes) stay stable.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

REDACTED = "***"
MIN_SUBSTRING_SECRET = 4
# Header and key names whose values are always secret, whatever their value (compared lower-case,
# with "_" and "-" treated alike).
SECRET_KEY_NAMES = frozenset({"x-shopify-access-token", "access-token", "signing-secret", "authorization"})

_SHAPES = (
    re.compile(r"\bshp(?:at|ca|pa|ss|ua)_\w+"),
    re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"),
)
# (name and separator kept) value masked.
_VALUES_AFTER = (
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)\b((?:x-shopify-access-token|x-webhook-token)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
    re.compile(
        r"(?i)\b((?:access[_-]?token|signing[_-]?secret|api[_-]?secret)['\"]?\s*(?:=\s*['\"]?|:\s*['\"]))"
        r"[^\s'\",}&]+"
    ),
)


def _mask_value(match: re.Match[str]) -> str:
    return match[1] + REDACTED


def mask_shapes(text: str) -> str:
    """`text` with every secret shape masked (no registered values needed)."""
    for shape in _SHAPES:
        text = shape.sub(REDACTED, text)
    for pattern in _VALUES_AFTER:
        text = pattern.sub(_mask_value, text)
    return text


def is_secret_key(key: object) -> bool:
    """A mapping key whose value is secret whatever it is (`X-Shopify-Access-Token`, `signing_secret`, …)."""
    return isinstance(key, str) and key.lower().replace("_", "-") in SECRET_KEY_NAMES


class Redactor:
    """Masks registered secret values and secret shapes; thread-safe to extend at any time."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secret values (empty strings are ignored)."""
        with self._lock:
            self._secrets = self._secrets | {value for value in secrets if value}
            # Longest first, so a secret that contains another one is masked as a whole.
            long_ones = sorted(
                (s for s in self._secrets if len(s.strip()) >= MIN_SUBSTRING_SECRET), key=len, reverse=True
            )
            self._pattern = re.compile("|".join(map(re.escape, long_ones))) if long_ones else None

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def text(self, text: str) -> str:
        """`text` with every secret masked."""
        if text in self._secrets:
            return REDACTED
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return mask_shapes(text)

    def value(self, value: Any) -> Any:
        """`value` with secrets masked in every string it holds (containers are copied, not mutated)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool | int | float) or value is None:
            return value
        if isinstance(value, Mapping):
            return {key: REDACTED if is_secret_key(key) else self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(item) for item in value]
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "replace"))
        # Anything else renders through str/repr: mask that text, keep the object when it holds nothing.
        shown = str(value)
        masked = self.text(shown)
        return value if masked == shown else masked


@lru_cache(maxsize=32)
def _redactor_of(secrets: frozenset[str]) -> Redactor:
    return Redactor(secrets)


def masked(text: str, secrets: frozenset[str]) -> str:
    """`text` with these secrets (and every secret shape) masked: for text made before any registration,
    such as the config's own errors and reprs."""
    return _redactor_of(secrets).text(text)
