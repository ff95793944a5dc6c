"""SR12.2 Device Pre-Notification: every rule, and that a refused request changes nothing."""

from __future__ import annotations

import pytest

from gateway.errors import ServiceError
from gateway.model import DeviceStatus, ReadInventory
from gateway.services import NonDeviceService
from gbcs.devices import DeviceType
from tests.gateway.smi import (
    CHF,
    ESME,
    GPF,
    GSME,
    NOP,
    OTHER,
    S1,
    Ids,
    prenotification,
    snapshot,
)


def test_prenotified_device_is_pending_with_its_details(
    service: NonDeviceService, ids: Ids
) -> None:
    result = service.handle(S1, ids(S1), prenotification(ESME, DeviceType.ESME, esme_variant="AD"))
    assert result.response_code == "I0"
    assert result.records == ()
    record = service.get_device(ESME)
    assert record is not None
    assert record.status is DeviceStatus.PENDING
    assert record.device_type is DeviceType.ESME
    assert (record.manufacturer, record.model, record.esme_variant) == ("AB01", "010A030B", "AD")
    assert (record.smets_chts_version, record.firmware_version) == ("SMETS V1.58", "0002012F")
    assert record.installing_supplier == S1
    assert record.import_mpxn is None
    assert record.chf_id is None


def test_chf_with_gpf_adds_both(service: NonDeviceService, ids: Ids) -> None:
    service.handle(S1, ids(S1), prenotification(CHF, DeviceType.CHF, associated_gpf_id=GPF))
    chf, gpf = service.get_device(CHF), service.get_device(GPF)
    assert chf is not None
    assert gpf is not None
    assert chf.associated_gpf_id == GPF
    assert gpf.device_type is DeviceType.GPF
    assert gpf.status is DeviceStatus.PENDING
    result = service.handle(S1, ids(S1), ReadInventory(device_id=CHF))
    assert [r.device_id for r in result.records] == [CHF, GPF]


@pytest.mark.parametrize(
    ("request_fields", "kind", "code", "words"),
    [
        ({"esme_variant": "AD"}, DeviceType.GSME, "E120203", "a GSME has no ESME Variant"),
        ({"esme_variant": "Z"}, DeviceType.ESME, "E120203", "'Z' is not an ESME Variant"),
        ({"associated_gpf_id": GPF}, DeviceType.ESME, "E120204", "only a CHF has one"),
        ({"associated_gpf_id": CHF}, DeviceType.CHF, "E120204", "another EUI-64"),
        ({"manufacturer": ""}, DeviceType.ESME, "E120207", "DeviceManufacturer"),
        ({"model": "x" * 31}, DeviceType.ESME, "E120207", "DeviceModel"),
        ({"firmware_version": "123456789"}, DeviceType.ESME, "E120207", "FirmwareVersion"),
        ({"smets_chts_version": ""}, DeviceType.ESME, "E120207", "SMETSCHTSVersion"),
        ({"device_type": "METER"}, DeviceType.ESME, "E120207", "DeviceType"),
    ],
)
def test_invalid_prenotification_is_refused_without_change(
    service: NonDeviceService,
    ids: Ids,
    request_fields: dict[str, object],
    kind: DeviceType,
    code: str,
    words: str,
) -> None:
    device = CHF if kind is DeviceType.CHF else ESME
    before = snapshot(service.storage)
    with pytest.raises(ServiceError) as err:
        service.handle(S1, ids(S1), prenotification(device, kind, **request_fields))
    assert err.value.code == code
    assert words in err.value.sentence
    assert snapshot(service.storage) == before


def test_duplicate_eui_is_refused(service: NonDeviceService, ids: Ids) -> None:
    service.handle(S1, ids(S1), prenotification(GSME, DeviceType.GSME))
    before = snapshot(service.storage)
    with pytest.raises(ServiceError) as err:
        service.handle(S1, ids(S1), prenotification(GSME, DeviceType.GSME, model="other"))
    assert err.value.code == "E120201"
    assert (
        "00-DB-12-34-56-78-90-A1 is already in the Smart Metering Inventory" in err.value.sentence
    )
    assert snapshot(service.storage) == before


def test_gpf_already_known_is_refused(service: NonDeviceService, ids: Ids) -> None:
    service.handle(S1, ids(S1), prenotification(GPF, DeviceType.GPF))
    with pytest.raises(ServiceError) as err:
        service.handle(S1, ids(S1), prenotification(CHF, DeviceType.CHF, associated_gpf_id=GPF))
    assert err.value.code == "E120204"
    assert service.get_device(CHF) is None


@pytest.mark.parametrize("sender", [NOP, OTHER])
def test_only_suppliers_prenotify(service: NonDeviceService, ids: Ids, sender: bytes) -> None:
    with pytest.raises(ServiceError) as err:
        service.handle(sender, ids(sender), prenotification(ESME, DeviceType.ESME))
    assert err.value.code == "E4"
    assert "12.2 Device Pre-Notification" in err.value.sentence
    assert service.get_device(ESME) is None
