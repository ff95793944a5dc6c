"""What a device does with CS02b / CS02g Update Security Credentials: it replaces a remote
party's trust anchors, and so changes whom it trusts (its :class:`~emulator.devices.trust.Trust`).

The command has passed the device's checks (MAC, the originator's role, its signature with
the key the device trusts for that role, the counter). The handler then checks, before
changing anything:

* the authorising cell is the one the mode names, and the command's originator holds it
  (the supplier replaces the supplier's cells, the transitional CoS party the supplier's on a
  change of supplier, ...);
* each replacement certificate is X.509 on P-256, its key usage that of its cell, its OU (if
  any) the cell's role, it names one entity (x500UniqueIdentifier), it was issued by the
  certification path's certificate, and its key is the one the test PKI (standing in for the
  SMKI repository) holds for that entity.

Any failure answers the reference error shape (each cell ``FAILED``, old = new) and changes
nothing. On success the role moves to the new entity: commands from the old one are refused
from then on (no authority: alert 0x8F30 to the supplier now trusted), the new one's counter
starts at the floor the command sets, and the device answers each cell's old and new subject.

Family state ``security``: ``cells`` - for each replaced cell (``"<role>/<ds|ka|ka-top-up>"``)
the ``subject`` and ``key_id`` (hex) it now holds; ``load_controller`` - the entity of the
load controller role (role 8 has no slot in :class:`Trust`); ``pending`` - the private key
(hex scalar) a CS02c made, by ``ds`` / ``ka``, until its certificate is installed (CS02d,
:mod:`emulator.usecases.security_device`); ``scheduled`` - a future-dated update a meter
checked and acknowledged (``SEQUENCE { NULL }``): its time, the command's counter and mode,
its originator and the authorising role, the replaced role, the floor and the outcome,
applied when the meter's clock passes the time, with alert 0x00CB (0x0124 for CS02g: 8F66
and that outcome) to the supplier the meter then trusts - or, when the originator no longer
holds the authorising cell then (a change of supplier meanwhile), nothing applied and 8F67
with every cell failed. A command of the same mode dated 9999-12-31 (DUIS's cancellation)
from the party holding the authorising cell removes the pending one and is acknowledged.
Only meters take one (the host advances their clock); a CHF or GPF refuses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from emulator.clock import from_seconds
from emulator.devices.families import Alert, Reply, handles, next_due, ticks
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import KeyPurpose, RemotePartyRole
from gbcs.devices import DeviceType
from gbcs.errors import GbcsError
from gbcs.frames import Message
from gbcs.payloads import asn1

__all__ = ["FAMILY", "HANDLED"]

FAMILY = "security"

_TRUST_FIELD = {
    RemotePartyRole.SUPPLIER: "supplier",
    RemotePartyRole.NETWORK_OPERATOR: "network_operator",
    RemotePartyRole.ACB: "acb",
    RemotePartyRole.TRANSITIONAL_COS: "transitional_cos",
    RemotePartyRole.WAN_PROVIDER: "wan_provider",
}
LOAD_CONTROLLER = 8

_MODES = {
    # message code: (authorising role, replaced role)
    0x0102: (RemotePartyRole.SUPPLIER, RemotePartyRole.SUPPLIER),
    0x0103: (RemotePartyRole.NETWORK_OPERATOR, RemotePartyRole.NETWORK_OPERATOR),
    0x0106: (RemotePartyRole.TRANSITIONAL_COS, RemotePartyRole.TRANSITIONAL_COS),
    0x0107: (RemotePartyRole.TRANSITIONAL_COS, RemotePartyRole.SUPPLIER),
    0x0126: (RemotePartyRole.SUPPLIER, LOAD_CONTROLLER),
}
HANDLED = frozenset(_MODES)
CANCEL_FROM = datetime(9999, 1, 1, tzinfo=UTC)
"""A future-dated update's execution date-time from which it cancels the pending one (GBCS
carries DUIS's 3000-12-31 as 9999-12-31T23:59:59Z)."""
_CLOCKED = frozenset({DeviceType.ESME, DeviceType.GSME})
"""The devices that execute a future-dated update themselves (the meters, whose clock the
host advances); the DCC holds one for a CHF or GPF instead (DSP pattern)."""


class _RefusedError(Exception):
    """A credential the device will not take; the reason goes in its log."""


