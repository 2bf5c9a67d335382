"""What the engine decided to send, before any I/O: status, headers, body and how to deliver it."""

from __future__ import annotations

import json
from typing import Any, Final

import attrs

__all__ = ["API_HEADERS", "Reply", "html_reply", "json_reply"]

_JSON: Final = (("Content-Type", "application/json"),)
_HTML: Final = (("Content-Type", "text/html; charset=utf-8"),)


@attrs.frozen
class Reply:
    """One answer. ``Content-Length`` is added by the delivering layer.

    Attributes:
        delay: seconds to wait before answering (latency fault).
        reset: send nothing; drop the connection (TCP RST on a real socket).
        declared_length: the ``Content-Length`` to announce when it differs from ``len(body)``;
            larger means the connection closes mid-body.
        drip: ``(bytes, interval)``: deliver the body in chunks with pauses.
        fault: the injected fault kind, if any (for logs).
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    delay: float = 0.0
    reset: bool = False
    declared_length: int | None = None
    drip: tuple[int, float] | None = None
    fault: str | None = None

    @property
    def content_length(self) -> int:
        """Return the ``Content-Length`` to announce."""
        return len(self.body) if self.declared_length is None else self.declared_length

    @property
    def closes_mid_body(self) -> bool:
        """Tell whether the announced length exceeds the body actually sent."""
        return self.content_length > len(self.body)


def json_reply(value: Any, status: int = 200) -> Reply:
    """Build a plain (unsigned) JSON answer, for the admin endpoints."""
    return Reply(status, _JSON, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def html_reply(status: int, title: str, extra: tuple[tuple[str, str], ...] = ()) -> Reply:
    """Build a small HTML page like a web server or proxy sends."""
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Reply(status, _HTML + extra, body.encode("ascii"))


API_HEADERS: Final = _JSON
