"""Fault injection: what may go wrong, how often, and the per-attempt decision.

A :class:`FaultPlan` holds one optional :class:`Fault` per kind plus added latency. Every
request is an *attempt* at ``(function, key)`` (key = customer number, payment number or
personal number). For attempt ``n`` the decision uses its own random generator seeded with
``(plan.seed, function, key, n)``, so outcomes do not depend on how concurrent requests
interleave, and a retry (attempt ``n + 1``) gets a fresh draw and can succeed.

Decision order: the first fault (in :data:`FAULT_KINDS` order) whose ``first_attempts`` rule
covers attempt ``n``; otherwise one uniform draw picks at most one fault, each with its
``probability`` (the probabilities of the faults that apply must add up to at most 1).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Literal

import attrs

__all__ = ["FAULT_KINDS", "Decision", "Fault", "FaultInjector", "FaultPlan"]

#: Every fault kind, in decision order.
FAULT_KINDS: Final = (
    "reset",
    "http_502",
    "http_503",
    "rate_limit",
    "api_9008",
    "truncated",
    "bad_hash",
    "slow_drip",
)


def _to_functions(value: str | Iterable[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    return frozenset(name.lower() for name in names)


def _check_probability(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _check_non_negative(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, got {value!r}")


@attrs.frozen(kw_only=True)
class Fault:
    """When one kind of fault strikes.

    Args:
        probability: chance per attempt, 0..1.
        first_attempts: the first N attempts per ``(function, key)`` always fail this way
            (deterministic retry tests: ``Fault(first_attempts=2)`` fails twice, then succeeds).
        functions: only for these function names (case-insensitive); ``None`` means all.
    """

    probability: float = attrs.field(default=0.0, converter=float, validator=_check_probability)
    first_attempts: int = attrs.field(default=0, validator=_check_non_negative)
    functions: frozenset[str] | None = attrs.field(default=None, converter=_to_functions)

    def applies_to(self, function: str) -> bool:
        """Whether this fault may hit ``function`` (lower-cased name, ``""`` if unknown)."""
        return self.functions is None or function in self.functions

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready mapping (what the admin endpoint shows and accepts)."""
        return {
            "probability": self.probability,
            "first_attempts": self.first_attempts,
            "functions": sorted(self.functions) if self.functions is not None else None,
        }


