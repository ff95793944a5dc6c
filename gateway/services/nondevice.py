"""NonDeviceService: the rules of the non-device SRs, on the SMI's lifecycle (gateway.smi).

Every public method runs in ONE transaction of :class:`gateway.storage.Storage`: committed
before it returns, rolled back (nothing changed) when it raises. Called inside an outer
``storage.transaction()`` it joins it (a savepoint), so a caller can combine an SMI change
with its own rows atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from gateway import dcc_schedule
from gateway.errors import AdminError, IllegalTransitionError, ServiceError
from gateway.flags import FlagEvent, FlagRules
from gateway.inventory import (
    COMMS_HUB,
    NOT_IN_SMI,
    READ_INVENTORY_LIMIT,
    Inventory,
    SmiEvent,
    next_status,
    ordered,
)
from gateway.model import (
    NON_DEVICE_ACB,
    UPDATE_STATUS_CH,
    UPDATE_STATUS_EXCEPT_CH,
    CommsHubStatusUpdate,
    CreateSchedule,
    DecommissionDevice,
    DeleteDevice,
    DeleteSchedule,
    DevicePrenotification,
    DeviceRecord,
    DeviceStatus,
    NonDeviceRequest,
    NonDeviceResult,
    ReadInventory,
    ReadSchedule,
    RequestId,
    ServiceOptOut,
    UpdateDeviceDetails,
    UpdateDeviceStatus,
    UpdateMPxN,
)
from gateway.services import schedules
from gateway.smi import Smi, check_link, responsible_suppliers
from gateway.storage import Storage, Transaction
from gateway.users import (
    MeterPoints,
    User,
    UserRole,
    Users,
    accept_counter,
    check_sender,
    check_uprn,
    get_meter_point,
    get_user,
    roles_text,
)
from gbcs.devices import ESME_VARIANTS, DeviceType

_SUPPLIERS: Final = frozenset({UserRole.IS, UserRole.GS})
_EVERYONE: Final = frozenset(UserRole)
_SCHEDULERS: Final = _EVERYONE - {UserRole.RSA}

ELIGIBLE_ROLES: Final[dict[type, frozenset[UserRole]]] = {
    DevicePrenotification: _SUPPLIERS,
    UpdateDeviceStatus: _SUPPLIERS,
    UpdateDeviceDetails: _SUPPLIERS,
    DeleteDevice: _SUPPLIERS,
    UpdateMPxN: _SUPPLIERS | {UserRole.ES},
    ReadInventory: _EVERYONE,
    DecommissionDevice: _SUPPLIERS,
    ServiceOptOut: frozenset(),
    CommsHubStatusUpdate: _SUPPLIERS,
    CreateSchedule: _SCHEDULERS,
    ReadSchedule: _SCHEDULERS,
    DeleteSchedule: _SCHEDULERS,
}
"""Which DCC User roles may send each non-device SR (8.5: nobody)."""

SR_TITLES: Final[dict[type, str]] = {
    DevicePrenotification: "12.2 Device Pre-Notification",
    UpdateDeviceStatus: "8.4 Update Inventory",
    UpdateDeviceDetails: "8.4 Update Inventory",
    DeleteDevice: "8.4 Update Inventory",
    UpdateMPxN: "8.4 Update Inventory",
    ReadInventory: "8.2 Read Inventory",
    DecommissionDevice: "8.3 Decommission Device",
    ServiceOptOut: "8.5 Service Opt-out",
    CommsHubStatusUpdate: "8.14 Communications Hub Status Update",
    CreateSchedule: "5.1 Create Schedule",
    ReadSchedule: "5.2 Read Schedule",
    DeleteSchedule: "5.3 Delete Schedule",
}

_HUB_EVENTS: Final[dict[str, SmiEvent]] = {
    "8.14.1": SmiEvent.CH_SET_COMMISSIONED,
    "8.14.2": SmiEvent.CH_SET_INSTALLED_NOT_COMMISSIONED,
    "8.14.3": SmiEvent.CH_SET_WITHDRAWN,
    "8.14.4": SmiEvent.CH_SET_WITHDRAWN,
}
"""What each SR8.14 does to the CHF and its GPF: installed with SM WAN, the hub is on the
WAN and the DCC commissions it; installed without, it waits InstalledNotCommissioned; returned
(faulty or not), it is Withdrawn."""

VARIANT_STATUSES: Final = frozenset(
    {DeviceStatus.WHITELISTED, DeviceStatus.INSTALLED_NOT_COMMISSIONED, DeviceStatus.COMMISSIONED}
)
"""MP125: when the Responsible Supplier may correct the ESME Variant."""

_STATUS_EVENTS: Final[dict[tuple[bool, DeviceStatus], SmiEvent]] = {
    (False, DeviceStatus.PENDING): SmiEvent.SET_PENDING,
    (False, DeviceStatus.INSTALLED_NOT_COMMISSIONED): SmiEvent.SET_INSTALLED_NOT_COMMISSIONED,
    (True, DeviceStatus.INSTALLED_NOT_COMMISSIONED): SmiEvent.CH_SET_INSTALLED_NOT_COMMISSIONED,
    (True, DeviceStatus.COMMISSIONED): SmiEvent.CH_SET_COMMISSIONED,
    (True, DeviceStatus.WITHDRAWN): SmiEvent.CH_SET_WITHDRAWN,
}


def is_smets2_esme(record: DeviceRecord) -> bool:
    """An ESME whose SMETS/CHTS version does not say SMETS1 (enrolled SMETS1 meters are ESMEs)."""
    if record.device_type is not DeviceType.ESME:
        return False
    version = (record.smets_chts_version or "").replace(" ", "").upper()
    return not version.startswith("SMETS1")


@dataclass(frozen=True, slots=True)
class _Ctx:
    tx: Transaction
    inv: Inventory
    user: User
    now: str
    today: str  # YYYYMMDD, the effective date of flag changes


class ShipmentError(Exception):
    """One item of a bulk pre-notification broke a rule; nothing of the shipment went in."""

    def __init__(self, index: int, error: ServiceError) -> None:
        self.index = index
        self.error = error
        super().__init__(f"item {index}: {error}")


class NonDeviceService(Smi):
    """The rules of the non-device SRs, on the SMI's lifecycle (:class:`gateway.smi.Smi`), over
    a :class:`Storage` carrying ``gateway.inventory.MIGRATIONS``."""

    def __init__(
        self,
        storage: Storage,
        *,
        clock: Callable[[], datetime],
        flag_rules: FlagRules = "dsp",
    ) -> None:
        super().__init__(storage, clock=clock, flag_rules=flag_rules)
        storage.migrate(dcc_schedule.MIGRATIONS)  # the DCC schedules (SR5.1-5.3)
        self.users = Users(storage)
        self.meter_points = MeterPoints(storage)
        # routing by typed keys
        self._handlers: dict[type, Callable[[_Ctx, NonDeviceRequest], NonDeviceResult]] = {
            DevicePrenotification: self._prenotify,  # type: ignore[dict-item]
            UpdateDeviceStatus: self._update_status,  # type: ignore[dict-item]
            UpdateDeviceDetails: self._update_details,  # type: ignore[dict-item]
            DeleteDevice: self._delete,  # type: ignore[dict-item]
            UpdateMPxN: self._update_mpxn,  # type: ignore[dict-item]
            ReadInventory: self._read,  # type: ignore[dict-item]
            DecommissionDevice: self._decommission,  # type: ignore[dict-item]
            CommsHubStatusUpdate: self._hub_status,  # type: ignore[dict-item]
            CreateSchedule: self._create_schedule,  # type: ignore[dict-item]
            ReadSchedule: self._read_schedule,  # type: ignore[dict-item]
            DeleteSchedule: self._delete_schedule,  # type: ignore[dict-item]
        }

    # --- the front door ----------------------------------------------------------------------

    def handle(
        self,
        sender: bytes,
        request_id: RequestId,
        request: NonDeviceRequest,
        *,
        signed_with: str | None = None,
    ) -> NonDeviceResult:
        """Check the sender's role, the RequestID counter and every rule; apply in one transaction.

        ``sender`` is the DCC User whose XML signature was verified (or, with unsigned
        requests allowed, the RequestID's originator); ``signed_with``, when given, is the PEM
        certificate the signature was verified with, confirmed here - in the transaction that
        applies the request - to be still the sender's registered one (another gateway worker
        may have replaced it since). Raises ServiceError, changing nothing (the RequestID
        counter included).
        """
        with self.storage.transaction() as tx:
            return self.handle_in(tx, sender, request_id, request, signed_with)

    def handle_batch(
        self,
        items: Sequence[tuple[bytes, RequestId, NonDeviceRequest]],
        signed_with: Sequence[str | None] | None = None,
    ) -> list[NonDeviceResult | ServiceError]:
        """Group commit: every item in its own savepoint, ONE commit (one fsync) for all.

        Each item's outcome is exactly what :meth:`handle` would give in that order (with
        ``signed_with[i]`` for item i); nothing is durable (so nothing may be acknowledged)
        until this returns. An unexpected exception rolls the whole batch back and propagates.
        """
        certificates = signed_with if signed_with is not None else [None] * len(items)
        results: list[NonDeviceResult | ServiceError] = []
        with self.storage.transaction() as tx:
            for (sender, request_id, request), pem in zip(items, certificates, strict=True):
                try:
                    with self.storage.transaction():
                        results.append(self.handle_in(tx, sender, request_id, request, pem))
                except ServiceError as exc:
                    results.append(exc)
        return results

    def handle_in(
        self,
        tx: Transaction,
        sender: bytes,
        request_id: RequestId,
        request: NonDeviceRequest,
        signed_with: str | None = None,
    ) -> NonDeviceResult:
        """:meth:`handle` inside the caller's transaction ``tx`` (a job of the gateway's group
        commit, :mod:`gateway.group_commit`): raises ServiceError having written nothing that
        the caller's savepoint would not undo."""
        user, last = check_sender(tx, sender, request_id.originator)
        if signed_with is not None and user.certificate_pem != signed_with:
            raise ServiceError("duis_certificate_replaced", sender=sender)
        if request_id.target != NON_DEVICE_ACB:
            raise ServiceError("wrong_target", target=request_id.target)
        kind = type(request)
        if kind is ServiceOptOut:
            raise ServiceError("opt_out_refused")
        eligible = ELIGIBLE_ROLES[kind]
        if not user.roles & eligible:
            raise ServiceError(
                "role_not_eligible",
                sender=sender,
                roles=roles_text(user.roles),
                sr=SR_TITLES[kind],
                eligible=roles_text(eligible),
            )
        accept_counter(tx, sender, request_id.counter, last)
        return self._handlers[kind](self._ctx(tx, user), request)

    def accept_request_id(self, sender: bytes, request_id: RequestId) -> User:
        """For device SRs: the sender is a known user, the originator, and the counter is new.

        Advances the counter (in its own transaction, or the caller's if inside one).
        """
        with self.storage.transaction() as tx:
            user, last = check_sender(tx, sender, request_id.originator)
            accept_counter(tx, sender, request_id.counter, last)
            return user

    def _ctx(self, tx: Transaction, user: User) -> _Ctx:
        return _Ctx(tx, Inventory(tx), user, *self.stamps())

    # --- SR12.2 ------------------------------------------------------------------------------

    def _prenotify(self, ctx: _Ctx, req: DevicePrenotification) -> NonDeviceResult:
        device = req.device_id

        def invalid(field: str, reason: str) -> ServiceError:
            return ServiceError("prenotify_invalid", field=field, device=device, reason=reason)

        if not isinstance(device, bytes) or len(device) != 8:
            raise invalid("DeviceID", "an EUI-64 is 8 bytes")
        for field, value in (("DeviceManufacturer", req.manufacturer), ("DeviceModel", req.model)):
            if not isinstance(value, str) or not value.strip() or len(value) > 30:
                raise invalid(field, f"{value!r} must be 1 to 30 characters")
        try:
            device_type = DeviceType(req.device_type)
        except ValueError:
            raise invalid(
                "DeviceType", f"{req.device_type!r} is not one of {', '.join(DeviceType)}"
            ) from None
        _check_text(req.smets_chts_version, 20, lambda r: invalid("SMETSCHTSVersion", r))
        _check_text(req.firmware_version, 8, lambda r: invalid("FirmwareVersion", r))
        if req.esme_variant is not None:
            if device_type is not DeviceType.ESME:
                raise ServiceError(
                    "prenotify_esme_variant",
                    device=device,
                    reason=f"a {device_type} has no ESME Variant",
                )
            if req.esme_variant not in ESME_VARIANTS:
                raise ServiceError(
                    "prenotify_esme_variant",
                    device=device,
                    reason=f"{req.esme_variant!r} is not an ESME Variant of the DUIS schema",
                )
        gpf = req.associated_gpf_id
        if gpf is not None:
            if device_type is not DeviceType.CHF:
                raise ServiceError(
                    "prenotify_gpf",
                    device=device,
                    reason=f"only a CHF has one, not a {device_type}",
                )
            if not isinstance(gpf, bytes) or len(gpf) != 8 or gpf == device:
                raise ServiceError(
                    "prenotify_gpf", device=device, reason="it must be another EUI-64 (8 bytes)"
                )
            if ctx.inv.exists(gpf):
                raise ServiceError(
                    "prenotify_gpf",
                    device=device,
                    reason=f"GPF {_eui(gpf)} is already in the Smart Metering Inventory",
                )
        status = next_status(device, NOT_IN_SMI, SmiEvent.PRENOTIFY)
        assert isinstance(status, DeviceStatus)
        record = DeviceRecord(
            device_id=device,
            device_type=device_type,
            status=status,
            manufacturer=req.manufacturer,
            model=req.model,
            smets_chts_version=req.smets_chts_version,
            firmware_version=req.firmware_version,
            esme_variant=req.esme_variant,
            installing_supplier=ctx.user.eui,
            associated_gpf_id=gpf,
        )
        if not ctx.inv.insert(record, ctx.now):
            raise ServiceError("prenotify_duplicate", device=device)
        if gpf is not None:
            ctx.inv.insert(
                DeviceRecord(
                    device_id=gpf,
                    device_type=DeviceType.GPF,
                    status=status,
                    manufacturer=req.manufacturer,
                    model=req.model,
                    smets_chts_version=req.smets_chts_version,
                    firmware_version=req.firmware_version,
                    esme_variant=None,
                    installing_supplier=ctx.user.eui,
                ),
                ctx.now,
            )
        return NonDeviceResult()

    def prenotify_shipment(self, sender: bytes, items: Sequence[DevicePrenotification]) -> int:
        """Pre-notify a whole shipment (an ASN file) as ``sender``, all or nothing.

        The same rules as SR12.2 (role included), without a RequestID (an ASN is not a DUIS
        request). Raises ShipmentError naming the first bad item (0-based); nothing went in.
        Returns the number of devices added (a CHF's associated GPF counts too).
        """
        with self.storage.transaction() as tx:
            user = get_user(tx, sender)
            if user is None:
                raise ShipmentError(0, ServiceError("unknown_user", sender=sender))
            if not user.roles & ELIGIBLE_ROLES[DevicePrenotification]:
                raise ShipmentError(
                    0,
                    ServiceError(
                        "role_not_eligible",
                        sender=sender,
                        roles=roles_text(user.roles),
                        sr=SR_TITLES[DevicePrenotification],
                        eligible=roles_text(ELIGIBLE_ROLES[DevicePrenotification]),
                    ),
                )
            ctx = self._ctx(tx, user)
            added = 0
            for index, item in enumerate(items):
                try:
                    self._prenotify(ctx, item)
                except ServiceError as exc:
                    raise ShipmentError(index, exc) from exc
                added += 1 + (item.associated_gpf_id is not None)
            return added

    # --- SR8.2 -------------------------------------------------------------------------------

    def _read(self, ctx: _Ctx, req: ReadInventory) -> NonDeviceResult:
        given = [
            c for c in (req.device_id, req.mpxn, req.uprn, req.property_filter) if c is not None
        ]
        if len(given) != 1:
            raise ServiceError(
                "invalid_value",
                field="ReadInventory",
                value=f"{len(given)} criteria",
                reason="give exactly one of DeviceID, MPxN, UPRN and PropertyFilter",
            )
        inv = ctx.inv
        first: bytes | None = None
        found: list[DeviceRecord]
        if req.device_id is not None:
            criterion = f"DeviceID {_eui(req.device_id)}"
            record = inv.get(req.device_id)
            found = [] if record is None else [record]
            first = req.device_id
        elif req.mpxn is not None:
            criterion = f"MPxN {req.mpxn}"
            found = inv.linked_to(req.mpxn)
        elif req.uprn is not None:
            try:
                uprn = check_uprn(req.uprn)
            except AdminError as exc:
                raise ServiceError(
                    "invalid_value", field="UPRN", value=req.uprn, reason=str(exc)
                ) from None
            criterion = f"UPRN {uprn}"
            found = [d for m in inv.mpxns_at_uprn(uprn) for d in inv.linked_to(m)]
        else:
            pf = req.property_filter
            assert pf is not None
            criterion = f"PropertyFilter {pf.postcode} / {pf.address_identifier}"
            found = [d for m in inv.mpxns_at_address(pf) for d in inv.linked_to(m)]
        if not found:
            raise ServiceError("read_no_match", criterion=criterion)
        everything = list(found)
        hubs = {h for h in (inv.hub_of(r) for r in found) if h is not None}
        for hub in sorted(hubs):
            everything.extend(inv.on_hub(hub))
        records = ordered(everything, first)
        if len(records) > READ_INVENTORY_LIMIT:
            raise ServiceError(
                "read_too_many", count=len(records), criterion=criterion, limit=READ_INVENTORY_LIMIT
            )
        return NonDeviceResult(records=tuple(records))

    # --- SR8.3 -------------------------------------------------------------------------------

    def _decommission(self, ctx: _Ctx, req: DecommissionDevice) -> NonDeviceResult:
        record = ctx.inv.get(req.device_id)
        if record is None:
            raise ServiceError("decommission_unknown_device", device=req.device_id)
        if ctx.user.eui not in responsible_suppliers(ctx.tx, ctx.inv, record):
            raise ServiceError(
                "not_responsible_supplier", sender=ctx.user.eui, device=record.device_id
            )
        try:
            new = next_status(record.device_id, record.status, SmiEvent.DECOMMISSION)
        except IllegalTransitionError:
            raise ServiceError(
                "decommission_bad_status", device=record.device_id, status=record.status
            ) from None
        assert isinstance(new, DeviceStatus)
        self.set_status(
            ctx.tx, ctx.inv, record, new, FlagEvent.DECOMMISSIONED, now=ctx.now, today=ctx.today
        )
        return NonDeviceResult()

    # --- SR8.14 ------------------------------------------------------------------------------

    def _hub_status(self, ctx: _Ctx, req: CommsHubStatusUpdate) -> NonDeviceResult:
        chf = ctx.inv.get(req.device_id)
        if chf is None or chf.device_type is not DeviceType.CHF:
            raise ServiceError("hub_update_unknown", device=req.device_id)
        who = {chf.installing_supplier} | responsible_suppliers(ctx.tx, ctx.inv, chf)
        if ctx.user.eui not in who:
            raise ServiceError("hub_update_not_supplier", sender=ctx.user.eui, device=chf.device_id)
        event = _HUB_EVENTS[req.variant]
        hub = [chf]
        if chf.associated_gpf_id is not None:
            gpf = ctx.inv.get(chf.associated_gpf_id)
            if gpf is not None:
                hub.append(gpf)
        moves: list[tuple[DeviceRecord, DeviceStatus]] = []
        for record in hub:  # every check first: both move, or neither
            try:
                new = next_status(record.device_id, record.status, event)
            except IllegalTransitionError:
                raise ServiceError(
                    "hub_update_bad_status",
                    device=record.device_id,
                    status=record.status,
                    srv=req.variant,
                ) from None
            assert isinstance(new, DeviceStatus)
            moves.append((record, new))
        for record, new in moves:
            self.set_status(
                ctx.tx, ctx.inv, record, new, FlagEvent.STATUS_CHANGED, now=ctx.now, today=ctx.today
            )
        return NonDeviceResult()

    # --- SR8.4 -------------------------------------------------------------------------------

    def _existing(self, ctx: _Ctx, device_id: bytes) -> DeviceRecord:
        record = ctx.inv.get(device_id)
        if record is None:
            raise ServiceError("update_unknown_device", device=device_id)
        return record

    def _update_status(self, ctx: _Ctx, req: UpdateDeviceStatus) -> NonDeviceResult:
        record = self._existing(ctx, req.device_id)
        hub = record.device_type in COMMS_HUB
        if req.comms_hub != hub:
            form = "UpdateDeviceStatusCH" if req.comms_hub else "UpdateDeviceStatusExceptCH"
            reason = (
                f"{form} is for communications hub devices (CHF, GPF) only"
                if req.comms_hub
                else f"a {record.device_type} takes UpdateDeviceStatusCH, not {form}"
            )
            raise ServiceError(
                "update_status_refused",
                device=record.device_id,
                status=record.status,
                new_status=req.new_status,
                reason=reason,
            )
        allowed = UPDATE_STATUS_CH if hub else UPDATE_STATUS_EXCEPT_CH
        if req.new_status not in allowed:
            raise ServiceError(
                "invalid_value",
                field="UpdateDeviceStatusCH" if hub else "UpdateDeviceStatusExceptCH",
                value=req.new_status,
                reason=f"expected one of {', '.join(sorted(allowed))}",
            )
        who = {record.installing_supplier} | responsible_suppliers(ctx.tx, ctx.inv, record)
        if ctx.user.eui not in who:
            raise ServiceError(
                "update_status_not_supplier",
                installer=record.installing_supplier,
                device=record.device_id,
                sender=ctx.user.eui,
            )
        event = _STATUS_EVENTS[(hub, DeviceStatus(req.new_status))]
        try:
            new = next_status(record.device_id, record.status, event)
        except IllegalTransitionError:
            raise ServiceError(
                "update_status_refused",
                device=record.device_id,
                status=record.status,
                new_status=req.new_status,
                reason="the SMI lifecycle has no such step",
            ) from None
        assert isinstance(new, DeviceStatus)
        self.set_status(
            ctx.tx, ctx.inv, record, new, FlagEvent.STATUS_CHANGED, now=ctx.now, today=ctx.today
        )
        return NonDeviceResult()

    def _update_details(self, ctx: _Ctx, req: UpdateDeviceDetails) -> NonDeviceResult:
        record = self._existing(ctx, req.device_id)
        device = record.device_id
        changes = {
            name: value
            for name, value in (
                ("manufacturer", req.manufacturer),
                ("model", req.model),
                ("smets_chts_version", req.smets_chts_version),
                ("firmware_version", req.firmware_version),
                ("esme_variant", req.esme_variant),
            )
            if value is not None
        }
        if not changes:
            raise ServiceError(
                "invalid_value",
                field="UpdateDeviceDetails",
                value="(empty)",
                reason="it names no detail to change",
            )
        for name, limit in (
            ("manufacturer", 30),
            ("model", 30),
            ("smets_chts_version", 20),
            ("firmware_version", 8),
        ):
            value = changes.get(name)
            if value is not None and (
                not isinstance(value, str) or not value.strip() or len(value) > limit
            ):
                raise ServiceError(
                    "invalid_value",
                    field=_DETAIL_NAMES[name],
                    value=value,
                    reason=f"1 to {limit} characters",
                )
        variant = changes.get("esme_variant")
        if variant is not None and variant not in ESME_VARIANTS:
            raise ServiceError(
                "invalid_value",
                field="ESMEVariant",
                value=variant,
                reason="not an ESME Variant of the DUIS schema",
            )
        sender = ctx.user.eui
        if record.status is DeviceStatus.PENDING:
            if sender != record.installing_supplier:
                raise ServiceError(
                    "update_not_installing_supplier",
                    installer=record.installing_supplier,
                    device=device,
                    sender=sender,
                )
            if variant is not None and record.device_type is not DeviceType.ESME:
                raise ServiceError(
                    "variant_not_smets2_esme", device=device, kind=record.device_type
                )
            ctx.inv.update(device, ctx.now, **changes)
            return NonDeviceResult()
        current = {
            "manufacturer": record.manufacturer,
            "model": record.model,
            "smets_chts_version": record.smets_chts_version,
            "firmware_version": record.firmware_version,
            "esme_variant": record.esme_variant,
        }
        for name in ("manufacturer", "model"):
            if name in changes and changes[name] != current[name]:
                raise ServiceError(
                    "update_identity_locked",
                    field=_DETAIL_NAMES[name],
                    device=device,
                    status=record.status,
                )
        for name in ("smets_chts_version", "firmware_version"):
            if name in changes and changes[name] != current[name]:
                raise ServiceError(
                    "update_not_pending",
                    device=device,
                    status=record.status,
                    what=_DETAIL_NAMES[name],
                )
        if variant is not None and variant != record.esme_variant:
            if not is_smets2_esme(record):
                kind = (
                    "SMETS1 ESME" if record.device_type is DeviceType.ESME else record.device_type
                )
                raise ServiceError("variant_not_smets2_esme", device=device, kind=kind)
            if record.status not in VARIANT_STATUSES:
                raise ServiceError("variant_bad_status", device=device, status=record.status)
            if sender not in responsible_suppliers(ctx.tx, ctx.inv, record):
                raise ServiceError("variant_not_responsible_supplier", device=device, sender=sender)
            ctx.inv.update(device, ctx.now, esme_variant=variant)
        return NonDeviceResult()

    def _delete(self, ctx: _Ctx, req: DeleteDevice) -> NonDeviceResult:
        record = self._existing(ctx, req.device_id)
        try:
            next_status(record.device_id, record.status, SmiEvent.DELETE)
        except IllegalTransitionError:
            raise ServiceError(
                "update_not_pending",
                device=record.device_id,
                status=record.status,
                what="record (DeleteDevice)",
            ) from None
        if ctx.user.eui != record.installing_supplier:
            raise ServiceError(
                "update_not_installing_supplier",
                installer=record.installing_supplier,
                device=record.device_id,
                sender=ctx.user.eui,
            )
        ctx.inv.delete(record.device_id)
        if record.device_type is DeviceType.CHF:
            ctx.tx.execute(
                "UPDATE devices SET chf_id = NULL, updated_at = ? WHERE chf_id = ?",
                (ctx.now, record.device_id),
            )
            gpf = (
                None if record.associated_gpf_id is None else ctx.inv.get(record.associated_gpf_id)
            )
            if gpf is not None and gpf.status is DeviceStatus.PENDING:
                ctx.inv.delete(gpf.device_id)
        return NonDeviceResult()

    def _update_mpxn(self, ctx: _Ctx, req: UpdateMPxN) -> NonDeviceResult:
        record = self._existing(ctx, req.device_id)
        given = [
            (slot, value)
            for slot, value in (
                ("import_mpxn", req.import_mpxn),
                ("secondary_import_mpan", req.secondary_import_mpan),
                ("export_mpan", req.export_mpan),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise ServiceError(
                "invalid_value",
                field="UpdateMPxN",
                value=f"{len(given)} meter points",
                reason="give exactly one of ImportMPxN, SecondaryImportMPAN and ExportMPAN",
            )
        slot, mpxn = given[0]
        check_link(ctx.tx, record, slot, mpxn, "mpxn_unknown", "mpxn_mismatch")
        if record.status in (DeviceStatus.DECOMMISSIONED, DeviceStatus.WITHDRAWN):
            raise ServiceError(
                "mpxn_mismatch",
                mpxn=mpxn,
                device=record.device_id,
                reason=f"the device is {record.status}",
            )
        meter_point = get_meter_point(ctx.tx, mpxn)
        assert meter_point is not None
        sender = ctx.user.eui
        if meter_point.supplier != sender:
            raise ServiceError(
                "mpxn_not_responsible_supplier",
                sender=sender,
                mpxn=mpxn,
                supplier=meter_point.supplier,
            )
        old: str | None = getattr(record, slot)
        if old == mpxn:
            return NonDeviceResult()
        if old is not None:
            old_point = get_meter_point(ctx.tx, old)
            if old_point is not None and old_point.supplier != sender:
                raise ServiceError(
                    "mpxn_not_responsible_supplier",
                    sender=sender,
                    mpxn=old,
                    supplier=old_point.supplier,
                )
        ctx.inv.update(record.device_id, ctx.now, **{slot: mpxn})
        self.apply_flags(
            ctx.tx, [mpxn], FlagEvent.LINKED, record.status, now=ctx.now, today=ctx.today
        )
        if old is not None:
            self.apply_flags(
                ctx.tx, [old], FlagEvent.UNLINKED, record.status, now=ctx.now, today=ctx.today
            )
        return NonDeviceResult()

    # --- SR5.1-5.3 DCC schedules (the rules: gateway.services.schedules) ---------------------

    def _create_schedule(self, ctx: _Ctx, req: CreateSchedule) -> NonDeviceResult:
        return schedules.create(ctx.tx, ctx.inv, ctx.user, req, ctx.now)

    def _read_schedule(self, ctx: _Ctx, req: ReadSchedule) -> NonDeviceResult:
        return schedules.read(ctx.tx, ctx.user, req)

    def _delete_schedule(self, ctx: _Ctx, req: DeleteSchedule) -> NonDeviceResult:
        return schedules.delete(ctx.tx, ctx.user, req)


_DETAIL_NAMES: Final = {
    "manufacturer": "DeviceManufacturer",
    "model": "DeviceModel",
    "smets_chts_version": "SMETSCHTSVersion",
    "firmware_version": "FirmwareVersion",
    "esme_variant": "ESMEVariant",
}


def _eui(value: bytes) -> str:
    return "-".join(f"{b:02X}" for b in value)


def _check_text(value: str | None, limit: int, error: Callable[[str], ServiceError]) -> None:
    if value is not None and (
        not isinstance(value, str) or not value.strip() or len(value) > limit
    ):
        raise error(f"{value!r} must be 1 to {limit} characters")
