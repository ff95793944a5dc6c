"""Reads for an Unknown Remote Party (SR4.14, SR4.17 with ``KAPublicSecurityCredentials``):
the ACB sends the read, its other-information naming the DCC User who asked, that user's
counter and the key agreement certificate the answer is to be encrypted for. The device
encrypts the read's payload for that certificate's key (ECDH with its own KA key, the GBCS
KDF with the user as the target) and answers the ACB, the user and its counter in the
other-information - and, for the prepayment daily read logs (ECS21b, GCS16b), the counter
the device used in the KDF (a supplementary originator counter of its own), as the DCC's
reference responses show; other reads use the command's counter.

The read handlers call :func:`encrypt` and :func:`extensions` in place of encrypting for the
command's originator; a read that is not for an Unknown Remote Party is unchanged by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from gbcs.codes import KeyPurpose
from gbcs.crypto import ENCRYPTION_X, derive_key, ecdh, encrypt_payload, other_info
from gbcs.frames import Message

__all__ = ["OWN_COUNTER_READS", "UnknownRemoteParty", "encrypt", "extensions", "remote_party"]

OWN_COUNTER_READS: Final = frozenset({0x0034, 0x0096})
"""ECS21b, GCS16b: the answer carries the device's own counter used in the KDF."""

_LAST: dict[bytes, tuple[int, int]] = {}
"""Per device: (the command's counter, the device's own counter) of the last URP answer, so
that every payload of one answer uses the same counter."""


@dataclass(frozen=True, slots=True)
class UnknownRemoteParty:
    """Who a read's answer is for: the user who asked, its counter and the key it gave."""

    user: bytes
    user_counter: int
    key: ec.EllipticCurvePublicKey


def remote_party(command: Message, acb: bytes) -> UnknownRemoteParty | None:
    """The Unknown Remote Party of a read the ACB (``acb``) sent with a certificate; None
    otherwise. :class:`CommandError` when the certificate is not a P-256 key agreement one."""
    extra = command.extensions
    if command.business_originator != acb or len(extra) <= 16:
        return None
    try:
        cert = x509.load_der_x509_certificate(extra[16:])
        key = cert.public_key()
    except ValueError as exc:
        raise CommandError(f"the remote party's certificate is unusable: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise CommandError("the remote party's key is not on P-256")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise CommandError("the remote party's certificate has no key usage") from None
    if not usage.key_agreement:
        raise CommandError("the remote party's certificate is not for key agreement")
    return UnknownRemoteParty(extra[:8], int.from_bytes(extra[8:16], "big"), key)


def _counter(device: Any, command: Message) -> int:
    """The counter of the KDF of the answer to ``command``."""
    if command.message_code not in OWN_COUNTER_READS:
        return command.originator_counter
    last = _LAST.get(device.eui)
    if last is not None and last[0] == command.originator_counter:
        return last[1]
    own = int(device.next_alert_counter())
    _LAST[device.eui] = (command.originator_counter, own)
    return own


def encrypt(device: Any, command: Message, ctx: DeviceContext, plaintext: bytes) -> bytes:
    """``plaintext`` encrypted (``31`` framing) for whom the read is: the Unknown Remote
    Party's key, or the command's originator."""
    party = remote_party(command, ctx.builder.agreement.acb)
    if party is None:
        return ctx.builder.encrypt_payload(
            device=device.eui,
            target=command.business_originator,
            counter=command.originator_counter,
            plaintext=plaintext,
        )
    own = ctx.builder.keys.private_key(device.eui, KeyPurpose.KA)
    info = other_info(device.eui, ENCRYPTION_X, _counter(device, command), party.user)
    return encrypt_payload(derive_key(ecdh(own, party.key), info), device.eui, plaintext)


def extensions(device: Any, command: Message, ctx: DeviceContext) -> bytes | None:
    """The other-information of the answer to a URP read (None: the command's, as usual)."""
    party = remote_party(command, ctx.builder.agreement.acb)
    if party is None:
        return None
    head = party.user + party.user_counter.to_bytes(8, "big")
    if command.message_code in OWN_COUNTER_READS:
        return head + _counter(device, command).to_bytes(8, "big")
    return head
