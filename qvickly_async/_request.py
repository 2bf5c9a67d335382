"""The request stage: encode and sign one call into the bytes each attempt sends. No I/O.

A request body is PHP-compatible JSON with the keys in the order the API documents::

    {"credentials":{"id":..,"version":..,"client":..,"language":..,"test":..,
                    "hash":<HMAC of data>,"time":<per attempt>},
     "data":<data>,"function":<function>}

Everything in ``credentials`` but ``hash`` and ``time`` is fixed per client, so
:class:`RequestTemplate` encodes it once from the options. :meth:`RequestTemplate.sign`
encodes ``data`` with the PHP-exact encoder of :mod:`qvickly_async._signing`, signs those very
bytes, and returns a :class:`SignedRequest` whose :meth:`~SignedRequest.body` stamps each
attempt with its own time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from ._defaults import API_VERSION
from ._signing import Secret, encode_request_data, php_json_encode

__all__ = ["RequestTemplate", "SignedRequest"]


class SignedRequest:
    """One call's request, encoded and signed; only the attempt time is still open."""

    __slots__ = ("_head", "_tail", "function")

    def __init__(self, function: str, head: bytes, tail: bytes) -> None:
        self.function = function
        self._head = head
        self._tail = tail

    def body(self, now: float) -> bytes:
        """Return the bytes of an attempt sent at ``now`` (seconds since the epoch)."""
        return self._head + repr(now).encode("ascii") + self._tail


class RequestTemplate:
    """The fixed part of every request of one client, encoded once.

    Args:
        merchant_id, language, test_mode: As in the client's options.
        client: The ``credentials.client`` value (``name:version``).
        clock: Seconds since the epoch, for the ``dummyData`` of calls without data.
    """

    __slots__ = ("_clock", "_prefix")

    def __init__(
        self,
        *,
        merchant_id: str,
        language: str,
        test_mode: bool,
        client: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        fixed = php_json_encode(
            {
                "id": merchant_id,
                "version": API_VERSION,
                "client": client,
                "language": language,
                "test": "true" if test_mode else "false",
            }
        )
        # The credentials object without its closing brace: hash and time follow.
        self._prefix = b'{"credentials":' + fixed[:-1].encode("ascii") + b',"hash":"'
        self._clock = clock

    def sign(self, function: str, data: Mapping[str, Any], secret: Secret) -> SignedRequest:
        """Encode ``data`` for ``function`` and sign it with ``secret``.

        Raises:
            QvicklyInputError: ``data`` cannot be encoded exactly as PHP would (see
                :func:`~qvickly_async._signing.encode_request_data`).
        """
        payload = encode_request_data(data, dummy=self._dummy)
        # The key itself is never revealed here (Secret.sign): no frame of a traceback
        # rendered with its locals can show it.
        head = self._prefix + secret.sign(payload).encode("ascii") + b'","time":'
        tail = (
            b'},"data":' + payload + b',"function":' + php_json_encode(function).encode("ascii")
        ) + b"}"
        return SignedRequest(function, head, tail)

    def _dummy(self) -> str:
        return str(int(self._clock()))
