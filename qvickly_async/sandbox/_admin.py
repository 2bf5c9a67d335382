"""Admin endpoints under ``/__sandbox__/``, so a test in another process can steer and inspect.

=======  =========================  ========================================================
GET      ``/__sandbox__/counters``  counters snapshot; with ``?function=&key=&outcome=``
                                    also ``"count"`` for that filter
GET      ``/__sandbox__/faults``    the fault plan in force
POST     ``/__sandbox__/faults``    replace it (a :meth:`FaultPlan.to_json`-like object;
                                    ``{}`` or ``null`` clears it)
POST     ``/__sandbox__/reset``     zero the counters and attempt counts; ``{"faults": true}``
                                    also clears the fault plan
GET      ``/__sandbox__/settings``  the answer switches (strict, shapes, logid)
POST     ``/__sandbox__/settings``  change some of them
any      ``/__sandbox__/callbacks``  payment events and callback deliveries (see
                                    :mod:`qvickly_async.sandbox._callback_events`)
=======  =========================  ========================================================

They are unauthenticated: serve the sandbox on loopback only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs

import attrs

from ._faults import FaultPlan
from ._reply import Reply, html_reply, json_reply

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["ADMIN_PREFIX", "handle_admin"]

ADMIN_PREFIX: Final = "/__sandbox__/"
_METHODS: Final = {
    "counters": ("GET",),
    "faults": ("GET", "POST"),
    "reset": ("POST",),
    "settings": ("GET", "POST"),
}


def _body_json(body: bytes) -> Any:
    return json.loads(body) if body.strip() else None


def _settings_json(engine: Engine) -> dict[str, Any]:
    return attrs.asdict(engine.settings)


def handle_admin(engine: Engine, method: str, route: str, query: str, body: bytes) -> Reply:
    """Answer ``/__sandbox__/<route>``."""
    route = route.strip("/")
    if route == "callbacks" or route.startswith("callbacks/"):
        from ._callback_events import handle_callback_admin

        return handle_callback_admin(engine, method, route, body)
    allowed = _METHODS.get(route)
    if allowed is None:
        return html_reply(404, "404 Not Found")
    if method not in allowed:
        return html_reply(405, "405 Not Allowed", (("Allow", ", ".join(allowed)),))
    try:
        return _dispatch(engine, method, route, query, body)
    except (ValueError, TypeError) as error:
        return json_reply({"error": str(error)}, status=400)


def _dispatch(engine: Engine, method: str, route: str, query: str, body: bytes) -> Reply:
    if route == "counters":
        snapshot = engine.counters.snapshot()
        filters = {name: values[-1] for name, values in parse_qs(query).items()}
        if filters:
            unknown = set(filters) - {"function", "key", "outcome"}
            if unknown:
                raise ValueError(f"unknown counter filters: {sorted(unknown)}")
            snapshot["count"] = engine.counters.calls(
                filters.get("function"), key=filters.get("key"), outcome=filters.get("outcome")
            )
        return json_reply(snapshot)
    if route == "faults":
        if method == "POST":
            value = _body_json(body)
            if value is not None and not isinstance(value, dict):
                raise ValueError("a fault plan is a JSON object")
            engine.faults.set_plan(FaultPlan.from_json(value) if value else None)
        return json_reply(engine.faults.plan.to_json())
    if route == "reset":
        options = _body_json(body)
        options = {} if options is None else options
        if not isinstance(options, dict):
            raise ValueError("reset options are a JSON object")
        engine.counters.reset()
        engine.faults.reset_attempts()
        if options.get("faults"):
            engine.faults.set_plan(None)
        return json_reply({"ok": True})
    # settings
    if method == "POST":
        changes = _body_json(body)
        changes = {} if changes is None else changes
        if not isinstance(changes, dict):
            raise ValueError("settings are a JSON object")
        engine.settings = attrs.evolve(engine.settings, **changes)
    return json_reply(_settings_json(engine))
