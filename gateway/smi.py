"""The SMI's lifecycle transitions and the responsible-supplier rule, shared by both services.

:class:`Smi` applies the status changes that are not a non-device SR of their own: those a
device's answer drives (SR8.11 Add -> Whitelisted, SR8.1.1 -> Commissioned), the DCC's own
processes (suspension, SMKI recovery, firmware activation) and the install-and-leave step. The
non-device service (:class:`gateway.services.nondevice.NonDeviceService`) is an :class:`Smi`
with the rules of the non-device SRs on top; the device service
(:class:`gateway.services.device.DeviceService`) is handed one and drives the transitions of
its answers through it.

:func:`responsible_suppliers` is the one rule of who serves a device; :func:`check_link` the
one rule of which meter point a device may be linked to.

A change of supplier moves the responsibility twice over: the registration data names the new
supplier of the meter point (the RDP's word), and the device's supplier credentials are
replaced (CS02b: SR6.23 by the DCC, SR6.15.1 by the old supplier, SR6.21 for a DCC controlled
device). :meth:`Smi.on_supplier_credentials` records the second, when the device confirms it
(table ``supplier_credentials``, component ``smi-credentials``, :data:`MIGRATIONS`); from then
on the supplier the meter trusts is its responsible supplier, whatever the registration data
says, until its credentials change again. A meter whose credentials the DCC never replaced
follows the registration data.

Every public method of :class:`Smi` runs in ONE transaction: committed before it returns,
rolled back (nothing changed) when it raises; inside an outer ``storage.transaction()`` it
joins it (a savepoint).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from gateway.errors import IllegalTransitionError, ServiceError
from gateway.flags import FlagEvent, FlagRules, apply_event, check_rules
from gateway.inventory import (
    COMMS_HUB,
    KEPT_RECORDS,
    SMART_METERS,
    Inventory,
    SmiEvent,
    kept_smi,
    next_status,
)
from gateway.model import DeviceRecord, DeviceStatus
from gateway.storage import Migration, Storage, Transaction, version_triggers
from gateway.users import get_meter_point, meter_point_supplier
from gbcs.devices import DeviceType, Fuel

__all__ = [
    "MIGRATIONS",
    "SLOT_NAMES",
    "Smi",
    "check_link",
    "credentials_supplier",
    "record_links",
    "responsible_suppliers",
]

MIGRATIONS: Final = (
    Migration(
        "smi-credentials",
        1,
        """
        CREATE TABLE supplier_credentials (
            device_id BLOB PRIMARY KEY,
            supplier BLOB NOT NULL,
            changed_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        "smi-credentials",
        2,
        # A change of the credentials a meter holds changes its responsible supplier: it
        # moves smi_version (gateway.inventory), by whichever process makes it.
        version_triggers(
            "smi_version_on_credentials", "supplier_credentials", "gateway_meta", "smi_version"
        ),
    ),
)
"""The supplier whose certificates each meter holds, as its CS02b answers confirmed."""

SLOT_NAMES: Final = {
    "import_mpxn": "ImportMPxN",
    "secondary_import_mpan": "SecondaryImportMPAN",
    "export_mpan": "ExportMPAN",
}
"""The DUIS element of each MPxN slot of a device record."""


