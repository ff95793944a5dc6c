"""The Smart Metering Inventory (SMI): device records, their MPxN links, the status lifecycle.

- :data:`SMI_TRANSITIONS` is the device status lifecycle as a table:
  ``(status, event) -> next status``, with the sentinel states :data:`NOT_IN_SMI` (before
  SR12.2) and :data:`DELETED` (after SR8.4 DeleteDevice). :func:`next_status` raises
  :class:`gateway.errors.IllegalTransitionError` for anything not in the table.
  ``smetsim``'s docs can print the table (:func:`lifecycle_markdown`).
- :data:`MIGRATIONS` creates every table the gateway's non-device half uses.
- :class:`Inventory` reads and writes SMI rows inside one :class:`gateway.storage.Transaction`;
  the rules live in :mod:`gateway.services`, not here. The device records it reads are kept
  in memory (the storage's memo) while ``gateway_meta.smi_version`` - moved by triggers on
  every change to ``devices`` or ``meter_points``, by any process sharing the database -
  stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Final

from gateway.errors import IllegalTransitionError
from gateway.model import DeviceRecord, DeviceStatus, PropertyFilter
from gateway.storage import Migration, Row, Transaction, version_triggers
from gbcs.devices import DeviceType


class Sentinel(StrEnum):
    """Pseudo-states outside the schema's ``DeviceStatus``: before and after the SMI record."""

    NOT_IN_SMI = "(not in SMI)"
    DELETED = "(deleted)"


NOT_IN_SMI: Final = Sentinel.NOT_IN_SMI
DELETED: Final = Sentinel.DELETED

State = DeviceStatus | Sentinel


class SmiEvent(StrEnum):
    """What happens to a device record, and which SR (or DCC process) drives it."""

    PRENOTIFY = "be pre-notified (SR12.2)"
    WHITELIST = "be added to a CHF device log (SR8.11)"
    SET_PENDING = "be set back to Pending (SR8.4)"
    SET_INSTALLED_NOT_COMMISSIONED = "be set InstalledNotCommissioned (SR8.4)"
    CH_SET_INSTALLED_NOT_COMMISSIONED = "be set InstalledNotCommissioned as a hub (SR8.4)"
    CH_SET_COMMISSIONED = "be set Commissioned as a hub (SR8.4)"
    CH_SET_WITHDRAWN = "be set Withdrawn as a hub (SR8.4)"
    COMMISSION = "be commissioned (SR8.1.1)"
    DECOMMISSION = "be decommissioned (SR8.3)"
    DELETE = "be deleted (SR8.4 DeleteDevice)"
    SUSPEND = "be suspended (firmware removed from the CPL)"
    RECOVERY = "enter SMKI recovery"
    RECOVERED = "complete SMKI recovery"


_P = DeviceStatus.PENDING
_W = DeviceStatus.WHITELISTED
_I = DeviceStatus.INSTALLED_NOT_COMMISSIONED
_C = DeviceStatus.COMMISSIONED
_D = DeviceStatus.DECOMMISSIONED
_X = DeviceStatus.WITHDRAWN
_S = DeviceStatus.SUSPENDED
_R = DeviceStatus.RECOVERY
_RD = DeviceStatus.RECOVERED

