"""The README's five-minute tour, run as written from a clean folder: only the project's own
commands (no DCC templates), each one must succeed, and the answers read as the tour says."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMETSIM = ".venv/bin/smetsim"


def tour_blocks() -> list[list[str]]:
    """The command lines of each ``sh`` block of the tour, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    return [
        [line for line in block.splitlines() if line.strip()]
        for block in re.findall(r"```sh\n(.*?)```", section, re.S)
    ]


@pytest.fixture
def started_sandbox(tmp_path: Path) -> Iterator[str]:
    """The tour's first step (``make sandbox ARGS=...``) as the command it runs, on a free
    port; yields the URL it prints."""
    (first,) = tour_blocks()[0]
    match = re.fullmatch(r'make sandbox ARGS="([^"]*)"', first.strip())
    assert match, first
    args = [*shlex.split(match.group(1)), "--port", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "smetsim.cli", "sandbox", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = None
        for line in process.stdout:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        assert url is not None, "the sandbox did not say where it listens"
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _runnable(line: str, url: str) -> str:
    """The tour's line with this environment's interpreter and the sandbox's port."""
    line = line.replace(SMETSIM, f"{shlex.quote(sys.executable)} -m smetsim.cli")
    return line.replace("smetsim.cli send ", f"smetsim.cli send --url {url} ")


def test_the_readme_tour_runs_from_a_clean_folder(started_sandbox: str, tmp_path: Path) -> None:
    # The blocks of smetsim commands (the later ones start sandboxes of other kinds).
    blocks = [b for b in tour_blocks()[1:] if all(SMETSIM in line for line in b)]
    commands = [line for block in blocks for line in block]
    assert len(commands) >= 6, commands
    outputs: list[str] = []
    for line in commands:
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", _runnable(line, started_sandbox)],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        outputs.append(done.stdout)
    joined = "\n".join(outputs)
    # The read: sent, answered, its MAC checked with keys found by themselves, values shown.
    first_send = outputs[1]
    assert "I99" in first_send, first_send
    assert "answer: response I0" in first_send, first_send
    assert "MAC: valid" in first_send
    assert re.search(r"active import: [\d,]+\.\d{3} kWh", first_send), first_send
    assert re.search(r"volume: [\d,]+\.\d{3} m3", joined)
    assert re.search(r"00-DB-12-34-56-78-90-A0\s+ESME\s+Commissioned", joined)
    assert "use case: ECS43" in joined  # the critical 7.2 went through CV4 and CV5
    assert "TolerancePeriod=60" in joined
    assert "MAC: valid" in outputs[-1]  # the decode of the exported keys' answer
