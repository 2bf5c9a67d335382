"""``python -m qvickly_async.sandbox --port 8080``: serve the sandbox until Ctrl-C/SIGTERM."""

from __future__ import annotations

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
