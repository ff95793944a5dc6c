"""SR8.12.1 Restore HAN Device Log (and 8.12.2, the GPF's) in a whole sandbox: a replacement
hub gets the old hub's device log as the SMI holds it (CCS03, sent by the ACB), the emulated
CHF's log becomes that one, and the SMI moves the restored devices to the new hub's log.
Refusals are synchronous and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from emulator.devices.chf import Chf
from emulator.usecases.han import joined
from gateway.inventory import Inventory
from gateway.model import DevicePrenotification, DeviceRecord
from gateway.services.device_han import joined_with
from gbcs import content as gc
from gbcs.codes import ACB, SUPPLIER
from gbcs.devices import DeviceType
from gbcs.eui import eui_duis, parse_eui
from gbcs.frames import Message
from smetsim.client import DuisClient
from smetsim.home import gateway_profile
from smetsim.requests import write_request
from smetsim.sandbox import CHF, ESME, GPF, GSME, Sandbox

NEW_CHF = parse_eui("00-DB-12-34-56-78-90-C2")
NEW_GPF = parse_eui("00-DB-12-34-56-78-90-C3")


def _install_new_hub(sandbox: Sandbox) -> None:
    """A replacement hub, pre-notified and installed in the SMI and hosted by the fleet."""
    profile = gateway_profile(DeviceType.CHF)
    service = sandbox.gateway.service
    service.prenotify_shipment(
        SUPPLIER,
        [
            DevicePrenotification(
                NEW_CHF,
                profile[0],
                profile[1],
                DeviceType.CHF,
                smets_chts_version=profile[2],
                firmware_version=profile[3],
                associated_gpf_id=NEW_GPF,
            )
        ],
    )
    service.on_installed_not_commissioned(NEW_CHF)
    service.on_commissioned(NEW_CHF)
    sandbox.fleet.add(NEW_CHF, "tellurian-ch2-chf", partner=NEW_GPF)
    sandbox.keystore.add_derived_devices(sandbox.seed, [NEW_CHF, NEW_GPF])


def _logged(sandbox: Sandbox, chf: bytes) -> dict[bytes, DeviceRecord]:
    """The devices in ``chf``'s device log as the SMI holds it."""
    with sandbox.gateway.storage.transaction() as tx:
        return {r.device_id: r for r in Inventory(tx).on_hub(chf) if r.chf_id == chf}


def _restore(client: DuisClient, old: str, *, device: bytes = NEW_CHF, cv: int = 1) -> bytes:
    return write_request(
        "8.12.1",
        device=device,
        command_variant=cv,
        fields={"OldCHFID": old},
        counter=client.fresh_counter(),
    )


