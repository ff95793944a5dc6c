"""The SMI transitions device SRs drive (8.11 Add, 8.1.1, InstalledNotCommissioned, ...)."""

from __future__ import annotations

import pytest

from gateway.errors import ServiceError
from gateway.model import DeviceStatus
from gateway.services import NonDeviceService
from gateway.storage import Storage
from gbcs.devices import DeviceType
from tests.gateway.smi import (
    CHF,
    ELEC,
    ELEC_2,
    ELEC_EXPORT,
    ESME,
    GAS,
    GPF,
    GSME,
    IHD,
    Clock,
    Ids,
    eui,
    install_hub,
    prenotify,
    snapshot,
)

CHF_2 = eui(0xC2)


def _refused(service: NonDeviceService, action: object, *args: object, **kwargs: object) -> str:
    before = snapshot(service.storage)
    with pytest.raises(ServiceError) as err:
        action(*args, **kwargs)  # type: ignore[operator]
    assert snapshot(service.storage) == before
    return err.value.code


def test_whitelisting_links_the_meter_points_of_the_add(
    service: NonDeviceService, ids: Ids
) -> None:
    install_hub(service, ids)
    prenotify(service, ids, ESME, DeviceType.ESME)
    record = service.on_whitelisted(
        ESME, CHF, import_mpxn=ELEC, secondary_import_mpan=ELEC_2, export_mpan=ELEC_EXPORT
    )
    assert record.status is DeviceStatus.WHITELISTED
    assert record.chf_id == CHF
    assert (record.import_mpxn, record.secondary_import_mpan, record.export_mpan) == (
        ELEC,
        ELEC_2,
        ELEC_EXPORT,
    )


def test_commissioning_records_the_date(service: NonDeviceService, ids: Ids, clock: Clock) -> None:
    install_hub(service, ids)
    prenotify(service, ids, GSME, DeviceType.GSME)
    service.on_whitelisted(GSME, CHF, import_mpxn=GAS)
    clock.advance(days=2)
    record = service.on_commissioned(GSME)
    assert record.status is DeviceStatus.COMMISSIONED
    assert record.date_commissioned is not None
    assert record.date_commissioned.isoformat() == "2026-03-03"


def test_hub_replacement_keeps_the_status(service: NonDeviceService, ids: Ids) -> None:
    install_hub(service, ids)
    install_hub(service, ids, chf=CHF_2, gpf=eui(0xC3))
    prenotify(service, ids, ESME, DeviceType.ESME)
    service.on_whitelisted(ESME, CHF, import_mpxn=ELEC)
    service.on_commissioned(ESME)
    record = service.on_whitelisted(ESME, CHF_2)
    assert record.status is DeviceStatus.COMMISSIONED
    assert record.chf_id == CHF_2
    assert record.import_mpxn == ELEC  # untouched: the Add carried no MPxN


def test_whitelist_rules(service: NonDeviceService, ids: Ids) -> None:
    install_hub(service, ids)
    prenotify(service, ids, ESME, DeviceType.ESME)
    prenotify(service, ids, IHD, DeviceType.IHD)
    w = service.on_whitelisted
    assert _refused(service, w, eui(0x01), CHF) == "E081101"
    assert _refused(service, w, ESME, GPF) == "E081104"  # a GPF is not a CHF
    assert _refused(service, w, ESME, eui(0x02)) == "E081104"
    assert _refused(service, w, ESME, CHF, import_mpxn="1999999999999") == "E081105"
    assert _refused(service, w, ESME, CHF, import_mpxn=GAS) == "E081106"
    assert _refused(service, w, IHD, CHF, import_mpxn=ELEC) == "E081106"
    assert _refused(service, w, ESME, CHF, import_mpxn=ELEC, export_mpan=ELEC) == "E081106"
    service.on_whitelisted(ESME, CHF, import_mpxn=ELEC)
    service.on_installed_not_commissioned(ESME)
    service.on_commissioned(ESME)
    service.on_suspended(ESME)
    assert _refused(service, w, ESME, CHF) == "E081102"


def test_transition_rules(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    assert _refused(service, service.on_commissioned, eui(0x01)) == "E19"
    assert _refused(service, service.on_commissioned, ESME) == "E30"  # Pending: not whitelisted
    assert _refused(service, service.on_recovered, ESME) == "E30"
    with pytest.raises(ServiceError) as err:
        service.on_commissioned(ESME)
    assert "is Pending: it cannot be commissioned (SR8.1.1)" in err.value.sentence


def test_installed_not_commissioned_for_meters_and_hubs(
    service: NonDeviceService, ids: Ids
) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    prenotify(service, ids, CHF, DeviceType.CHF, associated_gpf_id=GPF)
    assert (
        service.on_installed_not_commissioned(ESME).status
        is DeviceStatus.INSTALLED_NOT_COMMISSIONED
    )
    assert (
        service.on_installed_not_commissioned(GPF).status is DeviceStatus.INSTALLED_NOT_COMMISSIONED
    )
    assert service.on_commissioned(GPF).status is DeviceStatus.COMMISSIONED


def test_firmware_activation_updates_the_version_not_the_variant(
    service: NonDeviceService, ids: Ids
) -> None:
    prenotify(service, ids, ESME, DeviceType.ESME)
    record = service.on_firmware_activated(ESME, "00030001")
    assert record.firmware_version == "00030001"
    assert record.esme_variant == "A"
    assert _refused(service, service.on_firmware_activated, ESME, "123456789") == "E20"
    assert _refused(service, service.on_firmware_activated, eui(0x01), "1") == "E19"


def test_transition_joins_the_callers_transaction(service: NonDeviceService, ids: Ids) -> None:
    """The end-to-end helper can commit an SMI change with its own rows, or roll both back."""
    install_hub(service, ids)
    prenotify(service, ids, ESME, DeviceType.ESME)

    def whitelist_then_fail() -> None:
        with service.storage.transaction():
            service.on_whitelisted(ESME, CHF, import_mpxn=ELEC)
            raise RuntimeError("the response could not be recorded")

    with pytest.raises(RuntimeError, match="could not be recorded"):
        whitelist_then_fail()
    record = service.get_device(ESME)
    assert record is not None
    assert record.status is DeviceStatus.PENDING


def test_unknown_flag_rules_are_refused(storage: Storage, clock: Clock) -> None:
    with pytest.raises(ValueError, match="'sec'"):
        NonDeviceService(storage, clock=clock, flag_rules="sec")  # type: ignore[arg-type]