class Smi:
    """The SMI's lifecycle over a :class:`Storage` carrying ``gateway.inventory.MIGRATIONS``."""

    def __init__(
        self,
        storage: Storage,
        *,
        clock: Callable[[], datetime],
        flag_rules: FlagRules = "dsp",
    ) -> None:
        storage.migrate(MIGRATIONS)
        self.storage = storage
        self.clock = clock
        self.flag_rules: FlagRules = check_rules(flag_rules)

    # --- queries -----------------------------------------------------------------------------

    def get_device(self, device_id: bytes) -> DeviceRecord | None:
        with self.storage.transaction() as tx:
            return Inventory(tx).get(device_id)

    def responsible_suppliers(self, device_id: bytes) -> frozenset[bytes]:
        """The supplier(s) responsible for a device (empty if it is not in the SMI); see
        :func:`responsible_suppliers`."""
        with self.storage.transaction() as tx:
            inv = Inventory(tx)
            record = inv.get(device_id)
            return frozenset() if record is None else responsible_suppliers(tx, inv, record)

    # --- steps inside a caller's transaction -------------------------------------------------

    def stamps(self) -> tuple[str, str]:
        """(ISO time, YYYYMMDD) of now, in UTC: when a change happens, and the effective date
        of the flag changes it makes."""
        now = self.clock()
        now = now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)
        return now.isoformat(), f"{now.year:04d}{now.month:02d}{now.day:02d}"

    def set_status(
        self,
        tx: Transaction,
        inv: Inventory,
        record: DeviceRecord,
        new: DeviceStatus,
        event: FlagEvent,
        *,
        now: str,
        today: str,
    ) -> None:
        """Write ``record``'s new status (and commissioning date); its meter points' service
        flags follow."""
        columns: dict[str, object] = {"status": new}
        if new is DeviceStatus.COMMISSIONED and record.date_commissioned is None:
            columns["date_commissioned"] = datetime.fromisoformat(now).date()
        inv.update(record.device_id, now, **columns)
        if record.device_type in SMART_METERS:
            self.apply_flags(tx, record_links(record), event, new, now=now, today=today)

    def apply_flags(
        self,
        tx: Transaction,
        mpxns: list[str],
        event: FlagEvent,
        status: DeviceStatus,
        *,
        now: str,
        today: str,
    ) -> None:
        """The service-flag changes of ``event`` on ``mpxns`` (:mod:`gateway.flags`)."""
        if mpxns:
            apply_event(tx, self.flag_rules, mpxns, event, status, effective_date=today, now=now)

    # --- the transitions ---------------------------------------------------------------------

    def _transition(self, device_id: bytes, event: SmiEvent, flag_event: FlagEvent) -> DeviceRecord:
        with self.storage.transaction() as tx:
            inv = Inventory(tx)
            record = inv.get(device_id)
            if record is None:
                raise ServiceError("unknown_device", device=device_id)
            try:
                new = next_status(device_id, record.status, event)
            except IllegalTransitionError as exc:
                raise ServiceError(
                    "illegal_transition", device=device_id, status=record.status, event=exc.event
                ) from None
            assert isinstance(new, DeviceStatus)
            now, today = self.stamps()
            self.set_status(tx, inv, record, new, flag_event, now=now, today=today)
            updated = inv.get(device_id)
            assert updated is not None
            return updated

    def on_whitelisted(
        self,
        device_id: bytes,
        chf_id: bytes,
        *,
        import_mpxn: str | None = None,
        secondary_import_mpan: str | None = None,
        export_mpan: str | None = None,
    ) -> DeviceRecord:
        """SR8.11 Add succeeded: the device is in ``chf_id``'s device log -> Whitelisted.

        The MPxNs the Add carried are linked to the device (a slot not given is left as it
        is). Flags follow when the device is already Commissioned (hub replacement). Raises
        ServiceError (``whitelist_*``, ``unknown_device``), changing nothing.
        """
        with self.storage.transaction() as tx:
            inv = Inventory(tx)
            record = inv.get(device_id)
            if record is None:
                raise ServiceError("whitelist_unknown_device", device=device_id)
            chf = inv.get(chf_id)
            if (
                chf is None
                or chf.device_type is not DeviceType.CHF
                or chf.status in (DeviceStatus.DECOMMISSIONED, DeviceStatus.WITHDRAWN)
            ):
                raise ServiceError("whitelist_unknown_chf", chf=chf_id)
            links = {
                slot: value
                for slot, value in (
                    ("import_mpxn", import_mpxn),
                    ("secondary_import_mpan", secondary_import_mpan),
                    ("export_mpan", export_mpan),
                )
                if value is not None
            }
            if len(set(links.values())) != len(links):
                raise ServiceError(
                    "whitelist_mpxn_mismatch",
                    mpxn=",".join(links.values()),
                    device=device_id,
                    reason="the same meter point is given twice",
                )
            for slot, mpxn in links.items():
                check_link(
                    tx, record, slot, mpxn, "whitelist_mpxn_unknown", "whitelist_mpxn_mismatch"
                )
            try:
                new = next_status(device_id, record.status, SmiEvent.WHITELIST)
            except IllegalTransitionError:
                raise ServiceError(
                    "whitelist_bad_status", device=device_id, status=record.status
                ) from None
            now, today = self.stamps()
            inv.update(device_id, now, status=new, chf_id=chf_id, **links)
            replaced = [
                old
                for slot, mpxn in links.items()
                if (old := getattr(record, slot)) is not None and old != mpxn
            ]
            linked = list(links.values())
            self.apply_flags(tx, linked, FlagEvent.LINKED, record.status, now=now, today=today)
            self.apply_flags(tx, replaced, FlagEvent.UNLINKED, record.status, now=now, today=today)
            updated = inv.get(device_id)
            assert updated is not None
            return updated

    def on_removed_from_log(self, device_id: bytes, chf_id: bytes) -> DeviceRecord:
        """SR8.11 Remove succeeded: the device is no longer in ``chf_id``'s device log, so no
        command can reach it (the device service refuses it synchronously, ``E49``) until an
        Add puts it in a log again. Its status is left as it is: removing a device from a hub's
        log is not, by itself, a lifecycle event of the SMI."""
        with self.storage.transaction() as tx:
            inv = Inventory(tx)
            record = inv.get(device_id)
            if record is None:
                raise ServiceError("unknown_device", device=device_id)
            if record.chf_id != chf_id:
                raise ServiceError("remove_not_in_log", device=device_id, chf=chf_id)
            now, _ = self.stamps()
            inv.update(device_id, now, chf_id=None)
            updated = inv.get(device_id)
            assert updated is not None
            return updated

    def on_installed_not_commissioned(self, device_id: bytes) -> DeviceRecord:
        """The device is installed but not commissioned (e.g. install and leave)."""
        record = self.get_device(device_id)
        hub = record is not None and record.device_type in COMMS_HUB
        event = (
            SmiEvent.CH_SET_INSTALLED_NOT_COMMISSIONED
            if hub
            else SmiEvent.SET_INSTALLED_NOT_COMMISSIONED
        )
        return self._transition(device_id, event, FlagEvent.STATUS_CHANGED)

    def on_commissioned(self, device_id: bytes) -> DeviceRecord:
        """SR8.1.1 succeeded -> Commissioned (date recorded); the meter's MPxNs become A."""
        return self._transition(device_id, SmiEvent.COMMISSION, FlagEvent.COMMISSIONED)

    def on_suspended(self, device_id: bytes) -> DeviceRecord:
        """The device's firmware version was removed from the Central Products List."""
        return self._transition(device_id, SmiEvent.SUSPEND, FlagEvent.STATUS_CHANGED)

    def on_recovery(self, device_id: bytes) -> DeviceRecord:
        """SMKI recovery started for the device."""
        return self._transition(device_id, SmiEvent.RECOVERY, FlagEvent.STATUS_CHANGED)

    def on_recovered(self, device_id: bytes) -> DeviceRecord:
        """SMKI recovery completed for the device."""
        return self._transition(device_id, SmiEvent.RECOVERED, FlagEvent.STATUS_CHANGED)

    def on_supplier_credentials(self, device_id: bytes, supplier: bytes) -> None:
        """The device confirmed that it now holds ``supplier``'s certificates (a CS02b
        supplier replacement succeeded): that supplier is responsible for it from now on
        (and for the devices on its hub, which follow their meters)."""
        with self.storage.transaction() as tx:
            if Inventory(tx).get(device_id) is None:
                raise ServiceError("unknown_device", device=device_id)
            now, _ = self.stamps()
            tx.execute(
                "INSERT INTO supplier_credentials (device_id, supplier, changed_at) "
                "VALUES (?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
                "supplier = excluded.supplier, changed_at = excluded.changed_at",
                (device_id, supplier, now),
            )

    def on_firmware_activated(self, device_id: bytes, firmware_version: str) -> DeviceRecord:
        """A firmware image was activated on the device (SR11.x): the SMI records its version.

        The ESME Variant is NOT changed here: correcting it is the supplier's SR8.4 (MP125).
        """
        with self.storage.transaction() as tx:
            inv = Inventory(tx)
            record = inv.get(device_id)
            if record is None:
                raise ServiceError("unknown_device", device=device_id)
            if not firmware_version or len(firmware_version) > 8:
                raise ServiceError(
                    "invalid_value",
                    field="FirmwareVersion",
                    value=firmware_version,
                    reason="1 to 8 characters",
                )
            now, _ = self.stamps()
            inv.update(device_id, now, firmware_version=firmware_version)
            updated = inv.get(device_id)
            assert updated is not None
            return updated


