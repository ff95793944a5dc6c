"""smetsim.hil_adapters: an emulated ESME as an optical readout, firmware profiles' [optical]
tables, and a fleet device as a dongle handler."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from emulator.clock import to_seconds
from emulator.devices.esme import Esme
from emulator.errors import UnknownDeviceError
from emulator.firmware import FirmwareProfile, parse_profile
from emulator.fleet import Fleet
from gbcs.eui import parse_eui
from gbcs.keystore import Keystore
from hil.obis import DATE, FIRMWARE_VERSION, IMPORT_TOTAL, SERIAL_NUMBER, TIME, import_tou
from hil.virtual_port import OpticalQuirks
from smetsim.hil_adapters import (
    EsmeOpticalSource,
    OpticalProfileError,
    device_handler,
    optical_profile,
)

ESME = parse_eui("00-DB-12-34-56-78-90-A0")
GSME = parse_eui("00-DB-12-34-56-78-90-A1")
T0 = to_seconds(dt.datetime(2024, 1, 15, 9, 10, 5, tzinfo=dt.UTC))

PROFILE = """
schema = 1
manufacturer = "Acme Meters"
manufacturer_id = "AC01"
model = "A1 single"
model_id = "00000001"
device_type = "ESME"
smets_version = "SMETS2 V4.2"
initial_firmware = "00000001"
{optical}
[[firmware]]
version = "00000001"
esme_variant = "A"
use_cases = ["ECS52"]
"""


def profile_with(optical: str) -> FirmwareProfile:
    return parse_profile(PROFILE.format(optical=optical), name="acme-a1", source="acme-a1.toml")


def test_an_optical_table_is_read_and_checked() -> None:
    profile = profile_with(
        '[optical]\nflag_id = "ACM"\nident = "A1-{firmware}"\nmax_baud = 4800\n'
        'fast_reaction = true\nquirks = ["wake_up_required"]\npassword = "pw"\n'
    )
    optical = optical_profile(profile)
    assert optical.from_table
    assert optical.quirks == OpticalQuirks(wake_up_required=True)
    identity = optical.identity("00000001")
    assert identity.identification().to_bytes() == b"/ACm4A1-00000001\r\n"
    assert optical.password == "pw"


def test_a_profile_without_a_table_gets_derived_values() -> None:
    optical = optical_profile(profile_with(""))
    assert not optical.from_table
    assert optical.identity("00000001").identification().to_bytes() == b"/ACM5A1-00000001\r\n"


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ('flag_id = "AC"\nident = "x"', r"optical\.flag_id: must be the 3-letter"),
        ('flag_id = "A1C"\nident = "x"', r"optical\.flag_id: must be 3 letters"),
        ('flag_id = "ACM"\nident = "a-very-long-identification"', r"optical\.ident: at most 16"),
        ('flag_id = "ACM"\nident = "x"\nmax_baud = 115200', r"optical\.max_baud: must be one of"),
        ('flag_id = "ACM"\nident = "x"\nquirks = ["sparkles"]', r"optical\.quirks: unknown"),
        ('flag_id = "ACM"\nident = "x"\nmode_e = "yes"', r"optical\.mode_e: must be true or false"),
        ('flag_id = "ACM"\nident = "x"\ncolour = 1', r"optical\.colour: unknown key"),
    ],
)
def test_a_bad_optical_table_names_file_and_key(table: str, needle: str) -> None:
    profile = profile_with("[optical]\n" + table + "\n")
    with pytest.raises(OpticalProfileError, match=r"acme-a1\.toml: " + needle):
        optical_profile(profile)


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def sandbox_fleet() -> Fleet:
    fleet = Fleet(b"hil-adapter-tests", Keystore())
    fleet.add_sandbox_devices()
    return fleet


def test_the_readout_is_the_esme_state_and_time_moves_it() -> None:
    fleet = sandbox_fleet()
    clock = Clock(T0)
    source = EsmeOpticalSource(fleet, ESME, clock=clock)
    identity = source.identity()
    assert identity.manufacturer == "NBM"
    assert identity.ident == "NB100-00010203"
    assert identity.device_address == "00db1234567890a0"
    first = {r.obis: r for r in source.readings()}
    device = fleet.device(ESME, T0)
    assert isinstance(device, Esme)
    assert first[SERIAL_NUMBER].value == "00DB1234567890A0"
    assert first[FIRMWARE_VERSION].value == "00010203"
    assert first[DATE].value == dt.date(2024, 1, 15)
    assert first[TIME].value == dt.time(9, 10, 5)
    assert first[IMPORT_TOTAL].value == Decimal(device.meter.total) / 1000
    assert first[IMPORT_TOTAL].unit == "kWh"
    # a day later the registers have grown by what the TOU registers counted
    clock.now = T0 + 86400
    later = {r.obis: r for r in source.readings()}
    assert later[DATE].value == dt.date(2024, 1, 16)
    grown = Decimal(str(later[IMPORT_TOTAL].value)) - Decimal(str(first[IMPORT_TOTAL].value))
    assert grown > 0
    tou = [r for obis, r in later.items() if obis.c == 1 and obis.d == 8 and obis.e > 0]
    assert [r.obis for r in tou] == [import_tou(i) for i in range(1, len(device.meter.tou) + 1)]
    assert (
        sum(Decimal(str(r.value)) for r in tou)
        - sum(Decimal(str(r.value)) for obis, r in first.items() if obis.e > 0 and obis.c == 1)
        == grown
    )
    # the device clock follows the device's own offset (ECS70 moves it)
    device.clock_offset = -3600
    shifted = {r.obis: r for r in source.readings()}
    assert shifted[TIME].value == dt.time(8, 10, 5)


def test_only_an_esme_has_this_optical_readout() -> None:
    with pytest.raises(ValueError, match="is a GSME"):
        EsmeOpticalSource(sandbox_fleet(), GSME)


def test_device_handler_knows_its_device() -> None:
    fleet = sandbox_fleet()
    with pytest.raises(UnknownDeviceError):
        device_handler(fleet, parse_eui("00-DB-00-00-00-00-00-01"))
    handle = device_handler(fleet, ESME, clock=Clock(T0))
    [alert] = handle(b"\x00garbage")  # a malformed frame: the device says so in an alert
    assert alert[:1] in (b"\xdd", b"\xdf")
