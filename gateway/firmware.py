"""Firmware distribution (SR 11.1 Update Firmware, 11.4 Update PPMID Firmware): the DCC's side.

A supplier sends a firmware image for a list of devices. The DCC checks the image against the
Central Products List (CPL): the SHA-256 of the image must be the hash the CPL holds for that
firmware version of the devices' model (the same hash SR 11.3 later names to activate it), and
the image must be for a model the SMI knows. Each device is then checked on its own (in the SMI,
of a type the SR is for, the sender its Responsible Supplier, installed, of a model the image is
for, no other distribution under way to it); the ones that fail are listed back in a
``DSPUpdateFirmwareWarning``, the others get the image: the DCC hands it to each device's
communications hub, which sends it over the HAN (:class:`ImageCarrier`). The device checks it
and answers with its firmware distribution receipt alert (0x8F72 verified, 0x8F1C failed), which
reaches the supplier as any device alert does.

Everything is stored in the gateway's database (component ``firmware``, :data:`MIGRATIONS`):
the CPL, each accepted update with its image, and each device's delivery, so a restart keeps
what was accepted and a delivery not handed over yet is handed over by :func:`pending`'s caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Protocol

from gateway.errors import ServiceError
from gateway.inventory import Inventory
from gateway.model import DeviceRecord, DeviceStatus
from gateway.smi import responsible_suppliers
from gateway.storage import Migration, Transaction
from gateway.users import User
from gbcs.content.firmware import image_hash
from gbcs.devices import DeviceType

__all__ = [
    "MIGRATIONS",
    "TARGETS",
    "Delivery",
    "ImageCarrier",
    "ProductEntry",
    "UpdateFirmware",
    "UpdateOutcome",
    "accept_update",
    "add_product",
    "image_hash",
    "mark",
    "pending",
    "products",
]

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "firmware",
        1,
        """
        CREATE TABLE cpl_entries (
            manufacturer TEXT NOT NULL,
            model TEXT NOT NULL,
            version TEXT NOT NULL,
            image_hash BLOB NOT NULL,
            PRIMARY KEY (manufacturer, model, version)
        ) WITHOUT ROWID;
        CREATE TABLE firmware_updates (
            request_id TEXT PRIMARY KEY,
            sender BLOB NOT NULL,
            variant TEXT NOT NULL,
            version TEXT NOT NULL,
            image_hash BLOB NOT NULL,
            image BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE firmware_deliveries (
            request_id TEXT NOT NULL,
            device BLOB NOT NULL,
            hub BLOB NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            reason TEXT,
            PRIMARY KEY (request_id, device)
        );
        CREATE INDEX firmware_deliveries_device ON firmware_deliveries (device, state);
        """,
    ),
)

TARGETS: Final[dict[str, frozenset[DeviceType]]] = {
    "11.1": frozenset({DeviceType.ESME, DeviceType.GSME}),
    "11.4": frozenset({DeviceType.PPMID}),
}
"""The device types each SR distributes to (a hub's own firmware is the DCC's business)."""

_INSTALLED: Final = frozenset({DeviceStatus.INSTALLED_NOT_COMMISSIONED, DeviceStatus.COMMISSIONED})
"""A device takes an image once installed (Whitelisted devices are not on a HAN yet)."""

_IN_PROGRESS: Final = ("pending",)
"""Delivery states of a distribution still under way (handed over: the device answers)."""


@dataclass(frozen=True, slots=True)
class UpdateFirmware:
    """SR 11.1 ``UpdateFirmware`` / 11.4 ``UpdatePPMIDFirmware``."""

    variant: str
    image: bytes
    version: str
    devices: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ProductEntry:
    """One row of the Central Products List: a model's firmware version and its image hash."""

    manufacturer: str
    model: str
    version: str
    image_hash: bytes


@dataclass(frozen=True, slots=True)
class Delivery:
    """One device's copy of an accepted update, to hand to its hub."""

    request_id: str
    device: bytes
    hub: bytes
    image: bytes
    sender: bytes
    version: str


@dataclass(slots=True)
class UpdateOutcome:
    """What an accepted update does: the devices it goes to and those it leaves out, by the
    ``DSPUpdateFirmwareWarning`` list each belongs in."""

    deliveries: list[Delivery] = field(default_factory=list)
    warnings: dict[str, list[bytes]] = field(default_factory=dict)


class ImageCarrier(Protocol):
    """How the DCC's image reaches a device: its communications hub sends it over the HAN.

    The sandbox carries it to the emulated fleet; :class:`gbcs.wan.HubUnreachableError` when
    the hub's link is down."""

    async def send_image(self, hub: bytes, device: bytes, image: bytes) -> None: ...


# --- the Central Products List ----------------------------------------------------------------


def add_product(tx: Transaction, entry: ProductEntry) -> None:
    """Put a model's firmware version on the CPL (replacing the hash it had)."""
    if len(entry.image_hash) != 32:
        raise ValueError("a CPL image hash is a SHA-256 (32 bytes)")
    tx.execute(
        "INSERT OR REPLACE INTO cpl_entries (manufacturer, model, version, image_hash) "
        "VALUES (?, ?, ?, ?)",
        (entry.manufacturer.upper(), entry.model.upper(), entry.version.upper(), entry.image_hash),
    )


def products(tx: Transaction, version: str | None = None) -> list[ProductEntry]:
    """The CPL's entries (of one firmware version when given)."""
    sql = "SELECT manufacturer, model, version, image_hash FROM cpl_entries"
    rows = (
        tx.all(f"{sql} ORDER BY 1, 2, 3")
        if version is None
        else tx.all(f"{sql} WHERE version = ? ORDER BY 1, 2", (version.upper(),))
    )
    return [
        ProductEntry(str(r["manufacturer"]), str(r["model"]), str(r["version"]), bytes(r[3]))
        for r in rows
    ]


# --- SR 11.1 / 11.4 ---------------------------------------------------------------------------


def _model(record: DeviceRecord) -> tuple[str, str]:
    return record.manufacturer.upper(), record.model.upper()


def _models_in_smi(tx: Transaction, models: Iterable[tuple[str, str]]) -> bool:
    return any(
        tx.one("SELECT 1 FROM devices WHERE upper(manufacturer) = ? AND upper(model) = ?", model)
        is not None
        for model in models
    )


def accept_update(
    tx: Transaction,
    inv: Inventory,
    user: User,
    request_id: str,
    req: UpdateFirmware,
    now: str,
) -> UpdateOutcome:
    """Check ``req`` and store it with the deliveries it makes (ServiceError, nothing written,
    when the whole request is refused)."""
    ppmid = req.variant == "11.4"
    digest = image_hash(req.image)
    entries = products(tx, req.version)
    for_image = {(e.manufacturer, e.model) for e in entries if e.image_hash == digest}
    if not for_image:
        if entries:
            models = ", ".join(sorted({f"{e.manufacturer}/{e.model}" for e in entries}))
            raise ServiceError(
                "firmware_ppmid_hash_mismatch" if ppmid else "firmware_hash_mismatch",
                hash=digest.hex().upper(),
                version=req.version,
                models=models,
            )
        raise ServiceError(
            "firmware_ppmid_not_on_cpl" if ppmid else "firmware_not_on_cpl", version=req.version
        )
    if not _models_in_smi(tx, for_image):
        models = ", ".join(f"{m}/{model}" for m, model in sorted(for_image))
        raise ServiceError(
            "firmware_ppmid_unknown_model" if ppmid else "firmware_unknown_model",
            version=req.version,
            models=models,
        )
    outcome = UpdateOutcome()
    reasons: list[str] = []

    def leave_out(kind: str, device: bytes, why: str) -> None:
        outcome.warnings.setdefault(kind, []).append(device)
        reasons.append(f"{device.hex('-').upper()} {why}")

    targets = TARGETS[req.variant]
    seen: set[bytes] = set()
    for device in req.devices:
        if device in seen:
            continue
        seen.add(device)
        record = inv.get(device)
        hub = None if record is None else inv.hub_of(record)
        if record is None:
            leave_out("InvalidDeviceIDList", device, "is not in the SMI")
        elif record.device_type not in targets:
            leave_out("InvalidDeviceIDList", device, f"is a {record.device_type}")
        elif user.eui not in responsible_suppliers(tx, inv, record):
            leave_out("InvalidDeviceIDList", device, "is not supplied by the sender")
        elif record.status not in _INSTALLED:
            leave_out("NotCommissionedDeviceIDList", device, f"is {record.status}")
        elif _model(record) not in for_image:
            leave_out(
                "NotApplicableFirmwareDeviceIDList",
                device,
                f"is a {record.manufacturer}/{record.model}",
            )
        elif hub is None:
            leave_out("InvalidDeviceIDList", device, "is in no hub's device log")
        elif _in_progress(tx, device):
            leave_out("OtherRequestInProgressList", device, "has a distribution under way")
        else:
            outcome.deliveries.append(
                Delivery(request_id, device, hub, req.image, user.eui, req.version.upper())
            )
    if not outcome.deliveries:
        raise ServiceError(
            "firmware_ppmid_no_device" if ppmid else "firmware_no_device",
            reasons="; ".join(reasons) or "the list is empty",
        )
    tx.execute(
        "INSERT INTO firmware_updates (request_id, sender, variant, version, image_hash, image, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (request_id, user.eui, req.variant, req.version.upper(), digest, req.image, now),
    )
    tx.executemany(
        "INSERT INTO firmware_deliveries (request_id, device, hub, state, updated_at) "
        "VALUES (?, ?, ?, 'pending', ?)",
        [(d.request_id, d.device, d.hub, now) for d in outcome.deliveries],
    )
    return outcome


def _in_progress(tx: Transaction, device: bytes) -> bool:
    marks = ", ".join("?" for _ in _IN_PROGRESS)
    return (
        tx.one(
            f"SELECT 1 FROM firmware_deliveries WHERE device = ? AND state IN ({marks})",
            (device, *_IN_PROGRESS),
        )
        is not None
    )


def pending(tx: Transaction) -> list[Delivery]:
    """The deliveries not handed to their hub yet (after a restart, or a hub that was down)."""
    rows = tx.all(
        "SELECT d.request_id, d.device, d.hub, u.image, u.sender, u.version "
        "FROM firmware_deliveries d "
        "JOIN firmware_updates u ON u.request_id = d.request_id "
        "WHERE d.state = 'pending' ORDER BY d.request_id, d.device"
    )
    return [
        Delivery(
            str(r["request_id"]),
            bytes(r["device"]),
            bytes(r["hub"]),
            bytes(r["image"]),
            bytes(r["sender"]),
            str(r["version"]),
        )
        for r in rows
    ]


def mark(
    tx: Transaction, delivery: Delivery, state: str, now: str, reason: str | None = None
) -> None:
    """Record what became of a delivery: ``sent`` (the hub has it) or ``failed`` (why)."""
    tx.execute(
        "UPDATE firmware_deliveries SET state = ?, updated_at = ?, reason = ? "
        "WHERE request_id = ? AND device = ?",
        (state, now, reason, delivery.request_id, delivery.device),
    )
