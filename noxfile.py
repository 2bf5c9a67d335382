"""Developer tasks: ``nox -s tests``, ``lint``, ``typing``, ``docs``, ``bench``, ``soak``."""

from __future__ import annotations

import os

import nox

nox.needs_version = ">=2024.10"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typing"]
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite against the installed wheel (not the source tree)."""
    session.install(".[server,cli]", *_group("tests"))
    session.run(
        "pytest",
        "--cov=qvickly_async",
        "--cov-report=term-missing:skip-covered",
        *(session.posargs or ["-m", "not slow"]),
        env={"PYTHONHASHSEED": "0"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over the package, the tests and this file."""
    session.install(".[server,cli]", *_group("typing"))
    session.run("mypy")
