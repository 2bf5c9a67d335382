"""Content decoding bounded while it runs: a compression bomb never inflates past the limit.

httpx decodes ``Content-Encoding`` one network chunk at a time with no output bound, so 1.8 KB
of stacked gzip can become gigabytes in a single call before any size check sees it. Here every
layer decompresses with ``max_length`` set to what is left of ``max_response_bytes``, so no
layer's output ever exceeds the limit by more than one byte. No I/O.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Final

__all__ = ["ACCEPT_ENCODING", "BodyDecoder", "ContentDecodingError", "ResponseTooLargeError"]

#: What the SDK asks servers for: exactly the codings decoded (and bounded) here.
ACCEPT_ENCODING: Final = "gzip, deflate"
_IDENTITY: Final = frozenset({"", "identity"})
# Compressions never asked for, which cannot be passed through; other unknown tokens are
# ignored, as httpx does.
_NOT_ASKED_FOR: Final = frozenset({"br", "zstd", "compress", "x-compress"})


class ResponseTooLargeError(Exception):
    """A layer's output went past the limit."""


class ContentDecodingError(Exception):
    """The body is not valid for its ``Content-Encoding`` (or uses a coding not asked for)."""


class _ZlibLayer:
    """One gzip or deflate layer (deflate: zlib-wrapped, or raw as some servers send it)."""

    __slots__ = ("_decompressor", "_fed", "_first", "_kind", "_produced")

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16 if kind == "gzip" else 15)
        self._first = kind == "deflate"
        self._produced = 0
        self._fed = False  # an empty body stays empty, as with httpx

    def feed(self, data: bytes, limit: int) -> bytes:
        self._fed = True
        try:
            out = self._decompress(data, limit)
        except zlib.error as error:
            if not self._first:
                raise ContentDecodingError(f"{self._kind}: {error}") from None
            # Like httpx: a deflate body that is not zlib-wrapped is tried as raw deflate.
            self._decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            self._first = False
            return self.feed(data, limit)
        self._first = False
        return out

    def _decompress(self, data: bytes, limit: int) -> bytes:
        room = limit - self._produced
        out = self._decompressor.decompress(data, room + 1)
        self._produced += len(out)
        if self._produced > limit:
            raise ResponseTooLargeError
        return out

    def finish(self) -> None:
        # Every feed consumed all its input (or raised): only completeness is left to check.
        if self._fed and not self._decompressor.eof:
            raise ContentDecodingError(f"{self._kind}: the compressed stream is incomplete")


class BodyDecoder:
    """Decodes a body chunk by chunk through every ``Content-Encoding`` layer, bounded.

    Args:
        encodings: The ``Content-Encoding`` header values (in the order they were applied).
        limit: Largest output of any layer, in bytes (``max_response_bytes``).
    """

    __slots__ = ("_layers", "_limit", "_size")

    def __init__(self, encodings: Sequence[str], limit: int) -> None:
        codings = [coding.strip().lower() for value in encodings for coding in value.split(",")]
        layers = []
        for coding in reversed([coding for coding in codings if coding not in _IDENTITY]):
            if coding in ("gzip", "x-gzip"):
                layers.append(_ZlibLayer("gzip"))
            elif coding == "deflate":
                layers.append(_ZlibLayer("deflate"))
            elif coding in _NOT_ASKED_FOR:
                raise ContentDecodingError(
                    f"unsupported Content-Encoding {coding[:40]!r} (asked for {ACCEPT_ENCODING})"
                )
        self._layers = layers
        self._limit = limit
        self._size = 0

    def feed(self, chunk: bytes) -> bytes:
        """Decode ``chunk``; raise :class:`ResponseTooLargeError` past the limit."""
        for layer in self._layers:
            if not chunk:
                return b""
            chunk = layer.feed(chunk, self._limit)
        self._size += len(chunk)
        if self._size > self._limit:
            raise ResponseTooLargeError
        return chunk

    def finish(self) -> None:
        """Check at the end of the body that every compressed stream was complete."""
        for layer in self._layers:
            layer.finish()