def record_links(record: DeviceRecord) -> list[str]:
    """The meter points linked to ``record``."""
    return [
        m
        for m in (record.import_mpxn, record.secondary_import_mpan, record.export_mpan)
        if m is not None
    ]


def responsible_suppliers(
    tx: Transaction, inv: Inventory, record: DeviceRecord
) -> frozenset[bytes]:
    """The supplier(s) responsible for ``record``, read in ``tx``.

    A meter: the supplier whose credentials it holds when a change of supplier replaced them
    (:meth:`Smi.on_supplier_credentials`), else the registered supplier of its import MPxN (and
    secondary import MPAN); a device on a hub: the responsible suppliers of the meters on that
    hub; when nothing is linked yet: the installing supplier.

    Kept in memory for ``record`` as :meth:`Inventory.get` read it, while nothing it depends
    on changes (:func:`gateway.inventory.kept_smi`).
    """
    kept = kept_smi(tx)
    if kept is not None:
        found = kept.suppliers.get(record.device_id)
        if found is not None and found[0] is record:
            return found[1]
    suppliers = _responsible_suppliers(tx, inv, record)
    if kept is not None and len(kept.suppliers) < KEPT_RECORDS:
        kept.suppliers[record.device_id] = (record, suppliers)
    return suppliers


def _responsible_suppliers(
    tx: Transaction, inv: Inventory, record: DeviceRecord
) -> frozenset[bytes]:
    if record.device_type in SMART_METERS:
        meters = [record]
    else:
        hub = inv.hub_of(record)
        meters = (
            [] if hub is None else [d for d in inv.on_hub(hub) if d.device_type in SMART_METERS]
        )
    suppliers: set[bytes] = set()
    for meter in meters:
        holder = credentials_supplier(tx, meter.device_id)
        if holder is not None:
            suppliers.add(holder)
            continue
        for mpxn in (meter.import_mpxn, meter.secondary_import_mpan):
            if mpxn is not None:
                supplier = meter_point_supplier(tx, mpxn)
                if supplier is not None:
                    suppliers.add(supplier)
    if not suppliers:
        suppliers.add(record.installing_supplier)
    return frozenset(suppliers)


