"""SR8.2 Read Inventory (DeviceID, MPxN, UPRN, PropertyFilter) and SR8.3 Decommission Device."""

from __future__ import annotations

import pytest

from gateway.errors import ServiceError
from gateway.model import DecommissionDevice, DeviceStatus, PropertyFilter, ReadInventory
from gateway.services import NonDeviceService
from gbcs.devices import DeviceType
from tests.gateway.smi import (
    ADDRESS,
    CHF,
    ELEC,
    ESME,
    GAS,
    GPF,
    GSME,
    IHD,
    OTHER,
    S1,
    S2,
    UPRN,
    Ids,
    commissioned_esme,
    eui,
    install_hub,
    prenotify,
    snapshot,
)


@pytest.fixture
def premises(service: NonDeviceService, ids: Ids) -> NonDeviceService:
    """One home: hub, ESME on ELEC, GSME on GAS, an IHD, all on the same CHF."""
    commissioned_esme(service, ids)
    prenotify(service, ids, GSME, DeviceType.GSME)
    service.on_whitelisted(GSME, CHF, import_mpxn=GAS)
    prenotify(service, ids, IHD, DeviceType.IHD)
    service.on_whitelisted(IHD, CHF)
    return service


def _read(
    service: NonDeviceService, ids: Ids, request: ReadInventory, sender: bytes = OTHER
) -> list[bytes]:
    return [r.device_id for r in service.handle(sender, ids(sender), request).records]


def test_read_by_device_id_gives_the_device_first_then_its_hub(
    premises: NonDeviceService, ids: Ids
) -> None:
    assert _read(premises, ids, ReadInventory(device_id=GSME)) == [GSME, ESME, GPF, CHF, IHD]


def test_read_by_mpxn(premises: NonDeviceService, ids: Ids) -> None:
    assert _read(premises, ids, ReadInventory(mpxn=ELEC)) == [ESME, GSME, GPF, CHF, IHD]


def test_read_by_uprn_and_by_address(premises: NonDeviceService, ids: Ids) -> None:
    expected = [ESME, GSME, GPF, CHF, IHD]
    assert _read(premises, ids, ReadInventory(uprn=UPRN)) == expected
    assert _read(premises, ids, ReadInventory(uprn="0" + UPRN)) == expected  # a positiveInteger
    assert _read(premises, ids, ReadInventory(property_filter=ADDRESS)) == expected


def test_record_carries_every_smi_fact(premises: NonDeviceService, ids: Ids) -> None:
    (esme,) = [
        r
        for r in premises.handle(S1, ids(S1), ReadInventory(mpxn=ELEC)).records
        if r.device_id == ESME
    ]
    assert esme.device_type is DeviceType.ESME
    assert esme.status is DeviceStatus.COMMISSIONED
    assert esme.import_mpxn == ELEC
    assert esme.uprn == UPRN
    assert esme.property_filter == ADDRESS
    assert esme.chf_id == CHF
    assert esme.date_commissioned is not None
    assert esme.date_commissioned.isoformat() == "2026-03-01"


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        (ReadInventory(device_id=eui(0x01)), "DeviceID 00-DB-12-34-56-78-90-01"),
        (ReadInventory(mpxn="1999999999999"), "MPxN 1999999999999"),
        (ReadInventory(uprn="42"), "UPRN 42"),
        (
            ReadInventory(property_filter=PropertyFilter("ZZ9 9ZZ", "1")),
            "PropertyFilter ZZ9 9ZZ / 1",
        ),
    ],
)
def test_no_match(
    premises: NonDeviceService, ids: Ids, request_: ReadInventory, words: str
) -> None:
    with pytest.raises(ServiceError) as err:
        premises.handle(S1, ids(S1), request_)
    assert err.value.code == "E080201"
    assert words in err.value.sentence


@pytest.mark.parametrize(
    "request_",
    [ReadInventory(), ReadInventory(device_id=ESME, mpxn=ELEC), ReadInventory(uprn="abc")],
)
def test_bad_criteria(premises: NonDeviceService, ids: Ids, request_: ReadInventory) -> None:
    with pytest.raises(ServiceError) as err:
        premises.handle(S1, ids(S1), request_)
    assert err.value.code == "E20"


def test_more_than_seventeen_records_is_refused(service: NonDeviceService, ids: Ids) -> None:
    install_hub(service, ids)
    for n in range(16):
        prenotify(service, ids, eui(n), DeviceType.IHD)
        service.on_whitelisted(eui(n), CHF)
    with pytest.raises(ServiceError) as err:
        service.handle(S1, ids(S1), ReadInventory(device_id=CHF))
    assert err.value.code == "E080202"
    assert "18 devices" in err.value.sentence


# --- SR8.3 --------------------------------------------------------------------------------------


def test_responsible_supplier_decommissions(premises: NonDeviceService, ids: Ids) -> None:
    premises.handle(S1, ids(S1), DecommissionDevice(ESME))
    record = premises.get_device(ESME)
    assert record is not None
    assert record.status is DeviceStatus.DECOMMISSIONED
    assert record.import_mpxn == ELEC  # the SMI keeps the record and its links


def test_decommission_rules(premises: NonDeviceService, ids: Ids) -> None:
    def refused(sender: bytes, device: bytes) -> str:
        before = snapshot(premises.storage)
        with pytest.raises(ServiceError) as err:
            premises.handle(sender, ids(sender), DecommissionDevice(device))
        assert snapshot(premises.storage) == before
        return err.value.code

    assert refused(S1, eui(0x01)) == "E080301"
    assert refused(S2, ESME) == "E17"  # not the Responsible Supplier
    assert refused(OTHER, ESME) == "E4"
    premises.handle(S1, ids(S1), DecommissionDevice(ESME))
    assert refused(S1, ESME) == "E080302"  # already decommissioned
    prenotify(premises, ids, eui(0x02), DeviceType.ESME)
    assert refused(S1, eui(0x02)) == "E080302"  # Pending: delete it instead


def test_type2_device_follows_the_supplier_of_the_meters_on_its_hub(
    premises: NonDeviceService, ids: Ids
) -> None:
    assert premises.responsible_suppliers(IHD) == {S1}
    assert premises.responsible_suppliers(CHF) == {S1}
    assert premises.responsible_suppliers(GPF) == {S1}
    premises.handle(S1, ids(S1), DecommissionDevice(IHD))
    assert premises.responsible_suppliers(eui(0x77)) == frozenset()
