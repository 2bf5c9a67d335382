"""Sphinx extension of the qvickly-async documentation.

* ``qvickly-error-codes`` and ``qvickly-error-classes``: the error catalogue, generated at build
  time from :data:`qvickly_async._error_codes.ERROR_CODES` and the SDK's own retry predicate,
  so the pages cannot drift from the code (nothing generated is checked in).
* Private base classes of the SDK (``_TolerantStrEnum``) are shown as their public bases.
* A ``missing-reference`` handler that

  - resolves references to the SDK under any public or private path of the same object
    (``qvickly_async.models.Invoice`` finds ``qvickly_async.Invoice``; a type hint written as
    ``qvickly_async._retry.RetryDetails`` finds the documented ``RetryDetails``; a bare
    ``Sandbox`` from a ``TYPE_CHECKING`` import finds the one documented ``Sandbox``);
  - renders references to the standard library and to httpx, attrs, cattrs and tenacity as
    plain code when their intersphinx inventory could not be loaded (offline builds, or
    projects that publish none), instead of failing the nitpicky build. When an inventory did
    load, a reference it lacks still fails the build.

References to the SDK's own names that resolve nowhere still fail the build: that is what
nitpicky mode is for.
"""

from __future__ import annotations

import builtins
import importlib
import sys
from collections.abc import Iterator
from typing import Any, ClassVar, Final

from docutils import nodes
from qvickly_catalogue import catalogue_rows, class_rows
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

__all__ = ["setup"]

logger = logging.getLogger(__name__)

_PACKAGE: Final = "qvickly_async"
#: Top-level package of a reference -> the intersphinx project that documents it.
_EXTERNAL_PROJECTS: Final = {
    "httpx": "httpx",
    "attrs": "attrs",
    "attr": "attrs",
    "cattrs": "cattrs",
    "cattr": "cattrs",
    "tenacity": "tenacity",
}
#: Third-party packages that have no intersphinx mapping: always rendered as plain code.
_UNMAPPED_PACKAGES: Final = frozenset({"aiolimiter", "h11", "anyio", "pytest", "uvicorn"})
_PYTHON_PY_ROLES: Final = ("class", "exc", "obj", "func", "meth", "attr", "data", "mod")


# -- the error catalogue ----------------------------------------------------------------------


def _xref(target: str, docname: str) -> pending_xref:
    """A reference to a documented exception class, shown as its short name."""
    ref = pending_xref(
        "",
        refdomain="py",
        reftype="exc",
        reftarget=target,
        refdoc=docname,
        refexplicit=False,
        refwarn=True,
    )
    ref += nodes.literal(target.rsplit(".", 1)[-1], target.rsplit(".", 1)[-1], classes=["xref"])
    return ref


def _cell(*children: nodes.Node) -> nodes.entry:
    paragraph = nodes.paragraph()
    paragraph.extend(children)
    return nodes.entry("", paragraph)


def _table(widths: list[int], header: list[str], body: list[nodes.row]) -> nodes.table:
    table = nodes.table(classes=["qvickly-catalogue"])
    group = nodes.tgroup(cols=len(widths))
    table += group
    group.extend(nodes.colspec(colwidth=width) for width in widths)
    head = nodes.thead()
    head += nodes.row("", *(_cell(nodes.Text(title)) for title in header))
    group += head
    tbody = nodes.tbody()
    tbody.extend(body)
    group += tbody
    return table


class ErrorCodesDirective(SphinxDirective):
    """Every documented Payment API error code with the exception it raises."""

    has_content: ClassVar[bool] = False

    def run(self) -> list[nodes.Node]:
        """Build the table."""
        body = []
        for code, message, path, retried, note in catalogue_rows():
            text = nodes.Text(message + (f" ({note})" if note else ""))
            row = nodes.row(
                "",
                _cell(nodes.literal(str(code), str(code))),
                _cell(text),
                _cell(_xref(path, self.env.docname)),
                _cell(nodes.Text("yes" if retried else "no")),
                ids=[f"code-{code}"],
            )
            body.append(row)
        header = ["Code", "Message", "Raises", "Retried (reads)"]
        return [_table([8, 55, 27, 10], header, body)]


class ErrorClassesDirective(SphinxDirective):
    """The exception classes API error codes map to, with how many codes each gets."""

    has_content: ClassVar[bool] = False

    def run(self) -> list[nodes.Node]:
        """Build the table."""
        body = [
            nodes.row(
                "",
                _cell(_xref(path, self.env.docname)),
                _cell(nodes.Text(summary)),
                _cell(nodes.Text(str(count))),
                _cell(nodes.Text(examples)),
            )
            for path, summary, count, examples in class_rows()
        ]
        header = ["Exception", "Meaning", "Codes", "For example"]
        return [_table([25, 45, 8, 22], header, body)]


