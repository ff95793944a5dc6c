"""`smetsim hil ...`: hardware in the loop - optical port (IEC 62056-21) and HAN dongle.

- ``hil read --port DEV [--json]``: read a meter out through an optical probe;
- ``hil serve --pty | --tcp PORT``: an emulated ESME's optical port, for clients and benches;
- ``hil serve-device --pty | --port DEV``: an emulated device behind a (virtual) HAN dongle;
- ``hil bridge --port DEV --device EUI``: the sandbox's gateway, with the dongle as the WAN of
  the device's communications hub (``--stdin``: the gateway's end of a dongle as a hex pipe).

The guide is ``docs/hil.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from emulator.errors import EmulatorError
from emulator.fleet import Fleet
from gbcs.eui import eui_hex, parse_eui
from gbcs.keystore import Keystore, generate_test_pki
from gbcs.wan import HubUnreachableError
from hil.dongle import DEFAULT_BAUD, DeviceServer, DongleLink, LinkTiming, SerialWan
from hil.errors import HilError, Iec62056EncodeError, SessionError
from hil.framelog import FrameLog
from hil.iec62056_21 import MODE_C_BAUD, SignOnRequest
from hil.link import ByteLink, Framing, Parity
from hil.optical import OpticalTiming, Readout, read_meter
from hil.virtual_port import MeterTiming, OpticalMeter, PtyOpticalPort, TcpOpticalPort
from smetsim.commands._signals import stop_on_signals

if TYPE_CHECKING:
    from smetsim.sandbox import Sandbox, SandboxSettings

DEFAULT_DEVICE = "00-DB-12-34-56-78-90-A0"  # the sandbox's ESME
DEFAULT_PROFILE = "northbrook-nb100"
DEFAULT_SEED = b"smetsim-hil".hex()

hil_app = typer.Typer(
    name="hil",
    help="Hardware in the loop: optical port (IEC 62056-21) and HAN dongle over serial.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def fail(message: str) -> typer.Exit:
    """Print the one-line user error and give the exit to raise."""
    typer.echo(f"smetsim: error: {message}", err=True)
    return typer.Exit(1)


def _save_frame_log(log: FrameLog, capture: Path | None) -> Path | None:
    """The frame log to ``capture``, or (no capture asked) to a temporary file."""
    try:
        if capture is not None:
            log.write(capture)
            return capture
        with tempfile.NamedTemporaryFile(
            "w", prefix="smetsim-hil-", suffix=".log", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(log.dump())
            return Path(handle.name)
    except OSError:
        return None


# -- read -------------------------------------------------------------------------------------


def _table(readout: Readout, port: str) -> str:
    ident = readout.identification
    lines = [
        f"port      {port}",
        f"meter     {ident.manufacturer} {ident.ident}"
        f"  (mode {ident.protocol_mode.value}, up to {ident.max_baud} baud"
        f"{', 20 ms' if ident.fast_reaction else ''}{', mode E' if ident.mode_e else ''})",
        f"read at   {readout.baud} baud",
    ]
    if readout.clock is not None:
        lines.append(f"clock     {readout.clock.isoformat(sep=' ')}")
    names = [r.address for r in readout.registers]  # as the meter wrote them
    width = max([len("address"), *map(len, names)])
    value_width = max([len("value")] + [len(r.text) for r in readout.registers])
    lines.append("")
    lines.append(f"{'address':<{width}}  {'value':>{value_width}}  unit")
    for name, register in zip(names, readout.registers, strict=True):
        row = f"{name:<{width}}  {register.text:>{value_width}}  {register.unit or ''}"
        lines.append(row.rstrip())
    return "\n".join(lines)


@hil_app.command("read")
def read(
    port: str = typer.Option(
        ..., "--port", help="Serial device (/dev/ttyUSB0), pty, or socket://HOST:PORT."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the readout as JSON."),
    parity: Parity = typer.Option(  # noqa: B008  # typer declares options this way
        Parity.AUTO,
        "--parity",
        help="How 7E1 is made: auto (hardware; software on a pty), hardware, software, none.",
    ),
    wake_up: bool = typer.Option(False, "--wake-up", help="Send the battery meter wake-up first."),
    address: str = typer.Option("", "--address", help="Device address in the sign-on request."),
    max_baud: int = typer.Option(19200, "--max-baud", help="Highest baud rate to agree to."),
    retries: int = typer.Option(3, "--retries", help="Sign-on attempts."),
    answer_timeout: float = typer.Option(
        1.5, "--answer-timeout", help="Seconds to wait for an answer (the standard's 1.5)."
    ),
    capture: Path | None = typer.Option(  # noqa: B008  # typer declares options this way
        None, "--capture", help="Write the session's frame log to this file."
    ),
) -> None:
    """Read a meter out through its optical port (IEC 62056-21 mode C)."""
    if max_baud not in MODE_C_BAUD.values():
        rates = ", ".join(str(r) for r in MODE_C_BAUD.values())
        raise fail(f"--max-baud {max_baud} is not a mode C rate ({rates})")
    if retries < 1:
        raise fail(f"--retries must be at least 1, got {retries}")
    try:
        SignOnRequest(address)
    except Iec62056EncodeError as exc:
        raise fail(f"--address: {exc}") from None
    if answer_timeout <= 0:
        raise fail(f"--answer-timeout must be positive, got {answer_timeout}")
    timing = replace(
        OpticalTiming(),
        answer_timeout=answer_timeout,
        inter_char_timeout=max(answer_timeout, 0.05),
        retries=retries,
        retry_pause=min(1.5, answer_timeout),
    )
    log = FrameLog()
    try:
        readout = asyncio.run(
            read_meter(
                port,
                parity=parity,
                timing=timing,
                address=address,
                max_baud=max_baud,
                wake_up=wake_up,
                frame_log=log,
            )
        )
    except SessionError as exc:
        saved = _save_frame_log(log, capture) if len(log) else None  # nothing if never opened
        where = f" (frame log: {saved})" if saved is not None else ""
        raise fail(f"{exc}{where}") from None
    if capture is not None:
        _save_frame_log(log, capture)
    if as_json:
        typer.echo(json.dumps({"port": port, **readout.to_json()}, indent=2))
    else:
        typer.echo(_table(readout, port))


# -- the emulated devices -----------------------------------------------------------------------


@dataclass
class DeviceChoice:
    """Which emulated device to serve, from which profile and seed."""

    device: str = DEFAULT_DEVICE
    profile: str = DEFAULT_PROFILE
    firmware: str | None = None
    seed: str = DEFAULT_SEED


def _seed(text: str) -> bytes:
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        raise fail(f"--seed must be hex, got {text!r}") from None
    if not seed:
        raise fail("--seed must not be empty")
    return seed


def _fleet(choice: DeviceChoice, *, with_pki: bool) -> tuple[Fleet, bytes]:
    """A fleet hosting the chosen device (and the keys it trusts); (fleet, EUI)."""
    seed = _seed(choice.seed)
    try:
        eui = parse_eui(choice.device)
    except ValueError as exc:
        raise fail(f"--device: {exc}") from None
    organisations = generate_test_pki(seed, devices=[eui]) if with_pki else Keystore()
    fleet = Fleet(seed, organisations)
    try:
        fleet.add(eui, choice.profile, firmware=choice.firmware)
    except KeyError as exc:
        raise fail(f"--profile/--firmware: {exc.args[0]}") from None
    except EmulatorError as exc:
        raise fail(str(exc)) from None
    return fleet, eui


@dataclass
class ServeOptions:
    """What `hil serve` runs (the CLI fills it; tests drive :func:`serve_optical` directly)."""

    pty: bool = False
    tcp: int | None = None
    host: str = "127.0.0.1"
    software_7e1: bool | None = None
    choice: DeviceChoice = field(default_factory=DeviceChoice)
    quirks: Sequence[str] = ()
    reaction: float | None = None  # seconds; None: the standard's 200 ms (20 ms variant)


async def serve_optical(
    options: ServeOptions, announce: Callable[[str], None], stop: asyncio.Event
) -> None:
    """Serve the optical port until ``stop`` is set; ``announce(path_or_url)`` once ready."""
    from hil.virtual_port import OpticalQuirks
    from smetsim.hil_adapters import EsmeOpticalSource, OpticalProfileError

    fleet, eui = _fleet(options.choice, with_pki=False)
    try:
        source = EsmeOpticalSource(fleet, eui)
    except (ValueError, OpticalProfileError) as exc:
        raise fail(str(exc)) from None
    try:
        extra = OpticalQuirks.from_names(list(options.quirks))
    except ValueError as exc:
        raise fail(f"--quirk: {exc}") from None
    profile = source.optical
    quirks = OpticalQuirks(
        **{
            name: getattr(profile.quirks, name) or getattr(extra, name)
            for name in OpticalQuirks.__dataclass_fields__
        }
    )
    timing = MeterTiming()
    if options.reaction is not None:
        timing = replace(timing, reaction=options.reaction, fast_reaction=options.reaction)

    def meter() -> OpticalMeter:
        return OpticalMeter(source, quirks=quirks, timing=timing, password=profile.password)

    if options.pty:
        software = True if options.software_7e1 is None else options.software_7e1
        port = PtyOpticalPort(meter(), software_7e1=software)
        path = await port.open()
        try:
            announce(path)
            await stop.wait()
        finally:
            await port.close()
        return
    assert options.tcp is not None
    software = False if options.software_7e1 is None else options.software_7e1
    server = TcpOpticalPort(meter, software_7e1=software)
    try:
        url = await server.open(options.host, options.tcp)
    except OSError as exc:
        raise fail(f"cannot listen on {options.host}:{options.tcp}: {exc.strerror}") from None
    try:
        announce(url)
        await stop.wait()
    finally:
        await server.close()


def _run_until_signalled(
    main: Callable[[Callable[[str], None], asyncio.Event], object],
) -> None:
    """Run ``main(announce, stop)``: prints the path on stdout's first line, stops on
    SIGINT/SIGTERM."""

    async def runner() -> None:
        stop = stop_on_signals()

        def announce(where: str) -> None:
            typer.echo(where)
            sys.stdout.flush()

        coroutine = main(announce, stop)
        assert asyncio.iscoroutine(coroutine)
        await coroutine

    asyncio.run(runner())


@hil_app.command("serve")
def serve(
    pty: bool = typer.Option(False, "--pty", help="Serve on a new pseudo-terminal."),
    tcp: int | None = typer.Option(
        None, "--tcp", metavar="PORT", help="Serve on a TCP port (0: any free one)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on with --tcp."),
    software_7e1: bool | None = typer.Option(
        None,
        "--7e1/--8n1",
        help="Parity in software (default on a pty, where 7E1 cannot be set) or bytes as is.",
    ),
    device: str = typer.Option(DEFAULT_DEVICE, "--device", help="The emulated ESME's EUI."),
    profile: str = typer.Option(DEFAULT_PROFILE, "--profile", help="Its firmware profile."),
    firmware: str | None = typer.Option(None, "--firmware", help="Its firmware version."),
    seed: str = typer.Option(DEFAULT_SEED, "--seed", help="Fleet seed (hex)."),
    quirk: list[str] = typer.Option(  # noqa: B008  # typer declares options this way
        [], "--quirk", help="Add an optical quirk: reduced_obis, wake_up_required, wrong_bcc, mute."
    ),
    reaction_ms: float | None = typer.Option(
        None, "--reaction-ms", help="The meter's reaction time (default 200, or 20)."
    ),
) -> None:
    """Serve an emulated ESME's optical port; prints the device path (or socket URL) first."""
    if pty == (tcp is not None):
        raise fail("give exactly one of --pty and --tcp PORT")
    if tcp is not None and not 0 <= tcp <= 65535:
        raise fail(f"--tcp {tcp} is not a TCP port number")
    if reaction_ms is not None and not 0 <= reaction_ms <= 1500:
        raise fail(f"--reaction-ms {reaction_ms} is outside 0..1500")
    options = ServeOptions(
        pty=pty,
        tcp=tcp,
        host=host,
        software_7e1=software_7e1,
        choice=DeviceChoice(device, profile, firmware, seed),
        quirks=quirk,
        reaction=None if reaction_ms is None else reaction_ms / 1000,
    )
    _run_until_signalled(lambda announce, stop: serve_optical(options, announce, stop))


