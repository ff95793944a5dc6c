"""A test PKI split the way it is in real life: the gateway side holds the organisations' private
keys and only the devices' public keys; the device side holds its own private keys and only the
organisations' public keys."""

from __future__ import annotations

from functools import cache

from gbcs.codes import KeyPurpose
from gbcs.keystore import TEST_ORGANISATIONS, Keystore, generate_test_pki

DEVICE = bytes.fromhex("00db1234567890a0")
OTHER_DEVICE = bytes.fromhex("00db1234567890a1")
SEED = b"tests/gbcs"


@cache
def full_pki() -> Keystore:
    return generate_test_pki(SEED, devices=[DEVICE, OTHER_DEVICE])


def gateway_side() -> Keystore:
    full = full_pki()
    store = Keystore()
    for org in TEST_ORGANISATIONS:
        for purpose in org.purposes:
            store.add(org.eui, purpose, private_key=full.private_key(org.eui, purpose))
    for device in (DEVICE, OTHER_DEVICE):
        for purpose in (KeyPurpose.DS, KeyPurpose.KA):
            store.add(device, purpose, public_key=full.public_key(device, purpose))
    return store


def device_side(device: bytes = DEVICE) -> Keystore:
    full = full_pki()
    store = Keystore()
    for org in TEST_ORGANISATIONS:
        for purpose in org.purposes:
            store.add(org.eui, purpose, public_key=full.public_key(org.eui, purpose))
    for purpose in (KeyPurpose.DS, KeyPurpose.KA):
        store.add(device, purpose, private_key=full.private_key(device, purpose))
    return store
