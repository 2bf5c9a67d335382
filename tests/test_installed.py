"""``nox -s tests`` tests the installed wheel, not the checkout it was built from.

The session sets ``QVICKLY_TEST_INSTALLED=1``; in a developer's editable venv (where importing
the checkout is the point) these tests are skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest

import qvickly_async

from .cli._helpers import cli_env

CHECKOUT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not os.environ.get("QVICKLY_TEST_INSTALLED"),
    reason="only under nox -s tests, which installs the wheel (QVICKLY_TEST_INSTALLED=1)",
)


def imported_from() -> Path:
    return Path(qvickly_async.__file__).resolve().parent


def test_the_package_is_imported_from_site_packages() -> None:
    package = imported_from()
    assert package != CHECKOUT / "qvickly_async", "imported from the checkout, not the wheel"
    assert "site-packages" in package.parts


def test_the_installed_distribution_is_not_editable() -> None:
    direct_url = distribution("qvickly-async").read_text("direct_url.json")
    editable = bool(direct_url and json.loads(direct_url).get("dir_info", {}).get("editable"))
    assert not editable


def test_subprocesses_import_the_same_copy() -> None:
    """CLI tests run ``python -m qvickly_async.cli`` from the checkout: same package there."""
    completed = subprocess.run(
        [sys.executable, "-c", "import qvickly_async; print(qvickly_async.__file__)"],
        capture_output=True,
        text=True,
        cwd=CHECKOUT,
        env=cli_env(),
        timeout=60,
        check=True,
    )
    assert Path(completed.stdout.strip()).resolve().parent == imported_from()