def _key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return hashlib.sha1(point, usedforsecurity=False).digest()[:8]


def _cell_name(cell: c.Cell) -> str:
    usage = "ds" if cell.usage == c.DS_USAGE else "ka-top-up" if cell.top_up else "ka"
    return f"{cell.role}/{usage}"


def _purpose(cell: c.Cell) -> KeyPurpose:
    if cell.usage == c.DS_USAGE:
        return KeyPurpose.DS
    return KeyPurpose.PP_KA if cell.top_up else KeyPurpose.KA


def _holder(device: Any, role: int) -> bytes | None:
    if role == LOAD_CONTROLLER:
        found = device.family_state(FAMILY).get("load_controller")
        return None if found is None else bytes.fromhex(found)
    held: bytes | None = getattr(device.trust, _TRUST_FIELD[RemotePartyRole(role)])
    return held


def _checked(
    cell: c.Cell, der: bytes, path: tuple[bytes, ...], ctx: DeviceContext
) -> tuple[bytes, bytes]:
    """(entity, key id) of a replacement certificate the device accepts for ``cell``."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        raise _RefusedError("a replacement certificate is not X.509") from None
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise _RefusedError("a replacement key is not on P-256")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise _RefusedError("a replacement certificate has no key usage") from None
    if not (usage.digital_signature if cell.usage == c.DS_USAGE else usage.key_agreement):
        raise _RefusedError(f"the certificate for cell {_cell_name(cell)} has the wrong key usage")
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    unit = units[0].value if units else None
    text = unit.decode("ascii", "replace") if isinstance(unit, bytes) else unit
    if text is not None and text != f"{cell.role:02d}":
        raise _RefusedError(f"the certificate for cell {_cell_name(cell)} is for role {text}")
    ids = cert.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER)
    raw = ids[0].value if ids else b""
    entity = raw[1:] if isinstance(raw, bytes) and len(raw) == 9 else b""
    if not entity:
        raise _RefusedError("a replacement certificate names no entity")
    if not _issued_by_path(cert, path):
        raise _RefusedError("a replacement certificate was not issued by the certification path")
    known = _published_key(ctx, entity, _purpose(cell))
    if known is None or known.public_numbers() != key.public_numbers():
        raise _RefusedError(f"{entity.hex()}'s certificate is not the one its PKI published")
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        ski = _key_id(key)
    if len(ski) != 8:
        # The device reports an SMKI subject key identifier: 8 octets (a certificate from
        # outside the SMKI may carry the 20 of a whole SHA-1).
        ski = _key_id(key)
    return entity, ski


def _issued_by_path(cert: x509.Certificate, path: tuple[bytes, ...]) -> bool:
    for der in path:
        try:
            issuer = x509.load_der_x509_certificate(der)
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def _published_key(
    ctx: DeviceContext, eui: bytes, purpose: KeyPurpose
) -> ec.EllipticCurvePublicKey | None:
    try:
        return ctx.keys.published_key(eui, purpose)
    except GbcsError:
        return None


def _update(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = c.decode_command(command.message_code, command.content)
    if not isinstance(cmd, c.UpdateSecurityCredentials):  # pragma: no cover - registry
        raise CommandError("not an update of security credentials")
    authorising, replaced = _MODES[cmd.message_code]
    if cmd.execute_at is not None and device.DEVICE_TYPE not in _CLOCKED:
        raise CommandError("future-dated credential updates are executed by meters only")
    # The originator must hold the authorising cell itself: on a DCC controlled device the
    # ACB's entity sits in the network operator's (or supplier's) cell (SR6.21), where its
    # role as such is still the ACB's.
    holds_cell = _holder(device, authorising) == command.business_originator
    old_subject = _holder(device, replaced) or bytes(8)
    state = device.family_state(FAMILY)
    cells: dict[str, dict[str, str]] = state.get("cells", {})
    alerts: list[Alert] = []
    authorised = cmd.authorising == c.Cell(authorising, c.DS_USAGE) and holds_cell
    if cmd.execute_at is not None and cmd.execute_at >= CANCEL_FROM and authorised:
        # GBCS's cancellation (9999-12-31): the pending update of the same mode goes.
        pending = state.get("scheduled")
        if pending is not None and pending.get("mode", cmd.message_code) == cmd.message_code:
            del state["scheduled"]
            device._log(f"future-dated update of role {replaced} cancelled")
        else:
            device._log(f"nothing pending to cancel for role {replaced}")
        return Reply(c.CredentialsUpdated(0, 0, accepted=True).encode())
    try:
        if not authorised:
            alerts.append(Alert(AlertCode.SOURCE_HAS_NO_AUTHORITY))
            raise _RefusedError("not authorised by the trust anchor its mode names")
        if not cmd.certificates or any(cell.role != replaced for cell, _ in cmd.certificates):
            raise _RefusedError(f"the cells are not all role {replaced}'s")
        checked = [(cell, *_checked(cell, der, cmd.path, ctx)) for cell, der in cmd.certificates]
        if len({entity for _, entity, _ in checked}) != 1:
            raise _RefusedError("the replacement certificates name different entities")
    except _RefusedError as why:
        device._log(f"credentials refused: {why}")
        results: list[c.CellResult] = []
        for cell, _ in cmd.certificates:
            old_id = _old_key_id(cells, cell, old_subject, ctx)
            results.append(
                c.CellResult(cell, c.CellOutcome.FAILED, old_subject, old_id, old_subject, old_id)
            )
        return Reply(_response(cmd, command, results).encode(), alerts=alerts)
    results = []
    for cell, entity, key_id in checked:
        old_id = _old_key_id(cells, cell, old_subject, ctx)
        results.append(
            c.CellResult(cell, c.CellOutcome.SUCCESS, old_subject, old_id, entity, key_id)
        )
    others = {role: floor for role, floor, _ in cmd.role_floors}
    floor = cmd.floor if cmd.floor is not None else others.get(replaced)
    outcome = _response(cmd, command, results)
    if cmd.execute_at is not None:
        # Future dated: checked now, acknowledged, applied when the meter's clock passes it.
        state["scheduled"] = {
            "at": int(cmd.execute_at.timestamp()),
            "counter": command.originator_counter,
            "mode": cmd.message_code,
            "originator": command.business_originator.hex(),
            "authorising": authorising,
            "replaced": replaced,
            "floor": floor,
            "outcome": outcome.encode().hex(),
        }
        device._log(f"role {replaced} moves at {cmd.execute_at.isoformat()}")
        return Reply(c.CredentialsUpdated(0, 0, accepted=True).encode())
    _apply(device, replaced, outcome.results, floor)
    return Reply(outcome.encode())


def _apply(
    device: Any, replaced: int, results: tuple[c.CellResult, ...], floor: int | None
) -> None:
    """Move ``replaced``'s cells to their new entity (the results of the checks)."""
    state = device.family_state(FAMILY)
    cells = state.setdefault("cells", {})
    for r in results:
        cells[_cell_name(r.cell)] = {"subject": r.new_subject.hex(), "key_id": r.new_key_id.hex()}
    old_subject, new_subject = results[0].old_subject, results[0].new_subject
    if replaced == LOAD_CONTROLLER:
        state["load_controller"] = new_subject.hex()
    else:
        field = _TRUST_FIELD[RemotePartyRole(replaced)]
        device.trust = dataclasses.replace(device.trust, **{field: new_subject})
    if floor is not None:
        if device.counters is None:
            device.counters = {}
        device.counters[new_subject] = floor
    device._log(f"role {replaced} moved from {old_subject.hex()} to {new_subject.hex()}")


