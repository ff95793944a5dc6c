from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gbcs.codes import ACB, DCC_ACCESS_CONTROL, NETWORK_OPERATOR, SUPPLIER, SUPPLIER_2, KeyPurpose
from gbcs.errors import KeyNotFound
from gbcs.keystore import (
    KeyLookup,
    Keystore,
    KeystoreError,
    derive_device_key,
    generate_test_pki,
)

DEVICE = bytes.fromhex("00db1234567890a0")


def test_load_the_conformance_keystore(conformance: Path) -> None:
    store = Keystore.load(conformance / "keystore")
    assert isinstance(store, KeyLookup)
    assert DEVICE in store.euis()
    assert SUPPLIER in store.euis()
    # Device certificates only: public keys, no private keys.
    assert isinstance(store.public_key(DEVICE, KeyPurpose.KA), ec.EllipticCurvePublicKey)
    assert store.certificate(DEVICE, KeyPurpose.DS) is not None
    with pytest.raises(KeyNotFound, match="00db1234567890a0"):
        store.private_key(DEVICE, KeyPurpose.KA)
    # Organisation keys: private and public agree.
    private = store.private_key(SUPPLIER, KeyPurpose.DS)
    assert private.public_key() == store.public_key(SUPPLIER, KeyPurpose.DS)
    assert store.private_key(SUPPLIER, KeyPurpose.PP_KA) is not None
    assert store.private_key(ACB, KeyPurpose.KA) is not None
    # The same object every time (the ECDH cache hits by identity).
    assert store.public_key(DEVICE, KeyPurpose.KA) is store.public_key(DEVICE, KeyPurpose.KA)
    with pytest.raises(KeyNotFound):
        store.public_key(bytes(8), KeyPurpose.DS)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    store = generate_test_pki(b"round trip", devices=[DEVICE])
    store.save(tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "90b3d51f30010000-ds.key",
        "90b3d51f30010000-ds.pem",
        "90b3d51f30010000-pp-ka.key",
    } <= names
    assert {
        "00db1234567890a0-ka.key",
        "00db1234567890a0-ka.pem",
        "root-ca.pem",
        "root-ca.key",
    } <= names
    loaded = Keystore.load(tmp_path)
    for eui in (ACB, SUPPLIER, SUPPLIER_2, NETWORK_OPERATOR, DEVICE):
        for purpose in (KeyPurpose.DS, KeyPurpose.KA):
            assert loaded.public_key(eui, purpose) == store.public_key(eui, purpose)
            assert (
                loaded.private_key(eui, purpose).private_numbers()
                == store.private_key(eui, purpose).private_numbers()
            )
    assert loaded.root_certificate == store.root_certificate


def test_public_key_only_pem_files_load(tmp_path: Path) -> None:
    store = Keystore()
    key = derive_device_key(b"s", DEVICE, KeyPurpose.KA)
    store.add(DEVICE, KeyPurpose.KA, public_key=key.public_key())
    store.save(tmp_path)
    assert (tmp_path / "00db1234567890a0-ka.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY")
    assert Keystore.load(tmp_path).public_key(DEVICE, KeyPurpose.KA) == key.public_key()


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="does not exist"):
        Keystore.load(tmp_path / "absent")
    (tmp_path / "00db1234567890a0-ds.key").write_text("not a key")
    with pytest.raises(KeystoreError, match=r"00db1234567890a0-ds\.key"):
        Keystore.load(tmp_path)


def test_add_rejects_mismatched_material() -> None:
    store = Keystore()
    one = derive_device_key(b"s", DEVICE, KeyPurpose.DS)
    two = derive_device_key(b"s", DEVICE, KeyPurpose.KA)
    with pytest.raises(KeystoreError, match="do not match"):
        store.add(DEVICE, KeyPurpose.DS, private_key=one, public_key=two.public_key())
    with pytest.raises(KeystoreError, match="nothing"):
        store.add(DEVICE, KeyPurpose.DS)
    with pytest.raises(KeystoreError, match="P-256"):
        store.add(DEVICE, KeyPurpose.DS, private_key=ec.generate_private_key(ec.SECP384R1()))


