"""Text from the server made safe for a terminal: control characters shown, never obeyed.

A customer name or an error message is the server's text (and, in the end, whoever typed
it). Printed raw, an escape sequence in it could recolour, retitle or rewrite the user's
terminal; a carriage return or a bidirectional override could make a line read as
something else. Everything the command prints for people goes through :func:`printable`;
the data files (``json``, ``jsonl``, ``csv`` to a file) keep the text as sent.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["json_safe", "printable"]

# C0 controls (tab and newline included: they would break a table row or a message line),
# DEL, C1 controls (U+009B is a one-character CSI on some terminals), the Unicode line and
# paragraph separators, and the bidirectional marks, embeddings, overrides and isolates.
_BIDI: Final = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE: Final = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
# What json.dumps leaves unescaped of the above (it escapes C0 controls itself).
_UNSAFE_IN_JSON: Final = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""Return ``text`` with every control or bidi-control character written as an escape.

    ``"A\x1b[2J"`` becomes ``"A\\x1b[2J"``: visible, and inert on any terminal. Letters of
    every script (``"Åsa Öberg"``) and emoji are kept as they are.
    """
    return _UNSAFE.sub(_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_safe(document: str) -> str:
    r"""Escape, in a JSON text from :func:`json.dumps`, what it leaves raw but a terminal obeys.

    Lossless: the characters can only occur inside JSON strings, where ``\uXXXX`` decodes
    back to the same character.
    """
    return _UNSAFE_IN_JSON.sub(_json_escape, document)