@ticks
def _scheduled(device: Any, now: int) -> list[Alert]:
    """A future-dated update falling due: applied, and the 0x00CB alert (to the supplier the
    meter then trusts) carries the outcome the command would have answered."""
    state: dict[str, Any] | None = device.extra.get(FAMILY) if device.extra else None
    if state is None or "scheduled" not in state:
        return []
    pending = state["scheduled"]
    if device.device_time(now) < pending["at"]:
        return []
    del state["scheduled"]
    outcome = c.CredentialsUpdated.decode(bytes.fromhex(pending["outcome"]))
    originator = pending.get("originator")
    # Checked again as it executes: the party that authorised it must still hold its cell
    # (a change of supplier meanwhile leaves the old supplier's update unauthorised).
    executed = originator is None or _holder(device, pending["authorising"]) == bytes.fromhex(
        originator
    )
    if executed:
        _apply(device, pending["replaced"], outcome.results, pending["floor"])
    else:
        device._log(f"future-dated update of role {pending['replaced']} no longer authorised")
        failed = tuple(
            c.CellResult(
                r.cell,
                c.CellOutcome.FAILED,
                r.old_subject,
                r.old_key_id,
                r.old_subject,
                r.old_key_id,
            )
            for r in outcome.results
        )
        outcome = dataclasses.replace(outcome, results=failed)
    kind = (
        c.FutureDatedLoadControllerAlert
        if pending.get("mode") in c.CS02G_MODES
        else c.FutureDatedCredentialsAlert
    )
    alert = kind(executed, from_seconds(pending["at"]), pending["counter"], outcome)
    code = (
        AlertCode.FUTURE_DATED_COMMAND_EXECUTED
        if executed
        else AlertCode.FUTURE_DATED_COMMAND_NOT_EXECUTED
    )
    return [Alert(code, message_code=kind.message_code, content=alert.encode())]


