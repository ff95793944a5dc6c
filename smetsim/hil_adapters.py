"""Where hil meets the emulator and the gateway (hil imports neither; this module composes).

- :class:`EsmeOpticalSource`: an emulated ESME's state as the readout of its optical port
  (:class:`hil.virtual_port.ReadoutSource`): device identifier, clock, import total and the
  time-of-use registers, firmware version - read afresh at every readout.
- :func:`optical_profile`: what the ESME's firmware profile says about its optical port, from
  the profile's optional ``[optical]`` table (FLAG id, identification, top baud rate, the 20 ms
  and mode E variants, quirks, programming password); a profile without one gets values
  derived from its manufacturer and model.
- :func:`device_handler`: a fleet device as the callable a :class:`hil.dongle.DeviceServer`
  hands each GBCS frame to.

The gateway's WAN over a serial HAN dongle is :class:`hil.dongle.SerialWan` itself: it
implements :class:`gbcs.wan.Wan`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from emulator.clock import from_seconds
from emulator.devices.esme import Esme
from emulator.firmware import FirmwareProfile
from emulator.fleet import Fleet
from gbcs.devices import DeviceType
from gbcs.eui import eui_hex
from hil.iec62056_21 import MAX_IDENT_LENGTH, MODE_C_BAUD
from hil.obis import DATE, FIRMWARE_VERSION, IMPORT_TOTAL, SERIAL_NUMBER, TIME, import_tou
from hil.virtual_port import MeterIdentity, OpticalQuirks, Reading

NO_QUIRKS = OpticalQuirks()

Clock = Callable[[], int]
"""Unix seconds now (host time; the device's own clock adds its offset)."""


def wall_clock() -> int:
    return int(time.time())


class OpticalProfileError(ValueError):
    """A firmware profile's ``[optical]`` table is wrong; the message names file and key."""


@dataclass(frozen=True, slots=True)
class OpticalProfile:
    """What a firmware profile says about the optical port."""

    flag_id: str
    ident: str  # may hold "{firmware}", replaced by the running firmware version
    max_baud: int = 9600
    fast_reaction: bool = False
    mode_e: bool = False
    quirks: OpticalQuirks = NO_QUIRKS
    password: str = "00000000"
    from_table: bool = True  # False: derived, the profile has no [optical] table

    def identity(self, firmware: str, device_address: str = "") -> MeterIdentity:
        return MeterIdentity(
            self.flag_id,
            self.ident.replace("{firmware}", firmware),
            max_baud=self.max_baud,
            fast_reaction=self.fast_reaction,
            mode_e=self.mode_e,
            device_address=device_address,
        )


_OPTICAL_KEYS = {"flag_id", "ident", "max_baud", "fast_reaction", "mode_e", "quirks", "password"}


def optical_profile(profile: FirmwareProfile) -> OpticalProfile:
    """The profile's ``[optical]`` table, validated; derived values when there is none."""
    table: Mapping[str, Any] = profile.optical
    where = profile.source or profile.name
    if not table:
        letters = "".join(ch for ch in profile.manufacturer.upper() if "A" <= ch <= "Z")
        model = (profile.model.split() or ["METER"])[0]
        return OpticalProfile(
            flag_id=(letters + "XXX")[:3],
            ident=f"{model[:6]}-{{firmware}}",
            from_table=False,
        )

    def fail(key: str, problem: str) -> OpticalProfileError:
        return OpticalProfileError(f"{where}: optical.{key}: {problem}")

    unknown = sorted(set(table) - _OPTICAL_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key (known: {', '.join(sorted(_OPTICAL_KEYS))})")
    flag_id = table.get("flag_id")
    if not (isinstance(flag_id, str) and len(flag_id) == 3 and flag_id.isascii()):
        raise fail("flag_id", f"must be the 3-letter FLAG manufacturer id, got {flag_id!r}")
    if not flag_id.isalpha():
        raise fail("flag_id", f"must be 3 letters, got {flag_id!r}")
    ident = table.get("ident")
    if not isinstance(ident, str) or not ident:
        raise fail("ident", f"must be a non-empty string, got {ident!r}")
    longest = ident.replace("{firmware}", "00000000")
    if len(longest) > MAX_IDENT_LENGTH or any(c in longest for c in "/!") or not longest.isascii():
        raise fail("ident", f"at most {MAX_IDENT_LENGTH} ASCII characters without / or !")
    max_baud = table.get("max_baud", 9600)
    if max_baud not in MODE_C_BAUD.values() or isinstance(max_baud, bool):
        rates = ", ".join(str(r) for r in MODE_C_BAUD.values())
        raise fail("max_baud", f"must be one of {rates}, got {max_baud!r}")
    flags = {}
    for key in ("fast_reaction", "mode_e"):
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise fail(key, f"must be true or false, got {value!r}")
        flags[key] = value
    names = table.get("quirks", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise fail("quirks", f"must be a list of quirk names, got {names!r}")
    try:
        quirks = OpticalQuirks.from_names(names)
    except ValueError as exc:
        raise fail("quirks", str(exc)) from None
    password = table.get("password", "00000000")
    if not isinstance(password, str) or any(c in password for c in "()/!"):
        raise fail("password", f"must be a string without ( ) / !, got {password!r}")
    return OpticalProfile(
        flag_id=flag_id,
        ident=ident,
        max_baud=max_baud,
        fast_reaction=flags["fast_reaction"],
        mode_e=flags["mode_e"],
        quirks=quirks,
        password=password,
    )


def _kwh(wh: int) -> Decimal:
    """Wh as kWh with three decimals, the way meters print energy."""
    return (Decimal(wh) / 1000).quantize(Decimal("0.001"))


class EsmeOpticalSource:
    """An emulated ESME of ``fleet`` behind its optical port.

    Each readout first lets the meter catch up with time (:meth:`Device.wake`: the alerts
    that raises wait for its next WAN message, nothing is lost), then reads its state.
    The device identifier ``0-0:96.1.0`` is the ESME's EUI (the emulator models no
    separate meter serial number); the emulator models no export register, so there is
    no ``1-0:2.8.0``.
    """

    def __init__(self, fleet: Fleet, eui: bytes, *, clock: Clock = wall_clock) -> None:
        spec = fleet.spec(eui)
        if spec.profile.device_type is not DeviceType.ESME:
            raise ValueError(
                f"{eui_hex(eui)} is a {spec.profile.device_type.value}: "
                "the optical readout is an electricity meter's (ESME)"
            )
        self.fleet = fleet
        self.eui = eui
        self.clock = clock
        self.optical = optical_profile(spec.profile)

    def _device(self, now: int) -> Esme:
        device = self.fleet.device(self.eui, now)
        assert isinstance(device, Esme)
        return device

    def identity(self) -> MeterIdentity:
        device = self._device(self.clock())
        return self.optical.identity(device.firmware.version, eui_hex(self.eui))

    def readings(self) -> Sequence[Reading]:
        now = self.clock()
        device = self._device(now)
        device.wake(now)
        clock = from_seconds(device.device_time(now))
        meter = device.meter
        readings = [
            Reading(SERIAL_NUMBER, eui_hex(self.eui).upper()),
            Reading(FIRMWARE_VERSION, device.firmware.version),
            Reading(DATE, clock.date()),
            Reading(TIME, clock.time().replace(microsecond=0)),
            Reading(IMPORT_TOTAL, _kwh(meter.total), "kWh"),
        ]
        readings += [
            Reading(import_tou(rate), _kwh(value), "kWh")
            for rate, value in enumerate(meter.tou, start=1)
        ]
        return readings


def device_handler(
    fleet: Fleet, eui: bytes, *, clock: Clock = wall_clock
) -> Callable[[bytes], list[bytes]]:
    """A fleet device as a :class:`hil.dongle.DeviceServer` handler: frame in, frames out."""
    fleet.spec(eui)  # UnknownDeviceError naming the EUI, now rather than at the first frame

    def handle(frame: bytes) -> list[bytes]:
        return fleet.handle(eui, frame, clock())

    return handle
