"""Checking a message's MAC and signature against a keystore.

Whose keys check what (docs/gbcs.md):

- a command is MACed between the ACB's KA key and the device's (the business target's) KA key,
  even when the business originator is a supplier; its signature, when present, is the business
  originator's DS key;
- a response or an alert is MACed between the device's (the business originator's) KA key and the
  business target's KA key; its signature is the device's DS key.

The ECDH is symmetric, so a MAC can be checked by whichever party holds a private key: the
receiver (the target) is tried first, then the other side.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec

from gbcs.codes import ACB, CRA, KeyPurpose
from gbcs.crypto import (
    ENCRYPTION_X,
    SharedSecretCache,
    _lazy,  # hmac's compare_digest, imported on first use
    decrypt_payload,
    derive_key,
    gmac,
    other_info,
    verify_signature,
)
from gbcs.errors import KeyNotFound
from gbcs.frames import Message

if TYPE_CHECKING:  # the keystore (and x509) is the caller's to import: decode without keys
    from gbcs.keystore import KeyLookup

__all__ = ["Check", "KeyAgreement", "Verification", "Verifier", "mac_parties"]

_MAX_PAIRS = 1_000_000
_INFO_PREFIX = 17
"""The OtherInfo bytes before the counter: AlgorithmID (7), originator (8), 09, X."""


class Check(StrEnum):
    """The outcome of checking one MAC or signature."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"
    """A key needed to check it is missing."""
    ABSENT = "absent"
    """The message carries none."""


@dataclass(frozen=True, slots=True)
class Verification:
    mac: Check
    signature: Check

    @property
    def ok(self) -> bool:
        """Nothing invalid, nothing unchecked: every MAC and signature present is valid."""
        return self.mac in (Check.VALID, Check.ABSENT) and self.signature in (
            Check.VALID,
            Check.ABSENT,
        )


def mac_parties(message: Message, acb: bytes = ACB) -> tuple[bytes, bytes]:
    """The two EUIs whose KA keys MAC ``message``: (ACB, device) for a command,
    (device, business target) for a response or alert."""
    if message.cra is CRA.COMMAND:
        return acb, message.business_target
    return message.business_originator, message.business_target


