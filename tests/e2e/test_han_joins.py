"""The DCC's join templates (SR8.7.1 / 8.7.2: CS03a1, a2, b, c) sent unchanged to the default
home: each reaches its target, which answers; both devices' device logs hold the join (the
emulated partners included) and the SMI follows. An unjoin (SR8.8.1) undoes one on both
sides. The ACB signs the critical use cases it sends (SR8.7.2 / 8.8.2 to a PPMID)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from emulator.usecases.han import joined
from gateway.services.device_han import joined_with
from gbcs import content as gc
from gbcs.codes import ACB
from gbcs.devices import DeviceType
from gbcs.eui import eui_duis, parse_eui
from gbcs.frames import Message
from gbcs.usecases import by_name
from gbcs.verify import Check, Verifier
from smetsim.client import DuisClient
from smetsim.requests import write_request
from smetsim.sandbox import ESME, GSME, HCALCS, PPMID, Sandbox

JOINS = [
    # template, target, other, the other's type
    ("CS03A1_8.7.1", ESME, "00-DB-12-34-56-78-90-9A", DeviceType.HCALCS),
    ("CS03A2Critical_8.7.1", HCALCS, "00-DB-12-34-56-78-90-93", DeviceType.ESME),
    # The ACB sends these two (SR8.7.2 of a PPMID), signed: GBCS marks CS03a2 / CS03c critical.
    ("CS03A2NonCritical_8.7.2", PPMID, "00-DB-12-34-56-78-90-93", DeviceType.ESME),
    ("CS03B_8.7.2", GSME, "00-DB-12-34-56-78-90-9C", DeviceType.GPF),
    ("CS03CCritical_8.7.1", GSME, "00-DB-12-34-56-78-90-98", DeviceType.PPMID),
    ("CS03CNonCritical_8.7.2", PPMID, "00-DB-12-34-56-78-90-94", DeviceType.GSME),
]


def _template(conformance: Path, stem: str) -> bytes:
    return (conformance / "duis/templates" / f"{stem}_SUCCESS_REQUEST_DUIS.XML").read_bytes()


def _reference_command(conformance: Path, stem: str) -> Message:
    (found,) = conformance.glob(f"gbcs/*/{stem}_SUCCESS_COMMAND_GBCS.HEX")
    return Message.from_bytes(bytes.fromhex(found.read_text().strip()))


def _smi_joins(sandbox: Sandbox, device: bytes) -> list[tuple[bytes, DeviceType]]:
    with sandbox.gateway.storage.transaction() as tx:
        return joined_with(tx, device)


@pytest.mark.parametrize(("stem", "target", "other_text", "other_type"), JOINS)
async def test_a_join_template_joins_both_devices_and_the_smi_follows(
    sandbox: Sandbox,
    client: DuisClient,
    conformance: Path,
    stem: str,
    target: bytes,
    other_text: str,
    other_type: DeviceType,
) -> None:
    other = parse_eui(other_text)
    outcome = await client.send(_template(conformance, stem), fresh=True, wait=True, within=5)
    assert outcome.final is not None, outcome
    assert outcome.final.ok, outcome.final
    assert outcome.final.payload is not None

    now = datetime.now(UTC)
    mine = joined(sandbox.fleet.device(target, now))
    theirs = joined(sandbox.fleet.device(other, now))
    target_type = sandbox.gateway.service.get_device(target)
    assert target_type is not None
    assert mine[other.hex()]["type"] == gc.OTHER_DEVICE_TYPES[other_type.value]
    assert theirs[target.hex()]["type"] == gc.OTHER_DEVICE_TYPES[target_type.device_type.value]
    assert (other, other_type) in _smi_joins(sandbox, target)
    assert (target, target_type.device_type) in _smi_joins(sandbox, other)


async def test_an_unjoin_undoes_a_join_on_both_devices(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    partner = parse_eui("00-DB-12-34-56-78-90-93")
    join = await client.send(
        _template(conformance, "CS03A2Critical_8.7.1"), fresh=True, wait=True, within=5
    )
    assert join.final is not None
    assert join.final.ok, join.final
    unjoin = write_request(
        "8.8.1",
        device=HCALCS,
        command_variant=4,
        fields={"OtherDeviceID": eui_duis(partner)},
        counter=client.fresh_counter(),
    )
    outcome = await client.send(unjoin, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.ok, outcome.final
    now = datetime.now(UTC)
    assert partner.hex() not in joined(sandbox.fleet.device(HCALCS, now))
    assert HCALCS.hex() not in joined(sandbox.fleet.device(partner, now))
    assert _smi_joins(sandbox, HCALCS) == []
    assert all(eui != HCALCS for eui, _ in _smi_joins(sandbox, partner))


@pytest.mark.parametrize(
    "stem",
    ["CS03A2NonCritical_8.7.2", "CS03CNonCritical_8.7.2", "CS04ACNonCritical_8.8.2"],
)
async def test_the_acb_signs_the_critical_use_cases_it_sends(
    sandbox: Sandbox, client: DuisClient, conformance: Path, stem: str
) -> None:
    """SR8.7.2 / 8.8.2 to a PPMID: GBCS marks CS03a2, CS03c and CS04ac critical, so the ACB,
    which originates them, signs them as well as MACs them - the DCC's references are
    signed too. Returned for local delivery (CV2) to look at the command itself."""
    xml = _template(conformance, stem).replace(
        b"<sr:CommandVariant>1</sr:CommandVariant>", b"<sr:CommandVariant>2</sr:CommandVariant>"
    )
    answer = await client.post(client.with_counter(xml))
    assert answer.code == "I0", answer.reason
    assert answer.payload is not None
    ours = Message.from_bytes(answer.payload)
    assert ours.business_originator == ACB
    assert ours.business_target == PPMID
    checked = Verifier(sandbox.keystore).verify(ours)
    assert checked.signature is Check.VALID
    assert checked.mac is Check.VALID
    theirs = _reference_command(conformance, stem)
    assert theirs.signature is not None
    assert theirs.business_originator == ACB
    # (the contents are compared in tests/e2e/test_templates.py: a method C join carries
    # the sandbox PKI's certificate where the reference carries the DCC's)
    assert ours.message_code == theirs.message_code


async def test_the_acb_unjoins_a_ppmid_it_joined(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    """SR8.8.2 to the PPMID (CS04ac, sent and signed by the ACB) undoes the SR8.7.2 join on
    both devices and in the SMI: the PPMID takes the signed unjoin."""
    partner = parse_eui("00-DB-12-34-56-78-90-93")
    join = await client.send(
        _template(conformance, "CS03A2NonCritical_8.7.2"), fresh=True, wait=True, within=5
    )
    assert join.final is not None
    assert join.final.ok, join.final
    now = datetime.now(UTC)
    assert partner.hex() in joined(sandbox.fleet.device(PPMID, now))
    unjoin = write_request(
        "8.8.2",
        device=PPMID,
        fields={"OtherDeviceID": eui_duis(partner)},
        counter=client.fresh_counter(),
    )
    outcome = await client.send(unjoin, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.ok, outcome.final
    now = datetime.now(UTC)
    assert partner.hex() not in joined(sandbox.fleet.device(PPMID, now))
    assert PPMID.hex() not in joined(sandbox.fleet.device(partner, now))
    assert all(eui != partner for eui, _ in _smi_joins(sandbox, PPMID))


async def test_a_method_b_pair_is_unjoined_with_cs04b(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    """SR8.8.2 names the other device only: the SMI's types say the GSME and its GPF were
    joined by method B (CS03b), so the unjoin is CS04b (0x0010), sent by the supplier; both
    devices' logs and the SMI follow."""
    gpf = parse_eui("00-DB-12-34-56-78-90-9C")
    join = await client.send(_template(conformance, "CS03B_8.7.2"), fresh=True, wait=True, within=5)
    assert join.final is not None
    assert join.final.ok, join.final
    assert (gpf, DeviceType.GPF) in _smi_joins(sandbox, GSME)
    unjoin = write_request(
        "8.8.2",
        device=GSME,
        fields={"OtherDeviceID": eui_duis(gpf)},
        counter=client.fresh_counter(),
    )
    outcome = await client.send(unjoin, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.ok, outcome.final
    assert outcome.final.payload is not None
    answer = Message.from_bytes(outcome.final.payload)
    assert answer.message_code == by_name("CS04b").code == 0x0010
    now = datetime.now(UTC)
    assert gpf.hex() not in joined(sandbox.fleet.device(GSME, now))
    assert GSME.hex() not in joined(sandbox.fleet.device(gpf, now))
    assert all(eui != gpf for eui, _ in _smi_joins(sandbox, GSME))
    assert all(eui != GSME for eui, _ in _smi_joins(sandbox, gpf))


async def test_a_critical_unjoin_of_a_method_b_pair_is_refused_at_once(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    """GBCS has no critical method B unjoin: SR8.8.1 naming the GSME's GPF is refused before
    anything is sent, and the join stays on both sides."""
    gpf = parse_eui("00-DB-12-34-56-78-90-9C")
    join = await client.send(_template(conformance, "CS03B_8.7.2"), fresh=True, wait=True, within=5)
    assert join.final is not None
    assert join.final.ok, join.final
    unjoin = write_request(
        "8.8.1",
        device=GSME,
        command_variant=4,
        fields={"OtherDeviceID": eui_duis(gpf)},
        counter=client.fresh_counter(),
    )
    answer = await client.post(unjoin)
    assert answer.code == "E42", answer.reason
    assert "SR8.8.2 (CS04b)" in answer.reason
    now = datetime.now(UTC)
    assert gpf.hex() in joined(sandbox.fleet.device(GSME, now))
    assert (gpf, DeviceType.GPF) in _smi_joins(sandbox, GSME)
