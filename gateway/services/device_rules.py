"""The rules of the device SRs: the statuses a device must be in, the command variants, who
serves a device, the signed pre-command's checks, the keys the gateway may use, and what a
device's answer says.

Each rule raises :class:`~gateway.errors.ServiceError` (nothing changed) when it refuses; the
device service (:mod:`gateway.services.device`) applies them in order, in one transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.errors import ServiceError
from gateway.inventory import Inventory
from gateway.model import DeviceRecord, DeviceStatus
from gateway.schedule import is_cancellation
from gateway.smi import responsible_suppliers
from gateway.srv.spec import Codec, ResponsePattern, Row
from gateway.storage import Transaction
from gateway.users import UserRole, get_meter_point
from gbcs import content as gc
from gbcs.codes import ACB, KeyPurpose
from gbcs.crypto import verify_signature
from gbcs.errors import GbcsError, KeyNotFound
from gbcs.frames import Message
from gbcs.keystore import KeyLookup
from gbcs.usecases import UseCase

__all__ = [
    "IN_SERVICE",
    "LOCAL_VARIANTS",
    "STATUSES",
    "WIRE_VARIANTS",
    "GatewayKeys",
    "alert_code",
    "check_command_variant",
    "check_serves",
    "check_signed",
    "future_mode",
    "succeeded",
]


class GatewayKeys:
    """The keys the DCC holds: private keys of its own identities (the ACB) only, public keys
    of everyone (users' and devices' certificates). Wraps any :class:`KeyLookup` - in the
    sandbox the whole test PKI - so the gateway never uses a user's or a device's private key.
    """

    __slots__ = ("_keys", "_own")

    def __init__(self, keys: KeyLookup, own: frozenset[bytes] = frozenset({ACB})) -> None:
        self._keys = keys
        self._own = own

    @property
    def generation(self) -> object:
        """The wrapped lookup's ``generation`` (None when it has none): what the key agreement
        of the builder and verifier cache their shared secrets by. The keys this wrapper
        hands out change only when the wrapped ones do (its own EUIs are fixed), so without
        it every MAC looked its keys up again - the device's private key first, refused
        here with a KeyNotFound each time."""
        return getattr(self._keys, "generation", None)

    def public_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        return self._keys.public_key(eui, purpose)

    def certificate(self, eui: bytes, purpose: KeyPurpose) -> x509.Certificate | None:
        """A device's or user's certificate, when the wrapped lookup holds certificates (the
        DCC sends the other device's one in a method C join)."""
        lookup = getattr(self._keys, "certificate", None)
        found = None if lookup is None else lookup(eui, purpose)
        return found if isinstance(found, x509.Certificate) else None

    def private_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
        if eui not in self._own:
            raise KeyNotFound(eui, KeyPurpose(purpose).value, private=True)
        return self._keys.private_key(eui, purpose)


_SUPPLIERS: Final = frozenset({UserRole.IS, UserRole.GS})
_NETWORK: Final = frozenset({UserRole.ED, UserRole.GT})
_OTHER: Final = frozenset({UserRole.OU})

IN_SERVICE: Final = frozenset({DeviceStatus.COMMISSIONED, DeviceStatus.INSTALLED_NOT_COMMISSIONED})
STATUSES: Final[Mapping[str, frozenset[DeviceStatus]]] = {
    "8.1.1": frozenset(
        {
            DeviceStatus.WHITELISTED,
            DeviceStatus.INSTALLED_NOT_COMMISSIONED,
            DeviceStatus.COMMISSIONED,
        }
    ),
}
"""The SMI statuses a device must be in to be sent each SR (default: Commissioned or
InstalledNotCommissioned; for 8.11, the status of the CHF)."""

WIRE_VARIANTS: Final = frozenset({1, 2, 4, 5, 6})
"""Command variants this gateway serves for device SRs (3 and 7 - both WAN and local
delivery - are not)."""

LOCAL_VARIANTS: Final = frozenset({2, 6})


def check_command_variant(uc: UseCase, cv: int, srv: str) -> None:
    """A critical SR is signed by its user (CV4 then CV5/CV6); any other is not (CV1/CV2)."""
    if uc.critical and cv in (1, 2):
        raise ServiceError(
            "device_cv_not_supported",
            cv=cv,
            srv=srv,
            supported="4 then 5 (or 6): it is a critical SR, the user signs it",
        )
    if not uc.critical and cv == 4:
        raise ServiceError(
            "device_cv_not_supported",
            cv=cv,
            srv=srv,
            supported="1 or 2: it is not a critical SR, nothing to sign",
        )


def future_mode(
    row: Row, codec: Codec, execution: datetime | None, now: datetime, cv: int
) -> str | None:
    """How a future-dated request runs: ``"hold"`` (DSP pattern: the gateway sends it at its
    execution date-time), ``"cancel"`` (DSP pattern, DUIS's 3000-12-31: take the pending one
    out of the schedule), ``"device"`` (Device pattern: the command carries the date-time);
    None when it is not future-dated. Raises ServiceError when it cannot be one."""
    if execution is None:
        return None
    srv = row.srv.value
    pattern = row.future_dated
    if pattern is ResponsePattern.NONE:
        raise ServiceError(
            "duis_invalid_element",
            element="ExecutionDateTime",
            reason=f"SR {srv} cannot be future-dated (DUIS gives it no future-dated pattern)",
        )
    if not is_cancellation(execution) and execution <= now:
        raise ServiceError(
            "duis_invalid_element",
            element="ExecutionDateTime",
            reason=f"{execution.isoformat()} is not after the DCC's time {now.isoformat()}",
        )
    if pattern in (ResponsePattern.DSP, ResponsePattern.BOTH) and not codec.future_dated:
        if cv != 1:
            raise ServiceError(
                "duis_invalid_element",
                element="ExecutionDateTime",
                reason=f"the DCC holds a future-dated SR {srv} and sends it itself: "
                "CommandVariant 1 only",
            )
        return "cancel" if is_cancellation(execution) else "hold"
    if not codec.future_dated:
        raise ServiceError(
            "duis_sr_not_supported", srv=f"{srv} with an ExecutionDateTime (future-dated)"
        )
    return "device"


def check_serves(
    tx: Transaction,
    inv: Inventory,
    roles: frozenset[UserRole],
    sender: bytes,
    record: DeviceRecord,
    eligible: frozenset[UserRole],
) -> None:
    """``sender`` serves ``record``: a supplier responsible for it, an Other User for an SR
    open to that role, or - for an SR the network operator may send - the network operator
    of its meter point."""
    if roles & _SUPPLIERS and sender in responsible_suppliers(tx, inv, record):
        return
    # DUIS asks an Other User no relationship to the device (the consumer's consent is the
    # user's to hold, not the DCC's to check): the role being eligible is enough (SR9.1).
    if roles & eligible & _OTHER:
        return
    if roles & eligible & _NETWORK:
        for mpxn in (record.import_mpxn, record.secondary_import_mpan):
            point = None if mpxn is None else get_meter_point(tx, mpxn)
            if point is not None and point.network_operator == sender:
                return
    raise ServiceError("not_responsible_supplier", sender=sender, device=record.device_id)


def check_signed(keys: GatewayKeys, signed: Message, issued: Message, rid: str) -> None:
    """The signed pre-command of a CV5/CV6: signed by its user (DS certificate), and the
    pre-command issued for the RequestID, unchanged."""
    if signed.signature is None:
        raise ServiceError(
            "precommand_bad_signature",
            originator=issued.business_originator,
            reason="the GBCSPayload carries no signature",
        )
    try:
        public = keys.public_key(signed.business_originator, KeyPurpose.DS)
    except KeyNotFound:
        raise ServiceError(
            "precommand_bad_signature",
            originator=signed.business_originator,
            reason="no GBCS digital-signing certificate is known for it",
        ) from None
    if signed.business_originator != issued.business_originator:
        raise ServiceError(
            "precommand_mismatch",
            request_id=rid,
            reason=f"it is signed as {_eui(signed.business_originator)}",
        )
    if not verify_signature(public, signed.signed_bytes(), signed.signature):
        raise ServiceError(
            "precommand_bad_signature",
            originator=signed.business_originator,
            reason="the signature does not match the signed bytes (changed after signing, "
            "or signed with another key)",
        )
    unsigned = dataclasses.replace(signed, signature=None, signature_omitted=True, mac=None)
    if unsigned != issued:
        raise ServiceError(
            "precommand_mismatch",
            request_id=rid,
            reason="its content, counter, parties or message code differ from the "
            "pre-command issued",
        )


# -- receiving ----------------------------------------------------------------------------


def succeeded(message: Message) -> bool:
    """Whether a response says the command succeeded (typed content with ``ok``)."""
    try:
        response = gc.decode_response(message.message_code, message.content)
    except (GbcsError, ValueError):
        return False
    return bool(getattr(response, "ok", False))


def alert_code(message: Message) -> int:
    """The alert code a device alert is filed and delivered under (DUIS ``AlertCode``): the
    alert's own (a GSME's GBZ alert's too; 8F66 / 8F67 for the future-dated alerts), or the
    message code when the content is no alert the decoder knows."""
    try:
        alert = gc.decode_alert(message.message_code, message.content)
    except (GbcsError, ValueError, IndexError):
        return message.message_code
    return alert.code if isinstance(alert, gc.DlmsAlert) else alert.alert_code


def _eui(value: bytes) -> str:
    return value.hex("-").upper()
