"""A device record read back from the SMI is the one written (read by column position), and
the supplier of a meter point read alone is the one of the whole meter point."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from gateway.inventory import MIGRATIONS, Inventory
from gateway.model import DeviceRecord, DeviceStatus, PropertyFilter
from gateway.storage import Storage
from gateway.users import (
    MeterPoints,
    User,
    UserRole,
    Users,
    get_meter_point,
    meter_point_supplier,
)
from gbcs.devices import DeviceType, Fuel

S1 = bytes.fromhex("90b3d51f30010000")
NOP = bytes.fromhex("90b3d51f30030000")
CHF = bytes.fromhex("00db123456789000")
GPF = bytes.fromhex("00db123456789003")
ESME = bytes.fromhex("00db123456789001")
MPAN = "1312345678111"
MPAN_2 = "1312345678222"


@pytest.fixture
def storage() -> Iterator[Storage]:
    store = Storage.open(":memory:", migrations=MIGRATIONS)
    users = Users(store)
    users.add_or_update(User(S1, frozenset({UserRole.IS}), None, None))
    users.add_or_update(User(NOP, frozenset({UserRole.ED}), None, None))
    yield store
    store.close()


def test_a_record_reads_back_as_written(storage: Storage) -> None:
    MeterPoints(storage).register_meter_point(
        MPAN, Fuel.ELECTRICITY, S1, NOP, uprn="10023456789",
        property_filter=PropertyFilter("AB1 2CD", "Flat 1"),
    )  # fmt: skip
    full = DeviceRecord(
        device_id=ESME,
        device_type=DeviceType.ESME,
        status=DeviceStatus.COMMISSIONED,
        manufacturer="ACME",
        model="M1",
        smets_chts_version="V4.2",
        firmware_version="01020304",
        esme_variant="A",
        installing_supplier=S1,
        import_mpxn=MPAN,
        secondary_import_mpan=MPAN_2,
        export_mpan="1312345678333",
        chf_id=CHF,
        associated_gpf_id=GPF,
        date_commissioned=date(2026, 3, 1),
        uprn="10023456789",
        property_filter=PropertyFilter("AB1 2CD", "Flat 1"),
    )
    bare = DeviceRecord(
        device_id=CHF,
        device_type=DeviceType.CHF,
        status=DeviceStatus.PENDING,
        manufacturer="ACME",
        model="H1",
        smets_chts_version=None,
        firmware_version=None,
        esme_variant=None,
        installing_supplier=S1,
    )
    with storage.transaction() as tx:
        inv = Inventory(tx)
        for record in (full, bare):
            assert inv.insert(record, "2026-03-01T09:30:00Z")
            assert inv.get(record.device_id) == record
        assert inv.on_hub(CHF) == [bare, full] or inv.on_hub(CHF) == [full, bare]


def test_an_unknown_status_in_the_database_is_still_refused(storage: Storage) -> None:
    with storage.transaction() as tx:
        tx.execute("PRAGMA ignore_check_constraints = ON")
        tx.execute(
            "INSERT INTO devices (device_id, device_type, status, manufacturer, model, "
            "installing_supplier, updated_at) VALUES (?, 'ESME', 'Lost', 'A', 'B', ?, 'now')",
            (ESME, S1),
        )
        with pytest.raises(ValueError, match="Lost"):
            Inventory(tx).get(ESME)


def test_the_supplier_read_alone_is_the_meter_points(storage: Storage) -> None:
    MeterPoints(storage).register_meter_point(MPAN, Fuel.ELECTRICITY, S1, NOP)
    with storage.transaction() as tx:
        point = get_meter_point(tx, MPAN)
        assert point is not None
        assert meter_point_supplier(tx, MPAN) == point.supplier == S1
        assert meter_point_supplier(tx, MPAN_2) is None
        assert get_meter_point(tx, MPAN_2) is None