def credentials_supplier(tx: Transaction, device_id: bytes) -> bytes | None:
    """The supplier whose certificates the device holds after a change of supplier (None:
    its credentials were never replaced through the DCC)."""
    row = tx.one("SELECT supplier FROM supplier_credentials WHERE device_id = ?", (device_id,))
    return None if row is None else bytes(row[0])


def check_link(
    tx: Transaction,
    record: DeviceRecord,
    slot: str,
    mpxn: str,
    unknown: str,
    mismatch: str,
) -> None:
    """Whether ``mpxn`` may be ``record``'s ``slot``: a meter, of the meter point's fuel, not
    linked to it in another slot. Raises ServiceError ``unknown`` (no such meter point) or
    ``mismatch``."""
    device = record.device_id
    if record.device_type not in SMART_METERS:
        raise ServiceError(
            mismatch, mpxn=mpxn, device=device, reason=f"a {record.device_type} is not a meter"
        )
    if record.device_type is DeviceType.GSME and slot != "import_mpxn":
        raise ServiceError(
            mismatch,
            mpxn=mpxn,
            device=device,
            reason=f"a GSME has an ImportMPxN only, not a {SLOT_NAMES[slot]}",
        )
    meter_point = get_meter_point(tx, mpxn)
    if meter_point is None:
        raise ServiceError(unknown, mpxn=mpxn)
    wanted = Fuel.ELECTRICITY if record.device_type is DeviceType.ESME else Fuel.GAS
    if meter_point.fuel is not wanted:
        raise ServiceError(
            mismatch,
            mpxn=mpxn,
            device=device,
            reason=f"it is a {meter_point.fuel} meter point, the device a {record.device_type}",
        )
    for other in ("import_mpxn", "secondary_import_mpan", "export_mpan"):
        if other != slot and getattr(record, other) == mpxn:
            raise ServiceError(
                mismatch,
                mpxn=mpxn,
                device=device,
                reason=f"it is already the device's {SLOT_NAMES[other]}",
            )
