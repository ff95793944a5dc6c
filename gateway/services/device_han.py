"""The HAN side of the device SRs: what the SMI knows of joins and device logs, and what a
successful answer changes in it.

The DCC holds each device's device log as the joins it sent made it (SR8.7 join, SR8.8 unjoin
- recorded on both devices, as both devices' logs change) and each device's place in its
communications hub's log (SR8.11). This module:

- completes a join or unjoin request from the SMI before its use case is chosen: the two
  devices' types (an unjoin of a method B pair is CS04b) and, for a method C join, the
  other device's key agreement certificate (:func:`resolve_request`); a restore of a GPF's
  log from the old GPF's joins, of a CHF's log from the devices the SMI has in the old CHF's;
- refuses synchronously what cannot work: a join with a device not in the SMI, an 8.11 Remove
  of a device that is not in that hub's log;
- says what a successful answer does (:func:`lifecycle_details`, stored with the request) and
  does it (:func:`apply_lifecycle`).

The joins live in the component ``han-joins`` (:data:`MIGRATIONS`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final, Protocol

from cryptography.hazmat.primitives.serialization import Encoding

from gateway.errors import ServiceError
from gateway.inventory import Inventory
from gateway.model import DeviceRecord
from gateway.smi import Smi
from gateway.srv.han import (
    JoinService,
    RestoreGpfDeviceLog,
    RestoreHanDeviceLog,
    UnjoinService,
    UpdateHanDeviceLog,
)
from gateway.storage import Migration, Storage, Transaction
from gbcs.codes import KeyPurpose
from gbcs.devices import DeviceType

__all__ = [
    "MIGRATIONS",
    "apply_answer",
    "apply_lifecycle",
    "device_log_details",
    "joined_with",
    "lifecycle_details",
    "resolve_request",
]

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "han-joins",
        1,
        """
        CREATE TABLE han_joins (
            device BLOB NOT NULL,
            other BLOB NOT NULL,
            other_type TEXT NOT NULL,
            joined_at TEXT NOT NULL,
            PRIMARY KEY (device, other)
        );
        """,
    ),
)


class _Certificates(Protocol):
    def certificate(self, eui: bytes, purpose: KeyPurpose) -> Any: ...


def joined_with(tx: Transaction, device: bytes) -> list[tuple[bytes, DeviceType]]:
    """The devices in ``device``'s log as the SMI holds it (joins the DCC sent), in EUI order."""
    rows = tx.all(
        "SELECT other, other_type FROM han_joins WHERE device = ? ORDER BY other", (device,)
    )
    return [(bytes(r["other"]), DeviceType(r["other_type"])) for r in rows]


def resolve_request(
    tx: Transaction, inv: Inventory, keys: object, record: DeviceRecord, request: object
) -> object:
    """``request`` completed from the SMI (a join's device types and certificate, a GPF
    restore's entries), or refused with a ServiceError, nothing changed."""
    if isinstance(request, JoinService):
        other = inv.get(request.other)
        if other is None:
            raise ServiceError("join_unknown_device", device=request.other)
        certificate = None
        lookup = getattr(keys, "certificate", None)
        if lookup is not None:
            found = lookup(request.other, KeyPurpose.KA)
            if found is not None:
                certificate = found.public_bytes(Encoding.DER)
        return dataclasses.replace(
            request,
            target_type=record.device_type,
            other_type=other.device_type,
            certificate=certificate,
        )
    if isinstance(request, UnjoinService):
        # The body names the other device only: the SMI's types say whether the pair was
        # joined by method B (CS04b); an other device the SMI does not hold is unjoined
        # with CS04ac, which the device answers itself.
        known = inv.get(request.other)
        if known is None:
            return request
        return dataclasses.replace(
            request, target_type=record.device_type, other_type=known.device_type
        )
    if isinstance(request, RestoreGpfDeviceLog):
        old = inv.get(request.old_gpf)
        if old is None or old.device_type is not DeviceType.GPF:
            raise ServiceError("restore_unknown_gpf", device=request.old_gpf)
        entries = tuple(joined_with(tx, request.old_gpf))
        if not entries:
            raise ServiceError("restore_empty_log", device=request.old_gpf)
        return dataclasses.replace(request, entries=entries)
    if isinstance(request, RestoreHanDeviceLog):
        old = inv.get(request.old_chf)
        if old is None or old.device_type is not DeviceType.CHF:
            raise ServiceError("restore_unknown_chf", device=request.old_chf)
        logged = tuple(
            (r.device_id, r.device_type)
            for r in sorted(inv.on_hub(request.old_chf), key=lambda r: r.device_id)
            if r.chf_id == request.old_chf
        )
        if not logged:
            raise ServiceError("restore_empty_chf_log", device=request.old_chf)
        return dataclasses.replace(request, entries=logged)
    if (
        isinstance(request, UpdateHanDeviceLog)
        and not request.add
        and record.device_type is DeviceType.CHF  # another type: the catalogue's E48
    ):
        subject = inv.get(request.device_id)
        if subject is None:
            raise ServiceError("whitelist_unknown_device", device=request.device_id)
        if subject.chf_id != record.device_id:
            raise ServiceError("remove_not_in_log", device=request.device_id, chf=record.device_id)
    return request


