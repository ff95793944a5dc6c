"""GBCS cryptography: ECDSA P-256 signatures (raw r||s), static-static ECDH with the
SP 800-56A concatenation KDF and the GBCS OtherInfo, GMAC with 12-byte tags, and payload
encryption in the ``31`` framing. No I/O.

The ECDH shared secret Z depends only on the key pair, so :class:`SharedSecretCache` computes it
once per (local private key, remote public key); a MAC then costs one SHA-256 and one AES-GCM.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from gbcs.codes import MAC_LENGTH, SIGNATURE_LENGTH
from gbcs.errors import DecodeError, EncodeError

if TYPE_CHECKING:
    import hashlib

    from cryptography.hazmat.primitives.ciphers import aead

__all__ = [
    "ENCRYPTION_X",
    "KDF_ALGORITHM_ID",
    "SharedSecretCache",
    "decrypt_payload",
    "derive_key",
    "encrypt_payload",
    "gmac",
    "other_info",
    "private_key_from_scalar",
    "public_key_bytes",
    "public_key_from_xy",
    "sign",
    "verify_signature",
]

CURVE = ec.SECP256R1()


class _Lazy:
    """What only work with keys needs, imported on first use: a decode without keys never
    loads hashlib (OpenSSL's _hashlib) nor the cipher modules. An attribute read costs the
    MAC and KDF paths almost nothing; an import statement in them cost a third of a MAC."""

    if TYPE_CHECKING:
        sha256: Callable[[bytes], hashlib._Hash]
        AESGCM: type[aead.AESGCM]
        compare_digest: Callable[[bytes, bytes], bool]

    def __getattr__(self, name: str) -> Any:
        value: Any
        if name == "sha256":
            from hashlib import sha256 as value
        elif name == "AESGCM":
            from cryptography.hazmat.primitives.ciphers import aead

            value = aead.AESGCM
        elif name == "compare_digest":
            from hmac import compare_digest as value
        else:
            raise AttributeError(name)
        setattr(self, name, value)  # later reads find it without __getattr__
        return value


_lazy = _Lazy()


@functools.cache
def _ecdsa() -> ec.ECDSA:
    # Made on first use: building it loads OpenSSL's backend, which a decode without keys
    # never needs (a tenth of its start-up).
    return ec.ECDSA(hashes.SHA256())


_ECDH = ec.ECDH()

KDF_ALGORITHM_ID = bytes.fromhex("60857406080300")
"""The 7-byte AlgorithmID that starts every GBCS OtherInfo."""
ENCRYPTION_X = 0x04
"""The OtherInfo X byte for payload encryption (a MAC uses the CRA flag)."""
MAC_AAD_PREFIX = b"\x11\x00\x00\x00\x00\x00"
"""What precedes the General-Signing APDU in a MAC's additional authenticated data."""
PAYLOAD_TAG = 0x31
_PAYLOAD_HEADER = b"\x31\x00\x00\x00\x00"
_IV_SUFFIX = b"\x00\x00\x00\x00"
_KDF_COUNTER = b"\x00\x00\x00\x01"
_X_BYTES = [b"\x09" + bytes((x,)) for x in range(256)]  # the length 09 then X

# ---- keys ------------------------------------------------------------------------------------


def public_key_from_xy(xy: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its raw 64-byte x||y (or 65-byte ``04``||x||y) encoding."""
    if len(xy) == 64:
        xy = b"\x04" + xy
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, xy)
    except ValueError as exc:
        raise DecodeError(f"not a P-256 public key: {exc}") from None


def private_key_from_scalar(scalar: bytes | int) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from its 32-byte big-endian scalar."""
    value = int.from_bytes(scalar, "big") if isinstance(scalar, bytes) else scalar
    try:
        return ec.derive_private_key(value, CURVE)
    except ValueError as exc:
        raise EncodeError(f"not a P-256 private scalar: {exc}") from None


def public_key_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    """The uncompressed point ``04``||x||y (65 bytes)."""
    # Imported here: the serialization package (its SSH part) costs a third of a decode's
    # start-up, and a decode without keys never serialises a key.
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


# ---- signatures --------------------------------------------------------------------------------


def sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 signature of ``data`` as raw 64-byte r||s."""
    r, s = decode_dss_signature(private_key.sign(data, _ecdsa()))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_signature(public_key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (raw r||s) is a valid ECDSA P-256 / SHA-256 signature of ``data``."""
    if len(signature) != SIGNATURE_LENGTH:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if r == 0 or s == 0:
        return False
    try:
        public_key.verify(encode_dss_signature(r, s), data, _ecdsa())
    except InvalidSignature:
        return False
    return True


# ---- key agreement -------------------------------------------------------------------------------


class SharedSecretCache:
    """ECDH shared secrets (Z) cached per key pair.

    Looked up first by the identity of the two key objects (the cache keeps them alive, so an
    identity cannot be reused while its entry exists), then by the bytes of the two public keys,
    so that key objects recreated from the same material still hit. At most ``max_entries`` pairs
    are kept; the oldest are forgotten first.
    """

    def __init__(self, max_entries: int = 1_000_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be positive, got {max_entries}")
        self._max = max_entries
        self._by_identity: dict[
            tuple[int, int],
            tuple[ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey, bytes],
        ] = {}
        self._by_bytes: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._by_bytes)

    def clear(self) -> None:
        self._by_identity.clear()
        self._by_bytes.clear()

    def z(
        self, local_private: ec.EllipticCurvePrivateKey, remote_public: ec.EllipticCurvePublicKey
    ) -> bytes:
        """The 32-byte ECDH shared secret of the pair (x-coordinate)."""
        ident = (id(local_private), id(remote_public))
        entry = self._by_identity.get(ident)
        if entry is not None and entry[0] is local_private and entry[1] is remote_public:
            self.hits += 1
            return entry[2]
        key = (public_key_bytes(local_private.public_key()), public_key_bytes(remote_public))
        z = self._by_bytes.get(key)
        if z is None:
            self.misses += 1
            z = local_private.exchange(_ECDH, remote_public)
            self._by_bytes[key] = z
            if len(self._by_bytes) > self._max:
                self._by_bytes.popitem(last=False)
                if len(self._by_identity) > self._max:
                    self._by_identity.clear()
        else:
            self.hits += 1
        if len(self._by_identity) >= self._max:
            self._by_identity.clear()
        self._by_identity[ident] = (local_private, remote_public, z)
        return z


def ecdh(
    local_private: ec.EllipticCurvePrivateKey, remote_public: ec.EllipticCurvePublicKey
) -> bytes:
    """The 32-byte ECDH shared secret, uncached."""
    return local_private.exchange(_ECDH, remote_public)


def other_info(originator: bytes, x: int, counter: int, target: bytes) -> bytes:
    """The 33-byte GBCS OtherInfo: AlgorithmID || originator || 09 || X || counter || target.

    ``x`` is the CRA flag for a MAC and :data:`ENCRYPTION_X` (04) for payload encryption.
    """
    if len(originator) != 8 or len(target) != 8:
        raise EncodeError("OtherInfo needs 8-byte originator and target EUIs")
    return KDF_ALGORITHM_ID + originator + _X_BYTES[x] + counter.to_bytes(8, "big") + target


def derive_key(z: bytes, other_info: bytes) -> bytes:
    """SP 800-56A concatenation KDF, one round: SHA-256(00000001 || Z || OtherInfo)[:16]."""
    return _lazy.sha256(_KDF_COUNTER + z + other_info).digest()[:16]


# ---- MAC and payload encryption -----------------------------------------------------------


def gmac(key: bytes, originator: bytes, apdu: bytes) -> bytes:
    """The 12-byte GMAC of a General-Signing APDU.

    AES-128-GCM with no plaintext; IV = originator EUI || 00000000;
    AAD = 11 00 00 00 00 00 || the APDU (``DF`` to the end of the signature field).
    """
    return _lazy.AESGCM(key).encrypt(originator + _IV_SUFFIX, b"", MAC_AAD_PREFIX + apdu)[
        :MAC_LENGTH
    ]


def encrypt_payload(key: bytes, device_eui: bytes, plaintext: bytes) -> bytes:
    """``31`` || 00000000 || ciphertext || 12-byte tag (AAD = 31, IV = device EUI || 00000000)."""
    sealed = _lazy.AESGCM(key).encrypt(device_eui + _IV_SUFFIX, plaintext, b"\x31")
    # AESGCM appends a 16-byte tag; GBCS keeps the first 12 bytes of it.
    return _PAYLOAD_HEADER + sealed[:-16] + sealed[-16:-4]


def decrypt_payload(key: bytes, device_eui: bytes, framed: bytes) -> bytes:
    """The plaintext of a ``31``-framed payload; :class:`DecodeError` when the tag is wrong."""
    if len(framed) < len(_PAYLOAD_HEADER) + MAC_LENGTH or framed[:5] != _PAYLOAD_HEADER:
        raise DecodeError("not an encrypted GBCS payload: expected 31 00000000 ... tag")
    ciphertext = framed[5:-MAC_LENGTH]
    tag = framed[-MAC_LENGTH:]
    plaintext = _gcm_decrypt_truncated(key, device_eui + _IV_SUFFIX, ciphertext, tag, b"\x31")
    if plaintext is None:
        raise DecodeError("the encrypted payload's tag does not verify (wrong key or altered)")
    return plaintext


def _gcm_decrypt_truncated(
    key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes
) -> bytes | None:
    """AES-GCM decryption with a truncated (12-byte) tag (AESGCM wants full 16-byte tags)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        decryptor = Cipher(
            algorithms.AES(key), modes.GCM(iv, tag, min_tag_length=len(tag))
        ).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        return None
