"""The gateway over HTTP: DUIS endpoints (signed both ways), error responses, refusals.

Every DUIS response these tests receive is validated against the DUIS 5.4 schema with
``xmlschema`` (skipped when ../shared/conformance is absent) and its signature is checked
against the gateway's certificate (see :mod:`tests.gateway.duis.http`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lxml import etree

from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.router import Reply, RequestContext
from gateway.duis.xml import SR_NS
from gateway.errors import RESPONSE_CODES
from tests.conftest import CONFORMANCE
from tests.gateway.duis.http import (
    A0,
    A1,
    NO_MATCH,
    REPLAYED,
    S1,
    S2,
    SCHEMA_DIR,
    Client,
    client_for,
    code_of,
    inventory_ids,
    running,
    settings_for,
)
from tests.gateway.duis.support import (
    prenotification_body,
    read_inventory_body,
    request_document,
    signer_for,
)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async for c in client_for(tmp_path):
        yield c


# --- success -----------------------------------------------------------------------------------


async def test_prenotify_then_read_inventory(client: Client) -> None:
    status, root, _ = await client.send("12.2", prenotification_body(A0))
    assert (status, code_of(root)) == (200, "I0")
    status, root, _ = await client.send("8.2", read_inventory_body(A0))
    assert (status, code_of(root)) == (200, "I0")
    assert inventory_ids(root) == ["00-DB-12-34-56-78-90-A0"]
    device = root.find(f".//{{{SR_NS}}}Device")
    assert device is not None
    assert device.findtext(f"{{{SR_NS}}}DeviceStatus") == "Pending"
    assert device.findtext(f"{{{SR_NS}}}ESMEVariant") == "A"
    request_id = root.findtext(f"{{{SR_NS}}}Header/{{{SR_NS}}}RequestID")
    assert request_id == f"90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:{client.counters[S1]}"


async def test_every_update_inventory_form_and_decommission(client: Client) -> None:
    await client.send("12.2", prenotification_body(A0))
    await client.send("12.2", prenotification_body(A1, device_type="GSME", variant=None))

    async def update(choice: str, device: str = "00-DB-12-34-56-78-90-A0") -> str:
        body = (
            f"<sr:UpdateInventory><sr:DeviceID>{device}</sr:DeviceID>{choice}</sr:UpdateInventory>"
        )
        _, root, _ = await client.send("8.4", body)
        return code_of(root)

    details = (
        "<sr:UpdateDeviceDetails><sr:FirmwareVersion>0003</sr:FirmwareVersion>"
        "</sr:UpdateDeviceDetails>"
    )
    assert await update(details) == "I0"
    assert (
        await update(
            "<sr:UpdateDeviceStatusExceptCH>InstalledNotCommissioned</sr:UpdateDeviceStatusExceptCH>"
        )
        == "I0"
    )
    assert await update("<sr:DeleteDevice/>", "00-DB-12-34-56-78-90-A1") == "I0"
    _, root, _ = await client.send("8.2", read_inventory_body(A1))
    assert code_of(root) != "I0"  # deleted
    _, root, _ = await client.send(
        "8.3",
        "<sr:DecommissionDevice><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID></sr:DecommissionDevice>",
    )
    assert code_of(root) == "I0"
    _, root, _ = await client.send("8.2", read_inventory_body(A0))
    device = root.find(f".//{{{SR_NS}}}Device")
    assert device is not None
    assert device.findtext(f"{{{SR_NS}}}DeviceStatus") == "Decommissioned"
    assert device.findtext(f"{{{SR_NS}}}DeviceFirmwareVersion") == "0003"


async def test_templates_unchanged_with_allow_unsigned(tmp_path: Path) -> None:
    templates = CONFORMANCE / "duis" / "templates"
    if not templates.is_dir():
        pytest.skip("../shared/conformance is absent")
    settings = settings_for(tmp_path, allow_unsigned=True, duis_schema=SCHEMA_DIR)
    async with running(settings) as c:
        # Each template says counter 1000: the first is accepted, a second one is a replay.
        data = (templates / "12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML").read_bytes()
        _, root, _ = await c.post("serviceD", data)
        assert code_of(root) == "I0"
        _, root, _ = await c.post("serviceD", data)
        assert code_of(root) == REPLAYED
        for name, counter in (
            ("8.4_UPDATE_INVENTORY_REQUEST_DUIS.XML", 1001),
            ("8.3_DECOMMISSION_DEVICE_REQUEST_DUIS.XML", 1002),
        ):
            data = (templates / name).read_bytes().replace(b":1000<", f":{counter}<".encode())
            _, root, _ = await c.post("serviceD", data)
            # 8.4 deletes the device, so 8.3 then finds none.
            assert code_of(root) in ("I0", RESPONSE_CODES["decommission_unknown_device"].code)
        data = (
            (templates / "8.2_READ_INVENTORY_REQUEST_DUIS.XML")
            .read_bytes()
            .replace(b":1000<", b":1003<")
        )
        _, root, _ = await c.post("serviceD", data)
        assert code_of(root) == NO_MATCH  # 00-DB-12-34-56-78-90-A2 was never pre-notified


async def test_schema_validation_when_configured(tmp_path: Path) -> None:
    if not SCHEMA_DIR.is_dir():
        pytest.skip("../shared/conformance is absent")
    async with running(settings_for(tmp_path, duis_schema=SCHEMA_DIR)) as c:
        body = prenotification_body(A0).replace(
            "<sr:DeviceModel>", "<sr:Colour>red</sr:Colour><sr:DeviceModel>"
        )
        status, root, headers = await c.send("12.2", body)
        assert (status, code_of(root)) == (400, "E42")
        assert "Colour" in headers["X-DUIS-Reason"]
        _, root, _ = await c.send("8.2", read_inventory_body(A0))
        assert code_of(root) == NO_MATCH  # nothing was pre-notified


# --- refusals: a code the schema allows, a sentence, no state change ----------------------------


async def assert_nothing_changed(client: Client) -> None:
    _, root, _ = await client.send("8.2", read_inventory_body(A0))
    assert code_of(root) == NO_MATCH


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        (b"<sr:Request", 400, "E40", "not well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>', 400, "E40", "DOCTYPE"),
        (b'<Request xmlns="urn:x" schemaVersion="5.4"/>', 400, "E41", "{urn:x}Request"),
    ],
)
async def test_unreadable_requests(
    client: Client, body: bytes, status: int, code: str, needle: str
) -> None:
    got_status, root, headers = await client.post("serviceD", body)
    assert (got_status, code_of(root)) == (status, code)
    assert needle in headers["X-DUIS-Reason"]
    assert root.findtext(f"{{{SR_NS}}}Header/{{{SR_NS}}}RequestID") is None
    comments = [c.text for c in root.iter(etree.Comment)]
    assert comments
    assert needle.replace("--", "- -") in (comments[0] or "")
    await assert_nothing_changed(client)


async def test_unknown_sr(client: Client) -> None:
    status, root, headers = await client.send("8.99", read_inventory_body(A0))
    assert (status, code_of(root)) == (400, "E43")
    assert "8.99" in headers["X-DUIS-Reason"]


async def test_wrong_endpoint_for_the_command_variant(client: Client) -> None:
    status, root, headers = await client.send("12.2", prenotification_body(A0), endpoint="serviceT")
    assert (status, code_of(root)) == (200, "E13")
    assert "/api/v1/serviceD" in headers["X-DUIS-Reason"]
    assert root.findtext(f".//{{{SR_NS}}}ServiceReferenceVariant") == "12.2"
    await assert_nothing_changed(client)


async def test_command_variant_not_allowed_for_the_sr(client: Client) -> None:
    status, root, headers = await client.send(
        "12.2", prenotification_body(A0), cv=1, endpoint="serviceS"
    )
    assert (status, code_of(root)) == (200, "E12")
    assert "CommandVariant 1" in headers["X-DUIS-Reason"]
    await assert_nothing_changed(client)


async def test_unsigned_is_refused_without_allow_unsigned(client: Client) -> None:
    status, root, headers = await client.send("12.2", prenotification_body(A0), sign=False)
    assert (status, code_of(root)) == (403, "E44")
    assert "--allow-unsigned" in headers["X-DUIS-Reason"]
    await assert_nothing_changed(client)


async def test_signed_by_someone_else(client: Client) -> None:
    status, root, _ = await client.send("12.2", prenotification_body(A0), signer=S2)
    assert (status, code_of(root)) == (403, "E45")
    await assert_nothing_changed(client)


async def test_device_requests_point_to_the_sandbox(client: Client) -> None:
    document = request_document(
        originator=S1,
        counter=5,
        srv="4.1.1",
        sr="4.1",
        cv=1,
        target=A0,
        body="<sr:ReadInstantaneousImportRegisters/>",
    )
    status, root, headers = await client.post("serviceS", signer_for(S1).sign_bytes(document))
    assert (status, code_of(root)) == (200, "E47")
    assert "smetsim sandbox serves device service requests" in headers["X-DUIS-Reason"]
    await assert_nothing_changed(client)


async def test_a_rule_failure_from_the_service(client: Client) -> None:
    await client.send("12.2", prenotification_body(A0))
    status, root, headers = await client.send("12.2", prenotification_body(A0))
    assert (status, code_of(root)) == (200, RESPONSE_CODES["prenotify_duplicate"].code)
    assert "already" in headers["X-DUIS-Reason"]


async def test_a_replayed_request_id(client: Client) -> None:
    await client.send("12.2", prenotification_body(A0), counter=7)
    _, root, _ = await client.send("12.2", prenotification_body(A1), counter=7)
    assert code_of(root) == REPLAYED
    _, root, _ = await client.send("8.2", read_inventory_body(A1), counter=8)
    assert code_of(root) == NO_MATCH


async def test_a_body_over_the_limit(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path, max_body_bytes=4096)) as c:
        document = request_document(
            originator=S1, counter=1, srv="12.2", body=prenotification_body(A0) + " " * 5000
        )
        status, root, headers = await c.post("serviceD", document)
        assert (status, code_of(root)) == (413, "E40")
        assert "4096" in headers["X-DUIS-Reason"]

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(document), 1000):
                yield document[i : i + 1000]

        async with c.session.post(f"{c.url}/api/v1/serviceD", data=chunks()) as response:
            assert response.status == 413
            assert response.headers["X-DUIS-Response-Code"] == "E40"


async def test_a_failing_handler_is_isolated(client: Client) -> None:
    async def broken(context: RequestContext) -> Reply:
        raise ZeroDivisionError

    # 9.1 is served by no handler of the gateway alone (a device SR)
    client.gateway.front_door.router.register(ServiceReferenceVariant.SR_9_1, broken)
    status, root, headers = await client.send(
        "9.1",
        "<sr:RequestCustomerIdentificationNumber/>",
        cv=1,
        endpoint="serviceS",
    )
    assert (status, code_of(root)) == (500, "E1000")
    assert "ZeroDivisionError" in headers["X-DUIS-Reason"]
    _, root, _ = await client.send("12.2", prenotification_body(A0))
    assert code_of(root) == "I0"


async def test_concurrent_requests_share_commits(client: Client) -> None:
    devices = [bytes.fromhex(f"00db12345678{i:04x}") for i in range(24)]
    documents = [
        signer_for(S1).sign_bytes(
            request_document(
                originator=S1, counter=200 + i, srv="12.2", body=prenotification_body(d)
            )
        )
        for i, d in enumerate(devices)
    ]
    results = await asyncio.gather(*(client.post("serviceD", d) for d in documents))
    codes = [code_of(root) for _, root, _ in results]
    # Counters arrive out of order under concurrency: a lower one after a higher is a replay.
    assert codes.count("I0") >= 1
    assert set(codes) <= {"I0", REPLAYED}
    assert client.gateway.commits.batches < client.gateway.commits.jobs


async def test_service_opt_out_is_refused_to_everyone(client: Client) -> None:
    document = request_document(
        originator=S1, counter=5, srv="8.5", cv=1, target=A0, body="<sr:ServiceOptOut/>"
    )
    status, root, headers = await client.post("serviceS", signer_for(S1).sign_bytes(document))
    assert (status, code_of(root)) == (200, RESPONSE_CODES["opt_out_refused"].code)
    assert "no DCC User" in headers["X-DUIS-Reason"]
