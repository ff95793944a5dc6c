"""The event stream's other events (SMI and flag changes, RDP files, deliveries, alerts), the
frame log's alerts, the catalogue's SRV names, the devices view's state, the sandbox clock and
the flow restored after a restart - all through the sandbox's HTTP port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from gateway.wan import Direction
from gbcs.codes import ACB
from gbcs.frames import Message
from smetsim.client import DuisClient
from smetsim.sandbox import CHF, ESME, IMPORT_MPAN, PENDING_MPAN, Sandbox, SandboxSettings
from tests.e2e.listener import listening, register
from tests.e2e.support import request, request_id

Event = dict[str, Any]
A0 = "00-DB-12-34-56-78-90-A0"
CHF_TEXT = "00-DB-12-34-56-78-90-A2"  # the ESME's hub
B0 = "00-DB-12-34-56-78-90-B0"  # pre-notified, not in the hub's log yet
ADD_B0 = (
    f"<sr:UpdateHANDeviceLog><sr:DeviceID>{B0}</sr:DeviceID>"
    "<sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist>"
    "<sr:JoinTimePeriod>60</sr:JoinTimePeriod>"
    "<sr:InstallCode>30313233343536373839414243444546</sr:InstallCode>"
    f"<sr:ImportMPxN>{PENDING_MPAN}</sr:ImportMPxN>"
    "</sr:AddDeviceToCHFWhitelist></sr:UpdateHANDeviceLog>"
)


def _read(client: DuisClient) -> bytes:
    return request(client, "4.1.1", ESME, "<sr:ReadInstantaneousImportRegisters/>")


async def _get(sandbox: Sandbox, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(sandbox.url + path) as answer:
        return answer.status, await answer.text()


class Stream:
    """An open ``GET /admin/events``: :meth:`until` reads events until one matches."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.seen: list[Event] = []

    async def until(self, wanted: Callable[[Event], bool], within: float = 5.0) -> Event:
        for event in self.seen:
            if wanted(event):
                return event
        async with asyncio.timeout(within):
            while True:
                line = await self.response.content.readline()
                if line.startswith(b"data: "):
                    event = json.loads(line[6:])
                    self.seen.append(event)
                    if wanted(event):
                        return event


@asynccontextmanager
async def events(sandbox: Sandbox) -> AsyncIterator[Stream]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(sandbox.url + "/admin/events") as response,
    ):
        await response.content.readline()  # the opening comment: subscribed
        yield Stream(response)


def _holding(files: list[str], text: str) -> list[str]:
    """The files that hold ``text`` (small local files: read at once)."""
    return [f for f in files if text in Path(f).read_text()]


def of(kind: str, **fields: Any) -> Callable[[Event], bool]:
    return lambda e: e["type"] == kind and all(e.get(k) == v for k, v in fields.items())


async def test_the_flow_names_the_srv_as_the_catalogue_does(
    sandbox: Sandbox, client: DuisClient
) -> None:
    async with events(sandbox) as stream:
        xml = _read(client)
        await client.send(xml, wait=True, within=5)
        sr = await stream.until(of("sr-received", requestId=request_id(xml)))
    assert (sr["srv"], sr["name"]) == ("4.1.1", "Read Instantaneous Import Registers")
    status, page = await _get(sandbox, "/")
    assert status == 200
    assert "4.1.1 Read Instantaneous Import Registers" in page
    assert "SR_4_1_1" not in page


async def test_smi_and_flag_changes_and_rdp_files_are_events(
    sandbox: Sandbox, client: DuisClient
) -> None:
    async with events(sandbox) as stream:
        # 8.3 decommissions the ESME: the SMI changes and its MPAN's flag becomes N.
        xml = request(
            client,
            "8.3",
            ACB,
            f"<sr:DecommissionDevice><sr:DeviceID>{A0}</sr:DeviceID></sr:DecommissionDevice>",
            cv=8,
        )
        answer = await client.post(xml)
        assert answer.code == "I0", answer.reason
        smi = await stream.until(of("smi-change", srv="8.3"))
        assert (smi["requestId"], smi["device"]) == (request_id(xml), A0)
        flag = await stream.until(of("flag-change", mpxn=IMPORT_MPAN))
        assert (flag["fuel"], flag["flag"]) == ("electricity", "N")
        assert flag["effectiveDate"]

        async with client.session.post(sandbox.url + "/admin/rdp/flush") as flushed:
            files = (await flushed.json())["files"]
        mine = _holding(files, f"D0350,{IMPORT_MPAN},N,")
        assert len(mine) == 1
        written = await stream.until(of("rdp-file", direction="written", file=mine[0]))
        assert "accepted" not in written

        rdp = sandbox.gateway.rdp
        assert rdp is not None
        assert rdp.inbox is not None
        rdp.inbox.mkdir(parents=True, exist_ok=True)
        answer_file = rdp.inbox / "E46_0000000001_20260101T000000Z.csv"
        answer_file.write_text(f"E46,AC,{PENDING_MPAN},A,20260101\nnonsense\n")
        async with client.session.post(sandbox.url + "/admin/rdp/inbox") as read:
            assert read.status == 200
        read_event = await stream.until(of("rdp-file", direction="read"))
    assert read_event["file"].endswith(answer_file.name)
    assert isinstance(read_event["accepted"], int)
    assert isinstance(read_event["rejected"], int)


