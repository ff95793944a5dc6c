from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gbcs.codes import CRA, KeyPurpose
from gbcs.crypto import SharedSecretCache, private_key_from_scalar, public_key_from_xy
from gbcs.errors import DecodeError
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.verify import Check, Verification, Verifier, mac_parties
from tests.gbcs.vectors import (
    CONFORMANCE_MESSAGES,
    PROTECTED_MESSAGES,
    V18_4,
    V18_4_ACB_KA_PRIVATE,
    V18_4_DEVICE,
    V18_4_DEVICE_KA_PUBLIC,
    V18_4_SUPPLIER,
    V18_4_SUPPLIER_DS_PUBLIC,
    read_message,
)

ACB_18_4 = bytes.fromhex("abababababababab")


@pytest.fixture(scope="module")
def conformance_keys() -> Keystore:
    from tests.conftest import CONFORMANCE

    if not CONFORMANCE.is_dir():
        pytest.skip("../shared/conformance is absent")
    return Keystore.load(CONFORMANCE / "keystore")


@pytest.mark.parametrize("name", CONFORMANCE_MESSAGES)
def test_every_conformance_mac_and_signature_verifies(
    conformance: Path, conformance_keys: Keystore, name: str
) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    result = Verifier(conformance_keys).verify(message)
    assert result.mac is (Check.ABSENT if message.mac is None else Check.VALID)
    assert result.signature is (Check.ABSENT if message.signature is None else Check.VALID)
    assert result.ok
    if "PRECOMMAND" not in name:
        # Every message but a pre-command is protected by one or the other.
        assert Check.VALID in (result.mac, result.signature)


@pytest.mark.parametrize("name", PROTECTED_MESSAGES)
def test_a_changed_byte_invalidates_a_conformance_message(
    conformance: Path, conformance_keys: Keystore, name: str
) -> None:
    data = read_message(conformance, name)
    verifier = Verifier(conformance_keys)
    for position in range(0, len(data), 7):
        changed = bytearray(data)
        changed[position] ^= 0x04
        try:
            message = Message.from_bytes(bytes(changed))
        except DecodeError:
            continue
        result = verifier.verify(message)
        assert not result.ok, f"byte {position} changed, still {result}"


def test_18_4_vector_verifies_with_its_own_keys() -> None:
    store = Keystore()
    store.add(V18_4_DEVICE, KeyPurpose.KA, public_key=public_key_from_xy(V18_4_DEVICE_KA_PUBLIC))
    store.add(ACB_18_4, KeyPurpose.KA, private_key=private_key_from_scalar(V18_4_ACB_KA_PRIVATE))
    store.add(
        V18_4_SUPPLIER, KeyPurpose.DS, public_key=public_key_from_xy(V18_4_SUPPLIER_DS_PUBLIC)
    )
    result = Verifier(store, acb=ACB_18_4).verify(Message.from_bytes(V18_4))
    assert result == Verification(mac=Check.VALID, signature=Check.VALID)
    # With the wrong ACB the MAC key is unknown (no private key on either side).
    assert Verifier(store).verify(Message.from_bytes(V18_4)).mac is Check.UNKNOWN


def test_unknown_when_keys_are_missing(conformance: Path) -> None:
    name = "7.1_ECS42/ECS42_7.1_SUCCESS_COMMAND_GBCS.HEX"
    message = Message.from_bytes(read_message(conformance, name))
    result = Verifier(Keystore()).verify(message)
    assert result == Verification(mac=Check.UNKNOWN, signature=Check.UNKNOWN)
    assert not result.ok


def test_invalid_signature_and_mac(conformance: Path, conformance_keys: Keystore) -> None:
    response = Message.from_bytes(
        read_message(conformance, "7.1_ECS42/ECS42_7.1_SUCCESS_RESPONSE_GBCS.HEX")
    )
    assert response.signature is not None
    forged = dataclasses.replace(response, content=response.content[:-1] + b"\x01")
    assert Verifier(conformance_keys).verify_signature(forged) is Check.INVALID
    command = Message.from_bytes(
        read_message(conformance, "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX")
    )
    assert command.mac is not None
    bad_mac = dataclasses.replace(command, mac=bytes(12))
    assert Verifier(conformance_keys).verify_mac(bad_mac) is Check.INVALID
    replayed = dataclasses.replace(command, originator_counter=command.originator_counter + 1)
    assert Verifier(conformance_keys).verify_mac(replayed) is Check.INVALID


def test_mac_parties() -> None:
    message = Message.from_bytes(V18_4)
    assert mac_parties(message) == (bytes.fromhex("90b3d51f30000002"), V18_4_DEVICE)
    response = dataclasses.replace(message, cra=CRA.RESPONSE)
    assert mac_parties(response) == (V18_4_SUPPLIER, V18_4_DEVICE)


def test_verifier_shares_a_cache(conformance: Path, conformance_keys: Keystore) -> None:
    cache = SharedSecretCache()
    name = "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX"
    message = Message.from_bytes(read_message(conformance, name))
    for verifier in (
        Verifier(conformance_keys, cache=cache),
        Verifier(conformance_keys, cache=cache),
    ):
        for _ in range(3):
            assert verifier.verify_mac(message) is Check.VALID
    # One ECDH in all: the second verifier found Z in the shared cache.
    assert (cache.misses, cache.hits, len(cache)) == (1, 1, 1)


def test_a_key_change_is_seen_by_a_verifier_that_cached_the_pair(
    conformance: Path, conformance_keys: Keystore
) -> None:
    from gbcs.crypto import private_key_from_scalar as scalar_key

    store = Keystore.load(conformance / "keystore")
    verifier = Verifier(store)
    name = "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX"
    message = Message.from_bytes(read_message(conformance, name))
    assert verifier.verify_mac(message) is Check.VALID
    store.add(bytes.fromhex("90b3d51f30000002"), KeyPurpose.KA, private_key=scalar_key(12345))
    assert verifier.verify_mac(message) is Check.INVALID
