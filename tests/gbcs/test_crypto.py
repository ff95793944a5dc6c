from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from gbcs.codes import CRA, SUPPLIER, KeyPurpose
from gbcs.crypto import (
    ENCRYPTION_X,
    SharedSecretCache,
    decrypt_payload,
    derive_key,
    encrypt_payload,
    gmac,
    other_info,
    private_key_from_scalar,
    public_key_bytes,
    public_key_from_xy,
    sign,
    verify_signature,
)
from gbcs.errors import DecodeError
from gbcs.frames import Message
from gbcs.keystore import Keystore
from tests.gbcs.vectors import (
    V18_4,
    V18_4_ACB_KA_PRIVATE,
    V18_4_DEVICE,
    V18_4_DEVICE_KA_PUBLIC,
    V18_4_KEY,
    V18_4_MAC,
    V18_4_OTHER_INFO,
    V18_4_SUPPLIER,
    V18_4_SUPPLIER_DS_PRIVATE,
    V18_4_SUPPLIER_DS_PUBLIC,
    V18_4_Z,
    read_message,
)


def test_gbcs_18_4_every_intermediate_value() -> None:
    message = Message.from_bytes(V18_4)
    acb = private_key_from_scalar(V18_4_ACB_KA_PRIVATE)
    device = public_key_from_xy(V18_4_DEVICE_KA_PUBLIC)
    z = SharedSecretCache().z(acb, device)
    assert z == V18_4_Z
    info = other_info(V18_4_SUPPLIER, CRA.COMMAND, 1, V18_4_DEVICE)
    assert info == V18_4_OTHER_INFO
    assert len(info) == 33
    key = derive_key(z, info)
    assert key == V18_4_KEY
    assert gmac(key, V18_4_SUPPLIER, message.general_signing_apdu()) == V18_4_MAC == message.mac
    supplier_public = public_key_from_xy(V18_4_SUPPLIER_DS_PUBLIC)
    assert private_key_from_scalar(V18_4_SUPPLIER_DS_PRIVATE).public_key() == supplier_public
    assert message.signature is not None
    assert verify_signature(supplier_public, message.signed_bytes(), message.signature)


def test_gbcs_18_4_keys_are_in_the_conformance_keystore(conformance: Path) -> None:
    store = Keystore.load(conformance / "keystore")
    device = store.public_key(V18_4_DEVICE, KeyPurpose.KA)
    assert device == public_key_from_xy(V18_4_DEVICE_KA_PUBLIC)
    acb = store.private_key(bytes.fromhex("abababababababab"), KeyPurpose.KA)
    assert acb.private_numbers().private_value == int.from_bytes(V18_4_ACB_KA_PRIVATE, "big")


def test_sign_and_verify_raw_r_s() -> None:
    key = private_key_from_scalar(V18_4_SUPPLIER_DS_PRIVATE)
    signature = sign(key, b"grouping header and content")
    assert len(signature) == 64
    assert verify_signature(key.public_key(), b"grouping header and content", signature)
    assert not verify_signature(key.public_key(), b"grouping header and contenT", signature)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verify_signature(key.public_key(), b"grouping header and content", flipped)
    assert not verify_signature(key.public_key(), b"x", bytes(64))
    assert not verify_signature(key.public_key(), b"x", signature[:63])


def test_signature_over_the_18_4_span_changes_with_one_byte() -> None:
    message = Message.from_bytes(V18_4)
    public = public_key_from_xy(V18_4_SUPPLIER_DS_PUBLIC)
    assert message.signature is not None
    span = bytearray(message.signed_bytes())
    span[40] ^= 0x01
    assert not verify_signature(public, bytes(span), message.signature)


def test_shared_secret_cache_hits_by_identity_and_by_bytes() -> None:
    cache = SharedSecretCache()
    local = ec.generate_private_key(ec.SECP256R1())
    remote = ec.generate_private_key(ec.SECP256R1())
    z = cache.z(local, remote.public_key())
    assert z == remote.exchange(ec.ECDH(), local.public_key())
    assert cache.misses == 1
    public = remote.public_key()
    assert cache.z(local, public) == z  # new object, same bytes
    assert cache.z(local, public) == z  # same object
    assert (cache.misses, cache.hits, len(cache)) == (1, 2, 1)


def test_shared_secret_cache_is_bounded() -> None:
    cache = SharedSecretCache(max_entries=2)
    local = ec.generate_private_key(ec.SECP256R1())
    remotes = [ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(3)]
    for remote in remotes:
        cache.z(local, remote)
    assert len(cache) == 2
    with pytest.raises(ValueError, match="positive"):
        SharedSecretCache(max_entries=0)


def test_payload_encryption_round_trip_and_tamper() -> None:
    key = bytes(range(16))
    device = bytes.fromhex("00db1234567890a0")
    framed = encrypt_payload(key, device, b"secret register values")
    assert framed[:5] == bytes.fromhex("3100000000")
    assert len(framed) == 5 + len(b"secret register values") + 12
    assert decrypt_payload(key, device, framed) == b"secret register values"
    for index in (5, len(framed) - 1):
        tampered = bytearray(framed)
        tampered[index] ^= 0x80
        with pytest.raises(DecodeError, match="tag"):
            decrypt_payload(key, device, bytes(tampered))
    with pytest.raises(DecodeError):
        decrypt_payload(bytes(16), device, framed)
    with pytest.raises(DecodeError, match="not an encrypted"):
        decrypt_payload(key, device, b"\x31\x00\x00")


@pytest.mark.parametrize(
    "name",
    [
        "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX",
        "4.1.1_ECS17b/ECS17b_4.1.1_TWIN_SUCCESS_RESPONSE_GBCS.HEX",
        "4.1.1_GCS13a/GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_RESPONSE_GBCS.HEX",
    ],
)
def test_conformance_encrypted_payload_decrypts_and_reencrypts(
    conformance: Path, name: str
) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    store = Keystore.load(conformance / "keystore")
    z = SharedSecretCache().z(
        store.private_key(message.business_target, KeyPurpose.KA),
        store.public_key(message.business_originator, KeyPurpose.KA),
    )
    key = derive_key(
        z,
        other_info(
            message.business_originator,
            ENCRYPTION_X,
            message.originator_counter,
            message.business_target,
        ),
    )
    start = message.content.index(bytes.fromhex("3100000000"))
    # The framed blob is an octet string: its length precedes it.
    length = message.content[start - 1]
    framed = message.content[start : start + length]
    plaintext = decrypt_payload(key, message.business_originator, framed)
    assert encrypt_payload(key, message.business_originator, plaintext) == framed
    assert message.business_target in (SUPPLIER, bytes.fromhex("90b3d51f30020000"))


def test_public_key_helpers() -> None:
    key = private_key_from_scalar(1)
    point = public_key_bytes(key.public_key())
    assert len(point) == 65
    assert point[0] == 4
    assert public_key_from_xy(point[1:]) == key.public_key()
    with pytest.raises(DecodeError):
        public_key_from_xy(bytes(64))
