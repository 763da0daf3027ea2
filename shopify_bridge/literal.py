"""Text is data: strings from Shopify, destinations and the config are shown exactly, never interpreted.

A terminal acts on control characters: ESC starts a sequence that can recolour text, move the cursor,
clear the screen, retitle the window or forge a hyperlink; CR overwrites the line; BEL rings; the
Unicode bidi overrides reorder what is shown. `visible` turns each of them into an escape a person
can read (`\\x1b`, `\\r`, `\\u202e`). Like git quoting a path, only a string that needs it is
escaped, and then its backslashes are doubled as well, so the escaped form reads back unambiguously;
every other string is shown untouched (brackets included: callers never pass data through a markup
parser). `--json` keeps the exact string and lets JSON's own escapes carry it (`json_text`).
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls, DEL, C1 controls, the line/paragraph separators and the bidi embeddings, overrides,
# isolates and marks. Zero-width joiners stay: emoji sequences are made of them and they move nothing.
_UNSAFE = "\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069"
_UNSAFE_CHAR = re.compile(f"[{_UNSAFE}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What json.dumps(ensure_ascii=False) leaves raw inside strings and a terminal may still act on.
_JSON_RAW_UNSAFE = re.compile("[\x7f-\x9f\u2028-\u202e\u200e\u200f\u2066-\u2069]")


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep: str = "") -> str:
    """`text` safe to write to a terminal: control characters (except those in `keep`, e.g. "\\n" for a
    traceback) as escapes; a string without any is returned as it is."""
    unsafe = [m for m in _UNSAFE_CHAR.finditer(text) if m.group() not in keep]
    if not unsafe:
        return text
    escaped = text.replace("\\", "\\\\")
    return _UNSAFE_CHAR.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), escaped)


def json_text(value: Any, *, indent: int | None = 2) -> str:
    """`value` as a JSON document that carries every string exactly and is safe on a terminal.

    Non-ASCII text stays readable (`ensure_ascii=False`); json already escapes C0 controls, and the
    few other characters a terminal acts on are written as `\\uXXXX` escapes, which decode to the same
    string. They can only occur inside strings (JSON's own syntax is ASCII), so the substitution is safe.
    """
    text = json.dumps(value, indent=indent, ensure_ascii=False, default=str)
    return _JSON_RAW_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