# -- the dongle ---------------------------------------------------------------------------------


@dataclass
class DeviceServeOptions:
    pty: bool = False
    port: str | None = None
    baud: int = DEFAULT_BAUD
    choice: DeviceChoice = field(default_factory=DeviceChoice)
    tick: float = 30.0  # seconds between letting the device's time pass (its alerts go up)
    hub: str | None = None  # the comms hub EUI a gateway addresses the device through


async def serve_dongle_device(
    options: DeviceServeOptions, announce: Callable[[str], None], stop: asyncio.Event
) -> None:
    """An emulated device behind a virtual HAN dongle, until ``stop`` is set."""
    from smetsim.hil_adapters import device_handler, wall_clock

    fleet, eui = _fleet(options.choice, with_pki=True)
    handler = device_handler(fleet, eui)
    also: list[bytes] = []
    if options.hub is not None:
        try:
            also.append(parse_eui(options.hub))
        except ValueError as exc:
            raise fail(f"--hub: {exc}") from None
    if options.pty:
        byte_link = await ByteLink.open_pty(baudrate=options.baud)
    else:
        assert options.port is not None
        try:
            byte_link = await ByteLink.open(
                options.port, baudrate=options.baud, framing=Framing.EIGHT_N1
            )
        except HilError as exc:
            raise fail(str(exc)) from None
    link = DongleLink(byte_link)
    link.start()
    server = DeviceServer(link, eui, handler, also=also)
    serving = asyncio.create_task(server.serve(), name="dongle-device")

    async def ticking() -> None:
        while True:
            await asyncio.sleep(options.tick)
            for outgoing in fleet.advance(wall_clock()):
                if outgoing.eui == eui:
                    with contextlib.suppress(HilError):
                        await server.send(outgoing.frame)

    ticker = asyncio.create_task(ticking(), name="dongle-device-ticks")
    try:
        announce(byte_link.state.url)
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({stopping, serving}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping
    finally:
        for task in (ticker, serving):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await link.close()


@hil_app.command("serve-device")
def serve_device(
    pty: bool = typer.Option(False, "--pty", help="Serve on a new pseudo-terminal."),
    port: str | None = typer.Option(None, "--port", help="Serve on this serial port instead."),
    baud: int = typer.Option(DEFAULT_BAUD, "--baud", help="Line speed of the dongle link."),
    device: str = typer.Option(DEFAULT_DEVICE, "--device", help="The emulated device's EUI."),
    profile: str = typer.Option(DEFAULT_PROFILE, "--profile", help="Its firmware profile."),
    firmware: str | None = typer.Option(None, "--firmware", help="Its firmware version."),
    seed: str = typer.Option(
        DEFAULT_SEED, "--seed", help="Fleet and test PKI seed (hex): the gateway's must match."
    ),
    tick: float = typer.Option(30.0, "--tick", help="Seconds between the device's time steps."),
    hub: str | None = typer.Option(
        None, "--hub", help="Also take frames addressed to this comms hub EUI (as a gateway sends)."
    ),
) -> None:
    """Serve an emulated device's GBCS over the dongle framing; prints the device path first."""
    if pty == (port is not None):
        raise fail("give exactly one of --pty and --port DEV")
    if baud <= 0:
        raise fail(f"--baud must be positive, got {baud}")
    if tick <= 0:
        raise fail(f"--tick must be positive, got {tick}")
    options = DeviceServeOptions(
        pty=pty,
        port=port,
        baud=baud,
        choice=DeviceChoice(device, profile, firmware, seed),
        tick=tick,
        hub=hub,
    )
    _run_until_signalled(lambda announce, stop: serve_dongle_device(options, announce, stop))


def _pipe(fd: int) -> io.FileIO:
    """A file object over stdin's descriptor for a read-pipe transport (which closes it)."""
    return io.FileIO(fd, "rb", closefd=False)


async def _stdin_lines() -> asyncio.Queue[str | None]:
    """Lines of stdin as they come (None at the end); a stdin without a descriptor is read
    whole at once."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    try:
        fd = sys.stdin.fileno()
        streaming = not stat.S_ISREG(os.fstat(fd).st_mode)  # a file is read whole
    except (io.UnsupportedOperation, AttributeError, ValueError, OSError):
        streaming = False
    if not streaming:
        for line in sys.stdin.read().splitlines():
            queue.put_nowait(line)
        queue.put_nowait(None)
        return queue
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    protocol = asyncio.StreamReaderProtocol(reader)
    transport, _ = await loop.connect_read_pipe(lambda: protocol, _pipe(fd))

    async def pump() -> None:
        try:
            while raw := await reader.readline():
                queue.put_nowait(raw.decode("utf-8", "replace"))
        finally:
            transport.close()
            queue.put_nowait(None)

    queue.pump = asyncio.create_task(pump())  # type: ignore[attr-defined]
    return queue


async def run_bridge(
    port: str, devices: list[bytes], *, baud: int, timing: LinkTiming, linger: float
) -> int:
    """Hex lines on stdin go to the device; frames from it come out as ``EUI HEX`` lines."""
    try:
        wan = await SerialWan.open(port, devices, baudrate=baud, timing=timing)
    except HilError as exc:
        raise fail(str(exc)) from None
    activity = asyncio.Event()

    def received(eui: bytes, frame: bytes) -> None:
        activity.set()
        typer.echo(f"{eui_hex(eui)} {frame.hex()}")
        sys.stdout.flush()

    wan.set_receiver(received)
    lines = await _stdin_lines()
    status = 0
    try:
        number = 0
        while (line := await lines.get()) is not None:
            number += 1
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            target = devices[0]
            parts = text.split()
            if len(parts) == 2:
                try:
                    target = parse_eui(parts[0])
                except ValueError as exc:
                    typer.echo(f"smetsim: error: line {number}: {exc}", err=True)
                    status = 1
                    continue
                text = parts[1]
            try:
                frame = bytes.fromhex("".join(text.split()))
            except ValueError:
                typer.echo(f"smetsim: error: line {number} is not hex: {text[:40]!r}", err=True)
                status = 1
                continue
            try:
                await wan.send(target, frame)
            except HubUnreachableError as exc:
                typer.echo(f"smetsim: error: line {number}: {exc}", err=True)
                status = 1
                continue
        while True:  # until nothing has come for `linger` seconds
            activity.clear()
            try:
                async with asyncio.timeout(linger):
                    await activity.wait()
            except TimeoutError:
                break
    finally:
        pump = getattr(lines, "pump", None)
        if isinstance(pump, asyncio.Task):
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        await wan.close()
    return status


# -- the gateway's end: the sandbox's gateway with a dongle as the WAN of one hub -------------

DEFAULT_HUB = "00-DB-12-34-56-78-90-A2"  # the sandbox's communications hub


@dataclass
class BridgeOptions:
    """What `hil bridge` runs in gateway mode (tests drive :func:`run_gateway_bridge`)."""

    port: str
    devices: list[bytes]
    hub: bytes
    settings: SandboxSettings
    baud: int = DEFAULT_BAUD
    timing: LinkTiming = field(default_factory=LinkTiming)
    capture: Path | None = None


async def run_gateway_bridge(
    options: BridgeOptions, started: Callable[[Sandbox], None], stop: asyncio.Event
) -> None:
    """The sandbox's gateway, the hub ``options.hub`` reached through the dongle on
    ``options.port`` (every other hub through the in-process fleet), until ``stop`` is set;
    ``started(sandbox)`` once it listens."""
    from gateway.config import ConfigError
    from gateway.duis.schema import SchemaLoadError
    from gateway.errors import GatewayError
    from smetsim.sandbox import Sandbox

    behind = list(dict.fromkeys([*options.devices, options.hub]))
    frame_log = FrameLog()
    try:
        wan = await SerialWan.open(
            options.port,
            behind,
            baudrate=options.baud,
            timing=options.timing,
            frame_log=frame_log,
        )
    except HilError as exc:
        if options.settings.temporary:
            shutil.rmtree(options.settings.gateway.state, ignore_errors=True)
        raise fail(str(exc)) from None
    try:
        sandbox = await Sandbox.start(options.settings, wan_routes={options.hub: wan})
    except (ConfigError, SchemaLoadError, GatewayError, EmulatorError) as exc:
        raise fail(str(exc)) from None
    try:
        sandbox.keystore.add_derived_devices(sandbox.seed, options.devices)
        started(sandbox)
        await stop.wait()
    finally:
        await sandbox.close()
        if options.capture is not None:
            try:
                frame_log.write(options.capture)
            except OSError as exc:
                typer.echo(f"smetsim: warning: --capture {options.capture}: {exc}", err=True)


def bridge_lines(sandbox: Sandbox, options: BridgeOptions) -> list[str]:
    """What `hil bridge` prints once it listens (where, and how the dongle is used)."""
    from gateway.model import DeviceStatus
    from gbcs.devices import DeviceType
    from gbcs.eui import eui_duis

    timing = options.timing
    lines = [f"smetsim hil bridge: listening on {sandbox.url}"]
    lines += [f"  {line}" for line in sandbox.describe()]
    devices = ", ".join(eui_duis(d) for d in options.devices)
    lines.append(
        f"  dongle:    hub {eui_duis(options.hub)} (device {devices}) through {options.port} "
        f"at {options.baud} baud, ACK timeout {timing.ack_timeout:g} s, "
        f"{timing.retries} attempt(s); every other hub: the in-process fleet"
    )
    service = sandbox.gateway.service
    for eui in options.devices:
        record = service.get_device(eui)
        if record is None:
            lines.append(
                f"  note:      {eui_duis(eui)} is not in the SMI: pre-notify it (SR 12.2, or "
                "'smetsim asn import'), add it to the hub's device log (SR 8.11) and commission "
                "it (SR 8.1.1); until then its SRs are refused (E19)"
            )
        elif record.status not in (
            DeviceStatus.COMMISSIONED,
            DeviceStatus.INSTALLED_NOT_COMMISSIONED,
        ):
            lines.append(
                f"  note:      {eui_duis(eui)} is {record.status.value} in the SMI: add it to "
                "the hub's device log (SR 8.11) and commission it (SR 8.1.1) first"
            )
        elif record.device_type not in (DeviceType.CHF, DeviceType.GPF) and record.chf_id not in (
            None,
            options.hub,
        ):
            assert record.chf_id is not None
            lines.append(
                f"  note:      {eui_duis(eui)} sits behind hub {eui_duis(record.chf_id)} in "
                f"the SMI, not {eui_duis(options.hub)}: its commands will not use the dongle"
            )
    lines.append("Ctrl-C stops it.")
    return lines


def _check_seed(state: Path | None, seed: bytes) -> None:
    """A state folder made with another seed has other keys than the device's."""
    if state is None or not (state / "seed").is_file():
        return
    try:
        existing = (state / "seed").read_text().strip()
    except OSError as exc:
        raise fail(f"--state {state}: cannot read its seed: {exc.strerror}") from None
    if existing != seed.hex():
        raise fail(
            f"--state {state} was made with seed {existing}, not {seed.hex()}: give "
            f"--seed {existing} here and to the device (serve-device --seed), or another --state"
        )


@hil_app.command("bridge")
def bridge(
    port: str = typer.Option(..., "--port", help="The serial port of the HAN dongle."),
    device: list[str] = typer.Option(  # noqa: B008  # typer declares options this way
        ..., "--device", help="EUI of a device behind the dongle (repeat for more)."
    ),
    hub: str = typer.Option(
        DEFAULT_HUB, "--hub", help="The communications hub the gateway reaches over the dongle."
    ),
    baud: int = typer.Option(DEFAULT_BAUD, "--baud", help="Line speed of the dongle link."),
    ack_timeout: float = typer.Option(0.5, "--ack-timeout", help="Seconds to wait for an ACK."),
    retries: int = typer.Option(3, "--retries", help="Attempts per frame."),
    state: Path | None = typer.Option(  # noqa: B008  # typer declares options this way
        None, "--state", help="The gateway's state folder (default: a temporary one)."
    ),
    http_port: int | None = typer.Option(
        None, "--http-port", min=0, max=65535, help="The gateway's HTTP port (8079; 0: any)."
    ),
    host: str | None = typer.Option(None, "--host", help="Address to listen on (127.0.0.1)."),
    seed: str = typer.Option(
        DEFAULT_SEED, "--seed", help="Test PKI seed (hex): the device's (serve-device --seed)."
    ),
    response_timeout: float | None = typer.Option(
        None, "--response-timeout", help="Seconds a device has to answer (30)."
    ),
    require_signatures: bool = typer.Option(
        False, "--require-signatures", help="Refuse unsigned and placeholder-signed requests."
    ),
    capture: Path | None = typer.Option(  # noqa: B008  # typer declares options this way
        None, "--capture", help="Write the dongle's frame log to this file on exit."
    ),
    stdin_mode: bool = typer.Option(
        False, "--stdin", help="No gateway: GBCS frames as hex lines on stdin, answers on stdout."
    ),
    linger: float = typer.Option(
        5.0, "--linger", help="With --stdin: seconds to wait for answers after the last line."
    ),
) -> None:
    """The sandbox's gateway (DUIS on HTTP) with a serial HAN dongle as the WAN of one hub:
    the device behind it answers the gateway's commands. With --stdin: a hex pipe instead
    (``HEX`` for the first --device, or ``EUI HEX`` per line; frames it sends come out on
    stdout as ``EUI HEX`` lines)."""
    euis = []
    for text in device:
        try:
            euis.append(parse_eui(text))
        except ValueError as exc:
            raise fail(f"--device: {exc}") from None
    if ack_timeout <= 0 or retries < 1 or linger < 0:
        raise fail("--ack-timeout must be positive, --retries at least 1, --linger not negative")
    if baud <= 0:
        raise fail(f"--baud must be positive, got {baud}")
    try:
        timing = LinkTiming(ack_timeout=ack_timeout, retries=retries)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if stdin_mode:
        status = asyncio.run(run_bridge(port, euis, baud=baud, timing=timing, linger=linger))
        if status:
            raise typer.Exit(status)
        return
    try:
        hub_eui = parse_eui(hub)
    except ValueError as exc:
        raise fail(f"--hub: {exc}") from None
    try:
        seed_bytes = bytes.fromhex(seed)
    except ValueError:
        raise fail(f"--seed must be hex, got {seed!r}") from None
    if not seed_bytes:
        raise fail("--seed must not be empty")
    if response_timeout is not None and response_timeout <= 0:
        raise fail(f"--response-timeout must be positive, got {response_timeout}")
    _check_seed(state, seed_bytes)
    from gateway.config import ConfigError
    from smetsim.sandbox import SandboxSettings

    try:
        settings = SandboxSettings.create(
            state=state,
            host=host,
            port=http_port,
            require_signatures=require_signatures,
            response_timeout=response_timeout,
        )
    except ConfigError as exc:
        raise fail(str(exc)) from None
    settings = replace(settings, gateway=replace(settings.gateway, seed=seed_bytes))
    options = BridgeOptions(port, euis, hub_eui, settings, baud, timing, capture)

    def started(sandbox: Sandbox, announce: Callable[[str], None]) -> None:
        for line in bridge_lines(sandbox, options):
            announce(line)
        if settings.gateway.allow_unsigned:
            typer.echo(
                "smetsim hil bridge: warning: unsigned and placeholder-signed requests are "
                "accepted (start with --require-signatures to refuse them)",
                err=True,
            )

    _run_until_signalled(
        lambda announce, stop: run_gateway_bridge(
            options, lambda sandbox: started(sandbox, announce), stop
        )
    )
    typer.echo("smetsim hil bridge: stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(hil_app, name="hil")
