"""`smetsim sandbox --wan mqtt://...` and `smetsim fleet serve`: the gateway and the devices in
separate processes joined by a real broker, and one-line errors for bad values."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import tempfile
from pathlib import Path

import pytest

from gbcs.codes import SUPPLIER
from smetsim.cli import main
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, sandbox_keystore
from tests.e2e.support import request

ROOT = Path(__file__).resolve().parents[2]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    code = exc.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--broker", "http://x:1", "--state", "."], "broker 'http://x:1' is not mqtt[s]://"),
        (["--broker", "mqtt://h:1", "--state", ".", "--partition", "3/3"], "partition '3/3'"),
        (["--broker", "mqtt://h:1", "--state", "nowhere"], "'nowhere' is not a sandbox state"),
    ],
)
def test_fleet_serve_names_the_bad_value(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = _run(capsys, "fleet", "serve", *args)
    assert code == 1
    assert err.startswith("smetsim: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_sandbox_names_a_bad_broker(capsys: pytest.CaptureFixture[str]) -> None:
    before = set(Path(tempfile.gettempdir()).glob("smetsim-sandbox-*"))
    code, err = _run(capsys, "sandbox", "--wan", "mqtt://host:99999")
    assert code == 1
    assert "--wan: broker 'mqtt://host:99999': port 99999 is not 1 to 65535" in err
    assert set(Path(tempfile.gettempdir()).glob("smetsim-sandbox-*")) == before


async def _start(*args: str) -> tuple[asyncio.subprocess.Process, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smetsim.cli", *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("Ctrl-C"):
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line, f"{args[0]} ended early: {lines}"
        lines.append(line.rstrip("\n"))
    return process, lines


async def _stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGINT)
    assert process.stdout is not None
    rest = await asyncio.wait_for(process.stdout.read(), 30)
    assert await process.wait() == 0
    return rest.decode()


async def test_sandbox_and_fleet_worker_over_a_broker(tmp_path: Path, mqtt_broker: int) -> None:
    state = tmp_path / "state"
    broker = f"mqtt://127.0.0.1:{mqtt_broker}"
    sandbox, lines = await _start(
        "sandbox", "--state", str(state), "--port", "0", "--wan", broker, "--no-latency"
    )
    worker = None
    try:
        url = re.search(r"listening on (http://\S+)", lines[0])
        assert url is not None, lines
        hint = next(line for line in lines if line.strip().startswith("WAN:"))
        assert f"smetsim fleet serve --broker {broker} --state {state}" in hint
        worker, served = await _start(
            "fleet", "serve", "--broker", broker, "--state", str(state), "--no-latency"
        )
        assert "serving 1 hub(s)" in served[0]
        async with DuisClient(
            url.group(1), keys=sandbox_keystore(state), sign_xml=True, timeout=10
        ) as client:
            read = request(client, "4.1.1", ESME, "<sr:ReadInstantaneousImportRegisters/>")
            for _ in range(100):  # until the gateway has seen the worker come online
                outcome = await client.send(read, wait=True, within=10)
                if outcome.answers[0].code != "E1001":
                    break
                await asyncio.sleep(0.05)
                read = request(client, "4.1.1", ESME, "<sr:ReadInstantaneousImportRegisters/>")
            assert [a.code for a in outcome.answers] == ["I99"]
            assert outcome.final is not None
            assert outcome.final.code == "I0"
            assert SUPPLIER.hex("-").upper() in outcome.final.body.decode()
        assert "stopped (1 commands answered)" in await _stop(worker)
        worker = None
    finally:
        if worker is not None and worker.returncode is None:
            worker.kill()
            await worker.wait()
        assert "stopped" in await _stop(sandbox)


def test_sandbox_with_no_broker_there_says_so_and_leaves_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = set(Path(tempfile.gettempdir()).glob("smetsim-sandbox-*"))
    code, err = _run(capsys, "sandbox", "--port", "0", "--wan", "mqtt://127.0.0.1:1")
    assert code == 1
    assert "--wan: cannot reach the MQTT broker mqtt://127.0.0.1:1" in err
    assert set(Path(tempfile.gettempdir()).glob("smetsim-sandbox-*")) == before
