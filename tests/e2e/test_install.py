"""The install of a new home in a whole sandbox, every step through DUIS (issue 16's "Shows"):
a new CHF (with its GPF) and ESME pre-notified (12.2), the hub installed (8.14.1), the ESME
added to the hub's device log (8.11) and commissioned (8.1.1), a future-dated price (1.2.1)
executed by the meter when the clock passes its time, a DCC schedule (5.1) delivering three
daily reads (4.6.1), and a firmware update (11.1, then 11.3 future-dated) that makes the
ESME an AD variant, which its supplier then records in the SMI (8.4, MP125)."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import timedelta

from gateway import firmware
from gateway.model import DeviceStatus
from gbcs.codes import SUPPLIER
from gbcs.devices import DeviceType
from smetsim.client import DuisClient
from smetsim.requests import write_request
from smetsim.sandbox import Sandbox, gateway_profile
from tests.e2e.support import SchemaCheck, recorded_firmware

NEW_CHF = bytes.fromhex("00db123456789d00")
NEW_GPF = bytes.fromhex("00db123456789d01")
NEW_ESME = bytes.fromhex("00db123456789d02")
IMPORT = "1312345678777"
NEW_FIRMWARE = "00020000"


def _eui(eui: bytes) -> str:
    return eui.hex("-").upper()


def _stamp(sandbox: Sandbox, later: timedelta) -> str:
    return (sandbox.clock() + later).strftime("%Y-%m-%dT%H:%M:%S.00Z")


class Home:
    def __init__(self, sandbox: Sandbox, client: DuisClient, schema: SchemaCheck) -> None:
        self.sandbox = sandbox
        self.client = client
        self.schema = schema

    async def non_device(self, srv: str, code: str = "I0", **fields: str) -> bytes:
        answer = await self.client.post(
            write_request(srv, fields=fields, counter=self.client.fresh_counter())
        )
        assert answer.code == code, (srv, answer.code, answer.reason)
        self.schema(answer.body)
        return answer.body

    async def device(self, srv: str, device: bytes, cv: int | None = None, **fields: str) -> bytes:
        counter = self.client.fresh_counter()
        xml = write_request(srv, device=device, command_variant=cv, fields=fields, counter=counter)
        outcome = await self.client.send(xml, wait=True, within=10)
        assert outcome.ok, (srv, outcome)
        assert outcome.final is not None
        self.schema(outcome.final.body)
        return outcome.final.body

    def status(self, eui: bytes) -> DeviceStatus:
        record = self.sandbox.gateway.service.get_device(eui)
        assert record is not None
        return record.status

    def time_passes(self, later: timedelta) -> None:
        """The sandbox's clock moves on; the meters act on it (what the sandbox's tick does)."""
        self.sandbox.clock.forward(later.total_seconds())
        for out in self.sandbox.fleet.advance(self.sandbox.clock()):
            self.sandbox.wan.hubs.send_up(out.eui, out.frame, 0.0)

    async def alerts(self, code: str, count: int = 1) -> list[bytes]:
        for _ in range(500):
            found = [
                r.payload or b""
                for r in self.sandbox.devices.reports(recipient=SUPPLIER)
                if r.kind.value == "alert" and r.code == code and r.device == NEW_ESME
            ]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.01)
        raise AssertionError(f"no alert {code} from the new ESME")


def _prenotify(kind: DeviceType, eui: bytes, **more: str) -> dict[str, str]:
    manufacturer, model, smets, version, variant = gateway_profile(kind)
    return {
        "DeviceID": _eui(eui),
        "DeviceManufacturer": manufacturer,
        "DeviceModel": model,
        "DeviceType": kind.value,
        "SMETSCHTSVersion": smets,
        "FirmwareVersion": version,
        "ESMEVariant": variant or "",
        **more,
    }


async def test_a_new_home_is_installed_commissioned_and_upgraded(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    home = Home(sandbox, client, schema)
    # the devices arrive at the property; the meter point is registered
    sandbox.fleet.add(NEW_CHF, "tellurian-ch2-chf")
    sandbox.fleet.add(NEW_GPF, "tellurian-ch2-gpf", hub=NEW_CHF)
    sandbox.fleet.add(NEW_ESME, "northbrook-nb100", hub=NEW_CHF)
    sandbox.keystore.add_derived_devices(sandbox.seed, [NEW_CHF, NEW_GPF, NEW_ESME])
    async with client.session.post(
        sandbox.url + "/admin/meter-points",
        json={"mpxn": IMPORT, "fuel": "electricity", "supplier": _eui(SUPPLIER)},
    ) as answer:
        assert answer.status == 201

    # 12.2: the hub (with its GPF) and the meter pre-notified
    await home.non_device(
        "12.2", **_prenotify(DeviceType.CHF, NEW_CHF, AssociatedGPFDeviceID=_eui(NEW_GPF))
    )
    await home.non_device("12.2", **_prenotify(DeviceType.ESME, NEW_ESME))
    assert {home.status(e) for e in (NEW_CHF, NEW_GPF, NEW_ESME)} == {DeviceStatus.PENDING}

    # 8.14.1: the hub installed with SM WAN: it and its GPF are commissioned
    await home.non_device("8.14.1", DeviceID=_eui(NEW_CHF), MPxN=IMPORT)
    assert home.status(NEW_CHF) is DeviceStatus.COMMISSIONED
    assert home.status(NEW_GPF) is DeviceStatus.COMMISSIONED

    # 8.11: the ESME joins the hub's device log; 8.1.1 commissions it (CV4, signed, CV5)
    await home.device("8.11", NEW_CHF, DeviceID=_eui(NEW_ESME), ImportMPxN=IMPORT)
    assert home.status(NEW_ESME) is DeviceStatus.WHITELISTED
    await home.device("8.1.1", NEW_ESME, cv=4, CurrentDateTime=_stamp(sandbox, timedelta()))
    assert home.status(NEW_ESME) is DeviceStatus.COMMISSIONED

    # 1.2.1 future-dated (Device pattern): accepted now, executed when the clock passes it
    meter = sandbox.fleet.device(NEW_ESME, sandbox.clock())
    before = meter.meter.tariff.prices
    await home.device(
        "1.2.1", NEW_ESME, ExecutionDateTime=_stamp(sandbox, timedelta(hours=1)), TOUPrice="3100"
    )
    assert sandbox.fleet.device(NEW_ESME, sandbox.clock()).meter.tariff.prices == before
    home.time_passes(timedelta(hours=1, minutes=1))
    await home.alerts("8F66")  # executed
    after = sandbox.fleet.device(NEW_ESME, sandbox.clock()).meter.tariff.prices
    assert after != before
    assert 3100 in after

    # 5.1: a DCC schedule of the import daily read log, three days, three reads
    start = sandbox.clock() + timedelta(days=1)
    created = await home.non_device(
        "5.1",
        DeviceID=_eui(NEW_ESME),
        ScheduleStartDate=start.date().isoformat(),
        ScheduleExecutionStartTime=start.strftime("%H:%M:%S"),
    )
    found = re.search(rb"<sr:DSPScheduleID>(\d+)<", created)
    assert found is not None
    schedule = f"<sr:DSPScheduleID>{int(found.group(1))}</sr:DSPScheduleID>".encode()
    filed = len(sandbox.devices.reports(recipient=SUPPLIER))
    home.time_passes(timedelta(days=3, minutes=1))
    runs: list[bytes] = []
    for _ in range(1000):
        runs = [
            r.body
            for r in sandbox.devices.reports(recipient=SUPPLIER)[filed:]
            if r.kind.value == "response" and schedule in r.body
        ]
        if len(runs) >= 3:
            break
        await asyncio.sleep(0.01)
    assert len(runs) == 3, f"{len(runs)} scheduled reads delivered"
    for body in runs:
        schema(body)

    # 11.1: the image goes to the ESME through the new hub; the ESME verifies it
    profile = sandbox.fleet.spec(NEW_ESME).profile
    image = profile.image(NEW_FIRMWARE)
    await home.non_device(
        "11.1",
        code="I99",
        FirmwareImage=base64.b64encode(image).decode(),
        FirmwareVersion=NEW_FIRMWARE,
        DeviceIDList=_eui(NEW_ESME),
    )
    await home.alerts("8F72")
    # 11.3 future-dated: the meter switches when its clock passes the time
    await home.device(
        "11.3",
        NEW_ESME,
        cv=4,
        FirmwareHash=firmware.image_hash(image).hex().upper(),
        ExecutionDateTime=_stamp(sandbox, timedelta(hours=2)),
    )
    assert sandbox.fleet.device(NEW_ESME, sandbox.clock()).firmware.esme_variant == "A"
    home.time_passes(timedelta(hours=2, minutes=1))
    record = await recorded_firmware(sandbox, NEW_ESME, NEW_FIRMWARE)
    assert record.firmware_version == NEW_FIRMWARE
    assert sandbox.fleet.device(NEW_ESME, sandbox.clock()).firmware.esme_variant == "AD"
    assert record.esme_variant == "A"  # MP125: the SMI keeps what it was told ...
    await home.non_device("8.4", DeviceID=_eui(NEW_ESME), ESMEVariant="AD")
    record = sandbox.gateway.service.get_device(NEW_ESME)
    assert record is not None
    assert record.esme_variant == "AD"  # ... until the supplier says
