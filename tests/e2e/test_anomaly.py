"""Threshold anomaly detection end to end: thresholds set through the admin API, requests over
them quarantined with an AD1 alert (never reaching the meter), released or deleted."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp

from gbcs.codes import SUPPLIER
from gbcs.eui import eui_duis
from gbcs.utrn import make_utrn
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, Sandbox, SandboxSettings
from tests.e2e.support import SchemaCheck, request, request_id
from tests.e2e.test_device_srs import TARIFF

DISABLE = "<sr:DisableSupply/>"


async def _admin(sandbox: Sandbox, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, sandbox.url + path, json=body) as answer,
    ):
        return answer.status, await answer.json()


def _ref(xml: bytes, kind: str, rid: str) -> int:
    """The QuarantineEventRef of an AD1 alert of breach ``kind`` naming ``rid``."""
    text = xml.decode()
    assert "<sr:DCCAlertCode>AD1</sr:DCCAlertCode>" in text
    match = re.search(
        rf"<sr:QuarantinedRequest><sr:{kind}><sr:RequestID>([^<]+)</sr:RequestID>"
        r"<sr:QuarantineEventRef>(\d+)</sr:QuarantineEventRef>",
        text,
    )
    assert match is not None, text
    assert match.group(1) == rid
    return int(match.group(2))


async def _commands_to_esme(sandbox: Sandbox) -> int:
    return sandbox.wan.stats.sent_down


async def _response_after_release(sandbox: Sandbox, rid: str, within: float = 5.0) -> Any:
    """The device's response to ``rid`` in the supplier's feed (its AD1 came first)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            params = {"user": eui_duis(SUPPLIER), "limit": "1000"}
            async with session.get(sandbox.url + "/api/v1/responses", params=params) as answer:
                for report in await answer.json():
                    if report["requestId"] == rid and report["kind"] == "response":
                        return report
            await asyncio.sleep(0.05)
    return None


