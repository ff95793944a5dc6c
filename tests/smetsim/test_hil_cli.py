"""`smetsim hil ...`: read, serve, serve-device and bridge, with no hardware.

The serving commands' cores run in a background thread (their own event loop) so that
`hil read` and `hil bridge` can run in-process through the real CLI entry point; one test
runs `smetsim hil serve --pty` as a real process for the first-line contract.
"""

from __future__ import annotations

import asyncio
import errno
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import serial

from gbcs import content as c
from gbcs.builders import Builder
from gbcs.codes import CRA, SUPPLIER
from gbcs.eui import parse_eui
from gbcs.frames import Message
from gbcs.keystore import generate_test_pki
from gbcs.verify import Check, Verifier
from gbcs.wan import HubUnreachableError, Wan
from hil.dongle import LinkTiming, SerialWan
from smetsim.cli import main
from smetsim.commands.hil import (
    DEFAULT_SEED,
    DeviceChoice,
    DeviceServeOptions,
    ServeOptions,
    serve_dongle_device,
    serve_optical,
)

ESME = "00-DB-12-34-56-78-90-A0"

Serving = Callable[[Callable[[str], None], asyncio.Event], Awaitable[None]]


@contextmanager
def background(serving: Serving) -> Iterator[str]:
    """Run a serving core in a thread with its own loop; yields what it announced."""
    announced: list[str] = []
    failure: list[BaseException] = []
    ready = threading.Event()
    control: dict[str, object] = {}

    def run() -> None:
        async def runner() -> None:
            stop = asyncio.Event()
            control["loop"] = asyncio.get_running_loop()
            control["stop"] = stop

            def announce(where: str) -> None:
                announced.append(where)
                ready.set()

            try:
                await serving(announce, stop)
            except BaseException as exc:
                failure.append(exc)
            finally:
                ready.set()

        asyncio.run(runner())

    thread = threading.Thread(target=run, name="hil-serving")
    thread.start()
    try:
        assert ready.wait(60), "the serving core did not start"
        if failure:
            raise failure[0]
        yield announced[0]
    finally:
        loop = control.get("loop")
        stop = control.get("stop")
        if isinstance(loop, asyncio.AbstractEventLoop) and isinstance(stop, asyncio.Event):
            loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        assert not thread.is_alive()


def optical(options: ServeOptions) -> Serving:
    return lambda announce, stop: serve_optical(options, announce, stop)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_hil_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["hil", "--help"], capsys)
    assert code == 0
    for name in ("read", "serve", "serve-device", "bridge"):
        assert name in out


def test_read_a_served_pty_as_a_table_and_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    with background(optical(ServeOptions(pty=True, reaction=0.005))) as path:
        code, out, err = run_cli(["hil", "read", "--port", path], capsys)
        assert (code, err) == (0, "")
        assert "meter     NBM NB100-00010203  (mode C, up to 9600 baud)" in out
        assert re.search(r"^0-0:96\.1\.0 +00DB1234567890A0$", out, re.M)
        assert re.search(r"^1-0:1\.8\.0 +\d+\.\d{3}  kWh$", out, re.M)
        code, out, err = run_cli(["hil", "read", "--port", path, "--json"], capsys)
    assert (code, err) == (0, "")
    readout = json.loads(out)
    assert readout["port"] == path
    assert readout["baud"] == 9600
    registers = {r["obis"]: r for r in readout["registers"]}
    assert registers["0-0:96.1.0"]["value"] == "00DB1234567890A0"
    assert registers["1-0:1.8.0"]["type"] == "quantity"
    assert registers["1-0:0.2.0"]["value"] == "00010203"
    assert readout["clock"] is not None


