"""`smetsim fleet ...`: firmware profiles, fast simulations and fleet snapshots.

- `smetsim fleet profiles [--dir DIR]`: validate and list firmware profiles.
- `smetsim fleet simulate --days N [--devices N] [--prepayment] [--snapshot FILE]`: run a
  fleet on a simulated clock and print what happened (JSON).
- `smetsim fleet inspect SNAPSHOT [--eui EUI]`: what a fleet snapshot holds.
- `smetsim fleet serve --broker URL --state DIR`: serve a sandbox's devices on an MQTT broker
  (`smetsim/commands/fleet_serve.py`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from emulator.clock import SimulatedClock
from emulator.devices.base import Device
from emulator.devices.chf import Chf
from emulator.devices.meter import MeterDevice
from emulator.errors import EmulatorError, ProfileError
from emulator.firmware import load_profiles
from emulator.fleet import Fleet
from gbcs import content as c
from gbcs.alerts import alert_name
from gbcs.eui import eui_duis, parse_eui
from gbcs.frames import Message
from gbcs.keystore import generate_test_pki
from smetsim.progress import progress

SANDBOX_ESME = parse_eui("00-DB-12-34-56-78-90-A0")
SANDBOX_GSME = parse_eui("00-DB-12-34-56-78-90-A1")

fleet_app = typer.Typer(
    name="fleet",
    help="Emulated devices: firmware profiles, simulations, snapshots, MQTT fleet workers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"smetsim: error: {message}", err=True)
    return typer.Exit(1)


@fleet_app.command("profiles")
def profiles(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="A folder of profile TOML files (default: the bundled ones)."),
    ] = None,
) -> None:
    """Validate the firmware profiles and list them: device type, versions, ESME variants."""
    if directory is not None and not directory.is_dir():
        raise _fail(f"--dir {directory}: not a folder")
    try:
        catalogue = load_profiles(directory)
    except ProfileError as exc:
        raise _fail(str(exc)) from None
    for name, profile in catalogue.items():
        versions = ", ".join(
            f.version + (f" ({f.esme_variant})" if f.esme_variant else "")
            for f in profile.firmware.values()
        )
        typer.echo(
            f"{name}: {profile.device_type} {profile.manufacturer} {profile.model}; "
            f"firmware {versions}"
        )


def _alert_code(message: Message) -> int | None:
    try:
        decoded = c.decode_alert(message.message_code, message.content)
    except Exception:
        return None
    if isinstance(decoded, c.DlmsAlert):
        return decoded.code
    if isinstance(decoded, c.FutureDatedFirmwareAlert):
        return 0x8F66 if decoded.executed else 0x8F67
    return decoded.alert_code


@fleet_app.command("simulate")
def simulate(
    days: Annotated[float, typer.Option("--days", help="Simulated days to run.")] = 1.0,
    devices: Annotated[
        int, typer.Option("--devices", help="ESMEs besides the four sandbox devices.")
    ] = 0,
    seed: Annotated[str, typer.Option("--seed", help="The fleet seed (text).")] = "smetsim",
    prepayment: Annotated[
        bool, typer.Option("--prepayment", help="Meters in prepayment mode.")
    ] = False,
    balance: Annotated[
        float, typer.Option("--balance", help="Initial credit of prepayment meters, pounds.")
    ] = 20.0,
    start: Annotated[
        str, typer.Option("--start", help="Simulated start, ISO 8601 UTC.")
    ] = "2024-01-15T00:00:00",
    step: Annotated[int, typer.Option("--step", help="Minutes between ticks.")] = 30,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", help="Write the fleet's state here at the end.")
    ] = None,
) -> None:
    """Run a fleet on a simulated clock (time-driven state only: registers, half hours,
    credit) and print a JSON summary: registers, supply states, alerts raised."""
    if not 0 < days <= 3660:
        raise _fail(f"--days {days}: must be more than 0 and at most 3660")
    if not 0 <= devices <= 1_000_000:
        raise _fail(f"--devices {devices}: must be 0 to 1000000")
    if not 1 <= step <= 1440:
        raise _fail(f"--step {step}: must be 1 to 1440 minutes")
    if balance < 0:
        raise _fail(f"--balance {balance}: must not be negative")
    try:
        begin = datetime.fromisoformat(start)
    except ValueError:
        raise _fail(f"--start {start!r}: not an ISO 8601 date-time") from None
    begin = begin.replace(tzinfo=UTC) if begin.tzinfo is None else begin.astimezone(UTC)
    wall = time.perf_counter()
    seed_bytes = seed.encode()
    fleet = Fleet(seed_bytes, generate_test_pki(seed_bytes), faults=False)
    credit = int(balance * 100_000)
    fleet.add_sandbox_devices(prepayment=prepayment, balance=credit)
    extra = [bytes.fromhex("00db5000") + n.to_bytes(4, "big") for n in range(devices)]
    for eui in extra:
        fleet.add(eui, "northbrook-nb100", prepayment=prepayment, balance=credit)
    clock = SimulatedClock(begin)
    for eui in list(fleet.euis()):
        fleet.device(eui, clock.now())
    alerts: Counter[str] = Counter()
    end = begin + timedelta(days=days)
    with progress(f"simulating {days:g} day(s)", float(days)) as advance:
        while clock.now() < end:
            stride = min(timedelta(minutes=step), end - clock.now())
            clock.advance(stride)
            for out in fleet.advance(clock.now()):
                code = _alert_code(Message.from_bytes(out.frame))
                name = f"0x{code:04X} {alert_name(code)}" if code is not None else "unreadable"
                alerts[name] += 1
            advance(stride / timedelta(days=1))
    meters = [d for d in (fleet.device(e, end) for e in fleet.euis()) if isinstance(d, MeterDevice)]
    summary: dict[str, Any] = {
        "start": begin.isoformat(),
        "end": end.isoformat(),
        "devices": len(fleet),
        "meters": len(meters),
        "alerts": dict(sorted(alerts.items())),
        "supply": dict(Counter(m.meter.supply.value for m in meters)),
        "sandbox": {
            eui_duis(d.eui): _device_summary(d)
            for d in (
                fleet.device(parse_eui(e), end) for e in ("00DB1234567890A0", "00DB1234567890A1")
            )
        },
        "seconds": round(time.perf_counter() - wall, 3),
    }
    if snapshot is not None:
        try:
            fleet.snapshot(snapshot)
        except OSError as exc:
            raise _fail(f"--snapshot {snapshot}: {exc.strerror or exc}") from None
        summary["snapshot"] = str(snapshot)
    typer.echo(json.dumps(summary, indent=2))


def _device_summary(device: Device) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": device.DEVICE_TYPE.value,
        "profile": device.profile.name,
        "firmware": device.firmware.version,
        "commissioned": device.commissioned,
    }
    if device.firmware.esme_variant:
        out["esme_variant"] = device.firmware.esme_variant
    if isinstance(device, MeterDevice):
        meter = device.meter
        out.update(
            register=meter.total,
            unit="Wh" if device.DEVICE_TYPE.value == "ESME" else "dm3",
            supply=meter.supply.value,
            mode=meter.mode.value,
            balance_pence=meter.credit.balance / 1000,
            half_hours_recorded=meter.held,
        )
    if isinstance(device, Chf):
        out["device_log"] = sorted(eui_duis(e) for e in (device.device_log or {}))
    return out


@fleet_app.command("inspect")
def inspect(
    snapshot: Annotated[
        Path,
        typer.Argument(help="A fleet snapshot (fleet.json) or a sandbox's state folder."),
    ],
    eui: Annotated[str | None, typer.Option("--eui", help="Show only this device.")] = None,
) -> None:
    """What a fleet snapshot holds: each device with state, as JSON. The device states saved
    as they changed (devices.db beside it) are laid over it: what a restart would reopen."""
    wanted = None
    if eui is not None:
        try:
            wanted = parse_eui(eui)
        except ValueError as exc:
            raise _fail(f"--eui: {exc}") from None
    folder = snapshot if snapshot.is_dir() else snapshot.parent
    if snapshot.is_dir():
        snapshot = snapshot / "fleet.json"
    try:
        fleet = _saved_fleet(folder, snapshot)
    except EmulatorError as exc:
        raise _fail(str(exc)) from None
    except KeyError as exc:
        raise _fail(f"{snapshot}: {exc.args[0]}") from None
    now = datetime.now(UTC)
    shown = {}
    for device_eui in fleet.euis():
        if wanted is not None and device_eui != wanted:
            continue
        if wanted is None and not fleet.has_state(device_eui):
            continue
        device = fleet.device(device_eui, now) if fleet.has_state(device_eui) else None
        shown[eui_duis(device_eui)] = (
            _device_summary(device) if device is not None else {"state": "never used"}
        )
    if wanted is not None and not shown:
        raise _fail(f"--eui {eui}: not in {snapshot}")
    typer.echo(
        json.dumps(
            {"devices": len(fleet), "with_state": fleet.materialised, "shown": shown}, indent=2
        )
    )


def _saved_fleet(folder: Path, snapshot: Path) -> Fleet:
    """The fleet a sandbox on ``folder`` would reopen: ``snapshot`` (or, when a sandbox was
    killed before it ever wrote one, its default home), with ``devices.db`` laid over it."""
    from smetsim.device_store import FILE_NAME, DeviceStore

    if snapshot.is_file():
        fleet = Fleet.restore(snapshot, generate_test_pki(_seed_of(snapshot)), faults=False)
    elif (folder / "seed").is_file() and (folder / FILE_NAME).is_file():
        try:
            seed = bytes.fromhex((folder / "seed").read_text().strip())
        except (OSError, ValueError) as exc:
            raise _fail(f"{folder / 'seed'}: not readable ({exc})") from None
        fleet = Fleet(seed, generate_test_pki(seed), faults=False)
        fleet.add_sandbox_devices()
    else:
        raise _fail(f"{snapshot}: no such fleet snapshot (nor a sandbox state folder)")
    saved = folder / FILE_NAME
    if saved.is_file():
        store = DeviceStore(saved, fsync=False)
        try:
            store.load_into(fleet)
        finally:
            store.close()
    return fleet


def _seed_of(snapshot: Path) -> bytes:
    try:
        data = json.loads(snapshot.read_text(encoding="utf-8"))
        return bytes.fromhex(data["seed"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _fail(f"{snapshot}: not a readable fleet snapshot ({exc})") from None


def register(app: typer.Typer) -> None:
    # `fleet serve` (the MQTT fleet worker) lives in its own module and attaches itself.
    from smetsim.commands import fleet_serve  # noqa: F401

    app.add_typer(fleet_app, name="fleet")
