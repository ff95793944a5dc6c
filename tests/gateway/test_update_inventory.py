"""SR8.4 Update Inventory in all its forms, with the MP125 rules (SEC modification MP125)."""

from __future__ import annotations

import pytest

from gateway.errors import ServiceError
from gateway.model import (
    DeleteDevice,
    DeviceRecord,
    DeviceStatus,
    ReadInventory,
    UpdateDeviceDetails,
    UpdateDeviceStatus,
    UpdateInventory,
    UpdateMPxN,
)
from gateway.services import NonDeviceService
from gateway.users import MeterPoints
from gbcs.devices import DeviceType
from tests.gateway.smi import (
    CHF,
    ELEC,
    ELEC_2,
    ELEC_EXPORT,
    ELEC_S2,
    ESME,
    GAS,
    GPF,
    GSME,
    IHD,
    NOP,
    S1,
    S2,
    Ids,
    commissioned_esme,
    install_hub,
    prenotify,
    snapshot,
)


def _device(service: NonDeviceService, device: bytes = ESME) -> DeviceRecord:
    record = service.get_device(device)
    assert record is not None
    return record


def _refused(
    service: NonDeviceService, ids: Ids, sender: bytes, request: UpdateInventory
) -> ServiceError:
    before = snapshot(service.storage)
    with pytest.raises(ServiceError) as err:
        service.handle(sender, ids(sender), request)
    assert snapshot(service.storage) == before
    return err.value


def _whitelisted_esme(service: NonDeviceService, ids: Ids, mpxn: str = ELEC) -> None:
    install_hub(service, ids)
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.on_whitelisted(ESME, CHF, import_mpxn=mpxn)


# --- while Pending: the installing supplier only ------------------------------------------------


def test_installing_supplier_updates_every_detail_while_pending(
    service: NonDeviceService, ids: Ids
) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.handle(
        S1,
        ids(S1),
        UpdateDeviceDetails(
            ESME,
            manufacturer="CD02",
            model="M2",
            smets_chts_version="SMETS V2.0",
            firmware_version="00030000",
            esme_variant="ADE",
        ),
    )
    record = _device(service)
    assert (record.manufacturer, record.model) == ("CD02", "M2")
    assert (record.smets_chts_version, record.firmware_version) == ("SMETS V2.0", "00030000")
    assert record.esme_variant == "ADE"
    assert record.status is DeviceStatus.PENDING


