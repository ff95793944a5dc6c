"""The emulated devices answer the DCC reference test commands (RTDS 4.5.0) with valid GBCS.

The reference commands are MACed for the real devices 00-DB-12-34-56-78-90-xx, whose
private keys nobody has. Each is rebuilt under the emulated device's keys with the gbcs
Builder - same content, counter, parties and extensions; critical ones signed with the
reference supplier's DS key - and the emulated answer must verify and have the shape of
the real response: same use case, same envelope shape, same payload structure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from emulator.fleet import Fleet
from gbcs import content as c
from gbcs.builders import Builder
from gbcs.codes import CRA
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.payloads import decode_content
from gbcs.usecases import use_case
from tests.emulator.support import CHF, ESME, SEED, HeadEnd

NOW = datetime(2015, 1, 1, 0, 0, tzinfo=UTC)  # inside the ECS70 commissioning window

CASES = [
    ("4.1.1_ECS17b", "ECS17b_4.1.1_SINGLE_SUCCESS"),
    ("4.1.1_ECS17b", "ECS17b_4.1.1_TWIN_SUCCESS"),
    ("4.1.1_GCS13a", "GCS13a_4.1.1_SUCCESS_RELIABLE_GSME"),
    ("4.1.1_GCS13a", "GCS13a_4.1.1_SUCCESS_RELIABLE_GPF"),
    ("4.1.1_GCS13a", "GCS13a_4.1.1_SUCCESS_UNRELIABLE"),
    ("7.1_ECS42", "ECS42_7.1_SUCCESS"),
    ("8.1.1_ECS70Commission", "ECS70Commission_8.1.1_SUCCESS"),
    ("8.11_CCS01", "CCS01_8.11_SUCCESS"),
    ("8.7.1_CS03A1", "CS03A1_8.7.1_SUCCESS"),
    ("8.7.2_CS03B", "CS03B_8.7.2_SUCCESS"),
    ("8.7.1_CS03CCritical", "CS03CCritical_8.7.1_SUCCESS"),
    ("8.12.2_GCS59", "GCS59_8.12.2_SUCCESS"),
    ("4.12.1_ECS18b", "ECS18b_4.12.1_SUCCESS"),
    ("4.12.2_ECS18a", "ECS18a_4.12.2_SUCCESS"),
    ("4.15_ECS27", "ECS27_4.15_SUCCESS"),
    ("6.2.1_ECS26b", "ECS26b_6.2.1_SUCCESS"),
    ("6.2.2_ECS26c", "ECS26c_6.2.2_SUCCESS"),
    ("6.2.5_ECS26f", "ECS26f_6.2.5_SUCCESS"),
    ("6.2.9_GCS21j", "GCS21j_6.2.9_SUCCESS"),
    ("6.2.4_GCS21e", "GCS21e_6.2.4_SUCCESS"),
    ("6.2.4_GCS21m", "GCS21m_6.2.4_SUCCESS"),
]


def _hex(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


def shape(tree: Any) -> Any:
    """A payload tree with its values dropped: what kinds of things are where."""
    if isinstance(tree, dict):
        return {k: shape(v) for k, v in tree.items() if k not in ("invoke_id",)}
    if isinstance(tree, list):
        return [shape(v) for v in tree]
    return type(tree).__name__


@pytest.fixture
def reference_keys(conformance: Path) -> Keystore:
    return Keystore.load(conformance / "keystore")


@pytest.mark.parametrize(("folder", "stem"), CASES)
def test_the_emulated_device_answers_the_reference_command(
    conformance: Path, reference_keys: Keystore, folder: str, stem: str
) -> None:
    base = conformance / "gbcs" / folder
    real_command = Message.from_bytes(_hex(base / f"{stem}_COMMAND_GBCS.HEX"))
    real_response = Message.from_bytes(_hex(base / f"{stem}_RESPONSE_GBCS.HEX"))

    fleet = Fleet(SEED, reference_keys, faults=False)
    if "TWIN" in stem:  # the twin-element reference meter: a variant B ESME
        fleet.add(ESME, "calder-cx3", hub=CHF)
        fleet.add(CHF, "tellurian-ch2-chf")
    else:
        fleet.add_sandbox_devices()
    head = HeadEnd(fleet, reference_keys, NOW)
    uc = use_case(real_command.message_code)
    assert uc is not None
    ours = head.builder.command(
        originator=real_command.business_originator,
        target=real_command.business_target,
        counter=real_command.originator_counter,
        message_code=real_command.message_code,
        content=real_command.content,
        critical=uc.critical,
        date_time=real_command.date_time,
        extensions=real_command.extensions,
    )
    assert ours.content == real_command.content
    assert (ours.signature is None) == (real_command.signature is None)

    answer = head.send(ours)  # every frame verified with the gbcs verifier
    response = answer.response
    assert response is not None, f"no response; alerts {answer.alert_codes()}"
    assert response.cra is CRA.RESPONSE
    assert response.message_code == real_response.message_code
    assert response.originator_counter == real_response.originator_counter
    assert response.business_originator == real_response.business_originator
    assert response.business_target == real_response.business_target
    assert response.extensions == real_response.extensions
    assert (response.mac is None) == (real_response.mac is None)
    assert (response.signature is None) == (real_response.signature is None)

    mine = c.decode_response(response.message_code, response.content)
    theirs = c.decode_response(real_response.message_code, real_response.content)
    assert type(mine) is type(theirs)
    assert mine.ok
    assert theirs.ok
    tree = decode_content(response.message_code, response.cra, response.content).as_tree()
    real_tree = decode_content(
        real_response.message_code, real_response.cra, real_response.content
    ).as_tree()
    assert shape(tree) == shape(real_tree)

    # The encrypted parts too: the reference keystore holds the supplier's and the network
    # operator's KA keys, so the real response decrypts as well as ours.
    reader = Builder(reference_keys)
    if isinstance(mine, c.ImportRegistersResponse):
        assert isinstance(theirs, c.ImportRegistersResponse)
        ours_plain = mine.registers(head.decrypt(response))
        real_plain = theirs.registers(lambda f: reader.decrypt_payload(real_response, f))
        assert (ours_plain.secondary_active_import is None) == (
            real_plain.secondary_active_import is None
        )
        assert (ours_plain.active_scaler, ours_plain.reactive_scaler) == (
            real_plain.active_scaler,
            real_plain.reactive_scaler,
        )
    if isinstance(mine, c.GasRegisterResponse):
        assert isinstance(theirs, c.GasRegisterResponse)
        ours_gas = mine.register(head.decrypt(response))
        real_gas = theirs.register(lambda f: reader.decrypt_payload(real_response, f))
        assert (ours_gas.multiplier, ours_gas.divisor, ours_gas.unit) == (
            real_gas.multiplier,
            real_gas.divisor,
            real_gas.unit,
        )
