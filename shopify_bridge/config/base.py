"""The base of every config table: closed to unknown keys, immutable, masking secrets in its repr;
and the path helpers shared by the tables that name files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationInfo

from shopify_bridge.redaction import masked


def scrub(value: Any, secrets: frozenset[str]) -> Any:
    """`value` for a repr, with every secret substring masked (models mask themselves)."""
    if isinstance(value, str | Path):
        text = masked(str(value), secrets)
        return value if text == str(value) else text
    if isinstance(value, list | tuple):
        return type(value)(scrub(item, secrets) for item in value)
    if isinstance(value, dict):
        return {scrub(key, secrets): scrub(item, secrets) for key, item in value.items()}
    return value


class Section(BaseModel):
    """A table of the config file: closed to unknown keys, immutable, masking secrets in its repr."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, hide_input_in_errors=True
    )

    _masked: frozenset[str] = PrivateAttr(default=frozenset())

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, scrub(value, self._masked) if self._masked else value

    def __eq__(self, other: object) -> bool:
        # The repr mask is presentation, not content: two tables with the same values are equal.
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = BaseModel.__hash__

    def mask_everywhere(self, secrets: frozenset[str]) -> None:
        """Mask `secrets` (values substituted from `${VAR}`) in the reprs of this table and its subtables."""
        self._masked = secrets
        for name in type(self).model_fields:
            value = getattr(self, name)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, Section):
                    item.mask_everywhere(secrets)


def path_given(value: Any) -> Any:
    # Checked before conversion: Path("") silently becomes Path(".").
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be empty")
    return value


def resolved_path(value: Path, info: ValidationInfo) -> Path:
    """A path relative to the config file's directory (passed as validation context by load_config)."""
    path = value.expanduser()
    base = (info.context or {}).get("base_dir")
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return path
