"""Request counters per function, key and outcome. Thread-safe."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

__all__ = ["Counters"]


def _outcome_matches(wanted: str, outcome: str) -> bool:
    if wanted in ("error", "fault"):
        return outcome.startswith(wanted + ":")
    return outcome == wanted


class Counters:
    """How many requests the sandbox answered, by function, key and outcome.

    Outcomes: ``"ok"`` (a signed answer), ``"error:<code>"`` (an API error, e.g.
    ``"error:9013"``) and ``"fault:<kind>"`` (an injected fault, e.g. ``"fault:http_503"``).
    Keys are the customer number, payment number or personal number the request named
    (``None`` when it named none). Function names are matched case-insensitively; documented
    functions are recorded under their documented spelling.

    >>> sandbox.counters.calls("getInvoicesByCustomer", key="10001")  # doctest: +SKIP
    1
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str | None, str]] = Counter()

    def __repr__(self) -> str:
        return f"<Counters total={self.total()}>"

    def record(self, function: str, key: str | None, outcome: str) -> None:
        """Count one request."""
        with self._lock:
            self._counts[function, key, outcome] += 1

    def calls(
        self, function: str | None = None, *, key: str | None = None, outcome: str | None = None
    ) -> int:
        """Count the requests matching every filter given.

        ``outcome`` may be exact (``"ok"``, ``"error:7020"``, ``"fault:reset"``) or a class:
        ``"error"`` or ``"fault"``.
        """
        wanted_function = function.lower() if function is not None else None
        with self._lock:
            items = list(self._counts.items())
        return sum(
            count
            for (name, name_key, name_outcome), count in items
            if (wanted_function is None or name.lower() == wanted_function)
            and (key is None or name_key == key)
            and (outcome is None or _outcome_matches(outcome, name_outcome))
        )

    def total(self) -> int:
        """All requests counted since the last reset."""
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> dict[str, Any]:
        """Return a JSON-ready summary (what ``GET /__sandbox__/counters`` returns)."""
        with self._lock:
            items = sorted(
                self._counts.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2])
            )
        by_function: Counter[str] = Counter()
        by_outcome: Counter[str] = Counter()
        for (function, _, outcome), count in items:
            by_function[function] += count
            by_outcome[outcome] += count
        return {
            "total": sum(count for _, count in items),
            "by_function": dict(sorted(by_function.items())),
            "by_outcome": dict(sorted(by_outcome.items())),
            "calls": [
                {"function": function, "key": key, "outcome": outcome, "count": count}
                for (function, key, outcome), count in items
            ],
        }