def test_derive_device_key_is_deterministic_and_separated() -> None:
    a = derive_device_key(b"seed", DEVICE, KeyPurpose.DS).private_numbers().private_value
    assert a == derive_device_key(b"seed", DEVICE, KeyPurpose.DS).private_numbers().private_value
    others = {
        derive_device_key(b"seed", DEVICE, KeyPurpose.KA).private_numbers().private_value,
        derive_device_key(b"seed2", DEVICE, KeyPurpose.DS).private_numbers().private_value,
        derive_device_key(b"seed", bytes(8), KeyPurpose.DS).private_numbers().private_value,
    }
    assert a not in others
    assert len(others) == 3
    with pytest.raises(ValueError, match="8 bytes"):
        derive_device_key(b"seed", b"short", KeyPurpose.DS)


def test_generate_test_pki() -> None:
    store = generate_test_pki(b"pki", devices=[DEVICE])
    again = generate_test_pki(b"pki")
    assert store.root_certificate is not None
    root_public = store.root_certificate.public_key()
    assert isinstance(root_public, ec.EllipticCurvePublicKey)
    for eui, purposes in (
        (ACB, "ds ka"),
        (SUPPLIER, "ds ka pp-ka"),
        (SUPPLIER_2, "ds ka pp-ka"),
        (NETWORK_OPERATOR, "ds ka"),
        (DCC_ACCESS_CONTROL, "ds"),
    ):
        for purpose in map(KeyPurpose, purposes.split()):
            cert = store.certificate(eui, purpose)
            assert cert is not None
            cert.verify_directly_issued_by(store.root_certificate)
            unique = cert.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER)
            assert unique[0].value == b"\x00" + eui
            assert cert.public_key() == store.public_key(eui, purpose)
            assert store.public_key(eui, purpose) == again.public_key(eui, purpose)
            usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            assert usage.digital_signature == (purpose is KeyPurpose.DS)
    with pytest.raises(KeyNotFound):
        store.private_key(ACB, KeyPurpose.PP_KA)
    # Devices: keys derived from the seed, certificate issued on request.
    assert (
        store.private_key(DEVICE, KeyPurpose.KA).private_numbers()
        == derive_device_key(b"pki", DEVICE, KeyPurpose.KA).private_numbers()
    )
    device_cert = store.certificate(DEVICE, KeyPurpose.DS)
    assert device_cert is not None
    device_cert.verify_directly_issued_by(store.root_certificate)
    assert store.certificate(DEVICE, KeyPurpose.DS) is device_cert


def test_many_devices_cost_nothing_until_used() -> None:
    euis = [(0x00DB000000000000 + i).to_bytes(8, "big") for i in range(100_000)]
    store = Keystore()
    store.add_derived_devices(b"fleet", euis)
    assert len(store.euis()) == 100_000
    assert store.keys() == []
    key = store.public_key(euis[54321], KeyPurpose.KA)
    assert key == derive_device_key(b"fleet", euis[54321], KeyPurpose.KA).public_key()
    assert len(store.keys()) == 1
    assert store.has_private_key(euis[1], KeyPurpose.DS)


def test_save_replaces_a_linked_file_instead_of_writing_through_it(tmp_path: Path) -> None:
    # The pytest plugin links a session's prepared PKI into each sandbox's state: a save into
    # one state must leave the prepared files (and so every other sandbox's) as they were.
    prepared, linked = tmp_path / "prepared", tmp_path / "linked"
    generate_test_pki(b"first").save(prepared)
    linked.mkdir()
    for path in prepared.iterdir():
        (linked / path.name).hardlink_to(path)
    before = {p.name: p.read_bytes() for p in prepared.iterdir()}
    generate_test_pki(b"second").save(linked)
    assert {p.name: p.read_bytes() for p in prepared.iterdir()} == before
    assert Keystore.load(linked).public_key(SUPPLIER, KeyPurpose.DS) != Keystore.load(
        prepared
    ).public_key(SUPPLIER, KeyPurpose.DS)
    assert not list(linked.glob("*.part"))
