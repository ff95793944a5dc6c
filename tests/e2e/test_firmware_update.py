"""SR 11.1 Update Firmware in a whole sandbox: the DCC checks the image against the Central
Products List, hands it to the ESME through its hub, the ESME verifies it and alerts 0x8F72
with its hash; SR 11.3 then activates it and the ESME runs the new version (MP125: an AD
now). The refusals (a hash that does not match, a version on no model, an image for a model
the SMI has no device of, no device able to take it) change nothing. 12.1 answers the WAN
coverage; 8.6 is refused to everyone."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from datetime import timedelta
from pathlib import Path

import pytest

from gateway import firmware
from gateway.storage import Transaction
from gbcs.frames import Message
from smetsim.client import DuisClient
from smetsim.requests import write_request
from smetsim.sandbox import (
    CHF,
    ESME,
    GSME,
    SUPPLIER,
    Sandbox,
    SandboxSettings,
    prepare_sandbox_state,
)
from smetsim.sandbox_workers import worker_arguments
from smetsim.worker_mesh import WorkerMesh
from tests.e2e.support import SchemaCheck

NEW = "00020000"


def _image(sandbox: Sandbox, version: str = NEW, profile: str | None = None) -> bytes:
    spec = sandbox.fleet.spec(ESME).profile
    if profile is not None:
        from emulator.firmware import load_profiles

        spec = load_profiles()[profile]
    return spec.image(version)


def _update(client: DuisClient, image: bytes, version: str = NEW, **fields: str) -> bytes:
    return write_request(
        "11.1",
        fields={
            "FirmwareImage": base64.b64encode(image).decode(),
            "FirmwareVersion": version,
            **fields,
        },
        counter=client.fresh_counter(),
    )


def _deliveries(sandbox: Sandbox) -> list[tuple[str, bytes, str]]:
    def read(tx: Transaction) -> list[tuple[str, bytes, str]]:
        rows = tx.all("SELECT request_id, device, state FROM firmware_deliveries ORDER BY 1")
        return [(str(r[0]), bytes(r[1]), str(r[2])) for r in rows]

    with sandbox.gateway.storage.transaction() as tx:
        return read(tx)


async def _receipts(sandbox: Sandbox, code: str) -> list[bytes]:
    for _ in range(300):
        found = [
            r.payload or b""
            for r in sandbox.devices.reports(recipient=SUPPLIER)
            if r.kind.value == "alert" and r.code == code
        ]
        if found:
            return found
        await asyncio.sleep(0.01)
    return []


async def test_an_image_reaches_the_meter_and_11_3_activates_it(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    image = _image(sandbox)
    answer = await client.post(_update(client, image))
    assert answer.code == "I99", answer.reason
    schema(answer.body)
    assert b"DSPUpdateFirmwareWarning" not in answer.body  # every device listed takes it
    status = await client.wait(answer.request_id, within=5)  # the hub's transfer, as an alert
    assert status is not None
    assert status.kind == "dcc-alert"
    schema(status.body)
    assert b"<sr:CommsHubTransferStatus>Success<" in status.body
    assert f"<sr:TargetDeviceID>{ESME.hex('-').upper()}<".encode() in status.body
    receipts = await _receipts(sandbox, "8F72")
    assert receipts, "the ESME's firmware verification receipt did not arrive"
    meter = sandbox.fleet.device(ESME, sandbox.clock())
    assert meter.staged_image == firmware.image_hash(image)
    assert [(d, s) for _, d, s in _deliveries(sandbox)] == [(ESME, "sent")]

    activate = write_request(
        "11.3",
        fields={"FirmwareHash": firmware.image_hash(image).hex().upper()},
        counter=client.fresh_counter(),
    )
    outcome = await client.send(activate, wait=True, within=5)
    assert outcome.ok, outcome
    meter = sandbox.fleet.device(ESME, sandbox.clock())
    assert meter.firmware.version == NEW
    assert meter.firmware.esme_variant == "AD"  # MP125: the supplier corrects the SMI (8.4)


async def test_devices_that_cannot_take_the_image_are_listed_back(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    carrier = sandbox.gateway.dcc_services.carrier
    sandbox.gateway.dcc_services.carrier = None  # the hub does not take images for now
    unknown = "00-DB-12-34-56-78-90-FF"
    listed = f"{ESME.hex('-').upper()},{CHF.hex('-').upper()},{unknown}"
    answer = await client.post(_update(client, _image(sandbox), DeviceIDList=listed))
    assert answer.code == "I99", answer.reason
    schema(answer.body)
    warning = re.search(rb"<sr:InvalidDeviceIDList>([^<]*)<", answer.body)
    assert warning is not None
    assert warning.group(1).decode().split(",") == [CHF.hex("-").upper(), unknown]
    assert [(d, s) for _, d, s in _deliveries(sandbox)] == [(ESME, "pending")]
    # the ESME's distribution is under way: a second update to it is refused as such
    again = await client.post(_update(client, _image(sandbox)))
    assert again.code == "E110105", again.reason
    assert "distribution under way" in (again.reason or "")
    # the pending delivery goes once the hub takes images again
    sandbox.gateway.dcc_services.carrier = carrier
    assert await sandbox.gateway.dcc_services.resume() == 1
    assert await _receipts(sandbox, "8F72")
    assert [(d, s) for _, d, s in _deliveries(sandbox)] == [(ESME, "sent")]


async def test_a_hash_that_does_not_match_the_cpl_changes_nothing(
    sandbox: Sandbox, client: DuisClient
) -> None:
    image = bytearray(_image(sandbox))
    image[-1] ^= 1
    xml = _update(client, bytes(image))
    answer = await client.post(xml)
    assert answer.code == "E110102", answer.reason
    assert firmware.image_hash(bytes(image)).hex().upper() in (answer.reason or "")
    assert _deliveries(sandbox) == []
    # nothing changed, the RequestID counter included: the corrected request may reuse it
    fixed = xml.replace(base64.b64encode(bytes(image)), base64.b64encode(_image(sandbox)))
    assert (await client.post(fixed)).code == "I99"


async def test_versions_and_models_the_dcc_does_not_know_are_refused(
    sandbox: Sandbox, client: DuisClient
) -> None:
    unknown_version = await client.post(_update(client, _image(sandbox), version="7777"))
    assert unknown_version.code == "E110101", unknown_version.reason
    # calder-cx3 is on the CPL (a bundled profile), but no device of that model is in the SMI
    other_model = await client.post(
        _update(client, _image(sandbox, "03010200", "calder-cx3"), version="03010200")
    )
    assert other_model.code == "E110103", other_model.reason
    assert _deliveries(sandbox) == []
    assert sandbox.fleet.device(ESME, sandbox.clock()).staged_image is None


async def test_the_wan_matrix_answers_the_postcodes_region(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    north = await client.post(write_request("12.1", counter=client.fresh_counter()))
    assert north.code == "I0", north.reason
    schema(north.body)
    assert b"<sr:CSPRegion>North</sr:CSPRegion>" in north.body
    assert b"<sr:PostCode>M22 0RR</sr:PostCode>" in north.body  # the request, echoed
    south = await client.post(
        write_request("12.1", fields={"PostCode": "SW1A 1AA"}, counter=client.fresh_counter())
    )
    assert b"<sr:CSPRegion>South</sr:CSPRegion>" in south.body
    bad = await client.post(
        write_request("12.1", fields={"PostCode": "123456"}, counter=client.fresh_counter())
    )
    assert bad.code == "E120102", bad.reason
    unknown = await client.post(
        write_request("12.1", fields={"UPRN": "999999"}, counter=client.fresh_counter())
    )
    assert unknown.code == "E120101", unknown.reason


async def test_service_opt_in_is_refused_to_everyone(sandbox: Sandbox, client: DuisClient) -> None:
    answer = await client.post(write_request("8.6", counter=client.fresh_counter()))
    assert answer.code == "E080601", answer.reason


async def test_a_hub_that_is_down_fails_the_delivery_and_says_so(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    sandbox.wan.faults.link_down(CHF)
    answer = await client.post(_update(client, _image(sandbox)))
    assert answer.code == "I99", answer.reason
    status = await client.wait(answer.request_id, within=5)
    assert status is not None
    schema(status.body)
    assert b"<sr:CommsHubTransferStatus>Failure<" in status.body
    assert [(d, s) for _, d, s in _deliveries(sandbox)] == [(ESME, "failed")]
    assert sandbox.fleet.device(ESME, sandbox.clock()).staged_image is None


async def test_an_activation_date_in_the_past_is_refused(
    sandbox: Sandbox, client: DuisClient
) -> None:
    image = _image(sandbox)
    assert (await client.post(_update(client, image))).code == "I99"
    assert await _receipts(sandbox, "8F72")
    past = (sandbox.clock() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.00Z")
    xml = write_request(
        "11.3",
        fields={"FirmwareHash": firmware.image_hash(image).hex(), "ExecutionDateTime": past},
        counter=client.fresh_counter(),
        command_variant=4,
    )
    refused = await client.post(xml)
    assert refused.code == "E42", refused.reason
    assert "is not after the DCC's time" in (refused.reason or "")
    meter = sandbox.fleet.device(ESME, sandbox.clock())
    assert meter.firmware.version != NEW
    assert meter.pending_activation is None


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("11.1_UPDATE_FIRMWARE", "E110101"),  # the RTDS sample image: version 00000000 of no model
        ("11.4_UPDATE_PPMID_FIRMWARE", "E110401"),
        ("12.1_REQUEST_WAN_MATRIX_ADDRESS", "I0"),
        ("8.6_SERVICE_OPTIN", "E080601"),
    ],
)
async def test_the_dccs_templates_are_read_and_answered(
    sandbox: Sandbox,
    client: DuisClient,
    schema: SchemaCheck,
    conformance: Path,
    name: str,
    code: str,
) -> None:
    xml = (conformance / "duis" / "templates" / f"{name}_REQUEST_DUIS.XML").read_bytes()
    answer = await client.post(client.with_counter(xml))
    assert answer.code == code, answer.reason
    schema(answer.body)


async def test_a_delivery_left_pending_goes_after_a_restart(tmp_path: Path) -> None:
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, durability="process"
    )
    first = await Sandbox.start(settings)
    try:
        first.gateway.dcc_services.carrier = None  # the hub takes no image before the restart
        async with DuisClient(first.url, keys=first.keystore, sign_xml=True) as client:
            answer = await client.post(_update(client, _image(first)))
            assert answer.code == "I99", answer.reason
        assert [(d, s) for _, d, s in _deliveries(first)] == [(ESME, "pending")]
    finally:
        await first.close()
    again = await Sandbox.start(settings)
    try:
        assert [(d, s) for _, d, s in _deliveries(again)] == [(ESME, "sent")]
        assert await _receipts(again, "8F72")
    finally:
        await again.close()


async def test_the_gas_meter_takes_its_image_too(sandbox: Sandbox, client: DuisClient) -> None:
    profile = sandbox.fleet.spec(GSME).profile
    image = profile.image("00030100")
    xml = write_request(
        "11.1",
        fields={
            "FirmwareImage": base64.b64encode(image).decode(),
            "FirmwareVersion": "00030100",
            "DeviceIDList": GSME.hex("-").upper(),
        },
        counter=client.fresh_counter(),
    )
    answer = await client.post(xml)
    assert answer.code == "I99", answer.reason
    # the gas meter's receipt is its own message (GBZ, message code 0x00CF), filed under its
    # alert code 8F72 as the ESME's is
    receipts = await _receipts(sandbox, "8F72")
    assert [Message.from_bytes(r).message_code for r in receipts] == [0x00CF]
    assert sandbox.fleet.device(GSME, sandbox.clock()).staged_image == firmware.image_hash(image)


async def test_an_image_another_worker_accepted_goes_through_the_fleets_worker(
    tmp_path: Path,
) -> None:
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, durability="process"
    )
    await prepare_sandbox_state(settings)
    token = secrets.token_hex(8)
    workers: list[Sandbox] = []
    try:
        for index in range(2):
            own, _, count, _ = worker_arguments(settings, index, 2, token)
            workers.append(await Sandbox.start(own, mesh=WorkerMesh(token, index, count)))
        host, other = workers
        assert other.gateway.dcc_services.carrier is None  # worker 1 has no HAN of its own
        async with DuisClient(other.url, keys=other.keystore, sign_xml=True) as client:
            answer = await client.post(_update(client, _image(host)))
            assert answer.code == "I99", answer.reason
            assert await host.gateway.dcc_services.resume() == 1  # what the fleet's tick does
            status = await client.wait(answer.request_id, within=5)
        assert status is not None
        assert b"<sr:CommsHubTransferStatus>Success<" in status.body
        assert host.fleet.device(ESME, host.clock()).staged_image == firmware.image_hash(
            _image(host)
        )
    finally:
        for sandbox in workers:
            await sandbox.close()
