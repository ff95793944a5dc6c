"""The device records and responsible suppliers the SMI keeps in memory (``Inventory.get``,
``responsible_suppliers``) are never served stale: a change to a device, its meter point or
the credentials it holds - by this process, in the same transaction, by another connection
to the database (another gateway worker), or undone by a rollback - is read back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.inventory import MIGRATIONS, Inventory
from gateway.model import DeviceRecord, DeviceStatus
from gateway.smi import Smi, responsible_suppliers
from gateway.storage import Storage
from gateway.users import MeterPoints, User, UserRole, Users
from gbcs.devices import DeviceType, Fuel

S1 = bytes.fromhex("90b3d51f30010000")
S2 = bytes.fromhex("90b3d51f30020000")
ESME = bytes.fromhex("00db123456789001")
GSME = bytes.fromhex("00db123456789002")
MPAN = "1312345678111"
NOW = "2026-01-01T00:00:00+00:00"


def _record(device: bytes, device_type: DeviceType, mpxn: str | None = None) -> DeviceRecord:
    return DeviceRecord(
        device_id=device,
        device_type=device_type,
        status=DeviceStatus.PENDING,
        manufacturer="ACME",
        model="M1",
        smets_chts_version="V4.2",
        firmware_version="01020304",
        esme_variant=None,
        installing_supplier=S1,
        import_mpxn=mpxn,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    database = tmp_path / "gateway.db"
    with Storage.open(database, migrations=MIGRATIONS) as storage:
        for supplier in (S1, S2):
            Users(storage).add_or_update(User(supplier, frozenset({UserRole.IS}), None, None))
        MeterPoints(storage).register_meter_point(MPAN, Fuel.ELECTRICITY, S1, uprn="100")
        with storage.transaction() as tx:
            Inventory(tx).insert(_record(ESME, DeviceType.ESME, MPAN), NOW)
            Inventory(tx).insert(_record(GSME, DeviceType.GSME), NOW)
    return database


def _status(storage: Storage, device: bytes = ESME) -> DeviceStatus:
    with storage.transaction() as tx:
        record = Inventory(tx).get(device)
    assert record is not None
    return record.status


def _set_status(storage: Storage, status: DeviceStatus, device: bytes = ESME) -> None:
    with storage.transaction() as tx:
        Inventory(tx).update(device, NOW, status=status)


def test_a_change_by_this_process_is_read_back(path: Path) -> None:
    with Storage.open(path, migrations=MIGRATIONS) as storage:
        assert _status(storage) is DeviceStatus.PENDING  # kept now
        _set_status(storage, DeviceStatus.WHITELISTED)
        assert _status(storage) is DeviceStatus.WHITELISTED
        with storage.transaction() as tx:  # and within one transaction
            inventory = Inventory(tx)
            assert inventory.get(ESME) is not None
            inventory.update(ESME, NOW, status=DeviceStatus.COMMISSIONED)
            record = inventory.get(ESME)
            assert record is not None
            assert record.status is DeviceStatus.COMMISSIONED


def test_a_change_by_another_worker_is_read_back(path: Path) -> None:
    with (
        Storage.open(path, migrations=MIGRATIONS) as mine,
        Storage.open(path, migrations=MIGRATIONS) as other,
    ):
        assert _status(mine) is DeviceStatus.PENDING
        _set_status(other, DeviceStatus.WHITELISTED)
        assert _status(mine) is DeviceStatus.WHITELISTED
        # the meter point's fields are part of the record too
        MeterPoints(other).register_meter_point(MPAN, Fuel.ELECTRICITY, S1, uprn="200")
        with mine.transaction() as tx:
            record = Inventory(tx).get(ESME)
        assert record is not None
        assert record.uprn == "200"


def test_a_change_rolled_back_is_not_kept(path: Path) -> None:
    """A savepoint's change read, then rolled back, then another change bringing the version
    number back where the rolled-back change had taken it: the record read is the one that
    stands."""
    with Storage.open(path, migrations=MIGRATIONS) as storage:
        assert _status(storage) is DeviceStatus.PENDING

        def refused_change(inventory: Inventory) -> None:
            with storage.transaction():
                inventory.update(ESME, NOW, status=DeviceStatus.WHITELISTED)
                changed = inventory.get(ESME)
                assert changed is not None
                assert changed.status is DeviceStatus.WHITELISTED
                raise RuntimeError("refused")

        with storage.transaction() as tx:
            inventory = Inventory(tx)
            with pytest.raises(RuntimeError):
                refused_change(inventory)
            inventory.update(GSME, NOW, status=DeviceStatus.WHITELISTED)
            record = inventory.get(ESME)
            assert record is not None
            assert record.status is DeviceStatus.PENDING
        assert _status(storage) is DeviceStatus.PENDING
        assert _status(storage, GSME) is DeviceStatus.WHITELISTED


def test_a_device_deleted_is_gone(path: Path) -> None:
    with Storage.open(path, migrations=MIGRATIONS) as storage:
        assert _status(storage) is DeviceStatus.PENDING
        with storage.transaction() as tx:
            Inventory(tx).delete(ESME)
        with storage.transaction() as tx:
            assert Inventory(tx).get(ESME) is None


def _suppliers(storage: Storage) -> frozenset[bytes]:
    with storage.transaction() as tx:
        inventory = Inventory(tx)
        record = inventory.get(ESME)
        assert record is not None
        return responsible_suppliers(tx, inventory, record)


def test_a_change_of_responsible_supplier_by_another_worker_is_read_back(path: Path) -> None:
    with (
        Storage.open(path, migrations=MIGRATIONS) as mine,
        Storage.open(path, migrations=MIGRATIONS) as other,
    ):
        smi = Smi(other, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
        assert _suppliers(mine) == {S1}  # kept now
        assert _suppliers(mine) == {S1}
        MeterPoints(other).register_meter_point(MPAN, Fuel.ELECTRICITY, S2, uprn="100")
        assert _suppliers(mine) == {S2}
        smi.on_supplier_credentials(ESME, S1)  # the meter now holds S1's certificates
        assert _suppliers(mine) == {S1}