async def test_a_delivered_report_is_an_event(
    sandbox: Sandbox, client: DuisClient, tmp_path: Path
) -> None:
    async with listening() as (found, url):
        await register(sandbox, client, url)
        async with events(sandbox) as stream:
            xml = _read(client)
            await client.post(xml)
            response = await stream.until(of("response", requestId=request_id(xml)))
            delivered = await stream.until(of("response-delivered", report=response["report"]))
        assert (delivered["kind"], delivered["url"]) == ("response", url)
        assert found.bodies
        assert request_id(xml).encode() in found.bodies[-1]


async def test_an_alert_raised_while_a_request_is_open_is_logged_under_it(
    sandbox: Sandbox, client: DuisClient
) -> None:
    # The command takes half a second down the WAN; meanwhile the ESME alerts its supplier.
    sandbox.wan.faults.manipulator = lambda direction, eui, frame: [
        (0.5 if direction is Direction.DOWN else 0.0, frame)
    ]
    async with events(sandbox) as stream:
        xml = _read(client)
        assert (await client.post(xml)).code == "I99"
        url = f"{sandbox.url}/admin/devices/{A0}"
        async with client.session.post(url, json={"action": "alert", "value": "8F3E"}) as answer:
            assert answer.status == 200
        alert = await stream.until(of("alert", code="8F3E"))
        await stream.until(of("response", requestId=request_id(xml)))
    assert (alert["device"], alert["requestId"]) == (A0, None)
    status, text = await _get(sandbox, f"/admin/frames?requestId={quote(request_id(xml))}")
    assert status == 200
    frames = json.loads(text)["frames"]
    assert [f["direction"] for f in frames] == ["down", "up", "up"], frames
    up = [Message.from_bytes(bytes.fromhex(f["hex"])) for f in frames[1:]]
    assert [m.business_originator for m in up] == [ESME, ESME]
    command = Message.from_bytes(bytes.fromhex(frames[0]["hex"]))
    # The alert first (its own counter), then the response to the command's counter.
    assert up[0].originator_counter != command.originator_counter
    assert up[1].originator_counter == command.originator_counter
    # The request's page shows the three frames decoded.
    status, page = await _get(sandbox, f"/requests/{quote(request_id(xml), safe='')}")
    assert status == 200
    assert page.count('<pre class="frame">') == 3


async def test_the_devices_view_shows_what_the_devices_hold(
    sandbox: Sandbox, client: DuisClient
) -> None:
    await client.send(_read(client), wait=True, within=5)
    url = f"{sandbox.url}/admin/devices/{A0}"
    # Two hours on: the meter records half-hours (not listed in the view: thousands of them).
    async with client.session.post(url, json={"action": "clock", "value": 7200}) as answer:
        assert answer.status == 200
    async with client.session.post(url, json={"action": "alert", "value": "8F3E"}) as answer:
        assert answer.status == 200
    state: Event = {}
    for _ in range(100):  # the alert goes up the WAN and is filed
        status, text = await _get(sandbox, f"/admin/devices/{A0}")
        state = json.loads(text)
        if state["recentAlerts"]:
            break
        await asyncio.sleep(0.02)
    alert = state["recentAlerts"][0]  # the newest first
    assert (alert["kind"], alert["code"]) == ("alert", "8F3E")
    meter = sandbox.fleet.device(ESME, sandbox.clock()).meter
    assert state["tariff"]["standingChargePencePerDay"] == meter.tariff.standing_charge / 1000
    assert state["tariff"]["pricesPencePerKwh"] == [p / 1000 for p in meter.tariff.prices]
    assert state["creditPence"] == meter.credit.balance / 1000
    assert state["debtPence"] == meter.credit.debt / 1000
    assert state["snapshot"]["meter"]["registers"] == list(meter.registers)
    # The meter saves no half-hour quantities (they are regenerated): only their count.
    assert state["snapshot"]["meter"]["hh_count"] == meter.hh_count
    assert "hh" not in state["snapshot"]["meter"]
    assert isinstance(state["families"], dict)
    assert datetime.fromisoformat(state["deviceClock"])
    # The hub's device log: what 8.11 added to it.
    await client.send(request(client, "8.11", CHF, ADD_B0), wait=True, within=5)
    chf = json.loads((await _get(sandbox, f"/admin/devices/{CHF_TEXT}"))[1])
    assert chf["deviceLog"] == [B0]

    status, page = await _get(sandbox, "/devices")
    assert status == 200
    assert "Recent alerts" in page
    assert "8F3E" in page
    assert f"{meter.total} Wh" in page
    assert "standing charge" in page
    assert "debt" in page
    assert f'<td class="device-log">{B0}</td>' in page
    status, page = await _get(sandbox, f"/devices/{A0}")
    assert status == 200
    assert page.count('class="device"') == 1
    status, page = await _get(sandbox, "/devices/00-DB-12-34-56-78-90-FF")
    assert status == 404
    assert "unknown device 00-DB-12-34-56-78-90-FF" in page
    status, page = await _get(sandbox, "/devices/nonsense")
    assert status == 400
    assert "not an EUI-64" in page


