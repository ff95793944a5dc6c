"""Every conformance message's content decodes to a typed payload and re-encodes byte for byte
(the encrypted parts after decryption too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbcs.codes import CRA, KeyPurpose
from gbcs.crypto import SharedSecretCache, decrypt_payload, derive_key, encrypt_payload, other_info
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.payloads import (
    AccessRequest,
    AccessResponse,
    DataNotification,
    Der,
    GbzAlert,
    GbzPayload,
    Raw,
    decode_content,
    sniff_kind,
)
from gbcs.payloads.dlms import OctetString, Structure, decode_data
from gbcs.payloads.gbz import EncryptedZcl, ReadAttributesResponse
from gbcs.usecases import PayloadKind, use_case
from tests.gbcs.vectors import CONFORMANCE_MESSAGES, read_message

ENCRYPTION_X = 4

_EXPECTED: dict[tuple[PayloadKind | None, CRA], type] = {
    (PayloadKind.DLMS, CRA.COMMAND): AccessRequest,
    (PayloadKind.DLMS, CRA.RESPONSE): AccessResponse,
    (PayloadKind.DLMS, CRA.ALERT): DataNotification,
    (PayloadKind.GBZ, CRA.COMMAND): GbzPayload,
    (PayloadKind.GBZ, CRA.RESPONSE): GbzPayload,
    (PayloadKind.GBZ, CRA.ALERT): GbzAlert,
    (PayloadKind.ASN1, CRA.COMMAND): Der,
    (PayloadKind.ASN1, CRA.RESPONSE): Der,
    (PayloadKind.ASN1, CRA.ALERT): Der,
}


@pytest.mark.parametrize("name", CONFORMANCE_MESSAGES)
def test_content_decodes_and_reencodes_exactly(conformance: Path, name: str) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    payload = decode_content(message.message_code, message.cra, message.content)
    assert not isinstance(payload, Raw), payload
    assert payload.to_bytes() == message.content
    # The table's kind (the generic alerts have none: their source device decides) and the
    # CRA say which payload it is.
    uc = use_case(message.message_code)
    kind = uc.kind if uc is not None and uc.kind is not None else sniff_kind(message.content)
    expected = _EXPECTED[kind, message.cra]
    assert isinstance(payload, expected), (kind, message.cra, payload)
    tree = payload.as_tree()
    assert isinstance(tree, dict)


def _payload_key(store: Keystore, message: Message) -> bytes:
    z = SharedSecretCache().z(
        store.private_key(message.business_target, KeyPurpose.KA),
        store.public_key(message.business_originator, KeyPurpose.KA),
    )
    info = other_info(
        message.business_originator,
        ENCRYPTION_X,
        message.originator_counter,
        message.business_target,
    )
    return derive_key(z, info)


ENCRYPTED = [
    n for n in CONFORMANCE_MESSAGES if "RESPONSE" in n and ("ECS17b" in n or "GCS13a" in n)
]


@pytest.mark.parametrize("name", [n for n in ENCRYPTED if "ECS17b" in n and "SUCCESS" in n])
def test_ecs17b_plaintext_is_axdr_that_reencodes(conformance: Path, name: str) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    payload = decode_content(message.message_code, message.cra, message.content)
    assert isinstance(payload, AccessResponse)
    wrapper = payload.data[0]
    assert isinstance(wrapper, Structure)
    framed = wrapper.items[1]
    assert isinstance(framed, OctetString)
    key = _payload_key(Keystore.load(conformance / "keystore"), message)
    plaintext = decrypt_payload(key, message.business_originator, framed.value)
    data = decode_data(plaintext)
    assert data.to_bytes() == plaintext
    assert encrypt_payload(key, message.business_originator, plaintext) == framed.value


@pytest.mark.parametrize("name", [n for n in ENCRYPTED if "GCS13a" in n])
def test_gcs13a_plaintext_is_zcl_that_reencodes(conformance: Path, name: str) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    payload = decode_content(message.message_code, message.cra, message.content)
    assert isinstance(payload, GbzPayload)
    frame = payload.components[0].frame
    assert isinstance(frame, EncryptedZcl)
    key = _payload_key(Keystore.load(conformance / "keystore"), message)
    plaintext = decrypt_payload(key, message.business_originator, frame.ciphered)
    records = ReadAttributesResponse.from_bytes(plaintext)
    assert records.to_bytes() == plaintext
    assert [r.attribute for r in records.records] == [0x0302, 0x0301, 0x0300, 0x0000]
