"""The throughput benchmark runs and prints one JSON object (figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gbcs_throughput.py"


def test_benchmark_prints_one_json_object() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--seconds", "0.05"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    figures = json.loads(lines[0])
    for key in (
        "decode_verify_per_s",
        "decode_verify_crypto_only_per_s",
        "build_sign_mac_per_s",
        "build_sign_mac_crypto_only_per_s",
        "decode_verify_ratio",
        "build_sign_mac_ratio",
    ):
        assert figures[key] > 0
