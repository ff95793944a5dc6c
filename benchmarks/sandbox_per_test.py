"""How long the pytest plugin's function-scoped sandbox takes to be ready, test after test.

Prints one JSON object: the wall time from asking for a sandbox to its gateway listening with
the default home (state folder, PKI, fleet, HTTP server), as the ``smetsim_sandbox`` fixture
does it (the session's seed and PKI made once, with the first, and linked into each state),
for the first sandbox of a process and then for ``--count`` more (median and p95), each
stopped before the next starts. Issue 19 aims at under 100 ms after the first.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smetsim.pytest_plugin import _Runner, prepare_pki  # noqa: E402


def one(folder: Path, pki: Path | None) -> float:
    start = time.perf_counter()
    if pki is None:  # the session's first sandbox: the fixture prepares the PKI first
        pki = prepare_pki(folder / "pki-prepared")
    runner = _Runner(folder / "state", {}, pki)
    runner.start()
    ready = time.perf_counter() - start
    runner.close()
    return ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    count = parser.parse_args().count
    # Each sandbox warns that it accepts unsigned requests: one JSON line is the only output.
    logging.getLogger("gateway").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="smetsim-bench-") as tmp:
        first = one(Path(tmp) / "0", None)
        pki = Path(tmp) / "0" / "pki-prepared"
        rest = sorted(one(Path(tmp) / str(i + 1), pki) for i in range(count))
    p95 = rest[min(len(rest) - 1, round(0.95 * (len(rest) - 1)))]
    print(
        json.dumps(
            {
                "benchmark": "sandbox_per_test",
                "count": count,
                "first_ms": round(first * 1000, 1),
                "median_ms": round(statistics.median(rest) * 1000, 1),
                "p95_ms": round(p95 * 1000, 1),
                "aim_ms": 100,
            }
        )
    )


if __name__ == "__main__":
    main()
