"""Every default of the client, defined once. No behaviour, no I/O.

The constructor, :class:`~qvickly_async.ClientOptions`, the transports, the retry engine and
the batch helpers all read their defaults from here, so a default changes in one place.
"""

from __future__ import annotations

from typing import Final

import httpx

__all__ = [
    "API_VERSION",
    "BASE_URL",
    "BATCH_CONCURRENCY",
    "CLIENT_NAME",
    "DEADLINE",
    "FALLBACK_CONCURRENCY",
    "INITIAL_BACKOFF",
    "LANGUAGE",
    "LIMITS",
    "MAX_BACKOFF",
    "MAX_RESPONSE_BYTES",
    "MAX_RETRIES",
    "RETRY_AFTER_CAP",
    "RETRY_BUDGET_MINIMUM",
    "RETRY_BUDGET_RATIO",
    "TIMEOUT",
]

#: Production base URL of the Payment API.
BASE_URL: Final = "https://api.qvickly.io/"
#: Payment API version sent in every request's credentials.
API_VERSION: Final = "2.5.0"
#: Name sent as ``credentials.client`` (followed by ``:`` and the package version).
CLIENT_NAME: Final = "qvickly-async"
#: Language of server messages.
LANGUAGE: Final = "sv"
#: Connect within 10 s; every other phase (write, each read, waiting for a pooled
#: connection) within 30 s. A total deadline bounds the whole call on top of these.
TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
#: Connection pool size of a client that creates its own pool.
LIMITS: Final = httpx.Limits(max_connections=64, max_keepalive_connections=64)
#: Seconds one call may take in total, across all attempts and backoff sleeps.
DEADLINE: Final = 60.0
#: Retries after the first attempt (only where retrying is safe).
MAX_RETRIES: Final = 2
#: Largest response body accepted (a customer with hundreds of nested invoices is ~1 MB).
MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024
#: First backoff ceiling in seconds; it doubles per attempt up to :data:`MAX_BACKOFF`.
INITIAL_BACKOFF: Final = 0.5
#: Largest backoff ceiling in seconds.
MAX_BACKOFF: Final = 8.0
#: The longest ``Retry-After`` the client honours, in seconds.
RETRY_AFTER_CAP: Final = 60.0
#: Lookups in flight in a batch when the caller does not say (at most the pool size).
BATCH_CONCURRENCY: Final = 64
#: Lookups in flight by default when the client falls back to httpx's own pool (a proxy
#: in the environment, respx, instrumentation): its CPU per request grows with the pool.
FALLBACK_CONCURRENCY: Final = 16
#: A batch's retry budget: ``RETRY_BUDGET_MINIMUM + RETRY_BUDGET_RATIO * calls`` retries.
RETRY_BUDGET_RATIO: Final = 0.2
RETRY_BUDGET_MINIMUM: Final = 10