def _to_fault(value: Fault | float | Mapping[str, Any] | None) -> Fault | None:
    if value is None or isinstance(value, Fault):
        return value
    if isinstance(value, Mapping):
        return Fault(**value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a fault is a Fault, a probability or a mapping, not {value!r}")
    return Fault(probability=value)


@attrs.frozen(kw_only=True)
class FaultPlan:
    """What the sandbox does wrong, and how often. Immutable: swap it with ``set_faults``.

    Each fault field takes a :class:`Fault`, a bare probability or ``None`` (never)::

        FaultPlan(http_503=0.2, rate_limit=Fault(first_attempts=1), latency=0.05, jitter=0.02)

    Kinds:
        ``reset``: the connection is dropped without any response (real socket: TCP RST;
        in-process: ``httpx.ReadError`` from the handler, ``ConnectionResetError`` from ASGI).
        ``http_502`` / ``http_503``: an HTML error page with that status.
        ``rate_limit``: HTTP 429 with ``Retry-After: <retry_after>`` (seconds).
        ``api_9008``: API error 9008 "Internal server error. Please try again!".
        ``truncated``: the JSON body is cut in half. With ``truncated_length="partial"`` the
        ``Content-Length`` matches the cut body (a complete HTTP answer that is not JSON);
        with ``"full"`` it announces the whole body and the connection closes mid-body.
        ``bad_hash``: a well-formed answer whose ``credentials.hash`` is wrong.
        ``slow_drip``: the body arrives ``drip_bytes`` at a time every ``drip_interval``
        seconds.

    ``latency`` seconds (plus a uniform ``0..jitter``) are added before every answer.
    """

    seed: int = 0
    latency: float = attrs.field(default=0.0, converter=float, validator=_check_non_negative)
    jitter: float = attrs.field(default=0.0, converter=float, validator=_check_non_negative)
    reset: Fault | None = attrs.field(default=None, converter=_to_fault)
    http_502: Fault | None = attrs.field(default=None, converter=_to_fault)
    http_503: Fault | None = attrs.field(default=None, converter=_to_fault)
    rate_limit: Fault | None = attrs.field(default=None, converter=_to_fault)
    retry_after: int = attrs.field(default=1, validator=_check_non_negative)
    api_9008: Fault | None = attrs.field(default=None, converter=_to_fault)
    truncated: Fault | None = attrs.field(default=None, converter=_to_fault)
    truncated_length: Literal["partial", "full"] = attrs.field(
        default="partial", validator=attrs.validators.in_(("partial", "full"))
    )
    bad_hash: Fault | None = attrs.field(default=None, converter=_to_fault)
    slow_drip: Fault | None = attrs.field(default=None, converter=_to_fault)
    drip_bytes: int = attrs.field(default=64, validator=attrs.validators.gt(0))
    drip_interval: float = attrs.field(default=0.01, converter=float, validator=_check_non_negative)

    def __attrs_post_init__(self) -> None:
        total = sum(fault.probability for _, fault in self.faults())
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities add up to {total:g}, more than 1")

    def faults(self) -> Iterator[tuple[str, Fault]]:
        """``(kind, fault)`` for every configured fault, in decision order."""
        for kind in FAULT_KINDS:
            fault = getattr(self, kind)
            if fault is not None:
                yield kind, fault

    @property
    def quiet(self) -> bool:
        """True when the plan can never change an answer (no faults, no latency)."""
        return not self.latency and not self.jitter and next(self.faults(), None) is None

    @classmethod
    def flaky(cls, rate: float, *, seed: int = 0, **options: Any) -> FaultPlan:
        """Build a plan of retryable failures with total probability ``rate``.

        The rate is split evenly over HTTP 502, HTTP 503, HTTP 429 and API code 9008 (what
        ``--fault-rate`` sets).
        """
        share = float(rate) / 4
        return cls(
            seed=seed,
            http_502=share,
            http_503=share,
            rate_limit=share,
            api_9008=share,
            **options,
        )

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready mapping; :meth:`from_json` reads it back."""
        result: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            result[field.name] = value.to_json() if isinstance(value, Fault) else value
        return result

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> FaultPlan:
        """Build a plan from a mapping like :meth:`to_json`'s (faults may be bare numbers).

        Raises:
            ValueError: unknown keys or invalid values.
        """
        known = {field.name for field in attrs.fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown fault plan keys: {sorted(unknown)}")
        try:
            return cls(**value)
        except TypeError as error:
            raise ValueError(str(error)) from None


@attrs.frozen
class Decision:
    """The fate of one attempt: a fault kind or ``None``, and the added delay in seconds."""

    kind: str | None
    delay: float
    plan: FaultPlan


_QUIET_PLAN: Final = FaultPlan()


class FaultInjector:
    """Holds the current plan and counts attempts per ``(function, key)``. Thread-safe."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan or _QUIET_PLAN
        self._attempts: dict[tuple[str, str], int] = {}
        self._none = Decision(None, 0.0, self._plan)

    @property
    def plan(self) -> FaultPlan:
        """The plan in force."""
        return self._plan

    def set_plan(self, plan: FaultPlan | None) -> None:
        """Replace the plan and restart attempt counting."""
        with self._lock:
            self._plan = plan or _QUIET_PLAN
            self._none = Decision(None, 0.0, self._plan)
            self._attempts.clear()

    def reset_attempts(self) -> None:
        """Start counting attempts from zero again (``first_attempts`` rules re-arm)."""
        with self._lock:
            self._attempts.clear()

    def decide(self, function: str, key: str) -> Decision:
        """Decide attempt ``n`` at ``(function, key)``; ``function`` lower-cased."""
        plan = self._plan
        if plan.quiet:
            return self._none
        with self._lock:
            attempt = self._attempts.get((function, key), 0) + 1
            self._attempts[function, key] = attempt
        rng = random.Random(f"{plan.seed}:{function}:{key}:{attempt}")  # noqa: S311
        draw = rng.random()
        delay = plan.latency + (rng.random() * plan.jitter if plan.jitter else 0.0)
        applicable = [(kind, fault) for kind, fault in plan.faults() if fault.applies_to(function)]
        for kind, fault in applicable:
            if attempt <= fault.first_attempts:
                return Decision(kind, delay, plan)
        cumulative = 0.0
        for kind, fault in applicable:
            cumulative += fault.probability
            if draw < cumulative:
                return Decision(kind, delay, plan)
        return Decision(None, delay, plan)
