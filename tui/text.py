"""Text from outside shown as it is: every string from Shopify, a destination or the config.

Order names, tags, source names, error reasons and response bodies may hold `[/bold]`, `[link=…]` or
`[redacted]` (Rich markup: a crash, a link, or a word that vanishes) and control characters (`\\x1b[31m`
would recolour the terminal, `\\r` would overwrite the line, `\\x07` rings the bell). `literal` builds a
Rich `Text` from the characters themselves, never parsing markup, with every control character
written out as its escape, so the operator sees what was sent and the screen stays intact.
"""

from __future__ import annotations

import unicodedata

from rich.style import Style
from rich.text import Text

# Bidirectional overrides and isolates reorder what follows them on screen: shown escaped, like controls.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
ESCAPE_STYLE = "reverse"  # an escape must not pass for text that was sent as typed


def _escape(char: str) -> str | None:
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) == "Cc" or char in _BIDI:
        code = ord(char)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return None


def literal(value: object, style: str | Style = "", *, wrap: bool = False) -> Text:
    """`value` as Text: no markup parsed, control characters escaped; one line cut with `…` when narrow,
    or (`wrap`) folded over as many lines as it takes."""
    text = Text(style=style, no_wrap=not wrap, overflow="fold" if wrap else "ellipsis", end="")
    plain = "" if value is None else str(value)
    start = 0
    for index, char in enumerate(plain):
        escaped = _escape(char) if (char < " " or char >= "\x7f") else None
        if escaped is not None:
            text.append(plain[start:index])
            text.append(escaped, style=ESCAPE_STYLE)
            start = index + 1
    text.append(plain[start:])
    return text


def joined(*parts: Text | str, separator: str = " ") -> Text:
    """Pieces of already safe Text (or constant strings of ours) as one line."""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    for index, part in enumerate(parts):
        if index:
            out.append(separator)
        out.append(part)
    return out
