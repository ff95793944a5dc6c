"""`smetsim sandbox --devices N` shows its seeding progress on a terminal, and writes nothing
extra when standard error is not one."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _sandbox(state: Path, stderr: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "smetsim.cli", "sandbox", "--devices", "300", "--port", "0",
         "--state", str(state)],
        stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"},
    )  # fmt: skip


def _until_listening(process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        if re.search(rb"listening on http://", line):
            return
    raise AssertionError("the sandbox did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    if process.stdout is not None:
        process.stdout.close()


def test_seeding_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    master, slave = os.openpty()
    process = _sandbox(tmp_path / "state", slave)
    os.close(slave)
    try:
        _until_listening(process)
    finally:
        _stop(process)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert b"seeding 300 devices" in seen


def test_no_progress_when_standard_error_is_not_a_terminal(tmp_path: Path) -> None:
    process = _sandbox(tmp_path / "state", subprocess.PIPE)
    try:
        _until_listening(process)
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert b"seeding" not in err
    assert b"\x1b[" not in err  # no terminal control sequences either