SMI_TRANSITIONS: Final[dict[tuple[State, SmiEvent], State]] = {
    (NOT_IN_SMI, SmiEvent.PRENOTIFY): _P,
    # SR8.11 Add: Pending -> Whitelisted; a device already installed stays as it is when it is
    # added to another hub's log (communications hub replacement).
    (_P, SmiEvent.WHITELIST): _W,
    (_W, SmiEvent.WHITELIST): _W,
    (_I, SmiEvent.WHITELIST): _I,
    (_C, SmiEvent.WHITELIST): _C,
    # SR8.4 UpdateDeviceStatusExceptCH
    (_W, SmiEvent.SET_PENDING): _P,
    (_I, SmiEvent.SET_PENDING): _P,
    (_P, SmiEvent.SET_INSTALLED_NOT_COMMISSIONED): _I,
    (_W, SmiEvent.SET_INSTALLED_NOT_COMMISSIONED): _I,
    # SR8.4 UpdateDeviceStatusCH (CHF and GPF)
    (_P, SmiEvent.CH_SET_INSTALLED_NOT_COMMISSIONED): _I,
    (_W, SmiEvent.CH_SET_INSTALLED_NOT_COMMISSIONED): _I,
    (_P, SmiEvent.CH_SET_COMMISSIONED): _C,
    (_W, SmiEvent.CH_SET_COMMISSIONED): _C,
    (_I, SmiEvent.CH_SET_COMMISSIONED): _C,
    (_P, SmiEvent.CH_SET_WITHDRAWN): _X,
    (_I, SmiEvent.CH_SET_WITHDRAWN): _X,
    (_D, SmiEvent.CH_SET_WITHDRAWN): _X,
    # SR8.1.1
    (_W, SmiEvent.COMMISSION): _C,
    (_I, SmiEvent.COMMISSION): _C,
    # SR8.3: anything installed (not Pending, not already gone)
    (_W, SmiEvent.DECOMMISSION): _D,
    (_I, SmiEvent.DECOMMISSION): _D,
    (_C, SmiEvent.DECOMMISSION): _D,
    (_S, SmiEvent.DECOMMISSION): _D,
    (_R, SmiEvent.DECOMMISSION): _D,
    (_RD, SmiEvent.DECOMMISSION): _D,
    # SR8.4 DeleteDevice: Pending only
    (_P, SmiEvent.DELETE): DELETED,
    # DCC processes, not SRs
    (_W, SmiEvent.SUSPEND): _S,
    (_I, SmiEvent.SUSPEND): _S,
    (_C, SmiEvent.SUSPEND): _S,
    (_C, SmiEvent.RECOVERY): _R,
    (_I, SmiEvent.RECOVERY): _R,
    (_R, SmiEvent.RECOVERED): _RD,
}


def next_status(device: bytes, status: State, event: SmiEvent) -> State:
    """The status after ``event``; :class:`IllegalTransitionError` if the table has no entry."""
    try:
        return SMI_TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransitionError(device, str(status), event.value) from None


def lifecycle_markdown() -> str:
    """The lifecycle table as a Markdown table (for ``docs/inventory.md``)."""
    lines = ["| from | event | to |", "|---|---|---|"]
    for (state, event), target in SMI_TRANSITIONS.items():
        lines.append(f"| {state} | {event.name.lower()}: {event.value} | {target} |")
    return "\n".join(lines)