def test_profile_choices_reach_the_wire_over_tcp(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    choice = DeviceChoice(device="00-DB-12-34-56-78-90-B0", profile="calder-cx3")
    capture = tmp_path / "session.log"
    with background(optical(ServeOptions(tcp=0, choice=choice, reaction=0.005))) as url:
        assert url.startswith("socket://127.0.0.1:")
        code, out, err = run_cli(
            ["hil", "read", "--port", url, "--json", "--capture", str(capture)], capsys
        )
    assert (code, err) == (0, "")
    readout = json.loads(out)
    assert readout["identification"]["manufacturer"] == "CAl"  # 20 ms variant
    assert readout["identification"]["mode_e"] is True
    assert readout["baud"] == 19200
    addresses = [r["address"] for r in readout["registers"]]
    assert "C.1.0" in addresses  # reduced_obis
    assert "1.8.0" in addresses
    assert "baud 300 -> 19200" in capture.read_text()


def test_a_bad_bcc_is_one_line_naming_the_frame_log(capsys: pytest.CaptureFixture[str]) -> None:
    with background(optical(ServeOptions(pty=True, quirks=["wrong_bcc"], reaction=0.005))) as path:
        code, out, err = run_cli(["hil", "read", "--port", path], capsys)
    assert code == 1
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith(f"smetsim: error: {path}: bad BCC in data readout: received 0x")
    match = re.search(r"\(frame log: (.+)\)$", line)
    assert match is not None
    log = Path(match[1])
    try:
        assert "error: bad BCC" in log.read_text()
    finally:
        log.unlink()


def test_a_meter_that_never_answers(capsys: pytest.CaptureFixture[str]) -> None:
    with background(optical(ServeOptions(pty=True, quirks=["mute"]))) as path:
        code, _, err = run_cli(
            ["hil", "read", "--port", path, "--retries", "2", "--answer-timeout", "0.1"], capsys
        )
    assert code == 1
    [line] = err.splitlines()
    assert f"smetsim: error: no answer from {path} after 2 sign-on attempt(s)" in line
    Path(line.rsplit("frame log: ", 1)[1].rstrip(")")).unlink()


def test_port_problems_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, _, err = run_cli(["hil", "read", "--port", "/dev/ttyNOPE9"], capsys)
    assert (code, err) == (1, "smetsim: error: no such port: /dev/ttyNOPE9\n")
    code, _, err = run_cli(["hil", "read", "--port", "socket://127.0.0.1:1"], capsys)
    assert code == 1
    assert err.startswith("smetsim: error: connection refused: socket://127.0.0.1:1")
    locked = tmp_path / "ttyLOCKED"
    locked.touch(mode=0)

    def refuse(self: serial.Serial) -> None:
        raise serial.SerialException(errno.EACCES, f"could not open port {self.port}")

    monkeypatch.setattr(serial.Serial, "open", refuse)
    code, _, err = run_cli(["hil", "read", "--port", str(locked)], capsys)
    assert code == 1
    assert err.startswith(f"smetsim: error: permission denied opening {locked}")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["hil", "read", "--port", "x", "--max-baud", "115200"], "--max-baud 115200"),
        (["hil", "read", "--port", "x", "--address", "a!b"], "--address"),
        (["hil", "serve"], "exactly one of --pty and --tcp"),
        (["hil", "serve", "--pty", "--tcp", "0"], "exactly one of --pty and --tcp"),
        (["hil", "serve", "--pty", "--profile", "no-such"], "no-such"),
        (["hil", "serve", "--pty", "--device", "00-DB-12"], "--device"),
        (["hil", "serve", "--pty", "--seed", "xyz"], "--seed must be hex"),
        (["hil", "serve", "--pty", "--quirk", "sparkles"], "--quirk: unknown optical quirk"),
        (["hil", "serve", "--pty", "--profile", "northbrook-ng20"], "is a GSME"),
        (["hil", "serve-device"], "exactly one of --pty and --port"),
        (["hil", "serve-device", "--pty", "--hub", "00"], "--hub"),
        (["hil", "bridge", "--port", "x", "--device", "zz"], "--device"),
        (["hil", "bridge", "--port", "/dev/ttyNOPE9", "--device", ESME], "no such port"),
        (
            ["hil", "bridge", "--stdin", "--port", "/dev/ttyNOPE9", "--device", ESME],
            "no such port",
        ),
        (["hil", "bridge", "--port", "x", "--device", ESME, "--hub", "00"], "--hub"),
        (["hil", "bridge", "--port", "x", "--device", ESME, "--seed", "xyz"], "--seed must be hex"),
        (["hil", "bridge", "--port", "x", "--device", ESME, "--baud", "0"], "--baud"),
    ],
)
def test_user_errors_are_one_line(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(args, capsys)
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith("smetsim: error: ")
    assert needle in line


def test_a_bad_parity_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["hil", "read", "--port", "x", "--parity", "odd"], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "odd" in err


# -- the dongle, with the emulator at the far end ------------------------------------------------

SEED = bytes.fromhex(DEFAULT_SEED)


def dongle_device(hub: str | None = None) -> Serving:
    options = DeviceServeOptions(pty=True, hub=hub)
    return lambda announce, stop: serve_dongle_device(options, announce, stop)


def ecs52(counter: int) -> tuple[Message, Builder, Verifier]:
    device = parse_eui(ESME)
    keys = generate_test_pki(SEED, devices=[device])
    builder = Builder(keys)
    command = builder.command(
        originator=SUPPLIER,
        target=device,
        counter=counter,
        message_code=c.ReadFirmwareVersion.message_code,
        content=c.ReadFirmwareVersion(counter).encode(),
        critical=False,
    )
    return command, builder, Verifier(keys)


def check_firmware_response(frame: bytes, command: Message, verifier: Verifier) -> None:
    response = Message.from_bytes(frame)
    assert response.cra is CRA.RESPONSE
    assert response.originator_counter == command.originator_counter
    assert response.business_originator == parse_eui(ESME)
    verification = verifier.verify(response)
    assert Check.VALID in (verification.mac, verification.signature)
    assert Check.INVALID not in (verification.mac, verification.signature)
    version = c.FirmwareVersion.decode(response.content)
    assert version.version == bytes.fromhex("00010203")


HUB = "00-DB-12-34-56-78-90-A2"


async def test_the_gateway_reaches_an_emulated_esme_through_a_pty_dongle() -> None:
    command, _, verifier = ecs52(1_700_000_000_001)
    timing = LinkTiming(ack_timeout=0.5, retries=4)
    with background(dongle_device(hub=HUB)) as path:
        wan: Wan = await SerialWan.open(path, [parse_eui(ESME), parse_eui(HUB)], timing=timing)
        try:
            got: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
            wan.set_receiver(lambda eui, frame: got.put_nowait((eui, frame)))
            assert wan.reachable(parse_eui(ESME))
            await wan.send(parse_eui(ESME), command.to_bytes())
            async with asyncio.timeout(10):
                eui, frame = await got.get()
            assert eui == parse_eui(ESME)
            check_firmware_response(frame, command, verifier)
            # as the gateway sends it: to the hub the ESME sits behind
            command2, _, _ = ecs52(1_700_000_000_005)
            await wan.send(parse_eui(HUB), command2.to_bytes())
            async with asyncio.timeout(10):
                eui, frame = await got.get()
            assert eui == parse_eui(ESME)
            check_firmware_response(frame, command2, verifier)
            with pytest.raises(HubUnreachableError, match="not behind the dongle"):
                await wan.send(parse_eui("00-DB-12-34-56-78-90-A9"), command.to_bytes())
        finally:
            await wan.close()


def test_bridge_pipes_hex_lines_to_the_device_and_back(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    command, _, verifier = ecs52(1_700_000_000_002)
    with background(dongle_device()) as path:
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"# ECS52\n{command.to_bytes().hex()}\n"))
        code, out, err = run_cli(
            ["hil", "bridge", "--stdin", "--port", path, "--device", ESME, "--linger", "1"],
            capsys,
        )
        assert (code, err) == (0, "")
        [line] = out.splitlines()
        eui, hex_frame = line.split()
        assert parse_eui(eui) == parse_eui(ESME)
        check_firmware_response(bytes.fromhex(hex_frame), command, verifier)
        monkeypatch.setattr(sys, "stdin", io.StringIO("not hex at all\n"))
        code, out, err = run_cli(
            ["hil", "bridge", "--stdin", "--port", path, "--device", ESME, "--linger", "0"],
            capsys,
        )
    assert code == 1
    assert err == "smetsim: error: line 1 is not hex: 'not hex at all'\n"