async def test_clock_forward_moves_the_gateway_and_the_devices_together(
    sandbox: Sandbox, client: DuisClient
) -> None:
    url = f"{sandbox.url}/admin/devices/{A0}"
    async with client.session.post(url, json={"action": "clock", "value": 7200}) as answer:
        assert answer.status == 200
        assert "the gateway's and the devices'" in (await answer.json())["done"]
    ahead = (sandbox.gateway.clock() - datetime.now(UTC)).total_seconds()
    assert 7190 < ahead < 7210
    assert abs((sandbox.devices.clock() - sandbox.clock()).total_seconds()) < 5
    async with events(sandbox) as stream:
        xml = _read(client)
        outcome = await client.send(xml, wait=True, within=5)
        sr = await stream.until(of("sr-received", requestId=request_id(xml)))
    assert outcome.final is not None
    assert outcome.final.kind == "response"
    # The gateway stamps what it sees with the moved time, as the devices do.
    assert (datetime.fromisoformat(sr["at"]) - datetime.now(UTC)).total_seconds() > 7190
    state = json.loads((await _get(sandbox, f"/admin/devices/{A0}"))[1])
    shown = datetime.fromisoformat(state["clock"])
    assert abs((shown - sandbox.gateway.clock()).total_seconds()) < 5
    assert state["clockOffsetSeconds"] == 7200
    async with client.session.post(url, json={"action": "clock", "value": "soon"}) as answer:
        assert answer.status == 400
    ahead = (sandbox.gateway.clock() - datetime.now(UTC)).total_seconds()
    assert ahead < 7210  # a refused move moved nothing


async def test_a_restarted_sandbox_shows_what_happened(tmp_path: Path) -> None:
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, durability="process"
    )
    sandbox = await Sandbox.start(settings)
    try:
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True) as client:
            xml = _read(client)
            await client.send(xml, wait=True, within=5)
    finally:
        await sandbox.close()
    sandbox = await Sandbox.start(settings)
    try:
        [entry] = [e for e in sandbox.gateway.web.flow.entries() if e.key == request_id(xml)]
        assert entry.restored
        assert (entry.srv, entry.name, entry.device) == (
            "4.1.1",
            "Read Instantaneous Import Registers",
            A0,
        )
        assert (entry.code, entry.outcome, entry.final_code) == ("I99", "response", "I0")
        status, page = await _get(sandbox, "/")
        assert status == 200
        assert request_id(xml) in page
        assert 'class="restored"' in page
        status, page = await _get(sandbox, f"/requests/{quote(request_id(xml), safe='')}")
        assert status == 200
        assert "restored from the database" in page
    finally:
        await sandbox.close()


async def test_a_sandbox_watched_by_an_event_stream_stops_at_once(tmp_path: Path) -> None:
    sandbox = await Sandbox.start(
        SandboxSettings.create(state=tmp_path / "state", port=0, latency=False)
    )
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(sandbox.url + "/admin/events") as stream,
        ):
            await stream.content.readline()  # subscribed
            # Without ending the streams, the HTTP runner would wait a minute for this one.
            async with asyncio.timeout(5):
                await sandbox.close()
                assert (await stream.content.read()).strip() == b""  # the stream ended
    finally:
        await sandbox.close()  # (again: nothing to do)
