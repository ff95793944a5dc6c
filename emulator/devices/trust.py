"""Whom an emulated device trusts and the keys it sees: the remote parties in its slots
(:class:`Trust`), which roles may send each use case (:data:`AUTHORITY`), its view of the
PKI (:class:`DeviceKeys`) and what the host lends it for one call (:class:`DeviceContext`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from gbcs.builders import Builder
from gbcs.codes import (
    ACB,
    NETWORK_OPERATOR,
    SUPPLIER,
    TRANSITIONAL_COS,
    KeyPurpose,
    RemotePartyRole,
)
from gbcs.crypto import SharedSecretCache
from gbcs.errors import KeyNotFound
from gbcs.keystore import KeyLookup
from gbcs.verify import Verifier

if TYPE_CHECKING:
    from emulator.devices.base import Device

Role = RemotePartyRole


@dataclass(frozen=True, slots=True)
class Trust:
    """The remote parties a device trusts: which EUI holds each role (the certificates in
    its remote-party slots). Immutable, so devices with the same parties share one."""

    supplier: bytes = SUPPLIER
    network_operator: bytes = NETWORK_OPERATOR
    acb: bytes = ACB
    wan_provider: bytes | None = None
    transitional_cos: bytes | None = TRANSITIONAL_COS
    """The DCC's transitional CoS party (every SMETS2 device is installed trusting it)."""

    def role_of(self, eui: bytes) -> RemotePartyRole | None:
        if eui == self.supplier:
            return Role.SUPPLIER
        if eui == self.network_operator:
            return Role.NETWORK_OPERATOR
        if eui == self.acb:
            return Role.ACB
        if eui == self.wan_provider:
            return Role.WAN_PROVIDER
        if eui == self.transitional_cos:
            return Role.TRANSITIONAL_COS
        return None

    def euis(self) -> tuple[bytes, ...]:
        found = (
            self.supplier,
            self.network_operator,
            self.acb,
            self.wan_provider,
            self.transitional_cos,
        )
        return tuple(eui for eui in found if eui is not None)

    def to_json(self) -> dict[str, str | None]:
        return {
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name).hex()
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_json(cls, data: Mapping[str, str | None]) -> Trust:
        values = {k: None if v is None else bytes.fromhex(v) for k, v in data.items()}
        return cls(**values)  # type: ignore[arg-type]


DEFAULT_TRUST = Trust()


_S, _N, _A = Role.SUPPLIER, Role.NETWORK_OPERATOR, Role.ACB
_SUPPLIER_ONLY = frozenset({_S})
_READERS = frozenset({_S, _N})

AUTHORITY: Mapping[str, frozenset[RemotePartyRole]] = {
    "CCS01": frozenset({_A}),
    "CCS02": frozenset({_A}),
    "CS01a": _SUPPLIER_ONLY,
    "CS02d": _SUPPLIER_ONLY,
    "CS02e": _SUPPLIER_ONLY,
    "CS01b": _SUPPLIER_ONLY,
    "CS06": _SUPPLIER_ONLY,
    "CS07": _READERS,
    "ECS01a": _SUPPLIER_ONLY,
    "ECS04b": _SUPPLIER_ONLY,
    "ECS17b": _READERS,
    "ECS25a": _SUPPLIER_ONLY,
    "ECS25a1": _SUPPLIER_ONLY,
    "ECS25a2": _SUPPLIER_ONLY,
    "ECS25a3": _SUPPLIER_ONLY,
    "ECS25b": frozenset({_N}),
    "ECS25b3": frozenset({_N}),
    "ECS25r1": _SUPPLIER_ONLY,
    "ECS25r2": frozenset({_N}),
    "ECS24": _READERS,
    "ECS42": _SUPPLIER_ONLY,
    "ECS43": _SUPPLIER_ONLY,
    "ECS44": _SUPPLIER_ONLY,
    "ECS52": _READERS,
    "ECS61c": _SUPPLIER_ONLY,
    "ECS62": _SUPPLIER_ONLY,
    "ECS70": _SUPPLIER_ONLY,
    "GCS13a": _READERS,
    "GCS28": _SUPPLIER_ONLY,
    "GCS32": _SUPPLIER_ONLY,
    "GCS33": _READERS,
    "GCS39": _SUPPLIER_ONLY,
}
"""Which remote-party roles may send each use case (GBCS's remote party role column, as far
as this emulator implements it). A use case missing here is refused as not supported."""


# -- keys ----------------------------------------------------------------------------------


class DeviceKeys:
    """The :class:`KeyLookup` a device sees: its own private keys, its own public keys, and
    the public keys of the parties it trusts - nothing else. A party the device does not
    trust has no key here, so its signature cannot verify."""

    __slots__ = ("_eui", "_org", "_own", "_trusted")

    generation = 0
    """What a device trusts never changes under one DeviceKeys (a new trust makes a new
    one), so verifiers may cache shared secrets by EUI pair (gbcs.verify.KeyAgreement)."""

    def __init__(
        self,
        eui: bytes,
        own: Callable[[bytes, KeyPurpose], ec.EllipticCurvePrivateKey],
        organisations: KeyLookup,
        trusted: Iterable[bytes],
    ) -> None:
        self._eui = eui
        self._own = own
        self._org = organisations
        self._trusted = frozenset(trusted)

    def private_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
        if eui != self._eui:
            raise KeyNotFound(eui, purpose, private=True)
        return self._own(eui, purpose)

    def public_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        if eui == self._eui:
            return self._own(eui, purpose).public_key()
        if eui not in self._trusted:
            raise KeyNotFound(eui, purpose, private=False)
        return self._org.public_key(eui, purpose)

    def own_certificate(self, purpose: KeyPurpose) -> x509.Certificate | None:
        """The certificate the PKI issued for the device's own key (CS02e answers it); None
        when the host's key lookup holds no certificates."""
        lookup = getattr(self._org, "certificate", None)
        found = None if lookup is None else lookup(self._eui, purpose)
        return found if isinstance(found, x509.Certificate) else None

    def published_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        """The key the PKI publishes for ``eui``, trusted or not: what a device compares a
        certificate it is given against (credential updates, CS02b)."""
        return self._org.public_key(eui, purpose)


def _no_peers(eui: bytes) -> Device | None:
    return None


def _hosts_nobody(eui: bytes) -> bool:
    return False


class DeviceContext:
    """What the host lends a device for one call: its verifier and builder (over its
    :class:`DeviceKeys`), and a way to reach the devices it shares a home area network
    with (the GPF reads its GSME's registers; the CHF learns of joins)."""

    __slots__ = ("builder", "hosted", "keys", "peer", "verifier")

    def __init__(
        self,
        keys: DeviceKeys,
        *,
        acb: bytes,
        cache: SharedSecretCache,
        peer: Callable[[bytes], Device | None] = _no_peers,
        hosted: Callable[[bytes], bool] = _hosts_nobody,
    ) -> None:
        self.keys = keys
        self.verifier = Verifier(keys, acb=acb, cache=cache)
        self.builder = Builder(keys, acb=acb, cache=cache)
        self.peer = peer
        """A neighbour's state (created if it was never used), or None if not hosted."""
        self.hosted = hosted
        """Whether a device is on this home area network (without touching its state)."""