def test_partial_update_leaves_other_details(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.handle(S1, ids(S1), UpdateDeviceDetails(ESME, esme_variant="B"))
    record = _device(service)
    assert record.esme_variant == "B"
    assert record.manufacturer == "AB01"


@pytest.mark.parametrize(
    "request_",
    [UpdateDeviceDetails(ESME, esme_variant="B"), DeleteDevice(ESME)],
    ids=["details", "delete"],
)
def test_other_supplier_cannot_touch_a_pending_device(
    service: NonDeviceService, ids: Ids, request_: UpdateInventory
) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    error = _refused(service, ids, S2, request_)
    assert error.code == "E080406"
    assert "installing supplier 90-B3-D5-1F-30-01-00-00" in error.sentence


def test_installing_supplier_deletes_a_pending_device(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.handle(S1, ids(S1), DeleteDevice(ESME))
    assert service.get_device(ESME) is None
    with pytest.raises(ServiceError) as err:
        service.handle(S1, ids(S1), ReadInventory(device_id=ESME))
    assert err.value.code == "E080201"


def test_deleting_a_pending_chf_deletes_its_gpf(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, CHF, DeviceType.CHF, associated_gpf_id=GPF)
    service.handle(S1, ids(S1), DeleteDevice(CHF))
    assert service.get_device(CHF) is None
    assert service.get_device(GPF) is None


def test_delete_after_pending_is_refused(service: NonDeviceService, ids: Ids) -> None:
    _whitelisted_esme(service, ids)
    error = _refused(service, ids, S1, DeleteDevice(ESME))
    assert error.code == "E080407"
    assert "is Whitelisted" in error.sentence


# --- after Pending: only the ESME Variant, only by the Responsible Supplier ---------------------


@pytest.mark.parametrize(
    "status",
    [DeviceStatus.WHITELISTED, DeviceStatus.INSTALLED_NOT_COMMISSIONED, DeviceStatus.COMMISSIONED],
)
def test_responsible_supplier_corrects_the_variant(
    service: NonDeviceService, ids: Ids, status: DeviceStatus
) -> None:
    _whitelisted_esme(service, ids)
    if status is not DeviceStatus.WHITELISTED:
        service.on_installed_not_commissioned(ESME)
    if status is DeviceStatus.COMMISSIONED:
        service.on_commissioned(ESME)
    assert _device(service).status is status
    service.handle(S1, ids(S1), UpdateDeviceDetails(ESME, esme_variant="ADEF"))
    assert _device(service).esme_variant == "ADEF"


def test_after_change_of_supplier_only_the_gaining_supplier_corrects_the_variant(
    service: NonDeviceService, ids: Ids
) -> None:
    commissioned_esme(service, ids)
    MeterPoints(service.storage).register_meter_point(ELEC, "electricity", S2, NOP)  # CoS
    error = _refused(service, ids, S1, UpdateDeviceDetails(ESME, esme_variant="AD"))
    assert error.code == "E080409"
    service.handle(S2, ids(S2), UpdateDeviceDetails(ESME, esme_variant="AD"))
    assert _device(service).esme_variant == "AD"
    assert _device(service).installing_supplier == S1


@pytest.mark.parametrize("status", [DeviceStatus.DECOMMISSIONED, DeviceStatus.SUSPENDED])
def test_variant_cannot_be_corrected_in_other_statuses(
    service: NonDeviceService, ids: Ids, status: DeviceStatus
) -> None:
    commissioned_esme(service, ids)
    if status is DeviceStatus.SUSPENDED:
        service.on_suspended(ESME)
    else:
        service.on_recovery(ESME)
        service.on_recovered(ESME)
        from gateway.model import DecommissionDevice

        service.handle(S1, ids(S1), DecommissionDevice(ESME))
    error = _refused(service, ids, S1, UpdateDeviceDetails(ESME, esme_variant="AD"))
    assert error.code == "E080410"
    assert f"not {status}" in error.sentence


def test_variant_only_for_smets2_esme(service: NonDeviceService, ids: Ids) -> None:
    install_hub(service, ids)
    prenotify(service, ids, GSME, DeviceType.GSME)
    service.on_whitelisted(GSME, CHF, import_mpxn=GAS)
    assert _refused(service, ids, S1, UpdateDeviceDetails(GSME, esme_variant="A")).code == "E080411"
    prenotify(service, ids, ESME, DeviceType.ESME, smets_chts_version="SMETS1 V1.0")
    service.on_whitelisted(ESME, CHF, import_mpxn=ELEC)
    error = _refused(service, ids, S1, UpdateDeviceDetails(ESME, esme_variant="B"))
    assert error.code == "E080411"
    assert "SMETS1 ESME" in error.sentence


def test_variant_on_a_pending_non_esme_is_refused(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, IHD, DeviceType.IHD)
    assert _refused(service, ids, S1, UpdateDeviceDetails(IHD, esme_variant="A")).code == "E080411"


@pytest.mark.parametrize("field", ["manufacturer", "model"])
@pytest.mark.parametrize("sender", [S1])
def test_manufacturer_and_model_never_change_after_pending(
    service: NonDeviceService, ids: Ids, field: str, sender: bytes
) -> None:
    commissioned_esme(service, ids)
    request = UpdateDeviceDetails(ESME, esme_variant="AD", **{field: "XX99"})
    error = _refused(service, ids, sender, request)
    assert error.code == "E080408"
    assert _device(service).esme_variant == "A"  # the variant in the same request did not go in


@pytest.mark.parametrize(
    ("field", "name"),
    [("firmware_version", "FirmwareVersion"), ("smets_chts_version", "SMETSCHTSVersion")],
)
def test_other_details_only_while_pending(
    service: NonDeviceService, ids: Ids, field: str, name: str
) -> None:
    _whitelisted_esme(service, ids)
    error = _refused(service, ids, S1, UpdateDeviceDetails(ESME, **{field: "9"}))
    assert error.code == "E080407"
    assert name in error.sentence


def test_restating_current_values_after_pending_is_harmless(
    service: NonDeviceService, ids: Ids
) -> None:
    commissioned_esme(service, ids)
    service.handle(
        S1,
        ids(S1),
        UpdateDeviceDetails(ESME, manufacturer="AB01", model="010A030B", esme_variant="BD"),
    )
    assert _device(service).esme_variant == "BD"


@pytest.mark.parametrize(
    "request_",
    [
        UpdateDeviceDetails(ESME),
        UpdateDeviceDetails(ESME, esme_variant="Q"),
        UpdateDeviceDetails(ESME, manufacturer="x" * 31),
        UpdateMPxN(ESME),
        UpdateMPxN(ESME, import_mpxn=ELEC, export_mpan=ELEC_EXPORT),
    ],
)
def test_invalid_update_values(
    service: NonDeviceService, ids: Ids, request_: UpdateInventory
) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    assert _refused(service, ids, S1, request_).code == "E20"


@pytest.mark.parametrize(
    "request_",
    [
        UpdateDeviceDetails(ESME, esme_variant="A"),
        DeleteDevice(ESME),
        UpdateMPxN(ESME, import_mpxn=ELEC),
        UpdateDeviceStatus(ESME, DeviceStatus.PENDING),
    ],
)
def test_unknown_device_in_every_form(
    service: NonDeviceService, ids: Ids, request_: UpdateInventory
) -> None:
    error = _refused(service, ids, S1, request_)
    assert error.code == "E080405"
    assert "00-DB-12-34-56-78-90-A0" in error.sentence


@pytest.mark.parametrize("sender", [NOP])
def test_update_inventory_needs_a_supplier_role(
    service: NonDeviceService, ids: Ids, sender: bytes
) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    assert _refused(service, ids, sender, DeleteDevice(ESME)).code == "E4"


# --- UpdateMPxN ---------------------------------------------------------------------------------


def test_update_mpxn_links_the_meter_to_its_meter_points(
    service: NonDeviceService, ids: Ids
) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.handle(S1, ids(S1), UpdateMPxN(ESME, import_mpxn=ELEC))
    service.handle(S1, ids(S1), UpdateMPxN(ESME, secondary_import_mpan=ELEC_2))
    service.handle(S1, ids(S1), UpdateMPxN(ESME, export_mpan=ELEC_EXPORT))
    record = _device(service)
    assert (record.import_mpxn, record.secondary_import_mpan, record.export_mpan) == (
        ELEC,
        ELEC_2,
        ELEC_EXPORT,
    )
    for mpxn in (ELEC, ELEC_2, ELEC_EXPORT):
        result = service.handle(S2, ids(S2), ReadInventory(mpxn=mpxn))
        assert [r.device_id for r in result.records] == [ESME]


def test_update_mpxn_replaces_the_link(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.handle(S1, ids(S1), UpdateMPxN(ESME, import_mpxn=ELEC))
    service.handle(S1, ids(S1), UpdateMPxN(ESME, import_mpxn=ELEC_2))
    assert _device(service).import_mpxn == ELEC_2
    with pytest.raises(ServiceError):
        service.handle(S1, ids(S1), ReadInventory(mpxn=ELEC))


@pytest.mark.parametrize(
    ("device", "kind", "request_", "code", "words"),
    [
        (
            ESME,
            DeviceType.ESME,
            UpdateMPxN(ESME, import_mpxn="1999999999999"),
            "E080412",
            "not registered",
        ),
        (ESME, DeviceType.ESME, UpdateMPxN(ESME, import_mpxn=GAS), "E080413", "gas meter point"),
        (
            GSME,
            DeviceType.GSME,
            UpdateMPxN(GSME, import_mpxn=ELEC),
            "E080413",
            "electricity meter point",
        ),
        (
            GSME,
            DeviceType.GSME,
            UpdateMPxN(GSME, export_mpan=ELEC_EXPORT),
            "E080413",
            "ImportMPxN only",
        ),
        (IHD, DeviceType.IHD, UpdateMPxN(IHD, import_mpxn=ELEC), "E080413", "not a meter"),
        (
            ESME,
            DeviceType.ESME,
            UpdateMPxN(ESME, import_mpxn=ELEC_S2),
            "E080414",
            "registered supplier",
        ),
    ],
)
def test_update_mpxn_rules(
    service: NonDeviceService,
    ids: Ids,
    device: bytes,
    kind: DeviceType,
    request_: UpdateMPxN,
    code: str,
    words: str,
) -> None:
    prenotify(service, ids, device, kind)
    error = _refused(service, ids, S1, request_)
    assert error.code == code
    assert words in error.sentence


def test_cannot_take_over_another_suppliers_link(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME, sender=S2)
    service.handle(S2, ids(S2), UpdateMPxN(ESME, import_mpxn=ELEC_S2))
    error = _refused(service, ids, S1, UpdateMPxN(ESME, import_mpxn=ELEC))
    assert error.code == "E080414"
    assert ELEC_S2 in error.sentence


def test_same_meter_point_in_two_slots_is_refused(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.handle(S1, ids(S1), UpdateMPxN(ESME, import_mpxn=ELEC))
    error = _refused(service, ids, S1, UpdateMPxN(ESME, export_mpan=ELEC))
    assert error.code == "E080413"
    assert "already the device's ImportMPxN" in error.sentence


# --- status -------------------------------------------------------------------------------------


def test_status_pending_and_installed_not_commissioned(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.handle(S1, ids(S1), UpdateDeviceStatus(ESME, DeviceStatus.INSTALLED_NOT_COMMISSIONED))
    assert _device(service).status is DeviceStatus.INSTALLED_NOT_COMMISSIONED
    service.handle(S1, ids(S1), UpdateDeviceStatus(ESME, DeviceStatus.PENDING))
    assert _device(service).status is DeviceStatus.PENDING


def test_status_step_not_in_the_lifecycle(service: NonDeviceService, ids: Ids) -> None:
    commissioned_esme(service, ids)
    error = _refused(service, ids, S1, UpdateDeviceStatus(ESME, DeviceStatus.PENDING))
    assert error.code == "E080415"
    assert "is Commissioned: it cannot be set to Pending" in error.sentence


def test_hub_status_form(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, CHF, DeviceType.CHF, associated_gpf_id=GPF)
    assert (
        _refused(service, ids, S1, UpdateDeviceStatus(CHF, DeviceStatus.PENDING)).code == "E080415"
    )
    service.handle(S1, ids(S1), UpdateDeviceStatus(GPF, DeviceStatus.COMMISSIONED, comms_hub=True))
    gpf = _device(service, GPF)
    assert gpf.status is DeviceStatus.COMMISSIONED
    assert gpf.date_commissioned is not None
    service.handle(S1, ids(S1), UpdateDeviceStatus(CHF, DeviceStatus.WITHDRAWN, comms_hub=True))
    assert _device(service, CHF).status is DeviceStatus.WITHDRAWN


def test_hub_form_is_for_hubs_only(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    error = _refused(
        service, ids, S1, UpdateDeviceStatus(ESME, DeviceStatus.COMMISSIONED, comms_hub=True)
    )
    assert error.code == "E080415"
    assert "communications hub devices" in error.sentence
    error = _refused(service, ids, S1, UpdateDeviceStatus(ESME, DeviceStatus.COMMISSIONED))
    assert error.code == "E20"


def test_status_by_an_unrelated_supplier(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    error = _refused(
        service, ids, S2, UpdateDeviceStatus(ESME, DeviceStatus.INSTALLED_NOT_COMMISSIONED)
    )
    assert error.code == "E080406"


def test_responsible_supplier_may_set_status_too(service: NonDeviceService, ids: Ids) -> None:
    _whitelisted_esme(service, ids)
    MeterPoints(service.storage).register_meter_point(ELEC, "electricity", S2, NOP)
    service.handle(S2, ids(S2), UpdateDeviceStatus(ESME, DeviceStatus.INSTALLED_NOT_COMMISSIONED))
    assert _device(service).status is DeviceStatus.INSTALLED_NOT_COMMISSIONED
