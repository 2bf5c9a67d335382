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
    """Run the test suite against the installed wheel (not the source tree), with coverage.

    Nothing puts the checkout on ``sys.path``: ``PYTHONSAFEPATH`` keeps the current directory
    off it (coverage honours it too) and pytest's importlib mode imports the test files without
    inserting their root directory. ``QVICKLY_TEST_INSTALLED`` turns on tests/test_installed.py,
    which fails if the package was imported from the checkout anyway.
    """
    session.install(".[server,cli]", *_group("tests"))
    # coverage starts before pytest so the sandbox's pytest plugin (imported early through its
    # entry point) is measured too; subprocesses are measured through coverage's patch option.
    session.run("coverage", "erase")
    session.run(
        "coverage",
        "run",
        "-m",
        "pytest",
        "--import-mode=importlib",
        *(session.posargs or ["-m", "not slow and not soak"]),
        env={"PYTHONHASHSEED": "0", "PYTHONSAFEPATH": "1", "QVICKLY_TEST_INSTALLED": "1"},
    )
    session.run("coverage", "combine", "-q")
    session.run("coverage", "report")


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


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML docs with warnings as errors and nitpicky references.

    ``-E`` rereads every page: Sphinx does not notice changed docstrings by itself.
    """
    session.install(".[server,cli]", *_group("docs"))
    session.run(
        "sphinx-build", "-E", "-W", "-n", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Batch lookups against loopback sandboxes: the SDK vs a hand-written aiohttp client.

    Flat, nested and mixed rows at 1/16/64/256 in flight; prints lookups/s, CPU ms per
    lookup, the ratio to the reference, p50/p99, RSS growth streaming nested rows and the size
    of a kept nested Invoice, with PASS/FAIL per target (see bench/run.py and
    docs/performance.md). ``nox -s bench -- --quick`` for a short run, ``-- --extra`` to add
    httpx, requests and the alternative transports, ``-- --strict`` to fail on a missed target.
    """
    session.install(".", "requests", "httpx-aiohttp", "httpx2")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """The long robustness runs (``@pytest.mark.soak``, deselected by default).

    20,000 lookups at 10 % faults, 10,000 cancellations, ~50,000 PHP payloads, every byte
    value at every position of the verification bodies, 50,000 fuzzed bodies.
    """
    session.install(".[server,cli]", *_group("tests"))
    session.run(
        "pytest",
        "tests/robustness",
        "-m",
        "soak",
        "-p",
        "no:cacheprovider",
        "-o",
        "timeout=3600",
        *session.posargs,
        env={"PYTHONHASHSEED": "0"},
    )


@nox.session
def fuzz(session: nox.Session) -> None:
    """Coverage-guided fuzzing of response handling (atheris); 10 minutes unless told.

    ``nox -s fuzz -- -max_total_time=3600`` for longer; any libFuzzer option works. Crashing
    inputs are written to the current directory (``crash-*``).
    """
    session.install(".", "atheris")
    corpus = os.path.join(session.create_tmp(), "fuzz-corpus")
    session.run("python", "fuzz/fuzz_response.py", "--write-seeds", corpus)
    options = session.posargs or ["-max_total_time=600"]
    session.run(
        "python", "fuzz/fuzz_response.py", corpus, "-timeout=1", "-rss_limit_mb=4096", *options
    )