async def test_three_disable_supply_per_hour_the_fourth_and_fifth_are_quarantined(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    status, threshold = await _admin(
        sandbox,
        "POST",
        "/admin/anomaly-thresholds",
        {"user": eui_duis(SUPPLIER), "srv": "7.2", "limit": 3, "period_s": 3600},
    )
    assert status == 200, threshold
    assert threshold["kind"] == "ADUserThresholdBreach"
    finals = []
    for _ in range(5):
        xml = request(client, "7.2", ESME, DISABLE, cv=4)
        outcome = await client.send(xml, wait=True, within=5)
        assert outcome.answers[-1].code == "I99"  # the CV5: accepted for processing
        assert outcome.final is not None
        schema(outcome.final.body)
        finals.append((request_id(xml), outcome.final))
    assert [f.code for _, f in finals] == ["I0", "I0", "I0", "AD1", "AD1"]
    assert await _commands_to_esme(sandbox) == 3  # the quarantined two never left
    refs = [_ref(f.body, "ADUserThresholdBreach", rid) for rid, f in finals[3:]]
    assert [f.kind for _, f in finals[3:]] == ["dcc-alert", "dcc-alert"]
    status, held = await _admin(sandbox, "GET", "/admin/quarantine?state=held")
    assert status == 200
    assert [q["ref"] for q in held] == refs
    assert [q["requestId"] for q in held] == [rid for rid, _ in finals[3:]]
    assert all(q["breach"] == "ADUserThresholdBreach" for q in held)
    assert "3 SR 7.2 sent by 90-B3-D5-1F-30-01-00-00" in held[0]["detail"]

    # released: sent on, the meter answers, the answer reaches the user as usual
    status, released = await _admin(sandbox, "POST", f"/admin/quarantine/{refs[0]}/release")
    assert status == 200, released
    assert released["requestId"] == finals[3][0]
    assert released["warning"] is None  # nothing overtook it
    report = await _response_after_release(sandbox, finals[3][0])
    assert report is not None
    assert report["code"] == "I0"
    schema(report["xml"].encode())
    assert await _commands_to_esme(sandbox) == 4
    # decided once
    status, again = await _admin(sandbox, "POST", f"/admin/quarantine/{refs[0]}/release")
    assert status == 409
    assert "released already" in again["error"]

    # deleted: never sent, the user is told
    status, deleted = await _admin(sandbox, "POST", f"/admin/quarantine/{refs[1]}/delete")
    assert status == 200, deleted
    final = await client.wait(finals[4][0], 5)
    assert final is not None
    assert final.kind == "dcc-alert"
    assert b"CommandFailure" in final.body
    assert b"deleted from the quarantine" in final.body
    schema(final.body)
    assert sandbox.devices.request_state(finals[4][0]) == "failed"
    assert await _commands_to_esme(sandbox) == 4
    status, held = await _admin(sandbox, "GET", "/admin/quarantine?state=held")
    assert held == []


async def test_fifty_concurrent_reads_against_a_dcc_wide_limit_of_ten_send_exactly_ten(
    sandbox: Sandbox, client: DuisClient
) -> None:
    status, _ = await _admin(
        sandbox,
        "POST",
        "/admin/anomaly-thresholds",
        {"user": None, "srv": "4.1.1", "limit": 10, "period_s": 60},
    )
    assert status == 200
    xmls = [
        request(client, "4.1.1", ESME, "<sr:ReadInstantaneousImportRegisters/>") for _ in range(50)
    ]
    answers = await asyncio.gather(*(client.post(x) for x in xmls))
    assert [a.code for a in answers] == ["I99"] * 50
    finals = await asyncio.gather(*(client.wait(request_id(x), 10) for x in xmls))
    codes = [f.code if f is not None else None for f in finals]
    assert codes.count("I0") == 10
    assert codes.count("AD1") == 40
    assert all(b"ADDCCThresholdBreach" in f.body for f in finals if f and f.code == "AD1")
    assert await _commands_to_esme(sandbox) == 10


async def test_a_top_up_above_its_attribute_limit_is_quarantined(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    limit = {"user": None, "srv": "2.2", "attribute": "UTRN value", "limit": 1000}
    status, _ = await _admin(sandbox, "POST", "/admin/anomaly-thresholds", limit)
    assert status == 200

    def top_up(pence: int, counter: int) -> bytes:
        utrn = make_utrn(
            sandbox.keystore, supplier=SUPPLIER, device=ESME, counter=counter << 32, value=pence
        )
        body = f"<sr:TopUpDevice><sr:UTRN>{utrn}</sr:UTRN></sr:TopUpDevice>"
        return request(client, "2.2", ESME, body)

    big = top_up(2500, 7)
    outcome = await client.send(big, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.code == "AD1"
    schema(outcome.final.body)
    _ref(outcome.final.body, "ADAttributeLimitsBreach", request_id(big))
    assert b"UTRN value 2500 exceeds the limit 1000" in outcome.final.body
    small = top_up(1000, 8)  # at the limit: passes
    outcome = await client.send(small, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.code == "I0"
    assert await _commands_to_esme(sandbox) == 1


async def test_a_tariff_price_above_its_limit_is_quarantined_at_cv5(
    sandbox: Sandbox, client: DuisClient
) -> None:
    limit = {"user": eui_duis(SUPPLIER), "srv": "1.1.1", "attribute": "price", "limit": 3000}
    status, _ = await _admin(sandbox, "POST", "/admin/anomaly-thresholds", limit)
    assert status == 200
    outcome = await client.send(request(client, "1.1.1", ESME, TARIFF, cv=4), wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.code == "AD1"
    assert b"price 3100 exceeds the limit 3000" in outcome.final.body
    assert await _commands_to_esme(sandbox) == 0


async def test_bad_thresholds_are_refused_and_change_nothing(sandbox: Sandbox) -> None:
    good = {"user": eui_duis(SUPPLIER), "srv": "7.2", "limit": 3, "period_s": 3600}
    status, _ = await _admin(sandbox, "POST", "/admin/anomaly-thresholds", good)
    assert status == 200
    _, before = await _admin(sandbox, "GET", "/admin/anomaly-thresholds")
    cases = [
        ({**good, "limit": -1}, "limit -1 must be a whole number"),
        ({**good, "srv": "9.9"}, "srv '9.9' is not a device SR this gateway serves"),
        ({**good, "srv": "12.2"}, "is not a device SR"),
        ({**good, "user": "90-B3-D5-1F-30-09-00-00"}, "not a registered DCC User"),
        ({**good, "period_s": 0}, "period_s 0 must be a whole number of seconds"),
        ({**good, "limit": 5, "colour": "red"}, "unknown field(s) colour"),
        ({**good, "attribute": "UTRN value"}, "an attribute limit has no period_s"),
        (
            {"user": None, "srv": "7.2", "attribute": "UTRN value", "limit": 1},
            "cannot be read from SR 7.2",
        ),
    ]
    for body, sentence in cases:
        status, answer = await _admin(sandbox, "POST", "/admin/anomaly-thresholds", body)
        assert status == 400, body
        assert sentence in answer["error"], answer
    _, after = await _admin(sandbox, "GET", "/admin/anomaly-thresholds")
    assert after == before
    status, answer = await _admin(sandbox, "POST", "/admin/quarantine/99/release")
    assert status == 404
    assert "no quarantined request has QuarantineEventRef 99" in answer["error"]


async def test_a_quarantined_request_survives_a_restart_and_is_released_after(
    tmp_path: Path,
) -> None:
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, response_timeout=2.0
    )
    first = await Sandbox.start(settings)
    try:
        limit = {"user": eui_duis(SUPPLIER), "srv": "7.2", "limit": 0, "period_s": 3600}
        assert (await _admin(first, "POST", "/admin/anomaly-thresholds", limit))[0] == 200
        async with DuisClient(first.url, keys=first.keystore, sign_xml=True, timeout=10) as client:
            xml = request(client, "7.2", ESME, DISABLE, cv=4)
            outcome = await client.send(xml, wait=True, within=5)
        assert outcome.final is not None
        assert outcome.final.code == "AD1"
        ref = _ref(outcome.final.body, "ADUserThresholdBreach", request_id(xml))
    finally:
        await first.close()
    second = await Sandbox.start(settings)
    try:
        _, held = await _admin(second, "GET", "/admin/quarantine")
        assert [q["ref"] for q in held] == [ref]
        _, thresholds = await _admin(second, "GET", "/admin/anomaly-thresholds")
        assert [t["limit"] for t in thresholds] == [0]
        status, _ = await _admin(second, "POST", f"/admin/quarantine/{ref}/release")
        assert status == 200
        report = await _response_after_release(second, request_id(xml))
        assert report is not None
        assert report["code"] == "I0"
    finally:
        await second.close()


async def test_a_release_overtaken_by_a_later_command_is_sent_and_the_answer_warns(
    tmp_path: Path,
) -> None:
    """A held command keeps its GBCS counter (the user signed it); once a later command of the
    same user reached the meter, the meter refuses the held one as a replay when it is released.
    It is still sent (the gateway cannot know the meter's counters), and the release says so."""
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, response_timeout=0.5
    )
    sandbox = await Sandbox.start(settings)
    try:
        limit = {"user": eui_duis(SUPPLIER), "srv": "7.2", "limit": 0, "period_s": 3600}
        assert (await _admin(sandbox, "POST", "/admin/anomaly-thresholds", limit))[0] == 200
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True) as client:
            held = request(client, "7.2", ESME, DISABLE, cv=4)
            outcome = await client.send(held, wait=True, within=5)
            assert outcome.final is not None
            ref = _ref(outcome.final.body, "ADUserThresholdBreach", request_id(held))
            read = request(client, "4.1.1", ESME, "<sr:ReadInstantaneousImportRegisters/>")
            outcome = await client.send(read, wait=True, within=5)
            assert outcome.final is not None
            assert outcome.final.code == "I0"
            status, released = await _admin(sandbox, "POST", f"/admin/quarantine/{ref}/release")
            assert status == 200, released
            assert released["warning"] == (
                f"sent, but request {request_id(read)} went to device {eui_duis(ESME)} after "
                "this one was held: its GBCS counter is higher, so the device will refuse this "
                "one as a replay and it will end with DCC alert N12 when its response time is up"
            )
            assert await _commands_to_esme(sandbox) == 2  # sent all the same
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while sandbox.devices.request_state(request_id(held)) == "sent":
                assert loop.time() < deadline
                await asyncio.sleep(0.05)
            final = await client.wait(request_id(held), 5)
        assert final is not None
        assert final.code == "N12"
        assert b"did not answer" in final.body
    finally:
        await sandbox.close()
