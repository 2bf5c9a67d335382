"""Checks that keep the documentation honest, without building it.

* every public name is in the API reference;
* every example file is shown in a page and run by ``tests/test_docs_examples.py``, and the
  pages hold no Python that is not such a file;
* the README's commands and example match the tested docs;
* the error catalogue covers every code, with the class the client really raises.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from qvickly_async._error_codes import ERROR_CODES, exception_class_for

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
PUBLIC_MODULES = (
    "qvickly_async",
    "qvickly_async.exceptions",
    "qvickly_async.models",
    "qvickly_async.testing",
    "qvickly_async.sandbox",
    "qvickly_async.sandbox.pytest_plugin",
    "qvickly_async.callbacks",
    "qvickly_async.callbacks.starlette",
    "qvickly_async.callbacks.aiohttp",
)
# Pages other engineers own; the rules on Python code below are for the pages built here.
FOREIGN_PAGES = {"cli.md", "performance.md"}

_DIRECTIVE = re.compile(
    r"^\.\. auto(?P<kind>module|class|exception|function|data|attribute|method)::\s+(?P<target>\S+)"
    r"(?P<options>(?:\n[ \t]+:[\w-]+:.*)*)",
    re.MULTILINE,
)


def pages() -> list[Path]:
    return sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)


def own_pages() -> list[Path]:
    return [path for path in pages() if path.relative_to(DOCS).as_posix() not in FOREIGN_PAGES]


def resolve(path: str) -> Any:
    module_name, _, name = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ImportError:
        return getattr(importlib.import_module(module_name), name)


def trackable(value: Any) -> bool:
    """Whether identity says which object this is (equal strings or numbers may be shared)."""
    return not isinstance(value, str | bytes | int | float | tuple | frozenset | type(None))


def autodoc_documents(value: Any, *, undoc_members: bool) -> bool:
    """Whether ``automodule :members:`` documents a member: only with a docstring of its own."""
    if undoc_members:
        return True
    return inspect.isclass(value) or inspect.isroutine(value)


def reference_coverage() -> tuple[set[str], set[int]]:
    """Names the reference pages document explicitly, and the objects they document."""
    names: set[str] = set()
    objects: set[int] = set()
    for page in (DOCS / "reference").glob("*.md"):
        for match in _DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            target, options = match["target"], match["options"]
            names.add(target)
            value = resolve(target)
            if trackable(value):
                objects.add(id(value))
            if match["kind"] == "module" and ":members:" in options:
                undoc = ":undoc-members:" in options
                for name in getattr(value, "__all__", ()):
                    member = getattr(value, name)
                    if autodoc_documents(member, undoc_members=undoc):
                        names.add(f"{target}.{name}")
                        if trackable(member):
                            objects.add(id(member))
    return names, objects


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_the_reference(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names, objects = reference_coverage()
    missing = [
        name
        for name in module.__all__
        if f"{module_name}.{name}" not in names
        and not (trackable(value := getattr(module, name)) and id(value) in objects)
    ]
    assert not missing, f"add these to docs/reference/*.md: {missing}"


def test_the_reference_checker_sees_a_missing_name() -> None:
    names, objects = reference_coverage()
    assert "qvickly_async.AsyncQvickly" in names
    assert "qvickly_async.exceptions.QvicklyError" in names
    assert "qvickly_async.Nothing" not in names
    assert id(object) not in objects


def literalincludes() -> dict[str, list[Path]]:
    """Example files shown in each page, by page name."""
    shown: dict[str, list[Path]] = {}
    for page in pages():
        for target in re.findall(r"```\{literalinclude\}\s+(\S+)", page.read_text("utf-8")):
            shown.setdefault(page.name, []).append((page.parent / target).resolve())
    return shown


def test_every_literalinclude_exists() -> None:
    for page, files in literalincludes().items():
        for path in files:
            assert path.is_file(), f"{page} includes {path}, which does not exist"


def inline_python(text: str) -> list[str]:
    """The ```python blocks of a page (shown on GitHub, where literalinclude is not)."""
    return re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def inlined_examples() -> set[str]:
    """Example files some page shows inline in full."""
    files = {path.name: path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.py")}
    shown: set[str] = set()
    for page in pages():
        for block in inline_python(page.read_text(encoding="utf-8")):
            shown.update(name for name, text in files.items() if text == block)
    return shown


def is_excerpt(block: str, text: str) -> bool:
    """Whether ``block`` is a run of whole, consecutive lines of ``text``."""
    return f"\n{block}" in f"\n{text}" and block.endswith("\n")


@pytest.mark.parametrize("example", sorted(path.name for path in EXAMPLES.glob("*.py")))
def test_every_example_is_shown_and_tested(example: str) -> None:
    shown = {path.name for files in literalincludes().values() for path in files}
    shown |= inlined_examples()
    assert example in shown, f"docs/examples/{example} is in no page"
    tests = (ROOT / "tests" / "test_docs_examples.py").read_text(encoding="utf-8")
    stem = example.removesuffix(".py")
    assert f'"{stem}"' in tests or f'"{example}"' in tests, f"{example} is not tested"
    text = (EXAMPLES / example).read_text(encoding="utf-8")
    assert re.search(r"^(async )?def main\(", text, re.MULTILINE), f"{example} has no main()"


@pytest.mark.parametrize("page", own_pages(), ids=lambda path: path.relative_to(DOCS).as_posix())
def test_pages_show_python_only_from_tested_files(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    examples = [path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.py")]
    for block in inline_python(text):  # allowed: an excerpt of a tested example, verbatim
        assert any(is_excerpt(block, example) for example in examples), (
            f"{page.name}: this Python block is not a verbatim excerpt of docs/examples/*.py:\n"
            f"{block[:300]}"
        )
        text = text.replace(f"```python\n{block}```", "")
    fences = re.findall(r"^```+\s*(\S*)[ \t]*(\S*)", text, re.MULTILINE)
    for info, argument in fences:
        language = argument if info in ("{code-block}", "{code}", "{sourcecode}") else info
        assert language.lower() not in {"python", "py", "python3", "pycon", "ipython"}, (
            f"{page.name}: Python code belongs in docs/examples/ (tested), not inline"
        )
    assert ">>>" not in text


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def test_docs_repeat_the_readme_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = fenced(readme, "console")[0]
    assert commands.startswith(
        'python3 -m venv .venv && . .venv/bin/activate && pip install ".[cli]"'
    )
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert fenced(index, "console")[0] == commands
    tutorial = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    assert commands.splitlines()[0] in tutorial