class _DryRunError(Exception):
    """Rolls back a rule check made by trying the change."""


def device_log_details(
    storage: Storage, smi: Smi, request: UpdateHanDeviceLog, chf: bytes
) -> dict[str, Any]:
    """What an 8.11 answer will do to the SMI; an Add is tried now (and rolled back), so
    a rule it would break refuses the request before anything is sent."""
    details: dict[str, Any] = {"log_device": request.device_id.hex(), "add": request.add}
    if not request.add:
        return details
    if request.install_code is None or request.join_time_period is None:
        raise ServiceError(
            "duis_invalid_element",
            element="AddDeviceToCHFWhitelist",
            reason="an Add needs JoinTimePeriod and InstallCode",
        )
    links = {
        "import_mpxn": request.import_mpxn,
        "secondary_import_mpan": request.secondary_import_mpan,
        "export_mpan": request.export_mpan,
    }
    details["links"] = {k: v for k, v in links.items() if v is not None}
    try:
        with storage.transaction():
            smi.on_whitelisted(request.device_id, chf, **details["links"])
            raise _DryRunError
    except _DryRunError:
        pass
    return details


def lifecycle_details(request: object, record: DeviceRecord) -> dict[str, Any]:
    """What a successful answer to ``request`` (sent to ``record``) changes in the SMI, as
    JSON-ready details stored with the request; empty when nothing."""
    if isinstance(request, JoinService) and request.other_type is not None:
        return {
            "join": [record.device_id.hex(), request.other.hex()],
            "types": [record.device_type.value, request.other_type.value],
        }
    if isinstance(request, UnjoinService):
        return {"unjoin": [record.device_id.hex(), request.other.hex()]}
    if isinstance(request, RestoreHanDeviceLog):
        return {
            "restore_chf": record.device_id.hex(),
            "entries": [[eui.hex(), kind.value] for eui, kind in request.entries],
        }
    if isinstance(request, RestoreGpfDeviceLog):
        return {
            "restore": record.device_id.hex(),
            "entries": [[eui.hex(), kind.value] for eui, kind in request.entries],
        }
    return {}


def apply_lifecycle(tx: Transaction, details: Mapping[str, Any], now: str) -> None:
    """The SMI changes of a successful join, unjoin or restore (both devices' logs; a CHF
    restore moves the restored devices into the new CHF's log, their status as it was)."""
    insert = (
        "INSERT INTO han_joins (device, other, other_type, joined_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (device, other) DO UPDATE SET other_type = excluded.other_type, "
        "joined_at = excluded.joined_at"
    )
    if "join" in details:
        a, b = (bytes.fromhex(x) for x in details["join"])
        kind_a, kind_b = details["types"]
        tx.execute(insert, (a, b, kind_b, now))
        tx.execute(insert, (b, a, kind_a, now))
    if "unjoin" in details:
        a, b = (bytes.fromhex(x) for x in details["unjoin"])
        tx.execute(
            "DELETE FROM han_joins "
            "WHERE (device = ?1 AND other = ?2) OR (device = ?2 AND other = ?1)",
            (a, b),
        )
    if "restore_chf" in details:
        chf = bytes.fromhex(details["restore_chf"])
        inv = Inventory(tx)
        for eui, _kind in details["entries"]:
            inv.update(bytes.fromhex(eui), now, chf_id=chf)
    if "restore" in details:
        gpf = bytes.fromhex(details["restore"])
        for eui, kind in details["entries"]:
            tx.execute(insert, (gpf, bytes.fromhex(eui), kind, now))
            tx.execute(insert, (bytes.fromhex(eui), gpf, DeviceType.GPF.value, now))


def apply_answer(storage: Storage, smi: Smi, details: Mapping[str, Any], device: bytes) -> None:
    """The HAN side of a successful answer from ``device``: an 8.11 Add whitelists the device
    in that CHF's log, a Remove takes it off; joins, unjoins and restores change the logs.
    Raises ServiceError when a rule refuses it (the caller's savepoint undoes it)."""
    if "log_device" in details:
        logged = bytes.fromhex(details["log_device"])
        if details.get("add"):
            links = details.get("links", {})
            smi.on_whitelisted(
                logged,
                device,
                import_mpxn=links.get("import_mpxn"),
                secondary_import_mpan=links.get("secondary_import_mpan"),
                export_mpan=links.get("export_mpan"),
            )
        else:
            smi.on_removed_from_log(logged, device)
    if any(k in details for k in ("join", "unjoin", "restore", "restore_chf")):
        with storage.transaction() as tx:
            apply_lifecycle(tx, details, smi.stamps()[0])