class KeyAgreement:
    """Per-message symmetric keys from a :class:`KeyLookup` and a :class:`SharedSecretCache`.

    Shared by :class:`Verifier` and :class:`gbcs.builders.Builder`.
    """

    def __init__(
        self, keys: KeyLookup, *, acb: bytes = ACB, cache: SharedSecretCache | None = None
    ) -> None:
        self.keys = keys
        self.cache = cache if cache is not None else SharedSecretCache()
        # Z by EUI pair, valid while the key lookup's ``generation`` (if it has one, as
        # Keystore does) is unchanged: saves the key lookups on the hot path.
        self._pairs: dict[tuple[bytes, bytes], bytes] = {}
        # (Z, the OtherInfo up to the counter) of a MAC by (CRA, originator, target), and of a
        # payload key by (device, target): valid like ``_pairs``, forgotten with it.
        self._macs: dict[tuple[CRA, bytes, bytes], tuple[bytes, bytes]] = {}
        self._payloads: dict[tuple[bytes, bytes], tuple[bytes, bytes]] = {}
        self._generation: object = None
        self._acb = acb

    @property
    def acb(self) -> bytes:
        """The EUI of the ACB whose KA key MACs commands."""
        return self._acb

    @acb.setter
    def acb(self, value: bytes) -> None:
        self._acb = value
        self._forget()

    def _forget(self) -> None:
        self._pairs.clear()
        self._macs.clear()
        self._payloads.clear()

    def z(self, first: bytes, second: bytes) -> bytes:
        """The KA shared secret of two parties, from whichever private key is held: ``second``'s
        first (usually the receiver), then ``first``'s. :class:`KeyNotFound` when neither."""
        keys = self.keys
        generation = getattr(keys, "generation", None)
        if generation is not None:
            if generation != self._generation:
                self._forget()
                self._generation = generation
            z = self._pairs.get((first, second))
            if z is not None:
                return z
        try:
            local: ec.EllipticCurvePrivateKey = keys.private_key(second, KeyPurpose.KA)
            remote = keys.public_key(first, KeyPurpose.KA)
        except KeyNotFound:
            local = keys.private_key(first, KeyPurpose.KA)
            remote = keys.public_key(second, KeyPurpose.KA)
        z = self.cache.z(local, remote)
        if generation is not None:
            if len(self._pairs) >= _MAX_PAIRS:
                self._forget()
            self._pairs[(first, second)] = z
        return z

    def _mac_parts(self, message: Message) -> tuple[bytes, bytes]:
        """(Z, OtherInfo up to the counter) of ``message``'s MAC, cached when the keys allow."""
        originator = message.business_originator
        target = message.business_target
        cra = message.cra
        generation = getattr(self.keys, "generation", None)
        if generation is not None and generation == self._generation:
            parts = self._macs.get((cra, originator, target))
            if parts is not None:
                return parts
        first, second = mac_parties(message, self._acb)
        z = self.z(first, second)
        parts = (z, other_info(originator, cra, 0, target)[:_INFO_PREFIX])
        if generation is not None:
            if len(self._macs) >= _MAX_PAIRS:
                self._macs.clear()
            self._macs[(cra, originator, target)] = parts
        return parts

    def mac_key(self, message: Message) -> bytes:
        """The 16-byte key of ``message``'s MAC. :class:`KeyNotFound` when keys are missing."""
        z, prefix = self._mac_parts(message)
        # = other_info(originator, CRA, counter, target), the prefix being cached
        info = prefix + message.originator_counter.to_bytes(8, "big") + message.business_target
        return derive_key(z, info)

    def mac(self, message: Message) -> bytes:
        """The 12-byte MAC ``message`` should carry."""
        originator = message.business_originator
        target = message.business_target
        parts = None
        generation = getattr(self.keys, "generation", None)
        if generation is not None and generation == self._generation:  # (_mac_parts, inlined)
            parts = self._macs.get((message.cra, originator, target))
        if parts is None:
            parts = self._mac_parts(message)
        info = parts[1] + message.originator_counter.to_bytes(8, "big") + target
        return gmac(derive_key(parts[0], info), originator, message.general_signing_apdu())

    def payload_target(self, message: Message) -> bytes:
        """Who an encrypted payload in a response or alert is for: the supplementary remote
        party when the other-information names one, else the business target."""
        if len(message.extensions) >= 8:
            return message.extensions[:8]
        return message.business_target

    def payload_counter(self, message: Message) -> int:
        """The counter in an encrypted payload's KDF: the supplementary originator counter when
        the other-information carries one (exactly 24 bytes: remote party, its counter, the
        originator's), else the originator counter. Responses to a supplier by way of another
        party (the URP variants of ECS21b and GCS16b) are encrypted this way."""
        extensions = message.extensions
        if len(extensions) == 24:
            return int.from_bytes(extensions[16:24], "big")
        return message.originator_counter

    def payload_key(self, device: bytes, target: bytes, counter: int) -> bytes:
        """The 16-byte payload-encryption key (X = 04) of a device's message to ``target``."""
        parts = None
        generation = getattr(self.keys, "generation", None)
        if generation is not None and generation == self._generation:
            parts = self._payloads.get((device, target))
        if parts is None:
            parts = (
                self.z(device, target),
                other_info(device, ENCRYPTION_X, 0, target)[:_INFO_PREFIX],
            )
            if generation is not None:
                if len(self._payloads) >= _MAX_PAIRS:
                    self._payloads.clear()
                self._payloads[(device, target)] = parts
        z, prefix = parts
        # = other_info(device, ENCRYPTION_X, counter, target), the prefix being cached
        return derive_key(z, prefix + counter.to_bytes(8, "big") + target)

    def decrypt(self, message: Message, framed: bytes) -> bytes:
        """Decrypt a ``31``-framed blob carried in ``message`` (a response or alert).

        :class:`KeyNotFound` when neither party's KA private key is held; :class:`DecodeError`
        when the tag does not verify.
        """
        device = message.business_originator
        key = self.payload_key(device, self.payload_target(message), self.payload_counter(message))
        return decrypt_payload(key, device, framed)


class Verifier:
    """Reports each message's MAC and signature as valid, invalid, unknown or absent."""

    def __init__(
        self, keys: KeyLookup, *, acb: bytes = ACB, cache: SharedSecretCache | None = None
    ) -> None:
        self.keys = keys
        self.agreement = KeyAgreement(keys, acb=acb, cache=cache)

    def verify(self, message: Message) -> Verification:
        # Verification is immutable: one shared instance per outcome.
        mac = self.verify_mac(message)
        if message.signature is None:  # (= verify_signature's answer)
            return _VERIFICATIONS[mac, Check.ABSENT]
        return _VERIFICATIONS[mac, self.verify_signature(message)]

    def verify_mac(self, message: Message) -> Check:
        mac = message.mac
        if mac is None:
            return Check.ABSENT
        try:
            expected = self.agreement.mac(message)
        except KeyNotFound:
            return Check.UNKNOWN
        return Check.VALID if _lazy.compare_digest(expected, mac) else Check.INVALID

    def verify_signature(self, message: Message) -> Check:
        signature = message.signature
        if signature is None:
            return Check.ABSENT
        try:
            public = self.keys.public_key(message.business_originator, KeyPurpose.DS)
        except KeyNotFound:
            return Check.UNKNOWN
        if verify_signature(public, message.signed_bytes(), signature):
            return Check.VALID
        return Check.INVALID


_VERIFICATIONS = {(m, s): Verification(mac=m, signature=s) for m in Check for s in Check}
