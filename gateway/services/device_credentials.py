"""Security credential SRs in the device service: the commands the DCC signs itself, who may
ask for them, and what the SMI records when the device confirms a new supplier.

- **SR6.21** Request Handover of DCC Controlled Device: the DCC holds the supplier's or the
  network operator's cell of the device and hands it over; the ACB signs the CS02b (and MACs
  it, as every command), with its own counter. A supplier handover installs the sender's own
  certificates; a network operator handover a network operator's (a DCC User holding the ED
  or GT role).
- **SR6.23** Update Security Credentials (CoS): the new supplier asks; the DCC's transitional
  CoS party signs CS02b supplierByTransCoS with its own counter. The DCC takes it only from
  the registered supplier of ``ImportMPxN`` (the registration data), for a device that
  meter point belongs to (the meter, or a device on that meter's hub), with certificates that
  name the sender. The sender is not yet the device's responsible supplier - that is what
  the request changes - so these rules stand in for the usual one.
- **SR6.15.2**: the device certificate must name the target device.
- **On the answer**: a CS02b that replaced the supplier's cells (6.15.1 Supplier, 6.21
  Supplier, 6.23) and that the device confirms (every cell ``SUCCESS``) records the new
  supplier in the SMI (:meth:`gateway.smi.Smi.on_supplier_credentials`); a refusal changes
  nothing. A future-dated 6.23 to a meter carries its execution date-time (the Device
  pattern): its answer only acknowledges it, and the meter's 0x00CB alert when it executes
  confirms the change (:func:`alert_supplier`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from gateway.errors import ServiceError
from gateway.inventory import SMART_METERS, Inventory
from gateway.model import DeviceRecord
from gateway.schedule import is_cancellation
from gateway.smi import Smi
from gateway.srv.firmware import GBCS_CANCEL_AT
from gateway.srv.security import ROLES, UpdateCredentials, UpdateDeviceCredentials
from gateway.storage import Transaction
from gateway.users import UserRole, get_meter_point, get_user
from gbcs import content as gc
from gbcs.codes import TRANSITIONAL_COS
from gbcs.errors import GbcsError
from gbcs.frames import Message

__all__ = [
    "alert_supplier",
    "apply_answer",
    "check_request",
    "credentials_details",
    "dcc_signer",
    "device_pattern",
]

_SUPPLIER: Final = ROLES["Supplier"]
_NETWORK_ROLES: Final = frozenset({UserRole.ED, UserRole.GT})


def dcc_signer(request: object, acb: bytes) -> bytes | None:
    """The DCC party that signs the command of ``request`` (None: the user signs, or nobody)."""
    if not isinstance(request, UpdateCredentials) or request.signer is None:
        return None
    return acb if request.signer == "acb" else TRANSITIONAL_COS


def check_request(
    tx: Transaction, inv: Inventory, sender: bytes, record: DeviceRecord, request: object
) -> bool:
    """The rules of a DCC-signed credentials update; True when they replace the rule that the
    sender serves the device (6.23), False when that rule applies as well. Raises
    :class:`ServiceError` with nothing changed."""
    if isinstance(request, UpdateDeviceCredentials) and request.subject != record.device_id:
        raise ServiceError(
            "duis_invalid_element",
            element="DeviceCertificate",
            reason=f"it names device {_eui(request.subject)}, not the target "
            f"{_eui(record.device_id)}",
        )
    if not isinstance(request, UpdateCredentials) or request.signer is None:
        return False
    if request.import_mpxn is not None:
        _check_change_of_supplier(tx, inv, sender, record, request)
        return True
    if request.role == _SUPPLIER and request.subject != sender:
        raise ServiceError(
            "duis_invalid_element",
            element="ReplacementCertificates",
            reason=f"they name {_eui(request.subject)}: a supplier handover installs the "
            f"certificates of the supplier asking for it, {_eui(sender)}",
        )
    if request.role != _SUPPLIER:
        user = get_user(tx, request.subject)
        if user is None or not user.roles & _NETWORK_ROLES:
            raise ServiceError(
                "duis_invalid_element",
                element="ReplacementCertificates",
                reason=f"they name {_eui(request.subject)}, which is not a network operator "
                "known to the DCC",
            )
    return False


def _check_change_of_supplier(
    tx: Transaction, inv: Inventory, sender: bytes, record: DeviceRecord, r: UpdateCredentials
) -> None:
    mpxn = r.import_mpxn
    assert mpxn is not None
    point = get_meter_point(tx, mpxn)
    if point is None:
        raise ServiceError(
            "duis_invalid_element",
            element="ImportMPxN",
            reason=f"meter point {mpxn} is not in the registration data",
        )
    if point.supplier != sender:
        raise ServiceError(
            "duis_invalid_element",
            element="ImportMPxN",
            reason=f"DCC User {_eui(sender)} is not the registered supplier of meter point "
            f"{mpxn} (the registration data names {_eui(point.supplier)}): only the new "
            "registered supplier may change the supplier's credentials",
        )
    if mpxn not in _meter_points(inv, record):
        raise ServiceError(
            "duis_invalid_element",
            element="ImportMPxN",
            reason=f"meter point {mpxn} is not that of device {_eui(record.device_id)} nor of "
            "a meter on its communications hub",
        )
    if r.subject != sender:
        raise ServiceError(
            "duis_invalid_element",
            element="SupplierReplacementCertificates",
            reason=f"they name {_eui(r.subject)}, not the new supplier {_eui(sender)}: a "
            "change of supplier installs the sender's own certificates",
        )


def _meter_points(inv: Inventory, record: DeviceRecord) -> set[str]:
    """The import meter points of the device (a meter) or of the meters on its hub."""
    if record.device_type in SMART_METERS:
        meters = [record]
    else:
        hub = inv.hub_of(record)
        meters = (
            [] if hub is None else [d for d in inv.on_hub(hub) if d.device_type in SMART_METERS]
        )
    return {m for meter in meters for m in (meter.import_mpxn, meter.secondary_import_mpan) if m}


def device_pattern(request: object, record: DeviceRecord, execution: datetime | None) -> object:
    """``request`` carrying its execution date-time when it is a future-dated 6.15.1 (its
    cancellation too, as GBCS says it) or 6.23 to a meter (the Device pattern: the meter
    applies it then); else unchanged (the DCC holds a future-dated 6.23 for a CHF or GPF,
    the DSP pattern)."""
    if isinstance(request, UpdateCredentials) and request.signer is None and execution is not None:
        if record.device_type not in SMART_METERS:
            raise ServiceError(
                "duis_invalid_element",
                element="ExecutionDateTime",
                reason=f"device {_eui(record.device_id)} is a {record.device_type.value}: only "
                "the meters execute a future-dated credentials update themselves",
            )
        at = GBCS_CANCEL_AT if is_cancellation(execution) else execution
        return replace(request, execute_at=at)
    if (
        isinstance(request, UpdateCredentials)
        and request.import_mpxn is not None
        and execution is not None
        and not is_cancellation(execution)
        and record.device_type in SMART_METERS
    ):
        return replace(request, execute_at=execution)
    return request


def credentials_details(request: object) -> dict[str, Any]:
    """What the answer of a supplier-replacing CS02b needs (kept with the request): the new
    supplier, whom the SMI records when the device confirms (a Device-pattern one's answer
    only acknowledges it: its 0x00CB alert confirms it, :func:`apply_alert`)."""
    if (
        isinstance(request, UpdateCredentials)
        and request.role == _SUPPLIER
        and request.execute_at is None
    ):
        return {"supplier_credentials": request.subject.hex()}
    return {}


def apply_answer(smi: Smi, details: dict[str, Any], device: bytes) -> None:
    """A successful answer's SMI change (the caller checked the answer says success)."""
    supplier = details.get("supplier_credentials")
    if supplier is not None:
        smi.on_supplier_credentials(device, bytes.fromhex(supplier))


def alert_supplier(message: Message) -> bytes | None:
    """The supplier a meter's 0x00CB alert (a future-dated update executed) says it now
    trusts: the new subject of its supplier cells, when every cell succeeded; else None."""
    if message.message_code != gc.FutureDatedCredentialsAlert.message_code:
        return None
    try:
        alert = gc.FutureDatedCredentialsAlert.decode(message.content)
    except (GbcsError, ValueError):
        return None
    supplier = [r for r in alert.result.results if r.cell.role == _SUPPLIER]
    if not alert.executed or not alert.result.ok or not supplier:
        return None
    return supplier[0].new_subject


def _eui(value: bytes) -> str:
    return value.hex("-").upper()