SMART_METERS: Final = frozenset({DeviceType.ESME, DeviceType.GSME})
COMMS_HUB: Final = frozenset({DeviceType.CHF, DeviceType.GPF})

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "gateway",
        1,
        """
        CREATE TABLE users (
            eui BLOB PRIMARY KEY,
            roles TEXT NOT NULL,
            certificate_pem TEXT,
            response_url TEXT,
            issuer TEXT,
            serial TEXT
        ) WITHOUT ROWID;
        CREATE INDEX users_by_serial ON users (serial) WHERE serial IS NOT NULL;

        CREATE TABLE request_counters (
            originator BLOB PRIMARY KEY,
            counter BLOB NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE meter_points (
            mpxn TEXT PRIMARY KEY,
            fuel TEXT NOT NULL,
            supplier BLOB NOT NULL,
            network_operator BLOB,
            uprn TEXT,
            postcode TEXT,
            address_identifier TEXT,
            service_flag TEXT,
            flag_date TEXT
        ) WITHOUT ROWID;
        CREATE INDEX meter_points_by_uprn ON meter_points (uprn) WHERE uprn IS NOT NULL;
        CREATE INDEX meter_points_by_address ON meter_points (postcode, address_identifier)
            WHERE postcode IS NOT NULL;

        CREATE TABLE devices (
            device_id BLOB PRIMARY KEY,
            device_type TEXT NOT NULL,
            status TEXT NOT NULL,
            manufacturer TEXT NOT NULL,
            model TEXT NOT NULL,
            smets_chts_version TEXT,
            firmware_version TEXT,
            esme_variant TEXT,
            installing_supplier BLOB NOT NULL,
            import_mpxn TEXT,
            secondary_import_mpan TEXT,
            export_mpan TEXT,
            chf_id BLOB,
            associated_gpf_id BLOB,
            date_commissioned TEXT,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX devices_by_import ON devices (import_mpxn) WHERE import_mpxn IS NOT NULL;
        CREATE INDEX devices_by_secondary ON devices (secondary_import_mpan)
            WHERE secondary_import_mpan IS NOT NULL;
        CREATE INDEX devices_by_export ON devices (export_mpan) WHERE export_mpan IS NOT NULL;
        CREATE INDEX devices_by_chf ON devices (chf_id) WHERE chf_id IS NOT NULL;

        CREATE TABLE rdp_batches (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            file_name TEXT UNIQUE,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX rdp_batches_writing ON rdp_batches (id) WHERE state = 'writing';

        CREATE TABLE flag_changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            mpxn TEXT NOT NULL,
            fuel TEXT NOT NULL,
            flag TEXT NOT NULL,
            effective_date TEXT NOT NULL,
            created_at TEXT NOT NULL,
            batch_id INTEGER REFERENCES rdp_batches (id),
            outcome TEXT,
            outcome_at TEXT,
            outcome_file TEXT
        );
        CREATE INDEX flag_changes_queued ON flag_changes (fuel, id) WHERE batch_id IS NULL;
        CREATE INDEX flag_changes_by_batch ON flag_changes (batch_id) WHERE batch_id IS NOT NULL;
        CREATE INDEX flag_changes_awaiting ON flag_changes (mpxn, flag, effective_date)
            WHERE batch_id IS NOT NULL AND outcome IS NULL;

        CREATE TABLE rdp_inbox_files (
            file_name TEXT PRIMARY KEY,
            processed_at TEXT NOT NULL,
            accepted INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            unmatched INTEGER NOT NULL,
            errors TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        "gateway",
        2,
        """
        CREATE TABLE gateway_meta (
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO gateway_meta (key, value) VALUES ('users_version', 0);
        """
        + version_triggers("users_version_on", "users", "gateway_meta", "users_version"),
    ),
    Migration(
        "gateway",
        3,
        # Any change to a device record or a meter point (by any process sharing the
        # database) moves smi_version: what is kept of the SMI in memory is read again (the
        # suppliers' credentials move it too: gateway.smi.MIGRATIONS).
        """
        INSERT INTO gateway_meta (key, value) VALUES ('smi_version', 0);
        """
        + version_triggers("smi_version_on_device", "devices", "gateway_meta", "smi_version")
        + version_triggers(
            "smi_version_on_meter_point", "meter_points", "gateway_meta", "smi_version"
        ),
    ),
)
"""The gateway's own tables (component ``gateway``). Other helpers add their own component."""

READ_INVENTORY_LIMIT: Final = 17
"""The schema's ``DSPInventory`` carries at most 17 ``Device`` elements."""

_DEVICE_COLUMNS = (
    "d.device_id, d.device_type, d.status, d.manufacturer, d.model, d.smets_chts_version, "
    "d.firmware_version, d.esme_variant, d.installing_supplier, d.import_mpxn, "
    "d.secondary_import_mpan, d.export_mpan, d.chf_id, d.associated_gpf_id, "
    "d.date_commissioned, m.uprn, m.postcode, m.address_identifier"
)
_DEVICE_SELECT = (
    f"SELECT {_DEVICE_COLUMNS} FROM devices d LEFT JOIN meter_points m ON m.mpxn = d.import_mpxn"
)


_GET_DEVICE: Final = f"{_DEVICE_SELECT} WHERE d.device_id = ?"

KEPT_RECORDS: Final = 10_000
"""The device records :meth:`Inventory.get` keeps in memory at most (the first read), and
the devices whose responsible suppliers are kept."""


class KeptSmi:
    """What was read of the SMI while ``smi_version`` stood at ``version``: device records
    (:meth:`Inventory.get`) and, by device, the record they were worked out from and its
    responsible suppliers (:func:`gateway.smi.responsible_suppliers`). ``checked``: the
    transaction serial and count of rows changed when the version was last read back."""

    __slots__ = ("checked", "records", "suppliers", "version")

    def __init__(self, version: int, checked: tuple[int, int]) -> None:
        self.version = version
        self.checked = checked
        self.records: dict[bytes, DeviceRecord] = {}
        self.suppliers: dict[bytes, tuple[DeviceRecord, frozenset[bytes]]] = {}


def kept_smi(tx: Transaction) -> KeptSmi | None:
    """What is kept of the SMI and still current in ``tx`` (None: the database has no
    ``smi_version``). Why the version need not be read again while nothing was written in the
    same transaction: a transaction holds the write lock from its start (``BEGIN
    IMMEDIATE``), so only its own writes can change what it reads."""
    kept: KeptSmi | None = tx.memo.get("smi")
    checked = (tx.serial, tx.total_changes)
    if kept is not None and kept.checked == checked:
        return kept
    row = tx.one("SELECT value FROM gateway_meta WHERE key = 'smi_version'")
    if row is None:
        return None
    version = int(row[0])
    if kept is None or kept.version != version:
        kept = tx.memo["smi"] = KeptSmi(version, checked)
    kept.checked = checked
    return kept


_DEVICE_TYPES: Final = {t.value: t for t in DeviceType}
_DEVICE_STATUSES: Final = {s.value: s for s in DeviceStatus}


def _record(row: Row) -> DeviceRecord:
    """The record of a row of :data:`_DEVICE_SELECT` (read by position: a ``Row`` looks each
    name up among its columns; the enums by a dict, falling back on the enum's own lookup
    and its error for an unknown value)."""
    (
        device_id,
        device_type,
        status,
        manufacturer,
        model,
        smets_chts_version,
        firmware_version,
        esme_variant,
        installing_supplier,
        import_mpxn,
        secondary_import_mpan,
        export_mpan,
        chf_id,
        associated_gpf_id,
        commissioned,
        uprn,
        postcode,
        address_identifier,
    ) = row
    return DeviceRecord(
        device_id=bytes(device_id),
        device_type=_DEVICE_TYPES.get(device_type) or DeviceType(device_type),
        status=_DEVICE_STATUSES.get(status) or DeviceStatus(status),
        manufacturer=manufacturer,
        model=model,
        smets_chts_version=smets_chts_version,
        firmware_version=firmware_version,
        esme_variant=esme_variant,
        installing_supplier=bytes(installing_supplier),
        import_mpxn=import_mpxn,
        secondary_import_mpan=secondary_import_mpan,
        export_mpan=export_mpan,
        chf_id=None if chf_id is None else bytes(chf_id),
        associated_gpf_id=None if associated_gpf_id is None else bytes(associated_gpf_id),
        date_commissioned=None if commissioned is None else date.fromisoformat(commissioned),
        uprn=uprn,
        property_filter=(
            None if postcode is None else PropertyFilter(postcode, address_identifier or "")
        ),
    )


_TYPE_ORDER = {t: i for i, t in enumerate(DeviceType)}

LINK_COLUMNS: Final = ("import_mpxn", "secondary_import_mpan", "export_mpan")


class Inventory:
    """SMI rows inside one transaction. No rules here: see :mod:`gateway.services`."""

    __slots__ = ("tx",)

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def get(self, device_id: bytes) -> DeviceRecord | None:
        kept = kept_smi(self.tx)
        record = None if kept is None else kept.records.get(device_id)
        if record is None:
            row = self.tx.one(_GET_DEVICE, (device_id,))
            if row is None:
                return None
            record = _record(row)
            if kept is not None and len(kept.records) < KEPT_RECORDS:
                kept.records[device_id] = record
        return record

    def exists(self, device_id: bytes) -> bool:
        return self.tx.one("SELECT 1 FROM devices WHERE device_id = ?", (device_id,)) is not None

    def insert(self, record: DeviceRecord, now: str) -> bool:
        """Add the record; False (nothing written) if its EUI is already in the SMI."""
        return bool(
            self.tx.execute(
                "INSERT OR IGNORE INTO devices (device_id, device_type, status, manufacturer, "
                "model, smets_chts_version, firmware_version, esme_variant, installing_supplier, "
                "import_mpxn, secondary_import_mpan, export_mpan, chf_id, associated_gpf_id, "
                "date_commissioned, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.device_id,
                    record.device_type.value,
                    record.status.value,
                    record.manufacturer,
                    record.model,
                    record.smets_chts_version,
                    record.firmware_version,
                    record.esme_variant,
                    record.installing_supplier,
                    record.import_mpxn,
                    record.secondary_import_mpan,
                    record.export_mpan,
                    record.chf_id,
                    record.associated_gpf_id,
                    None
                    if record.date_commissioned is None
                    else record.date_commissioned.isoformat(),
                    now,
                ),
            )
        )

    def update(self, device_id: bytes, now: str, **columns: object) -> None:
        """Set the named columns (names are this module's, never user input)."""
        names = sorted(columns)
        assignments = ", ".join(f"{name} = ?" for name in names)
        values = [_column_value(columns[name]) for name in names]
        self.tx.execute(
            f"UPDATE devices SET {assignments}, updated_at = ? WHERE device_id = ?",
            (*values, now, device_id),
        )

    def delete(self, device_id: bytes) -> None:
        self.tx.execute("DELETE FROM devices WHERE device_id = ?", (device_id,))

    def linked_to(self, mpxn: str) -> list[DeviceRecord]:
        """Devices linked to ``mpxn`` in any of the three MPxN slots (three index look-ups)."""
        rows = self.tx.all(
            f"{_DEVICE_SELECT} WHERE d.import_mpxn = ?1 "
            f"UNION {_DEVICE_SELECT} WHERE d.secondary_import_mpan = ?1 "
            f"UNION {_DEVICE_SELECT} WHERE d.export_mpan = ?1",
            (mpxn,),
        )
        return [_record(r) for r in rows]

    def on_hub(self, chf_id: bytes) -> list[DeviceRecord]:
        """The CHF itself, its GPF and every device in its device log (one statement)."""
        rows = self.tx.all(
            f"{_DEVICE_SELECT} WHERE d.chf_id = ?1 "
            f"UNION {_DEVICE_SELECT} WHERE d.device_id = ?1 "
            f"UNION {_DEVICE_SELECT} WHERE d.device_id = "
            "(SELECT associated_gpf_id FROM devices WHERE device_id = ?1)",
            (chf_id,),
        )
        return [_record(r) for r in rows]

    def hub_of(self, record: DeviceRecord) -> bytes | None:
        """The CHF a device belongs to: itself for a CHF, its CHF for a GPF, else its log's."""
        if record.device_type is DeviceType.CHF:
            return record.device_id
        if record.device_type is DeviceType.GPF:
            row = self.tx.one(
                "SELECT device_id FROM devices WHERE associated_gpf_id = ?", (record.device_id,)
            )
            return None if row is None else bytes(row["device_id"])
        return record.chf_id

    def mpxns_at_uprn(self, uprn: str) -> list[str]:
        return [
            r["mpxn"] for r in self.tx.all("SELECT mpxn FROM meter_points WHERE uprn = ?", (uprn,))
        ]

    def mpxns_at_address(self, pf: PropertyFilter) -> list[str]:
        rows = self.tx.all(
            "SELECT mpxn FROM meter_points WHERE postcode = ? AND address_identifier = ?",
            (pf.postcode, pf.address_identifier),
        )
        return [r["mpxn"] for r in rows]


def _column_value(value: object) -> object:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def ordered(records: Iterable[DeviceRecord], first: bytes | None = None) -> list[DeviceRecord]:
    """Deduplicated, the queried device first, then by device type and EUI (stable output)."""
    unique: dict[bytes, DeviceRecord] = {}
    for r in records:
        unique.setdefault(r.device_id, r)
    return sorted(
        unique.values(),
        key=lambda r: (r.device_id != first, _TYPE_ORDER[r.device_type], r.device_id),
    )