async def test_the_new_hub_gets_the_old_hubs_log_and_the_smi_follows(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    _install_new_hub(sandbox)
    before = _logged(sandbox, CHF)
    assert {ESME, GSME} <= set(before)
    assert _logged(sandbox, NEW_CHF) == {}

    # CV2: the command comes back for local delivery - the ACB's CCS03 with the SMI's log.
    local = await client.post(_restore(client, eui_duis(CHF), cv=2))
    assert local.code == "I0", local.reason
    assert local.payload is not None
    command = Message.from_bytes(local.payload)
    assert command.message_code == 0x0003
    assert (command.business_originator, command.business_target) == (ACB, NEW_CHF)
    restore = gc.decode_command(0x0003, command.content)
    assert isinstance(restore, gc.RestoreChfDeviceLog)
    assert restore.extended_pan_id == CHF
    expected = {eui: gc.OTHER_DEVICE_TYPES[r.device_type.value] for eui, r in before.items()}
    assert dict(restore.entries) == expected
    assert _logged(sandbox, NEW_CHF) == {}  # handed back, not sent: nothing changed

    # CV1: sent to the new hub, which answers; the SMI follows its success.
    sent = await client.post(_restore(client, eui_duis(CHF)))
    assert sent.code == "I99", sent.reason
    final = await client.wait(sent.request_id, within=5)
    assert final is not None
    assert final.ok, final
    assert final.payload is not None
    answer = Message.from_bytes(final.payload)
    outcome = gc.Outcome.decode(answer.content)
    assert outcome.ok

    hub = sandbox.fleet.device(NEW_CHF, datetime.now(UTC))
    assert isinstance(hub, Chf)
    assert hub.device_log is not None
    restored = hub.device_log
    assert {eui: e.device_type for eui, e in restored.items()} == expected
    assert restored[ESME].joined  # hosted by the fleet: on the new HAN at once
    assert hub.family_state("han")["extended_pan_id"] == CHF.hex()

    after = _logged(sandbox, NEW_CHF)
    assert set(after) == set(before)
    assert _logged(sandbox, CHF) == {}
    for eui, record in after.items():
        assert record.status is before[eui].status  # a restore is no lifecycle event
    # The ESME is reached through the new hub now, and answers.
    hubs: list[bytes] = []
    deliver = sandbox._on_command

    def watched(hub: bytes, frame: bytes) -> None:
        hubs.append(hub)
        deliver(hub, frame)

    sandbox.wan.hubs.set_handler(watched)
    read = (
        conformance / "duis/templates/ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"
    ).read_bytes()
    answered = await client.send(read, fresh=True, wait=True, within=5)
    assert answered.final is not None
    assert answered.final.ok, answered.final
    assert hubs == [NEW_CHF]


@pytest.mark.parametrize(
    ("old", "code", "words"),
    [
        (eui_duis(ESME), "E081202", "is not a CHF"),
        ("00-DB-12-34-56-78-90-EE", "E081202", "is not a CHF"),
        (eui_duis(NEW_CHF), "E081204", "nothing to restore"),
        ("00-DB-12-34", "E42", "OldCHFID is invalid"),
    ],
)
async def test_a_restore_the_smi_cannot_make_is_refused_at_once(
    sandbox: Sandbox, client: DuisClient, old: str, code: str, words: str
) -> None:
    _install_new_hub(sandbox)
    before = _logged(sandbox, CHF)
    answer = await client.post(_restore(client, old))
    assert answer.code == code, (answer.code, answer.reason)
    assert words in (answer.reason or ""), answer.reason
    assert _logged(sandbox, CHF) == before
    assert _logged(sandbox, NEW_CHF) == {}


async def test_a_restore_sent_to_a_meter_is_the_wrong_device_type(
    sandbox: Sandbox, client: DuisClient
) -> None:
    answer = await client.post(_restore(client, eui_duis(CHF), device=ESME))
    assert answer.code == "E48", answer.reason


async def test_a_gpf_log_restore_moves_the_old_gpfs_joins_to_the_hubs_gpf(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    """SR8.12.2 end to end: the GSME joins the partner GPF ...-9C (the DCC's CS03B template),
    then the home's GPF takes over 9C's log (GCS59, sent by the ACB)."""
    old_gpf = parse_eui("00-DB-12-34-56-78-90-9C")
    join = (conformance / "duis/templates/CS03B_8.7.2_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    joined_answer = await client.send(join, fresh=True, wait=True, within=5)
    assert joined_answer.final is not None
    assert joined_answer.final.ok, joined_answer.final
    xml = write_request(
        "8.12.2", device=GPF, fields={"OldGPFID": eui_duis(old_gpf)}, counter=client.fresh_counter()
    )
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.ok, outcome.final
    assert outcome.final.payload is not None
    restored = gc.GpfDeviceLogRestored.decode(Message.from_bytes(outcome.final.payload).content)
    assert restored.results == ((GSME, gc.OTHER_DEVICE_TYPES["GSME"], 0),)
    now = datetime.now(UTC)
    assert set(joined(sandbox.fleet.device(GPF, now))) == {GSME.hex()}
    assert joined(sandbox.fleet.device(GSME, now))[GPF.hex()]["type"] == 3
    with sandbox.gateway.storage.transaction() as tx:
        assert joined_with(tx, GPF) == [(GSME, DeviceType.GSME)]
        assert (GPF, DeviceType.GPF) in joined_with(tx, GSME)
