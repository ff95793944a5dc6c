"""Start-up of the `smetsim` command line as a whole process, beside a bare crypto import.

Prints one JSON object: the median wall time of

- ``baseline``: ``python -c "import cryptography.hazmat.primitives.asymmetric.ec"``,
- ``version``: ``python -m smetsim.cli --version``,
- ``decode_one``: ``python -m smetsim.cli decode <the GBCS 18.4 message>``,

and each one's ratio to the baseline (issue 19 aims at 2 or less). The three run in turns,
round after round, so that a change in the shared machine's load affects them alike; the
median of ``--runs`` rounds counts. Every run must exit 0, or the figure means nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The message of GBCS 18.4 (a MAC'd ECS17b response), a fact of the standard.
V18_4 = (
    "DD00000000000081A91100000000DF0901000000000000000108123456789ABCDEF008FFFFFFFFFFFFFFFE00"
    "0200B335D92000000100030300700000130A00FF020300700000130A01FF020300700000130A02FF0203050000"
    "0000050000000005000000004059045AB0F554622B0360340B9D87B5A23ED5723B41DE3F206E58CDD10F915B9F"
    "E2E12E2DA3632478A8DF678E418895869AC1E55318CCE04D120D2D6B44DC167B5D832D15B57A56D620F198B3"
)


def commands() -> dict[str, list[str]]:
    python = sys.executable
    return {
        "baseline": [python, "-c", "import cryptography.hazmat.primitives.asymmetric.ec"],
        "version": [python, "-m", "smetsim.cli", "--version"],
        "decode_one": [python, "-m", "smetsim.cli", "decode", V18_4],
    }


def wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    env = dict(os.environ)
    # This checkout's smetsim, whatever the environment has installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # With bytecode caches, as an installed package has them (pip compiles them; the baseline's
    # cryptography has its own): an environment with PYTHONDONTWRITEBYTECODE would otherwise
    # make every run compile smetsim from source. The caches go to a folder of this run's.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = tempfile.TemporaryDirectory(prefix="smetsim-bench-pyc-")
    env["PYTHONPYCACHEPREFIX"] = cache.name
    argvs = commands()
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for argv in argvs.values():  # warm the OS's file cache and the .pyc files
        wall(argv, env)
    for _ in range(runs):
        for name, argv in argvs.items():
            times[name].append(wall(argv, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["baseline"]
    print(
        json.dumps(
            {
                "benchmark": "cli_start",
                "runs": runs,
                "python": platform.python_version(),
                "baseline_ms": round(base * 1000, 1),
                "version_ms": round(medians["version"] * 1000, 1),
                "decode_one_ms": round(medians["decode_one"] * 1000, 1),
                "version_ratio": round(medians["version"] / base, 2),
                "decode_one_ratio": round(medians["decode_one"] / base, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
