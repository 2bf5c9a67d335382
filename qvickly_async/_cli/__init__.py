"""Implementation of the ``qvickly`` command; the only modules that import click and rich."""

from __future__ import annotations

from ._app import cli, run

__all__ = ["cli", "run"]
