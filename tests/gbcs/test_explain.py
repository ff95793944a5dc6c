from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from gbcs.codes import SUPPLIER
from gbcs.explain import explain, explain_blocks
from gbcs.frames import Message, gbt_blocks
from gbcs.keystore import Keystore
from gbcs.usecases import by_name
from tests.gbcs.vectors import (
    CONFORMANCE_MESSAGES,
    V18_4,
    assert_filed_under_its_use_case,
    read_message,
)


@cache
def conformance_keystore(conformance: Path) -> Keystore:
    return Keystore.load(conformance / "keystore")


ECS17B_RESPONSE = "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX"
GCS13A_RESPONSE = "4.1.1_GCS13a/GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_RESPONSE_GBCS.HEX"


@pytest.mark.parametrize("name", CONFORMANCE_MESSAGES)
def test_every_conformance_message_explains(conformance: Path, name: str) -> None:
    keys = conformance_keystore(conformance)
    result = explain(read_message(conformance, name), keys)
    assert result.error is None
    assert result.reencodes
    fields = result.as_json(name)
    json.dumps(fields)  # JSON-able
    assert_filed_under_its_use_case(name, by_name(str(fields["use_case"])))
    assert fields["mac"] in ("valid", "absent")
    assert fields["signature"] in ("valid", "absent")
    text = result.render(name)
    assert text.splitlines()[0] == name
    assert "re-encodes byte for byte: yes" in text


def test_without_keys_present_checks_are_unknown() -> None:
    result = explain(V18_4)
    assert result.verification is not None
    assert (result.verification.mac.value, result.verification.signature.value) == (
        "unknown",
        "unknown",
    )


@pytest.mark.parametrize("name", [ECS17B_RESPONSE, GCS13A_RESPONSE])
def test_encrypted_payloads_are_decrypted_with_the_target_key(conformance: Path, name: str) -> None:
    data = read_message(conformance, name)
    keys = Keystore.load(conformance / "keystore")
    result = explain(data, keys)
    assert len(result.decrypted) == 1
    found = result.decrypted[0]
    assert found.plaintext is not None
    assert found.error is None
    assert Message.from_bytes(data).content[found.offset :].startswith(found.framed)
    # Without the target's private key, the blob is reported but not decrypted.
    public_only = Keystore()
    public_only.add(SUPPLIER, "ka", public_key=keys.public_key(SUPPLIER, "ka"))  # type: ignore[arg-type]
    device = Message.from_bytes(data).business_originator
    public_only.add(device, "ka", public_key=keys.public_key(device, "ka"))  # type: ignore[arg-type]
    locked = explain(data, public_only)
    assert [d.plaintext for d in locked.decrypted] == [None]
    assert "no KA private key" in (locked.decrypted[0].error or "")


def test_bad_input_gives_a_sentence() -> None:
    result = explain(b"\xdd\x00")
    assert result.message is None
    assert result.error is not None
    assert result.as_json("x")["error"] == result.error
    assert "error:" in result.render("x")


def test_gbt_blocks_are_reassembled() -> None:
    blocks = gbt_blocks(Message.from_bytes(V18_4), block_size=40)
    result = explain_blocks(blocks)
    assert result.error is None
    assert result.gbt_blocks == len(blocks)
    assert result.as_json("gbt")["use_case"] == "ECS04b"
    assert explain_blocks(blocks[:2]).error is not None
    assert explain_blocks([V18_4, V18_4]).error == "not every part is a GBT block"
