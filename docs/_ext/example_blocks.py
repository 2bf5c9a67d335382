"""Code blocks that show the tested examples inline, so pages read the same on GitHub.

A page shows an example as an ordinary fenced block, announced by an HTML comment that names
the file (and optionally one part of it)::

    <!-- example: ../examples/retries.py -->
    ```python
    ...the file, exactly...
    ```

    <!-- example: ../examples/retries.py pyobject=add_payment -->
    <!-- example: ../examples/retries.py end-before="class PaymentOutcomeUnknownError" -->

GitHub and Sphinx both hide the comment and render the block. ``tests/test_docs.py`` checks
that every block is exactly the part of the file it names (the file that
``tests/test_docs_examples.py`` runs); after editing an example, run
``python docs/_ext/example_blocks.py`` to copy it into every page that shows it.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["Block", "blocks", "expected_text", "sync"]

DOCS: Final = Path(__file__).resolve().parent.parent
_BLOCK: Final = re.compile(
    r"^<!-- example: (?P<spec>[^\n]*?) -->\n(?P<fence>```+)(?P<language>\w*)\n"
    r"(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    """One announced code block of a page."""

    page: Path
    path: Path
    options: dict[str, str]
    language: str
    body: str
    start: int
    end: int


def _parse_spec(page: Path, spec: str) -> tuple[Path, dict[str, str]]:
    target, *rest = shlex.split(spec)
    options = {}
    for item in rest:
        key, _, value = item.partition("=")
        options[key] = value
    return (page.parent / target).resolve(), options


def blocks(page: Path) -> list[Block]:
    """Every announced code block of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        path, options = _parse_spec(page, match["spec"])
        found.append(
            Block(
                page=page,
                path=path,
                options=options,
                language=match["language"],
                body=match["body"],
                start=match.start("body"),
                end=match.end("body"),
            )
        )
    return found


def _pyobject(source: str, name: str) -> str:
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
            node.name == name
        ):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            assert node.end_lineno is not None
            lines = source.splitlines(keepends=True)[first - 1 : node.end_lineno]
            return "".join(lines)
    raise LookupError(f"no top-level {name} in the example")


def expected_text(path: Path, options: dict[str, str]) -> str:
    """What a block naming ``path`` with ``options`` must show."""
    source = path.read_text(encoding="utf-8")
    unknown = set(options) - {"pyobject", "end-before", "start-after"}
    if unknown:
        raise ValueError(f"unknown example options {sorted(unknown)}")
    if "pyobject" in options:
        return _pyobject(source, options["pyobject"])
    if "start-after" in options:
        source = source.split(options["start-after"], 1)[1].split("\n", 1)[1]
    if "end-before" in options:
        source = source.split(options["end-before"], 1)[0].rstrip() + "\n"
    return source


def sync(page: Path) -> bool:
    """Rewrite the blocks of ``page`` from their files; return whether anything changed."""
    text = page.read_text(encoding="utf-8")
    new = text
    for block in reversed(blocks(page)):
        new = new[: block.start] + expected_text(block.path, block.options) + new[block.end :]
    if new != text:
        page.write_text(new, encoding="utf-8")
    return new != text


def main() -> None:
    """Copy the examples into every page that shows them."""
    for page in sorted(DOCS.rglob("*.md")):
        if "_build" not in page.parts and sync(page):
            print(f"updated {page.relative_to(DOCS)}")


if __name__ == "__main__":
    main()
