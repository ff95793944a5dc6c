"""Critical SRs: CV4 returns the pre-command, CV5 takes it back signed. A bad signature or a
pre-command changed after (or before) signing is refused and never reaches the device."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gbcs.builders import Builder
from gbcs.codes import SUPPLIER, SUPPLIER_2
from gbcs.frames import Message
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, Sandbox, SandboxSettings
from tests.e2e.support import SchemaCheck, gbcs_of, request, request_id


async def _precommand(client: DuisClient, body: str = "<sr:DisableSupply/>") -> tuple[bytes, bytes]:
    xml = request(client, "7.2", ESME, body, cv=4)
    answer = await client.post(xml)
    assert answer.code == "I0", answer.reason
    assert answer.payload is not None
    return xml, answer.payload


def _device_counter(sandbox: Sandbox) -> int | None:
    device = sandbox.fleet.device(ESME, 0)
    return None if device.counters is None else device.counters.get(SUPPLIER)


async def test_a_signature_by_another_key_is_refused_and_never_sent(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    before = _device_counter(sandbox)
    xml, precommand = await _precommand(client)
    # signed with the second supplier's key, claiming to be the first supplier
    unsigned = Message.from_bytes(precommand)
    forged = Builder(sandbox.keystore).sign(unsigned, SUPPLIER_2)
    assert forged.business_originator == SUPPLIER
    answer = await client.post(client.signed_precommand_request(xml, forged.to_bytes()))
    assert answer.code == "E53"
    assert "does not match" in (answer.reason or "")
    schema(answer.body)
    assert sandbox.wan.stats.sent_down == 0
    assert _device_counter(sandbox) == before
    # the pre-command is still there: signed properly, it goes through
    signed = client.sign_precommand(precommand, SUPPLIER)
    answer = await client.post(client.signed_precommand_request(xml, signed))
    assert answer.code == "I99"
    final = await client.wait(request_id(xml), 5)
    assert final is not None
    assert final.kind == "response"


async def test_a_pre_command_changed_after_signing_is_refused(
    sandbox: Sandbox, client: DuisClient
) -> None:
    xml, precommand = await _precommand(client)
    signed = client.sign_precommand(precommand, SUPPLIER)
    # ECS43's script id 0x34 (disable) turned into 0x33 (enable) after the signature
    tampered = bytearray(signed)
    index = tampered.rfind(b"\x12\x00\x34")
    assert index > 0
    tampered[index + 2] = 0x33
    answer = await client.post(client.signed_precommand_request(xml, bytes(tampered)))
    assert answer.code == "E53"
    assert sandbox.wan.stats.sent_down == 0


async def test_a_pre_command_changed_before_signing_is_refused(
    sandbox: Sandbox, client: DuisClient
) -> None:
    xml, precommand = await _precommand(client)
    issued = Message.from_bytes(precommand)
    changed = dataclasses.replace(issued, content=issued.content[:-1] + b"\x33")
    signed = Builder(sandbox.keystore).sign(changed, SUPPLIER)
    answer = await client.post(client.signed_precommand_request(xml, signed.to_bytes()))
    assert answer.code == "E52"
    assert "differ" in (answer.reason or "")
    assert sandbox.wan.stats.sent_down == 0


async def test_a_signed_pre_command_without_cv4_or_sent_twice_is_refused(
    sandbox: Sandbox, client: DuisClient
) -> None:
    xml, precommand = await _precommand(client)
    signed = client.sign_precommand(precommand, SUPPLIER)
    stray = client.signed_precommand_request(client.with_counter(xml), signed)
    answer = await client.post(stray)
    assert answer.code == "E51"
    assert "CommandVariant 4 first" in (answer.reason or "")
    cv5 = client.signed_precommand_request(xml, signed)
    assert (await client.post(cv5)).code == "I99"
    again = await client.post(cv5)
    assert again.code == "E51"
    assert "already used" in (again.reason or "")
    assert sandbox.wan.stats.sent_down == 1


async def test_a_critical_sr_cannot_skip_the_pre_command(client: DuisClient) -> None:
    answer = await client.post(request(client, "7.2", ESME, "<sr:DisableSupply/>", cv=1))
    assert answer.code == "E12"


async def test_a_malformed_signed_pre_command_is_refused(client: DuisClient) -> None:
    xml, _ = await _precommand(client)
    answer = await client.post(client.signed_precommand_request(xml, b"\xdf\x09\x01"))
    assert answer.code == "E50"


async def test_with_require_signatures_only_signed_requests_pass(tmp_path: Path) -> None:
    settings = SandboxSettings.create(
        state=tmp_path / "s", port=0, latency=False, require_signatures=True, durability="process"
    )
    sandbox = await Sandbox.start(settings)
    try:
        async with DuisClient(sandbox.url, keys=sandbox.keystore) as client:
            xml = request(client, "11.2", ESME, "<sr:ReadFirmwareVersion/>")
            assert (await client.post(xml, sign=False)).code == "E44"
            outcome = await client.send(xml, sign=True, wait=True, within=5)
            assert outcome.ok, outcome
            critical = request(client, "7.2", ESME, "<sr:DisableSupply/>", cv=4)
            outcome = await client.send(critical, sign=True, wait=True, within=5)
            assert [a.code for a in outcome.answers] == ["I0", "I99"]
            assert outcome.final is not None
            assert gbcs_of(outcome.final.body).message_code == 0x0050
    finally:
        await sandbox.close()
