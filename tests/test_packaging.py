from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import qvickly_async

PUBLIC_MODULES = [
    "qvickly_async",
    "qvickly_async.exceptions",
    "qvickly_async.models",
    "qvickly_async.testing",
    "qvickly_async.sandbox",
    "qvickly_async.callbacks",
    "qvickly_async.callbacks.starlette",
    "qvickly_async.callbacks.aiohttp",
]


def test_version_comes_from_the_installed_metadata() -> None:
    assert qvickly_async.__version__ == metadata.version("qvickly-async")
    with pytest.raises(AttributeError):
        qvickly_async.does_not_exist  # noqa: B018


def _is_editable_install() -> bool:
    direct_url = metadata.distribution("qvickly-async").read_text("direct_url.json")
    return bool(direct_url) and '"editable": true' in (direct_url or "")


def test_distribution_ships_type_information_and_the_sandbox() -> None:
    if _is_editable_install():
        pytest.skip("editable install: nox -s tests checks the built wheel")
    files = {str(path) for path in metadata.files("qvickly-async") or []}
    assert "qvickly_async/py.typed" in files
    assert "qvickly_async/sandbox/__init__.py" in files


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_names_are_sorted_and_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    assert names == sorted(
        names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    assert module.__doc__
    for name in names:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"


# -- every third-party import is declared ---------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qvickly_async"
# Modules that run only where an extra (or the host program) supplies what they import.
OPTIONAL_AREAS: dict[str, str] = {
    "_cli/": "cli",  # the ``qvickly`` command: ``pip install "qvickly-async[cli]"``
    # The Starlette/FastAPI callback endpoint: ``pip install "qvickly-async[starlette]"``.
    "callbacks/starlette.py": "starlette",
}
# Loaded by pytest itself (an entry point of the ``pytest11`` group), so pytest is there.
HOST_PROVIDED = {"sandbox/pytest_plugin.py": {"pytest"}}


def _project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match[0]).lower()


def _imports(path: Path) -> set[str]:
    """Top-level names of the absolute imports of one module (including lazy ones)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names - set(sys.stdlib_module_names) - {"qvickly_async", "__future__"}


def undeclared_imports(core: set[str], extras: dict[str, set[str]]) -> dict[str, set[str]]:
    """Module -> third-party imports whose distribution the module may not rely on."""
    providers = metadata.packages_distributions()
    missing: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        allowed = set(core)
        for prefix, extra in OPTIONAL_AREAS.items():
            if module.startswith(prefix):
                allowed |= extras.get(extra, set())
        imported = _imports(path) - HOST_PROVIDED.get(module, set())
        wrong = {
            name
            for name in imported
            if not {_name(dist) for dist in providers.get(name, [name])} & allowed
        }
        if wrong:
            missing[module] = wrong
    return missing


def declared() -> tuple[set[str], dict[str, set[str]]]:
    project = _project()
    core = {_name(requirement) for requirement in project["dependencies"]}
    extras = {
        extra: {_name(requirement) for requirement in requirements}
        for extra, requirements in project["optional-dependencies"].items()
    }
    return core, extras


def test_every_third_party_import_is_declared() -> None:
    core, extras = declared()
    assert undeclared_imports(core, extras) == {}


def test_the_import_checker_sees_an_undeclared_import() -> None:
    core, extras = declared()
    missing = undeclared_imports(core - {"h11", "anyio"}, extras)
    assert missing["sandbox/_server.py"] == {"h11"}
    assert missing["sandbox/_inprocess.py"] == {"anyio"}
    # An extra covers only its own area: the core may not import click.
    assert "_cli/_app.py" not in missing
    assert undeclared_imports(core | {"click"}, {}).get("_cli/_app.py") == {"rich"}


def test_project_urls_point_at_one_repository() -> None:
    urls = _project()["urls"]
    assert set(urls) >= {"Homepage", "Source", "Documentation", "Issues", "Changelog"}
    base = urls["Changelog"].split("/blob/")[0]
    assert urls["Homepage"] == urls["Source"] == base
    assert urls["Issues"] == f"{base}/issues"
    assert urls["Documentation"].startswith(f"{base}/")


def test_the_server_extra_is_what_its_comment_says() -> None:
    # The comment says: uvicorn, for the sandbox's ASGI app; ``qvickly sandbox serve`` needs none.
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    comment = text.split("\nserver = ")[0].rsplit("\n\n", 1)[-1]
    assert "uvicorn qvickly_async.sandbox:app_factory --factory" in comment
    assert _project()["optional-dependencies"]["server"] == ["uvicorn>=0.30,<1"]
    assert not any("uvicorn" in _imports(path) for path in PACKAGE.rglob("*.py"))
    server = (PACKAGE / "sandbox" / "_server.py").read_text(encoding="utf-8")
    assert "import h11" in server
    assert "h11" in {_name(requirement) for requirement in _project()["dependencies"]}
