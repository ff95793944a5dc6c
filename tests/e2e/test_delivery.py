"""Answers and alerts are POSTed, signed, to the user's response URL - and kept in the inbox
whatever the listener does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from lxml import etree

from gateway.duis.signature import XmlSignatureVerifier
from gbcs.codes import ACB, SUPPLIER, KeyPurpose
from smetsim.client import DuisClient
from smetsim.sandbox import CHF, ESME, PENDING_ESME, PENDING_MPAN, Sandbox
from tests.e2e.listener import Listener, listening, register
from tests.e2e.support import request, request_id


@pytest.fixture
async def listener() -> AsyncIterator[tuple[Listener, str]]:
    async with listening() as found:
        yield found


async def _register(sandbox: Sandbox, client: DuisClient, url: str) -> None:
    await register(sandbox, client, url)


async def _wait_for(listener: Listener, count: int) -> None:
    await listener.wait_for(count)


async def test_answers_and_alerts_are_posted_signed(
    sandbox: Sandbox, client: DuisClient, listener: tuple[Listener, str]
) -> None:
    found, url = listener
    await _register(sandbox, client, url)
    body = (
        "<sr:UpdateHANDeviceLog><sr:DeviceID>00-DB-12-34-56-78-90-B0</sr:DeviceID>"
        "<sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist>"
        "<sr:JoinTimePeriod>60</sr:JoinTimePeriod>"
        "<sr:InstallCode>30313233343536373839414243444546</sr:InstallCode>"
        f"<sr:ImportMPxN>{PENDING_MPAN}</sr:ImportMPxN>"
        "</sr:AddDeviceToCHFWhitelist></sr:UpdateHANDeviceLog>"
    )
    xml = request(client, "8.11", CHF, body)
    assert (await client.post(xml)).code == "I99"
    await _wait_for(found, 2)  # the CHF's answer and its "device log changed" alert
    kinds = sorted(b"DeviceAlertMessage" in b for b in found.bodies)
    assert kinds == [False, True]
    answer = next(b for b in found.bodies if b"ResponseMessage" in b)
    assert request_id(xml).encode() in answer
    alert = next(b for b in found.bodies if b"DeviceAlertMessage" in b)
    assert b"<sr:AlertCode>8F12</sr:AlertCode>" in alert
    certificate = sandbox.keystore.certificate(ACB, KeyPurpose.DS)
    assert certificate is not None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for posted in found.bodies:
        XmlSignatureVerifier().verify(etree.fromstring(posted, parser), certificate)
    # the inbox holds the same bytes, marked delivered
    stored = await sandbox.devices.fetch_reports(recipient=SUPPLIER)
    assert {r.body for r in stored} == set(found.bodies)
    await asyncio.sleep(0.1)
    assert all(r.delivered for r in await sandbox.devices.fetch_reports(recipient=SUPPLIER))
    assert sandbox.gateway.service.get_device(PENDING_ESME) is not None


async def test_a_failing_listener_gets_it_again(
    sandbox: Sandbox, client: DuisClient, listener: tuple[Listener, str]
) -> None:
    found, url = listener
    found.fail_first = 2
    sandbox.duis.retry_delays = (0.05, 0.05, 0.05)
    await _register(sandbox, client, url)
    xml = request(client, "11.2", ESME, "<sr:ReadFirmwareVersion/>")
    assert (await client.post(xml)).code == "I99"
    await _wait_for(found, 1)
    assert request_id(xml).encode() in found.bodies[0]
    async with asyncio.timeout(5):
        while sandbox.duis.delivered < 1:  # noqa: ASYNC110  (a counter, no event to wait on)
            await asyncio.sleep(0.01)
    assert sandbox.duis.delivery_failures == 2
    assert sandbox.duis.delivered == 1
