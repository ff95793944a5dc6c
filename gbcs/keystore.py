"""Keys and certificates by EUI and purpose.

A :class:`Keystore` reads and writes a directory in the convention of the DCC reference test
data: ``<eui 16 lowercase hex>-{ds,ka,pp-ka}.pem`` (an X.509 certificate, or a bare public key)
and ``<eui>-{ds,ka,pp-ka}.key`` (a PKCS#8 PEM private key). Certificate validity dates are not
enforced: test certificates expire.

:func:`generate_test_pki` makes a whole test PKI from a seed: a root CA, keys and certificates for
the DCC test organisations, and device keys derived from the seed and each device's EUI
(:func:`derive_device_key`), so that the gateway and any number of emulator workers agree on every
key without storing or exchanging any. Device keys and certificates are derived lazily, on
first use, so a keystore for 100,000 devices costs nothing until a device is used.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type  # the BIT STRING type of x500UniqueIdentifier
from cryptography.x509.oid import NameOID

from gbcs.codes import (
    ACB,
    DCC_ACCESS_CONTROL,
    NETWORK_OPERATOR,
    SUPPLIER,
    SUPPLIER_2,
    SUPPLIER_3,
    TRANSITIONAL_COS,
    KeyPurpose,
    RemotePartyRole,
)
from gbcs.errors import GbcsError, KeyNotFound

__all__ = [
    "TEST_ORGANISATIONS",
    "KeyLookup",
    "Keystore",
    "KeystoreError",
    "derive_device_key",
    "generate_test_pki",
]

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_CURVE = ec.SECP256R1()
_FILE = re.compile(r"([0-9a-fA-F]{16})-(ds|ka|pp-ka)\.(pem|key)")
_ROOT_FILES = ("root-ca.pem", "root-ca.key")
_NOT_BEFORE = _dt.datetime(2020, 1, 1, tzinfo=_dt.UTC)
_NOT_AFTER = _dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_dt.UTC)


class KeystoreError(GbcsError):
    """A keystore directory or file cannot be read or written (names the file)."""


@runtime_checkable
class KeyLookup(Protocol):
    """What builders and verifiers need: keys by EUI and purpose."""

    def public_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        """The public key; :class:`KeyNotFound` when unknown."""
        ...

    def private_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
        """The private key; :class:`KeyNotFound` when not held."""
        ...


@dataclass(slots=True)
class _Entry:
    private: ec.EllipticCurvePrivateKey | None = None
    public: ec.EllipticCurvePublicKey | None = None
    certificate: x509.Certificate | None = None


@dataclass(frozen=True, slots=True)
class Organisation:
    """A party of the test PKI."""

    eui: bytes
    name: str
    role: RemotePartyRole | None
    purposes: tuple[KeyPurpose, ...]


TEST_ORGANISATIONS: tuple[Organisation, ...] = (
    Organisation(ACB, "ACB", RemotePartyRole.ACB, (KeyPurpose.DS, KeyPurpose.KA)),
    Organisation(
        SUPPLIER,
        "TEST SUPPLIER",
        RemotePartyRole.SUPPLIER,
        (KeyPurpose.DS, KeyPurpose.KA, KeyPurpose.PP_KA),
    ),
    Organisation(
        SUPPLIER_2,
        "TEST SUPPLIER 2",
        RemotePartyRole.SUPPLIER,
        (KeyPurpose.DS, KeyPurpose.KA, KeyPurpose.PP_KA),
    ),
    Organisation(
        SUPPLIER_3,
        "TEST SUPPLIER 3",
        RemotePartyRole.SUPPLIER,
        (KeyPurpose.DS, KeyPurpose.KA, KeyPurpose.PP_KA),
    ),
    Organisation(
        NETWORK_OPERATOR,
        "TEST NETWORK OPERATOR",
        RemotePartyRole.NETWORK_OPERATOR,
        (KeyPurpose.DS, KeyPurpose.KA),
    ),
    Organisation(DCC_ACCESS_CONTROL, "DCC ACCESS CONTROL", None, (KeyPurpose.DS,)),
    Organisation(
        TRANSITIONAL_COS, "DCC TRANSITIONAL COS", RemotePartyRole.TRANSITIONAL_COS, (KeyPurpose.DS,)
    ),
)
"""The DCC test organisations :func:`generate_test_pki` creates keys and certificates for."""


def _check_eui(eui: bytes) -> bytes:
    if type(eui) is not bytes or len(eui) != 8:
        raise ValueError(f"an EUI-64 is 8 bytes, got {eui!r}")
    return eui


def _scalar(seed: bytes, label: bytes) -> int:
    """HKDF-SHA-256 (RFC 5869, extract then one 48-byte expand) reduced to [1, n-1]."""
    prk = hmac.new(b"smetsim gbcs key derivation", seed, hashlib.sha256).digest()
    t1 = hmac.new(prk, label + b"\x01", hashlib.sha256).digest()
    t2 = hmac.new(prk, t1 + label + b"\x02", hashlib.sha256).digest()
    okm = (t1 + t2)[:48]  # 384 bits reduced mod n: bias below 2**-128
    return int.from_bytes(okm, "big") % (_P256_ORDER - 1) + 1


def derive_device_key(seed: bytes, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key of ``eui`` for ``purpose``, deterministic from ``seed``.

    HKDF-SHA-256 of the seed with the EUI and purpose as info, reduced to a non-zero scalar.
    """
    _check_eui(eui)
    label = eui + b"/" + KeyPurpose(purpose).value.encode()
    return ec.derive_private_key(_scalar(seed, label), _CURVE)


