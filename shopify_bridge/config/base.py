"""The base of every config table: closed to unknown keys, immutable, masking secrets in its repr, its
fields documented by attribute docstrings (`field_docs`); and the path helpers shared by the tables that
name files."""

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
    """A table of the config file: closed to unknown keys, immutable, masking secrets in its repr.

    Built for the program's start-up (every command but `--help` loads the config): a table's validator is
    built when it is first used (`defer_build`), so the bases that never validate anything (this class,
    `DestinationBase`, `NetworkDestination`) cost nothing and `Config` builds its tables in one go; and the
    fields' docstrings are read only when asked for (`field_docs`), not by pydantic at class creation
    (`use_attribute_docstrings` parses every table's source again at every start, for text that only the
    docs generator and the tests read).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True, defer_build=True)

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


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """The documentation of each of `model`'s fields: its attribute docstring, from the class that declares
    it (a subclass that declares a field again documents it again).

    The same reading of the source as pydantic's `use_attribute_docstrings`, done on demand.
    """
    from pydantic._internal._docs_extraction import extract_docstrings_from_cls

    docs: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if issubclass(klass, BaseModel) and klass is not BaseModel:
            docs.update(extract_docstrings_from_cls(klass, use_inspect=True))
    return {name: docs[name] for name in model.model_fields if name in docs}


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
