"""Issue 11, item 11: memory in aggregate is the product of two limits, and says so.

Not bounded by a total in-flight byte budget (yet): each lookup in flight may hold one answer of
up to ``max_response_bytes`` while it is read, verified and decoded. The batch how-to documents
the product and the figures measured with the code below (``python
tests/robustness/test_memory_budget.py N`` prints the peak RSS of N concurrent ~31 MiB answers).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_batch_guide_documents_the_product_of_the_two_limits() -> None:
    text = (ROOT / "docs" / "howto" / "batch-export.md").read_text(encoding="utf-8")
    section = text[text.index("\nMemory\n") :]
    section = section[: section.index("\n\n")]
    assert "concurrency \u00d7 max_response_bytes" in section
    assert re.search(r"64 concurrent [\d.]+ MiB answers peak at [\d.]+ GB", section)


if __name__ == "__main__":  # the measurement behind the documented figures
    import asyncio
    import json
    import resource
    import sys

    from qvickly_async import AsyncQvickly
    from tests.robustness._hostile import HostileServer, http_response, report, signed_envelope

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    row = {"invoiceno": "123456", "status": "Paid", "total": "12500", "text": "x" * 80}
    answer = http_response(
        signed_envelope("k", json.dumps([row] * 230_000, separators=(",", ":")).encode())
    )

    async def main() -> None:
        async with (
            HostileServer(lambda body: answer, keep_alive=True) as server,
            AsyncQvickly(
                merchant_id="1", secret="k", base_url=server.url, deadline=600, timeout=600
            ) as client,
        ):
            await asyncio.gather(*(client.call("getX", {"i": i}) for i in range(count)))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report(
            f"{count} concurrent answers of {len(answer) / 2**20:.1f} MiB: peak RSS {peak:.0f} MiB"
        )

    asyncio.run(main())
