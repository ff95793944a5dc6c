"""A meter's whole life through HTTP: 12.2 -> 8.11 -> 8.1.1 -> 8.4 UpdateMPxN -> 4.1.1 read
-> 7.2 disable -> 7.1 enable -> 8.3, checking the SMI, the service flags and the RDP files
at every step."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gbcs.codes import ACB
from gbcs.devices import DeviceType
from smetsim.client import DuisClient
from smetsim.sandbox import CHF, Sandbox, gateway_profile
from tests.e2e.support import SchemaCheck, gbcs_of, request

METER = bytes.fromhex("00db123456789cc0")
IMPORT = "1312345678555"
EXPORT = "1312345678666"


class Harness:
    def __init__(self, sandbox: Sandbox, client: DuisClient, schema: SchemaCheck) -> None:
        self.sandbox = sandbox
        self.client = client
        self.schema = schema
        self.http = client.session

    async def non_device(self, srv: str, body: str) -> bytes:
        answer = await self.client.post(request(self.client, srv, ACB, body, cv=8))
        assert answer.code == "I0", (srv, answer.code, answer.reason)
        self.schema(answer.body)
        return answer.body

    async def device(self, srv: str, target: bytes, body: str, cv: int = 1) -> bytes:
        outcome = await self.client.send(
            request(self.client, srv, target, body, cv=cv), wait=True, within=5
        )
        assert outcome.ok, (srv, [(a.code, a.reason) for a in outcome.answers], outcome.final)
        assert outcome.final is not None
        self.schema(outcome.final.body)
        return outcome.final.body

    async def status(self) -> str:
        body = await self.non_device(
            "8.2", f"<sr:ReadInventory><sr:DeviceID>{_eui(METER)}</sr:DeviceID></sr:ReadInventory>"
        )
        match = re.search(rb"<sr:DeviceStatus>([^<]+)<", body)
        assert match is not None
        return match.group(1).decode()

    async def flags(self) -> dict[str, Any]:
        async with self.http.get(self.sandbox.url + "/admin/meter-points") as answer:
            points = await answer.json()
        return {p["mpxn"]: p["service_flag"] for p in points if p["mpxn"] in (IMPORT, EXPORT)}

    async def rdp(self) -> list[str]:
        async with self.http.post(self.sandbox.url + "/admin/rdp/flush") as answer:
            files = (await answer.json())["files"]
        return _d0350_lines(files)


def _d0350_lines(files: list[str]) -> list[str]:
    lines = []
    for name in files:
        lines += [
            line
            for line in Path(name).read_text().splitlines()
            if line.startswith("D0350") and (IMPORT in line or EXPORT in line)
        ]
    return lines


def _eui(eui: bytes) -> str:
    return eui.hex("-").upper()


async def test_the_life_of_a_meter(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    h = Harness(sandbox, client, schema)
    today = datetime.now(UTC).strftime("%Y%m%d")
    sandbox.fleet.add(METER, "northbrook-nb100", hub=CHF)  # the meter arrives at the home
    sandbox.keystore.add_derived_devices(sandbox.seed, [METER])
    for mpxn in (IMPORT, EXPORT):
        async with h.http.post(
            sandbox.url + "/admin/meter-points",
            json={"mpxn": mpxn, "fuel": "electricity", "supplier": "90-B3-D5-1F-30-01-00-00"},
        ) as answer:
            assert answer.status == 201
    await h.rdp()  # what the sandbox's own seeding queued

    # 12.2: pre-notified -> Pending
    manufacturer, model, smets, firmware, variant = gateway_profile(DeviceType.ESME)
    await h.non_device(
        "12.2",
        f"<sr:DevicePrenotification><sr:DeviceID>{_eui(METER)}</sr:DeviceID>"
        f"<sr:DeviceManufacturer>{manufacturer}</sr:DeviceManufacturer>"
        f"<sr:DeviceModel>{model}</sr:DeviceModel><sr:DeviceType>ESME</sr:DeviceType>"
        f"<sr:SMETSCHTSVersion>{smets}</sr:SMETSCHTSVersion>"
        f"<sr:FirmwareVersion>{firmware}</sr:FirmwareVersion>"
        f"<sr:ESMEVariant>{variant}</sr:ESMEVariant></sr:DevicePrenotification>",
    )
    assert await h.status() == "Pending"
    assert await h.flags() == {IMPORT: None, EXPORT: None}

    # 8.11 Add (CCS01 through the CHF): Whitelisted, linked to its import MPAN
    body = await h.device(
        "8.11",
        CHF,
        f"<sr:UpdateHANDeviceLog><sr:DeviceID>{_eui(METER)}</sr:DeviceID>"
        "<sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist>"
        "<sr:JoinTimePeriod>60</sr:JoinTimePeriod>"
        "<sr:InstallCode>30313233343536373839414243444546</sr:InstallCode>"
        f"<sr:ImportMPxN>{IMPORT}</sr:ImportMPxN>"
        "</sr:AddDeviceToCHFWhitelist></sr:UpdateHANDeviceLog>",
    )
    assert gbcs_of(body).message_code == 0x0001
    assert await h.status() == "Whitelisted"
    assert await h.flags() == {IMPORT: None, EXPORT: None}
    assert await h.rdp() == []

    # 8.1.1 commissioning (critical: CV4, signed, CV5): Commissioned, the MPAN becomes A
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.00Z")
    body = await h.device(
        "8.1.1",
        METER,
        f"<sr:CommissionDeviceSynchroniseClock><sr:CurrentDateTime>{now}</sr:CurrentDateTime>"
        "<sr:TolerancePeriod>60</sr:TolerancePeriod></sr:CommissionDeviceSynchroniseClock>",
        cv=4,
    )
    assert gbcs_of(body).message_code == 0x0062
    assert await h.status() == "Commissioned"
    assert await h.flags() == {IMPORT: "A", EXPORT: None}
    assert await h.rdp() == [f"D0350,{IMPORT},A,{today}"]

    # 8.4 UpdateMPxN: the export MPAN, linked to a commissioned meter, becomes A
    await h.non_device(
        "8.4",
        f"<sr:UpdateInventory><sr:DeviceID>{_eui(METER)}</sr:DeviceID><sr:UpdateMPxN>"
        f"<sr:ExportMPAN>{EXPORT}</sr:ExportMPAN></sr:UpdateMPxN></sr:UpdateInventory>",
    )
    assert await h.flags() == {IMPORT: "A", EXPORT: "A"}
    assert await h.rdp() == [f"D0350,{EXPORT},A,{today}"]

    # 4.1.1, 7.2, 7.1: the meter in service; nothing changes in the SMI
    body = await h.device("4.1.1", METER, "<sr:ReadInstantaneousImportRegisters/>")
    assert gbcs_of(body).message_code == 0x0027
    body = await h.device("7.2", METER, "<sr:DisableSupply/>", cv=4)
    assert gbcs_of(body).message_code == 0x0050
    assert sandbox.fleet.device(METER, 0).to_json()["meter"]["supply"] == "disabled"
    body = await h.device("7.1", METER, "<sr:EnableSupply/>", cv=4)
    assert gbcs_of(body).message_code == 0x004F
    assert sandbox.fleet.device(METER, 0).to_json()["meter"]["supply"] == "enabled"
    assert await h.status() == "Commissioned"
    assert await h.rdp() == []

    # 8.3 decommission: both meter points become N
    await h.non_device(
        "8.3",
        f"<sr:DecommissionDevice><sr:DeviceID>{_eui(METER)}</sr:DeviceID></sr:DecommissionDevice>",
    )
    assert await h.status() == "Decommissioned"
    assert await h.flags() == {IMPORT: "N", EXPORT: "N"}
    assert sorted(await h.rdp()) == sorted(
        [f"D0350,{IMPORT},N,{today}", f"D0350,{EXPORT},N,{today}"]
    )
    # and the gateway refuses device SRs to it now
    refused = await client.post(request(client, "11.2", METER, "<sr:ReadFirmwareVersion/>"))
    assert refused.code == "E30"