@next_due(_scheduled)
def _scheduled_due(device: Any, clock: int) -> int | None:
    state: dict[str, Any] | None = device.extra.get(FAMILY) if device.extra else None
    return int(state["scheduled"]["at"]) if state is not None and "scheduled" in state else None


def _old_key_id(
    cells: dict[str, dict[str, str]], cell: c.Cell, subject: bytes, ctx: DeviceContext
) -> bytes:
    held = cells.get(_cell_name(cell))
    if held is not None:
        return bytes.fromhex(held["key_id"])
    key = _published_key(ctx, subject, _purpose(cell))
    return bytes(8) if key is None else _key_id(key)


def _response(
    cmd: c.UpdateSecurityCredentials, command: Message, results: list[c.CellResult]
) -> c.CredentialsUpdated:
    roles: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
    if cmd.floor is not None:
        replaced = cmd.certificates[0][0].role if cmd.certificates else 0
        roles.append((replaced, cmd.floor, cmd.top_up_floors))
    roles += list(cmd.role_floors)
    return c.CredentialsUpdated(command.originator_counter, cmd.mode, tuple(roles), tuple(results))


# The hardware module name a device puts in its certification requests (RFC 4108
# hwModuleName): the GBCS device hardware type and the device's entity identifier.
HW_MODULE_NAME = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")
GBCS_DEVICE_TYPE = "1.2.826.0.1.8641679.1.2.2.1"


def _hw_module_name(eui: bytes) -> bytes:
    oid = x509.ObjectIdentifier(GBCS_DEVICE_TYPE)
    body = asn1.der_sequence(
        asn1.Der(asn1.OID, _oid_bytes(oid.dotted_string)), asn1.der_octet_string(eui)
    )
    return body.to_bytes()


def _oid_bytes(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def _issue(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """CS02c: a new key pair of the asked usage, kept pending until its certificate comes
    (CS02d, not emulated), and a PKCS #10 request for it signed with the new key."""
    cmd = c.decode_command(command.message_code, command.content)
    if not isinstance(cmd, c.IssueSecurityCredentials):  # pragma: no cover - registry
        raise CommandError("not an issue of security credentials")
    if device.trust.role_of(command.business_originator) is not RemotePartyRole.SUPPLIER:
        return Reply(
            c.CredentialsRefused(CS02C_NOT_AUTHORISED).encode(),
            alerts=[Alert(AlertCode.SOURCE_HAS_NO_AUTHORITY)],
        )
    ds = cmd.usage == c.DS_USAGE
    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(
        digital_signature=ds,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not ds,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    name = x509.OtherName(HW_MODULE_NAME, _hw_module_name(device.eui))
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectAlternativeName([name]), critical=True)
        .sign(key, hashes.SHA256())
    )
    scalar = key.private_numbers().private_value
    pending = device.family_state(FAMILY).setdefault("pending", {})
    pending["ds" if ds else "ka"] = f"{scalar:064x}"
    device._log(f"CS02c: new {'DS' if ds else 'KA'} key pending its certificate")
    return Reply(c.CertificationRequest(request.public_bytes(Encoding.DER)).encode())


CS02C_NOT_AUTHORISED = 3
"""The bare INTEGER error answer of CS02c (the reference error response carries 3)."""

for _type in (DeviceType.ESME, DeviceType.GSME, DeviceType.CHF, DeviceType.GPF):
    for _code in HANDLED:
        handles(_type, _code)(_update)
    handles(_type, 0x000A)(_issue)