def test_readme_example_is_the_tested_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [example] = fenced(readme, "python")
    tested = (EXAMPLES / "qvickly_test_mode.py").read_text(encoding="utf-8").splitlines()
    lines = [line for line in example.splitlines() if line.strip()]
    assert lines[-1] == "asyncio.run(main())"
    position = 0
    for line in lines[:-1]:  # every line, in order, in the tested file
        assert line in tested[position:], f"README line not in the tested example: {line!r}"
        position = tested.index(line, position) + 1


def load_catalogue() -> ModuleType:
    path = DOCS / "_ext" / "qvickly_catalogue.py"
    spec = importlib.util.spec_from_file_location("qvickly_catalogue", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["qvickly_catalogue"] = module
    spec.loader.exec_module(module)
    return module


def test_error_catalogue_covers_every_code() -> None:
    rows = load_catalogue().catalogue_rows()
    assert [row[0] for row in rows] == sorted(ERROR_CODES)
    for code, message, path, retried, _note in rows:
        assert message == ERROR_CODES[code].message
        assert path == f"qvickly_async.exceptions.{exception_class_for(code).__name__}"
        assert retried is (code == 9008)


def test_error_catalogue_class_table_adds_up() -> None:
    rows = load_catalogue().class_rows()
    assert sum(row[2] for row in rows) == len(ERROR_CODES)
    assert "qvickly_async.exceptions.QvicklyAuthenticationError" in {row[0] for row in rows}