def _serial(label: bytes) -> int:
    """A deterministic positive certificate serial number (at most 20 octets)."""
    return int.from_bytes(hashlib.sha256(label).digest()[:16], "big") | 1


def _key_usage(purpose: KeyPurpose | None) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=purpose is KeyPurpose.DS,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=purpose in (KeyPurpose.KA, KeyPurpose.PP_KA),
        key_cert_sign=purpose is None,
        crl_sign=purpose is None,
        encipher_only=False,
        decipher_only=False,
    )


def _subject(eui: bytes, name: str, role: RemotePartyRole | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if role is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{role:02d}"))
    # As in GBCS organisation certificates: x500UniqueIdentifier, a BIT STRING of the EUI
    # (the leading 00 is the count of unused bits, which cryptography leaves to the caller).
    attributes.append(
        x509.NameAttribute(
            NameOID.X500_UNIQUE_IDENTIFIER,
            b"\x00" + eui,  # type: ignore[arg-type]  # bytes is right for a BIT STRING
            _type=_ASN1Type.BitString,
        )
    )
    return x509.Name(attributes)


def _issue(
    *,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    issuer_name: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    purpose: KeyPurpose | None,
    serial_label: bytes,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(_serial(serial_label))
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(_key_usage(purpose), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if purpose is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=1), True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    return builder.sign(issuer_key, hashes.SHA256())


class Keystore:
    """Keys and certificates by (EUI, purpose); a directory in the docs/gbcs.md convention.

    Implements :class:`KeyLookup`. The same key object is returned for the same (EUI, purpose)
    every time, which lets :class:`gbcs.crypto.SharedSecretCache` hit by identity.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[bytes, KeyPurpose], _Entry] = {}
        self._device_seeds: dict[bytes, bytes] = {}
        self.generation = 0
        """Bumped by every change, so that callers caching what they derived from the keys
        (e.g. :class:`gbcs.verify.KeyAgreement`) know to forget it."""
        self.root_key: ec.EllipticCurvePrivateKey | None = None
        self.root_certificate: x509.Certificate | None = None

    def __repr__(self) -> str:
        return f"<Keystore {len(self._entries)} keys, {len(self._device_seeds)} derivable devices>"

    # ---- lookups ------------------------------------------------------------------------

    def _entry(self, eui: bytes, purpose: KeyPurpose) -> _Entry | None:
        entry = self._entries.get((eui, purpose))
        if entry is None:
            seed = self._device_seeds.get(eui)
            if seed is None:
                return None
            purpose = KeyPurpose(purpose)
            key = derive_device_key(seed, eui, purpose)
            entry = _Entry(private=key, public=key.public_key())
            self._entries[(eui, purpose)] = entry
        return entry

    def public_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        entry = self._entry(eui, purpose)
        if entry is None or entry.public is None:
            raise KeyNotFound(eui, KeyPurpose(purpose).value, private=False)
        return entry.public

    def private_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
        entry = self._entry(eui, purpose)
        if entry is None or entry.private is None:
            raise KeyNotFound(eui, KeyPurpose(purpose).value, private=True)
        return entry.private

    def has_private_key(self, eui: bytes, purpose: KeyPurpose) -> bool:
        entry = self._entries.get((eui, purpose))
        if entry is not None:
            return entry.private is not None
        return eui in self._device_seeds

    def certificate(self, eui: bytes, purpose: KeyPurpose) -> x509.Certificate | None:
        """The certificate of the key, issued now by the test root for a derived device key,
        or None when the keystore has no certificate for it."""
        entry = self._entry(eui, purpose)
        if entry is None:
            return None
        if (
            entry.certificate is None
            and eui in self._device_seeds
            and self.root_key is not None
            and self.root_certificate is not None
            and entry.public is not None
        ):
            entry.certificate = _issue(
                subject=_subject(eui, eui.hex("-").upper(), None),
                public_key=entry.public,
                issuer_name=self.root_certificate.subject,
                issuer_key=self.root_key,
                purpose=KeyPurpose(purpose),
                serial_label=b"device/" + eui + b"/" + KeyPurpose(purpose).value.encode(),
            )
        return entry.certificate

    def euis(self) -> set[bytes]:
        """Every EUI the keystore holds or can derive a key for."""
        return {eui for eui, _ in self._entries} | set(self._device_seeds)

    def keys(self) -> list[tuple[bytes, KeyPurpose]]:
        """Every (EUI, purpose) held now (derivable device keys not yet derived excluded)."""
        return sorted(self._entries)

    # ---- changes ------------------------------------------------------------------------

    def add(
        self,
        eui: bytes,
        purpose: KeyPurpose,
        *,
        private_key: ec.EllipticCurvePrivateKey | None = None,
        certificate: x509.Certificate | None = None,
        public_key: ec.EllipticCurvePublicKey | None = None,
    ) -> None:
        """Add or replace what is known of one key. The public key is taken from the private
        key or the certificate when not given; all three must agree."""
        _check_eui(eui)
        purpose = KeyPurpose(purpose)
        for key in (private_key, public_key):
            if key is not None and not isinstance(key.curve, ec.SECP256R1):
                raise KeystoreError(f"{eui.hex()}-{purpose.value}: not a P-256 key")
        candidates: list[ec.EllipticCurvePublicKey] = []
        if public_key is not None:
            candidates.append(public_key)
        if private_key is not None:
            candidates.append(private_key.public_key())
        if certificate is not None:
            cert_key = certificate.public_key()
            if not isinstance(cert_key, ec.EllipticCurvePublicKey) or not isinstance(
                cert_key.curve, ec.SECP256R1
            ):
                raise KeystoreError(f"{eui.hex()}-{purpose.value}: certificate key is not P-256")
            candidates.append(cert_key)
        if not candidates:
            raise KeystoreError(f"{eui.hex()}-{purpose.value}: nothing to add")
        first = candidates[0]
        if any(c != first for c in candidates[1:]):
            raise KeystoreError(
                f"{eui.hex()}-{purpose.value}: the private key, public key and certificate "
                "do not match"
            )
        self.generation += 1
        old = self._entries.get((eui, purpose))
        entry = _Entry(private=private_key, public=first, certificate=certificate)
        if old is not None and old.public == first:
            entry.private = private_key or old.private
            entry.certificate = certificate or old.certificate
            entry.public = old.public
        self._entries[(eui, purpose)] = entry

    def add_derived_devices(self, seed: bytes, euis: Iterable[bytes]) -> None:
        """Make the keys of these devices derivable from ``seed`` (computed on first use)."""
        self.generation += 1
        for eui in euis:
            self._device_seeds[_check_eui(eui)] = seed

    # ---- files --------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path | str) -> Keystore:
        """Read a keystore directory; :class:`KeystoreError` names a file that cannot be read."""
        root = Path(directory)
        if not root.is_dir():
            raise KeystoreError(f"keystore directory {str(root)!r} does not exist")
        store = cls()
        privates: dict[tuple[bytes, KeyPurpose], ec.EllipticCurvePrivateKey] = {}
        publics: dict[tuple[bytes, KeyPurpose], ec.EllipticCurvePublicKey] = {}
        certificates: dict[tuple[bytes, KeyPurpose], x509.Certificate] = {}
        for path in sorted(root.iterdir()):
            match = _FILE.fullmatch(path.name)
            if match is None:
                continue
            key = (bytes.fromhex(match[1]), KeyPurpose(match[2]))
            data = _read(path)
            if match[3] == "key":
                privates[key] = _load_private(path, data)
            elif b"CERTIFICATE" in data:
                certificates[key] = _load_certificate(path, data)
            else:
                publics[key] = _load_public(path, data)
        for key in sorted(set(privates) | set(publics) | set(certificates)):
            try:
                store.add(
                    key[0],
                    key[1],
                    private_key=privates.get(key),
                    public_key=publics.get(key),
                    certificate=certificates.get(key),
                )
            except KeystoreError as exc:
                raise KeystoreError(f"in {str(root)!r}: {exc}") from None
        cert_path, key_path = root / _ROOT_FILES[0], root / _ROOT_FILES[1]
        if cert_path.is_file():
            store.root_certificate = _load_certificate(cert_path, _read(cert_path))
        if key_path.is_file():
            store.root_key = _load_private(key_path, _read(key_path))
        return store

    def save(self, directory: Path | str) -> None:
        """Write every key held (derived device keys included) in the directory convention."""
        root = Path(directory)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KeystoreError(f"cannot create keystore directory {str(root)!r}: {exc}") from None
        for eui in sorted(self._device_seeds):
            for purpose in (KeyPurpose.DS, KeyPurpose.KA):
                self.certificate(eui, purpose)
        for (eui, purpose), entry in sorted(self._entries.items()):
            stem = f"{eui.hex()}-{purpose.value}"
            if entry.private is not None:
                _write(root / f"{stem}.key", _private_pem(entry.private))
            if entry.certificate is not None:
                _write(
                    root / f"{stem}.pem", entry.certificate.public_bytes(serialization.Encoding.PEM)
                )
            elif entry.public is not None:
                _write(root / f"{stem}.pem", _public_pem(entry.public))
        if self.root_certificate is not None:
            _write(
                root / _ROOT_FILES[0],
                self.root_certificate.public_bytes(serialization.Encoding.PEM),
            )
        if self.root_key is not None:
            _write(root / _ROOT_FILES[1], _private_pem(self.root_key))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeystoreError(f"cannot read {str(path)!r}: {exc}") from None


def _write(path: Path, data: bytes) -> None:
    """Write a key file whole: a new file renamed over the old one, so a reader (or a crash)
    never meets half a key, and a file hard-linked elsewhere (the pytest plugin's prepared
    PKI) is replaced here, not changed there."""
    # Named by process: two processes saving one folder never share a half-written file.
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise KeystoreError(f"cannot write {str(path)!r}: {exc}") from None


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load_private(path: Path, data: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeystoreError(f"{str(path)!r} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeystoreError(f"{str(path)!r} is not a P-256 private key")
    return key


def _load_public(path: Path, data: bytes) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeystoreError(
            f"{str(path)!r} is neither a PEM certificate nor a public key: {exc}"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeystoreError(f"{str(path)!r} is not a P-256 public key")
    return key


def _load_certificate(path: Path, data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise KeystoreError(f"{str(path)!r} is not a PEM certificate: {exc}") from None


def generate_test_pki(seed: bytes, devices: Iterable[bytes] = ()) -> Keystore:
    """A test PKI, entirely determined by ``seed`` (certificate signatures aside).

    A root CA; DS and KA keys (and prepayment KA for suppliers) with X.509 certificates for the
    DCC test organisations of :data:`TEST_ORGANISATIONS`; and, for each device EUI given, DS and
    KA keys derived by :func:`derive_device_key`, with certificates issued on first request.
    """
    store = Keystore()
    root_key = ec.derive_private_key(_scalar(seed, b"root-ca"), _CURVE)
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "smetsim test root"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{RemotePartyRole.ROOT:02d}"),
        ]
    )
    store.root_key = root_key
    store.root_certificate = _issue(
        subject=root_name,
        public_key=root_key.public_key(),
        issuer_name=root_name,
        issuer_key=root_key,
        purpose=None,
        serial_label=b"root-ca",
    )
    for org in TEST_ORGANISATIONS:
        for purpose in org.purposes:
            key = derive_device_key(seed, org.eui, purpose)
            cert = _issue(
                subject=_subject(org.eui, org.name, org.role),
                public_key=key.public_key(),
                issuer_name=root_name,
                issuer_key=root_key,
                purpose=purpose,
                serial_label=b"org/" + org.eui + b"/" + purpose.value.encode(),
            )
            store.add(org.eui, purpose, private_key=key, certificate=cert)
    store.add_derived_devices(seed, devices)
    return store
