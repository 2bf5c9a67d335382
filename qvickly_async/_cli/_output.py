"""Where a command's output goes: standard output, or a file replaced only by a good run.

A file named with ``--output`` is written to a temporary file in the same directory and
renamed over the target only when the run is complete and looked up at least one customer
(:meth:`OutputFile.commit`). A run that stops early (refused credentials, an unreachable
endpoint, Ctrl-C) or in which every customer failed leaves an existing file exactly as it
was (:meth:`OutputFile.abandon`); the results it did get are kept beside it as
``FILE.partial`` when there are any.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from typing import Final, TextIO

import click

from ._settings import ConfigError

__all__ = ["SUFFIX_FORMATS", "OutputFile", "format_for_output"]

#: The format an ``--output`` suffix selects when ``--format`` is not given.
SUFFIX_FORMATS: Final = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "table",
    "": "table",
}
PARTIAL_SUFFIX: Final = ".partial"


def format_for_output(output: str | None) -> str:
    """Choose the format of ``--output`` without ``--format``: by its suffix, else ``table``.

    Raises:
        click.UsageError: a suffix the command does not write (``.xlsx``): a file named
            like a spreadsheet but holding a table would not open.
    """
    if output is None or output == "-":
        return "table"
    suffix = os.path.splitext(output)[1].lower()
    try:
        return SUFFIX_FORMATS[suffix]
    except KeyError:
        known = ", ".join(name for name in SUFFIX_FORMATS if name)
        raise click.UsageError(
            f"--output {output!r}: the suffix {suffix!r} is not a format this command writes "
            f"({known}); choose one, or give --format"
        ) from None


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class OutputFile:
    """The output of one run: standard output (``path`` ``None`` or ``-``) or a file.

    Call :meth:`open` once, write to the stream it returns, then either :meth:`commit` or
    :meth:`abandon`. Writes to standard output are final as they happen. A path that exists
    and is not a regular file (``/dev/null``, a pipe) is written in place.
    """

    def __init__(self, path: str | None, *, output_format: str, excel: bool = False) -> None:
        self.path = None if path in (None, "-") else path
        self._newline = "" if output_format == "csv" else None
        self._encoding = "utf-8-sig" if excel else "utf-8"
        self._table = output_format == "table"
        self._stream: TextIO | None = None
        self._temporary: str | None = None

    @property
    def is_file(self) -> bool:
        """Whether the output goes to a file named with ``--output``."""
        return self.path is not None

    @property
    def name(self) -> str:
        """The output's name for messages."""
        return self.path if self.path is not None else "standard output"

    @property
    def existed(self) -> bool:
        """Whether the target file exists (so a run that fails must not replace it)."""
        return self.path is not None and os.path.lexists(self.path)

    def open(self) -> TextIO:
        """Open the stream to write to.

        Raises:
            ConfigError: the file (or its directory) cannot be written.
        """
        if self.path is None:
            if self._table:
                self._stream = sys.stdout
            else:
                self._stream = io.TextIOWrapper(
                    sys.stdout.buffer, encoding=self._encoding, newline=self._newline
                )
            return self._stream
        path = self.path
        try:
            if os.path.isdir(path):
                raise IsADirectoryError(21, "Is a directory")
            if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
                handle = open(path, "w", encoding=self._encoding, newline=self._newline)  # noqa: SIM115
            else:
                directory, base = os.path.split(os.path.abspath(path))
                fd, self._temporary = tempfile.mkstemp(
                    prefix=f".{base}.", suffix=".tmp", dir=directory
                )
                handle = open(  # noqa: SIM115
                    fd, "w", encoding=self._encoding, newline=self._newline, closefd=True
                )
        except OSError as error:
            raise ConfigError(f"cannot write --output {path!r}: {error.strerror}") from None
        self._stream = handle
        return handle

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        if self.path is None:
            with contextlib.suppress(ValueError, OSError):
                stream.flush()
            if stream is not sys.stdout and isinstance(stream, io.TextIOWrapper):
                stream.detach()
            return
        try:
            stream.flush()
            if self._temporary is not None:
                os.fsync(stream.fileno())
        finally:
            stream.close()

    def commit(self) -> None:
        """Finish: the temporary file replaces the target (keeping an old file's mode).

        Raises:
            ConfigError: the file could not be written or renamed.
        """
        temporary = self._temporary
        try:
            self._close()
            if temporary is None or self.path is None:
                return
            try:
                mode = stat.S_IMODE(os.stat(self.path).st_mode)
            except OSError:
                mode = _new_file_mode()
            os.chmod(temporary, mode)
            os.replace(temporary, self.path)
            self._temporary = None
        except OSError as error:
            self.abandon(keep_partial=False)
            raise ConfigError(f"cannot write --output {self.path!r}: {error.strerror}") from None

    def abandon(self, *, keep_partial: bool) -> str | None:
        """Leave the target as it was; return where the partial results were kept, if kept.

        With ``keep_partial`` the temporary file becomes ``FILE.partial`` (replacing an
        older one); otherwise it is deleted.
        """
        with contextlib.suppress(OSError):
            self._close()
        temporary, self._temporary = self._temporary, None
        if temporary is None or self.path is None:
            return None
        if keep_partial:
            partial = self.path + PARTIAL_SUFFIX
            try:
                os.chmod(temporary, _new_file_mode())
                os.replace(temporary, partial)
            except OSError:
                pass
            else:
                return partial
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return None
