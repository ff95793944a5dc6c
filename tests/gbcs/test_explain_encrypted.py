"""Encrypted blocks found by the payload's structure and decrypted with GBCS's key agreement, over
every conformance message; a block that cannot be decrypted says which and why."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from gbcs.codes import CRA, SUPPLIER
from gbcs.errors import DecodeError
from gbcs.explain import NO_KEYS, explain
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.payloads import decode_content
from gbcs.payloads.compact import decode_tree
from gbcs.payloads.dlms import decode_data
from gbcs.payloads.encrypted import FRAME_HEADER, find_encrypted
from gbcs.payloads.gbz import FC_CLUSTER_SPECIFIC, ReadAttributesResponse
from tests.gbcs.vectors import CONFORMANCE_MESSAGES, read_message

# Counted from the conformance set by the structure of each response and alert: DLMS
# octet-strings framed 31 00000000 (any A-XDR length) and GBZ encrypted components.
ENCRYPTED_MESSAGES = 40
ENCRYPTED_BLOCKS = 55
# The use cases issue 20 names as left encrypted by the old byte search (ECS20b is not in the
# shared sample).
ONCE_MISSED = {
    "ECS17d",
    "ECS17e",
    "ECS20c",
    "ECS21a",
    "ECS21b",
    "ECS22b",
    "GCS17",
    "GCS16b",
    "ECS68",
}


@cache
def _keys(conformance: Path) -> Keystore:
    return Keystore.load(conformance / "keystore")


def test_every_encrypted_block_of_the_conformance_set_decrypts(conformance: Path) -> None:
    keys = _keys(conformance)
    messages = blocks = 0
    use_cases: set[str] = set()
    for name in CONFORMANCE_MESSAGES:
        result = explain(read_message(conformance, name), keys)
        assert result.message is not None, name
        if not result.decrypted:
            continue
        messages += 1
        use_cases.add(name.split("/")[0].split("_", 1)[1])
        for d in result.decrypted:
            blocks += 1
            assert d.plaintext is not None, (name, d.where, d.error)
            assert d.error is None
            assert result.message.content[d.offset :].startswith(d.framed)
            if d.layout == "dlms":
                # the plaintext is exactly one A-XDR value (registers, or compact-array logs)
                assert d.tree is not None, (name, d.where)
                assert d.tree == decode_tree(d.plaintext)
                if b"\x13" not in d.plaintext[:3]:
                    assert decode_data(d.plaintext).to_bytes() == d.plaintext
            else:
                zcl = d.tree["zcl"]
                frame_control = int(zcl["frame_control"], 16)
                if not frame_control & FC_CLUSTER_SPECIFIC and zcl["command"].startswith(
                    "ReadAttributesResponse"
                ):
                    records = ReadAttributesResponse.from_bytes(d.plaintext).records
                    assert records, name
                    assert zcl["records"], name
                else:
                    assert zcl["payload"] == d.plaintext.hex()
        fields = result.as_json(name)
        assert all(entry["decrypted"] is True for entry in fields["decrypted"])
        assert all(entry["reason"] is None for entry in fields["decrypted"])
    assert (messages, blocks) == (ENCRYPTED_MESSAGES, ENCRYPTED_BLOCKS)
    assert use_cases >= ONCE_MISSED


def test_no_content_is_left_encrypted(conformance: Path) -> None:
    """Every response or alert whose bytes hold an encrypted-block header has that block found
    by structure (the header itself is no finder: this checks the finder missed nothing)."""
    for name in CONFORMANCE_MESSAGES:
        message = Message.from_bytes(read_message(conformance, name))
        if message.cra is CRA.COMMAND or FRAME_HEADER not in message.content:
            continue
        payload = decode_content(message.message_code, message.cra, message.content)
        found = find_encrypted(payload)
        assert found, name
        start = message.content.find(FRAME_HEADER)
        assert any(message.content[start:].startswith(b.framed) for b in found), name


def test_long_length_dlms_block_is_found() -> None:
    """A block longer than 127 bytes has an A-XDR length 81 nn / 82 nnnn."""
    from gbcs.payloads.dlms import AccessKind, AccessResponse, AccessResult, octet_string

    for size in (10, 200, 300):
        framed = FRAME_HEADER + bytes(size) + bytes(12)
        response = AccessResponse(
            0x20000001, (octet_string(framed),), (AccessResult(AccessKind.GET),)
        )
        blocks = find_encrypted(response)
        assert [(b.where, b.framed) for b in blocks] == [("data[0]", framed)]


URP = "4.14_ECS21b/ECS21b_4.14_URP_SUCCESS_RESPONSE_GBCS.HEX"
GBZ_URP = "4.14_GCS16b/GCS16b_4.14_URP_SUCCESS_RESPONSE_GBCS.HEX"
ECS17D = "4.1.2_ECS17d/ECS17d_4.1.2_SINGLE_SUCCESS_RESPONSE_GBCS.HEX"


@pytest.mark.parametrize("name", [URP, GBZ_URP])
def test_supplementary_remote_party_and_counter_key_the_payload(
    conformance: Path, name: str
) -> None:
    """With 24 bytes of other-information, the block is encrypted to the supplementary remote
    party with the supplementary originator counter (not the message's own)."""
    message = Message.from_bytes(read_message(conformance, name))
    assert len(message.extensions) == 24
    result = explain(read_message(conformance, name), _keys(conformance))
    assert result.decrypted
    assert all(d.plaintext is not None for d in result.decrypted)


def test_without_keys_each_block_says_why(conformance: Path) -> None:
    result = explain(read_message(conformance, ECS17D))
    assert [(d.where, d.plaintext, d.error) for d in result.decrypted] == [
        ("data[0].items[1]", None, NO_KEYS)
    ]
    text = result.render(ECS17D)
    assert "encrypted block data[0].items[1] (dlms, content byte" in text
    assert "not decrypted: no keystore given" in text
    entry = result.as_json(ECS17D)["decrypted"][0]
    assert (entry["decrypted"], entry["reason"]) == (False, NO_KEYS)


def test_missing_private_key_names_the_parties(conformance: Path) -> None:
    keys = _keys(conformance)
    data = read_message(conformance, ECS17D)
    device = Message.from_bytes(data).business_originator
    public_only = Keystore()
    public_only.add(SUPPLIER, "ka", public_key=keys.public_key(SUPPLIER, "ka"))  # type: ignore[arg-type]
    public_only.add(device, "ka", public_key=keys.public_key(device, "ka"))  # type: ignore[arg-type]
    (block,) = explain(data, public_only).decrypted
    assert block.plaintext is None
    assert block.error is not None
    assert "no KA private key" in block.error
    assert "90-B3-D5-1F-30-01-00-00 (the recipient)" in block.error


def test_a_wrong_tag_is_reported_not_skipped(conformance: Path) -> None:
    data = bytearray(read_message(conformance, ECS17D))
    message = Message.from_bytes(bytes(data))
    (block,) = find_encrypted(decode_content(message.message_code, message.cra, message.content))
    at = bytes(data).find(block.framed) + len(block.framed) - 1
    data[at] ^= 0x01  # the last byte of the tag
    result = explain(bytes(data), _keys(conformance))
    (found,) = result.decrypted
    assert found.plaintext is None
    assert found.error is not None
    assert "tag does not verify" in found.error
    assert "counter 1001" in found.error
    assert result.verification is not None
    assert result.verification.mac.value == "invalid"


def test_compact_array_values_follow_the_type_description() -> None:
    # structure { compact-array of structure {double-long-unsigned, octet-string}, unsigned }
    data = bytes.fromhex(
        "0202"
        "13"
        "02020609"
        "0c"
        "0000000a"
        "0201ff"
        "00000014"
        "00"  # two elements
        "1107"
    )
    assert decode_tree(data) == {
        "type": "structure",
        "items": [
            {
                "type": "compact-array",
                "items": [
                    {
                        "type": "structure",
                        "items": [
                            {"type": "double-long-unsigned", "value": 10},
                            {"type": "octet-string", "hex": "01ff"},
                        ],
                    },
                    {
                        "type": "structure",
                        "items": [
                            {"type": "double-long-unsigned", "value": 20},
                            {"type": "octet-string", "hex": ""},
                        ],
                    },
                ],
            },
            {"type": "unsigned", "value": 7},
        ],
    }
    with pytest.raises(DecodeError, match="truncated: compact-array contents"):
        decode_tree(data.replace(bytes.fromhex("06090c"), bytes.fromhex("060910")))  # too long
    with pytest.raises(DecodeError, match="unknown type 0x42"):
        decode_tree(bytes.fromhex("13420100"))
