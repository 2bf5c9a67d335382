"""Checks that keep the documentation honest, without building it.

* every public name is in the API reference;
* every example file is shown in a page and run by ``tests/test_docs_examples.py``, and the
  pages hold no Python that is not such a file: they show it inline (GitHub renders no
  ``literalinclude``), exactly as the file has it;
* the reference shows no private module names, the retries page names the jitter in use;
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


def load_ext(name: str) -> ModuleType:
    """Import ``docs/_ext/<name>.py`` (the docs' own helpers, not part of the package)."""
    path = DOCS / "_ext" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


example_blocks = load_ext("example_blocks")


def literalincludes() -> dict[str, list[Path]]:
    """Example files shown in each page (inline blocks or literalinclude), by page name."""
    shown: dict[str, list[Path]] = {}
    for page in pages():
        for target in re.findall(r"```\{literalinclude\}\s+(\S+)", page.read_text("utf-8")):
            shown.setdefault(page.name, []).append((page.parent / target).resolve())
        for block in example_blocks.blocks(page):
            shown.setdefault(page.name, []).append(block.path)
    return shown


def test_every_literalinclude_exists() -> None:
    for page, files in literalincludes().items():
        for path in files:
            assert path.is_file(), f"{page} includes {path}, which does not exist"


@pytest.mark.parametrize("example", sorted(path.name for path in EXAMPLES.glob("*.py")))
def test_every_example_is_shown_and_tested(example: str) -> None:
    shown = {path.name for files in literalincludes().values() for path in files}
    full_text = (EXAMPLES / example).read_text(encoding="utf-8")
    if any(  # or shown in full in an unannounced block
        body == full_text
        for page in pages()
        for body in re.findall(r"^```python\n(.*?)^```", page.read_text("utf-8"), re.M | re.S)
    ):
        shown.add(example)
    assert example in shown, f"docs/examples/{example} is in no page"
    tests = (ROOT / "tests" / "test_docs_examples.py").read_text(encoding="utf-8")
    stem = example.removesuffix(".py")
    assert f'"{stem}"' in tests or f'"{example}"' in tests, f"{example} is not tested"
    text = (EXAMPLES / example).read_text(encoding="utf-8")
    assert re.search(r"^(async )?def main\(", text, re.MULTILINE), f"{example} has no main()"


_PYTHON = {"python", "py", "python3", "pycon", "ipython"}


def is_excerpt(block: str, text: str) -> bool:
    """Whether ``block`` is a run of whole, consecutive lines of ``text``."""
    return f"\n{block}" in f"\n{text}" and block.endswith("\n")


@pytest.mark.parametrize("page", own_pages(), ids=lambda path: path.relative_to(DOCS).as_posix())
def test_pages_show_python_only_from_tested_files(page: Path) -> None:
    """Python on a page is shown inline (GitHub renders no literalinclude) and is tested code."""
    text = page.read_text(encoding="utf-8")
    assert "{literalinclude}" not in text, (
        f"{page.name}: GitHub shows no literalinclude; show the example inline with an "
        "<!-- example: ... --> block (python docs/_ext/example_blocks.py fills it in)"
    )
    announced = example_blocks.blocks(page)
    for block in announced:
        assert block.path.parent == EXAMPLES, f"{page.name} shows {block.path}, not an example"
        assert block.body == example_blocks.expected_text(block.path, block.options), (
            f"{page.name}: the block showing {block.path.name} differs from the tested file; "
            "run python docs/_ext/example_blocks.py"
        )
        text = text.replace(f"```{block.language}\n{block.body}```", "", 1)
    examples = [path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.py")]
    for body in re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        # Not announced: allowed only as a verbatim run of whole lines of a tested example.
        assert any(is_excerpt(body, example) for example in examples), (
            f"{page.name}: Python code belongs in docs/examples/ (tested), shown with an "
            f"<!-- example: ../examples/FILE.py --> line before its block:\n{body[:300]}"
        )
        text = text.replace(f"```python\n{body}```", "", 1)
    fences = re.findall(r"^```+\s*(\S*)[ \t]*(\S*)", text, re.MULTILINE)
    for info, argument in fences:
        language = argument if info in ("{code-block}", "{code}", "{sourcecode}") else info
        assert language.lower() not in _PYTHON, (
            f"{page.name}: Python code belongs in docs/examples/ (tested), not inline"
        )
    assert ">>>" not in text


def test_an_unannounced_block_must_be_a_verbatim_excerpt() -> None:
    text = (EXAMPLES / "retries.py").read_text(encoding="utf-8")
    part = example_blocks.expected_text(EXAMPLES / "retries.py", {"pyobject": "add_payment"})
    assert is_excerpt(part, text)
    assert not is_excerpt(part.replace("raise", "return"), text)
    assert not is_excerpt(part[4:], text)  # not whole lines


def test_the_block_checker_sees_a_drifted_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    example = EXAMPLES / "first_lookup.py"
    shown = example.read_text(encoding="utf-8")
    page.write_text(f"<!-- example: {example} -->\n```python\n{shown}```\n", encoding="utf-8")
    [block] = example_blocks.blocks(page)
    assert block.body == example_blocks.expected_text(block.path, block.options)
    page.write_text(
        f"<!-- example: {example} -->\n```python\n{shown.replace('10001', '1')}```\n",
        encoding="utf-8",
    )
    [block] = example_blocks.blocks(page)
    assert block.body != example_blocks.expected_text(block.path, block.options)
    assert example_blocks.sync(page)
    assert example_blocks.blocks(page)[0].body == shown
    part = example_blocks.expected_text(EXAMPLES / "retries.py", {"pyobject": "add_payment"})
    assert part.startswith("async def add_payment(") and "def main" not in part


def test_the_tutorial_and_how_tos_show_code_on_github() -> None:
    for page in [DOCS / "tutorial.md", *sorted((DOCS / "howto").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        assert re.search(r"^```python$", text, re.MULTILINE), f"{page.name} shows no code"


def test_retries_page_names_the_jitter_the_code_uses() -> None:
    from qvickly_async import _retry

    text = (DOCS / "howto" / "retries.md").read_text(encoding="utf-8")
    assert "full jitter" not in text
    assert "equal jitter" in text
    # Equal jitter: every wait lies between half the ceiling and the ceiling (full jitter
    # would reach down to 0). The page says 0.25 to 0.5 s first, 4 to 8 s from the fifth on.
    ceilings = {1: 0.5, 2: 1.0, 5: 8.0, 9: 8.0}
    assert "first retry waits 0.25 to 0.5 s" in text
    assert "from the fifth on 4 to 8 s" in text
    with_testing = _retry.is_testing()
    _retry.set_testing(False)
    try:
        for attempt, ceiling in ceilings.items():
            waits = [_retry.backoff_seconds(attempt, None) for _ in range(200)]
            assert ceiling / 2 <= min(waits) and max(waits) <= ceiling
            assert max(waits) - min(waits) > ceiling / 4  # random, not fixed
    finally:
        _retry.set_testing(with_testing)


_PRIVATE = re.compile(r"(?<![\w.])_[a-z]\w*\.|qvickly_async\._[a-z]")


def _public_annotations(module_name: str) -> list[str]:
    """``module.name.param: annotation`` of every public function and method signature."""
    module = importlib.import_module(module_name)
    found = []
    for name in module.__all__:
        value = getattr(module, name)
        members = vars(value).items() if inspect.isclass(value) else [(name, value)]
        for member_name, member in members:
            if member_name.startswith("_") and member_name != "__init__":
                continue
            function = member.fget if isinstance(member, property) else member
            function = getattr(function, "__func__", function)
            annotations = getattr(function, "__annotations__", None)
            if inspect.isroutine(function) and isinstance(annotations, dict):
                found += [f"{name}.{member_name}.{p}: {a}" for p, a in annotations.items()]
    return found


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_the_reference_names_no_private_module(module_name: str) -> None:
    private = [text for text in _public_annotations(module_name) if _PRIVATE.search(text)]
    assert not private, f"signatures would show private names in the reference: {private}"


def test_pages_name_no_private_module() -> None:
    for page in own_pages():
        text = page.read_text(encoding="utf-8")
        # The reference index says the qvickly_async._* modules are private: that is allowed.
        text = text.replace("the `qvickly_async._*`\nmodules are private", "")
        assert not re.search(r"qvickly_async\._[a-z]", text), f"{page.name} names a private module"


def test_cli_page_installs_as_the_readme_does() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install ".[cli]"' in readme  # from a checkout: the package is not on PyPI
    cli = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert 'pip install "qvickly-async[cli]"' not in cli
    assert 'pip install ".[cli]"' in cli


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
    return load_ext("qvickly_catalogue")


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