def test_serve_pty_prints_the_device_path_first_and_stops_on_sigterm(
    capsys: pytest.CaptureFixture[str],
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "smetsim.cli", "hil", "serve", "--pty", "--reaction-ms", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        path = process.stdout.readline().strip()
        assert path.startswith("/dev/"), path
        assert os.path.exists(path)
        code, out, err = run_cli(["hil", "read", "--port", path, "--json"], capsys)
        assert (code, err) == (0, "")
        assert json.loads(out)["identification"]["ident"] == "NB100-00010203"
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_bridge_refuses_a_state_made_with_another_seed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "seed").write_text("00ff\n")
    code, _, err = run_cli(
        ["hil", "bridge", "--port", "x", "--device", ESME, "--state", str(tmp_path)], capsys
    )
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(f"smetsim: error: --state {tmp_path} was made with seed 00ff")
    assert "--seed 00ff" in line


def test_bridge_runs_the_gateway_over_the_dongle_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with background(dongle_device(hub=HUB)) as path:
        state = str(tmp_path / "state")
        args = ["hil", "bridge", "--port", path, "--device", ESME, "--http-port", "0"]
        process = subprocess.Popen(
            [sys.executable, "-m", "smetsim.cli", *args, "--state", state],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            lines = []
            while (line := process.stdout.readline()) and line.strip() != "Ctrl-C stops it.":
                lines.append(line.rstrip())
            assert lines, process.stderr.read() if process.stderr else ""
            assert re.match(r"smetsim hil bridge: listening on http://127\.0\.0\.1:\d+$", lines[0])
            dongle = [x for x in lines if x.lstrip().startswith("dongle:")]
            assert dongle == [
                f"  dongle:    hub {HUB} (device {ESME}) through {path} at 115200 baud, "
                "ACK timeout 0.5 s, 3 attempt(s); every other hub: the in-process fleet"
            ]
            assert not any("note:" in x for x in lines)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
            assert process.returncode == 0, err
            assert out.strip() == "smetsim hil bridge: stopped"
            assert "Traceback" not in err
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=30)
    assert (tmp_path / "state" / "seed").read_text().strip() == DEFAULT_SEED
