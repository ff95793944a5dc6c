"""`smetsim sandbox --workers N`: worker processes on one port, the fleet in the first."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gbcs.codes import SUPPLIER
from smetsim.cli import main
from smetsim.client import ClientError, DuisClient, build_request
from smetsim.sandbox import ESME

READ = "<sr:ReadInstantaneousImportRegisters/>"


def _start(*options: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "smetsim.cli", "sandbox", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 90
    for line in process.stdout:
        lines.append(line)
        if "Ctrl-C" in line or time.monotonic() > deadline:
            break
    return process, "".join(lines)


def _gone(path: Path) -> bool:
    return not path.exists()


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return out, err


async def _read_esme(url: str) -> bool:
    async with DuisClient(url, timeout=10) as client:
        xml = build_request(
            service_reference_variant="4.1.1",
            command_variant=1,
            originator=SUPPLIER,
            target=ESME,
            counter=client.fresh_counter(),
            body=READ,
        )
        try:
            return (await client.send(xml, wait=True, within=10)).ok
        except ClientError:  # a connection to the worker being killed
            return False


async def test_a_killed_worker_is_replaced_even_the_one_with_the_fleet() -> None:
    process, text = _start("--workers", "2", "--no-latency")
    try:
        url = re.search(r"listening on (http://\S+)", text)
        pids = re.search(r"workers:\s+2 processes \((\d+), (\d+)\)", text)
        assert url is not None
        assert pids is not None, text
        assert await _read_esme(url.group(1))
        os.kill(int(pids.group(1)), signal.SIGKILL)  # worker 0: the fleet's host
        # the supervisor starts another; meanwhile a request may fail (never hang)
        deadline = time.monotonic() + 60
        answered = 0
        while answered < 3 and time.monotonic() < deadline:
            if await _read_esme(url.group(1)):
                answered += 1
            else:
                await asyncio.sleep(0.5)
        assert answered == 3
    finally:
        out, err = _stop(process)
    assert process.returncode == 0, err
    assert "sandbox worker 0" in err  # the death is logged
    assert "died with exit code -9: starting another" in err
    assert "smetsim sandbox: stopped" in out


async def test_two_workers_serve_device_srs_and_stop_cleanly() -> None:
    process, text = _start("--workers", "2", "--no-latency")
    try:
        assert "workers:   2 processes" in text, text
        url = re.search(r"listening on (http://\S+)", text)
        state = re.search(r"state:\s+(\S+) \(temporary\)", text)
        assert url is not None
        assert state is not None
        # Each client its own connection: the workers take turns accepting them.
        for _ in range(4):
            assert await _read_esme(url.group(1))
    finally:
        out, err = _stop(process)
    assert process.returncode == 0, err
    assert "smetsim sandbox: stopped" in out
    assert "Traceback" not in err, err
    assert "ERROR" not in err, err
    assert _gone(Path(state.group(1)))  # the temporary state folder


def test_a_given_state_keeps_the_fleet_snapshot(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process, text = _start("--workers", "2", "--state", str(state))
    _out, err = _stop(process)
    assert "workers:   2 processes" in text, text + err
    assert process.returncode == 0, err
    assert (state / "gateway.db").is_file()
    assert (state / "fleet.json").is_file()


def test_workers_and_an_mqtt_wan_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sandbox", "--workers", "2", "--wan", "mqtt://127.0.0.1:1"])
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("smetsim: error: --wan mqtt://127.0.0.1:1 and 2 worker processes")
    assert "\n" not in err


def test_zero_workers_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sandbox", "--workers", "0"])
    assert exc.value.code == 2
    assert "--workers" in capsys.readouterr().err