# -- references ---------------------------------------------------------------------------------


def _resolve_object(path: str) -> Any:
    """Import the longest module prefix of ``path`` and walk the attributes after it."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            value = getattr(value, name)
        return value
    raise LookupError(path)


def _identity_worth_tracking(value: Any) -> bool:
    # Equal small values (strings, numbers) may be the same object by accident.
    return not isinstance(value, str | bytes | int | float | tuple | frozenset | type(None))


def _documented_sdk_objects(env: BuildEnvironment) -> Iterator[str]:
    objects: dict[str, Any] = env.domains["py"].objects
    for name, entry in objects.items():
        if name.startswith(_PACKAGE) and not getattr(entry, "aliased", False):
            yield name


_Index = tuple[dict[int, str], dict[str, list[str]]]
_index_cache: dict[int, _Index] = {}


def _sdk_index(env: BuildEnvironment) -> _Index:
    """Map documented SDK objects by identity and by their last name component (cached)."""
    cached = _index_cache.get(id(env))
    if cached is not None:
        return cached
    by_id: dict[int, str] = {}
    by_tail: dict[str, list[str]] = {}
    for name in _documented_sdk_objects(env):
        by_tail.setdefault(name.rsplit(".", 1)[-1], []).append(name)
        try:
            value = _resolve_object(name)
        except (LookupError, AttributeError):
            continue
        if _identity_worth_tracking(value):
            by_id.setdefault(id(value), name)
    _index_cache[id(env)] = (by_id, by_tail)
    return by_id, by_tail


def _forget_index(app: Sphinx, env: BuildEnvironment) -> None:
    """Drop the cached index once reading is done (documents may have changed)."""
    _index_cache.pop(id(env), None)


def _sdk_alias(env: BuildEnvironment, target: str) -> str | None:
    """The documented name of the SDK object ``target`` names another way, if any."""
    by_id, by_tail = _sdk_index(env)
    if target.startswith(_PACKAGE + "."):
        try:
            value = _resolve_object(target)
        except (LookupError, AttributeError):
            return None
        return by_id.get(id(value)) if _identity_worth_tracking(value) else None
    if "." not in target:
        candidates = by_tail.get(target, [])
        if len(candidates) == 1:
            return candidates[0]
    return None


def _external_project(target: str) -> str | None:
    """The intersphinx project for an external target, ``""`` if unmapped, else ``None``."""
    top = target.split(".", 1)[0]
    if top in _EXTERNAL_PROJECTS:
        return _EXTERNAL_PROJECTS[top]
    if top in _UNMAPPED_PACKAGES:
        return ""
    if top in sys.stdlib_module_names or ("." not in target and hasattr(builtins, target)):
        return "python"
    return None


def _inventory_loaded(env: BuildEnvironment, project: str) -> bool:
    named: dict[str, Any] = getattr(env, "intersphinx_named_inventory", {})
    return bool(named.get(project))


def _missing_reference(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.TextElement
) -> nodes.Element | None:
    """Resolve SDK aliases; render unlinkable external names as plain code."""
    if node.get("refdomain") != "py":
        return None
    target: str = node["reftarget"]
    alias = _sdk_alias(env, target)
    if alias is not None:
        domain = env.domains["py"]
        for role in (node["reftype"], *_PYTHON_PY_ROLES):
            resolved = domain.resolve_xref(
                env, node.get("refdoc", ""), app.builder, role, alias, node, contnode
            )
            if resolved is not None:
                return resolved
    project = _external_project(target)
    if project is not None and (project == "" or not _inventory_loaded(env, project)):
        logger.verbose("unlinked external reference %s (no inventory for %r)", target, project)
        return contnode
    return None


def _public_bases(app: Sphinx, name: str, obj: object, options: object, bases: list[type]) -> None:
    """Show the public ancestors of an SDK class instead of its private bases."""
    while True:
        private = [
            base
            for base in bases
            if base.__module__.startswith(_PACKAGE) and base.__name__.startswith("_")
        ]
        if not private:
            return
        index = bases.index(private[0])
        replacement = [base for base in private[0].__bases__ if base not in bases]
        bases[index : index + 1] = replacement


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directives and the reference handler."""
    app.add_directive("qvickly-error-codes", ErrorCodesDirective)
    app.add_directive("qvickly-error-classes", ErrorClassesDirective)
    # After intersphinx (priority 500), so a loaded inventory always wins.
    app.connect("missing-reference", _missing_reference, priority=900)
    app.connect("env-updated", _forget_index)
    app.connect("autodoc-process-bases", _public_bases)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
