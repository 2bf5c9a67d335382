"""Sphinx configuration: ``nox -s docs`` builds with -W (warnings are errors) and -n."""

import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS.parent))  # document this checkout, installed or not

try:
    release = _installed_version("qvickly-async")
except PackageNotFoundError:  # a source tree that was never installed
    from qvickly_async._version import __version__ as release

project = "qvickly-async"
author = "qvickly-async developers"
copyright = f"{author}, MIT licence"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "qvickly_docs",  # docs/_ext: the error catalogue and offline-safe references
]
source_suffix = {".md": "markdown"}
# ``_*.md`` are fragments that pages pull in with ``{include}`` (e.g. a generated table).
exclude_patterns = ["_build", "examples", "_ext", "_*.md"]
nitpicky = True
nitpick_ignore = [
    # Public methods of the sandbox that return private types (reported upstream).
    ("py:class", "qvickly_async.sandbox._functions.Signed"),
    ("py:class", "qvickly_async.sandbox._engine.Engine"),
    # The value type parameter of the generic LookupResult.
    ("py:class", "qvickly_async._batch.V"),
    # Framework types in the callback glue's signatures (no inventory is fetched for them).
    ("py:class", "starlette.requests.Request"),
    ("py:class", "starlette.responses.Response"),
    ("py:class", "aiohttp.web_request.Request"),
    ("py:class", "aiohttp.web_response.StreamResponse"),
]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = False
napoleon_use_rtype = False

# Each project: its site first, then an empty local inventory, so a build without network (or
# for httpx, which publishes no inventory) stays warning-free; qvickly_docs then renders the
# names those projects would have linked as plain code.
_OFFLINE = str(DOCS / "_ext" / "offline.inv")
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", (None, _OFFLINE)),
    "attrs": ("https://www.attrs.org/en/stable", (None, _OFFLINE)),
    "cattrs": ("https://catt.rs/en/stable", (None, _OFFLINE)),
    "tenacity": ("https://tenacity.readthedocs.io/en/latest", (None, _OFFLINE)),
    "httpx": ("https://www.python-httpx.org", (None, _OFFLINE)),
}
intersphinx_timeout = 5

html_theme = "furo"
html_title = f"qvickly-async {release}"
