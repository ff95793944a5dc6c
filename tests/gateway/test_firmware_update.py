"""SR 11.1 / 11.4 firmware distribution rules (gateway.firmware), SR 12.1's coverage
(gateway.wan_matrix) and the readers of 11.1, 11.4, 12.1 and 8.6 (gateway.duis.dcc_services):
each refusal a DUIS code with a sentence, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway import firmware
from gateway.duis.dcc_services import read_service_opt_in, read_update_firmware, read_wan_matrix
from gateway.duis.envelope import DuisRequest, parse_request
from gateway.errors import ServiceError
from gateway.inventory import MIGRATIONS, Inventory
from gateway.services import NonDeviceService
from gateway.storage import Storage
from gateway.users import Users
from gateway.wan_matrix import RequestWanMatrix, coverage_for, region_of
from gbcs.codes import ACB
from gbcs.devices import DeviceType
from smetsim.client import build_request
from tests.gateway.smi import (
    CHF,
    ELEC_2,
    ELEC_S2,
    ESME,
    GSME,
    S1,
    S2,
    UPRN,
    Ids,
    commissioned_esme,
    eui,
    prenotify,
    snapshot,
)

IMAGE = b"an emulated firmware image" * 8
VERSION = "00020000"
OTHER_ESME = eui(0xB0)


@pytest.fixture
def home(service: NonDeviceService, ids: Ids) -> NonDeviceService:
    """A hub, the supplier's commissioned ESME, the CPL entry of its model's new firmware."""
    service.storage.migrate(firmware.MIGRATIONS)
    commissioned_esme(service, ids)
    with service.storage.transaction() as tx:
        firmware.add_product(
            tx, firmware.ProductEntry("AB01", "010A030B", VERSION, firmware.image_hash(IMAGE))
        )
    return service


def _accept(
    service: NonDeviceService,
    devices: tuple[bytes, ...] = (ESME,),
    image: bytes = IMAGE,
    version: str = VERSION,
    variant: str = "11.1",
    sender: bytes = S1,
    rid: str = "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1",
) -> firmware.UpdateOutcome:
    user = Users(service.storage).get(sender)
    assert user is not None
    request = firmware.UpdateFirmware(variant, image, version, devices)
    with service.storage.transaction() as tx:
        return firmware.accept_update(tx, Inventory(tx), user, rid, request, "2026-03-01T09:30")


def test_an_image_on_the_cpl_goes_to_the_listed_meter(home: NonDeviceService) -> None:
    outcome = _accept(home)
    assert outcome.warnings == {}
    assert [(d.device, d.hub, d.version) for d in outcome.deliveries] == [(ESME, CHF, VERSION)]
    with home.storage.transaction() as tx:
        waiting = firmware.pending(tx)
    assert [(d.device, d.image, d.sender) for d in waiting] == [(ESME, IMAGE, S1)]


def test_the_deliveries_survive_a_restart(home: NonDeviceService, db_path: Path) -> None:
    _accept(home)
    home.storage.close()
    with Storage.open(db_path, migrations=MIGRATIONS, durability="process") as again:
        again.migrate(firmware.MIGRATIONS)
        with again.transaction() as tx:
            waiting = firmware.pending(tx)
            assert [d.device for d in waiting] == [ESME]
            firmware.mark(tx, waiting[0], "sent", "2026-03-01T09:31")
        with again.transaction() as tx:
            assert firmware.pending(tx) == []


def test_devices_that_cannot_take_it_are_listed_by_reason(home: NonDeviceService, ids: Ids) -> None:
    prenotify(home, ids, OTHER_ESME, DeviceType.ESME)  # Pending: not installed
    home.on_whitelisted(OTHER_ESME, CHF, import_mpxn=ELEC_2)
    other_model = eui(0xB1)
    prenotify(home, ids, other_model, DeviceType.ESME, model="FFFF")
    home.on_whitelisted(other_model, CHF)
    home.on_commissioned(other_model)
    theirs = eui(0xB2)
    commissioned_esme(home, ids, theirs, mpxn=ELEC_S2, sender=S2)
    unknown = eui(0xEE)
    outcome = _accept(home, (ESME, unknown, CHF, OTHER_ESME, other_model, theirs, ESME))
    assert [d.device for d in outcome.deliveries] == [ESME]
    assert outcome.warnings == {
        "InvalidDeviceIDList": [unknown, CHF, theirs],
        "NotCommissionedDeviceIDList": [OTHER_ESME],
        "NotApplicableFirmwareDeviceIDList": [other_model],
    }
    # the ESME's copy is under way: another update to it waits for it to finish
    with pytest.raises(ServiceError) as refused:
        _accept(home, rid="90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:2")
    assert refused.value.code == "E110105"
    assert "has a distribution under way" in refused.value.sentence


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"image": IMAGE + b"!"}, "E110102", "is not the hash the Central Products List holds"),
        ({"version": "7777"}, "E110101", "has firmware version 7777"),
        ({"devices": (GSME,)}, "E110105", "is not in the SMI"),
        ({"variant": "11.4"}, "E110405", f"{ESME.hex('-').upper()} is a ESME"),
    ],
)
def test_refusals_change_nothing(
    home: NonDeviceService, kwargs: dict[str, object], code: str, words: str
) -> None:
    before = snapshot(home.storage)
    with pytest.raises(ServiceError) as refused:
        _accept(home, **kwargs)  # type: ignore[arg-type]
    assert refused.value.code == code
    assert words in refused.value.sentence
    assert snapshot(home.storage) == before


def test_an_image_for_a_model_the_smi_has_no_device_of(home: NonDeviceService) -> None:
    other = b"another model's image"
    with home.storage.transaction() as tx:
        firmware.add_product(
            tx, firmware.ProductEntry("CD02", "0101", "0001", firmware.image_hash(other))
        )
    with pytest.raises(ServiceError) as refused:
        _accept(home, image=other, version="0001")
    assert refused.value.code == "E110103"
    assert "CD02/0101" in refused.value.sentence


def test_a_ppmid_takes_its_own_firmware(home: NonDeviceService, ids: Ids) -> None:
    ppmid = eui(0xA4)
    prenotify(home, ids, ppmid, DeviceType.PPMID, model="PP01")
    home.on_whitelisted(ppmid, CHF)
    home.on_commissioned(ppmid)
    image = b"a PPMID image"
    with home.storage.transaction() as tx:
        firmware.add_product(
            tx, firmware.ProductEntry("AB01", "PP01", "0003", firmware.image_hash(image))
        )
    outcome = _accept(home, (ppmid,), image=image, version="0003", variant="11.4")
    assert [d.device for d in outcome.deliveries] == [ppmid]
    with pytest.raises(ServiceError) as refused:
        _accept(home, (ppmid,), image=image + b"x", version="0003", variant="11.4")
    assert refused.value.code == "E110402"


# --- 12.1 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postcode", "region"),
    [("M22 0RR", "North"), ("EH1 1AA", "North"), ("B1 1AA", "Central"), ("SW1A 1AA", "South")],
)
def test_a_postcode_is_in_its_csp_region(postcode: str, region: str) -> None:
    assert region_of(postcode)[0] == region


def test_coverage_by_uprn_comes_from_the_registration_data(registered: Storage) -> None:
    with registered.transaction() as tx:
        found = coverage_for(tx, RequestWanMatrix(uprn=UPRN))
        assert [(c.region, c.technology) for c in found] == [("North", "Long Range Radio")]
        with pytest.raises(ServiceError) as unknown:
            coverage_for(tx, RequestWanMatrix(uprn="42"))
    assert unknown.value.code == "E120101"
    with pytest.raises(ServiceError) as bad:
        region_of("12345")
    assert bad.value.code == "E120102"


def test_far_islands_need_an_aerial(registered: Storage) -> None:
    with registered.transaction() as tx:
        (found,) = coverage_for(tx, RequestWanMatrix(postcode="ZE1 0AA", address_identifier="1"))
    assert (found.likelihood, found.auxiliary) == ("Medium", "External aerial")


# --- readers --------------------------------------------------------------------------------


def _request(srv: str, body: str) -> DuisRequest:
    xml = build_request(
        service_reference_variant=srv,
        command_variant=8,
        originator=S1,
        target=ACB,
        counter=1,
        body=body,
    )
    return parse_request(etree.fromstring(xml))


def _update(
    image: str = "QUJD", version: str = VERSION, devices: str = "00-DB-12-34-56-78-90-A0"
) -> str:
    return (
        f"<sr:UpdateFirmware><sr:FirmwareImage>{image}</sr:FirmwareImage>"
        f"<sr:FirmwareVersion>{version}</sr:FirmwareVersion>"
        f"<sr:DeviceIDList>{devices}</sr:DeviceIDList></sr:UpdateFirmware>"
    )


def test_the_update_reader_takes_the_image_and_the_list() -> None:
    read = read_update_firmware(
        _request("11.1", _update(devices="00-DB-12-34-56-78-90-A0,00-db-12-34-56-78-90-a1"))
    )
    assert (read.image, read.version, read.devices) == (b"ABC", VERSION, (ESME, GSME))


@pytest.mark.parametrize(
    ("body", "element"),
    [
        (_update(image="not base64!"), "FirmwareImage"),
        (_update(image=""), "FirmwareImage"),
        (_update(version="123456789"), "FirmwareVersion"),
        (_update(devices="00-DB-12-34-56-78-90-A0;00-DB-12-34-56-78-90-A1"), "DeviceIDList"),
    ],
)
def test_the_update_reader_names_a_bad_value(body: str, element: str) -> None:
    with pytest.raises(ServiceError) as refused:
        read_update_firmware(_request("11.1", body))
    assert refused.value.code == "E42"
    assert refused.value.sentence.startswith(element)


def test_the_wan_matrix_reader_takes_one_of_uprn_and_address() -> None:
    read = read_wan_matrix(
        _request("12.1", "<sr:RequestWANMatrix><sr:UPRN>00042</sr:UPRN></sr:RequestWANMatrix>")
    )
    assert read.uprn == "42"
    with pytest.raises(ServiceError) as refused:
        read_wan_matrix(_request("12.1", "<sr:RequestWANMatrix/>"))
    assert "exactly one of UPRN and PartialAddress" in refused.value.sentence


def test_the_opt_in_reader_checks_its_form() -> None:
    with pytest.raises(ServiceError) as refused:
        read_service_opt_in(
            _request(
                "8.6",
                "<sr:ServiceOptIn><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID>"
                "<sr:DeviceType>ESME</sr:DeviceType><sr:MPxNs><sr:ImportMPxN>1</sr:ImportMPxN>"
                "</sr:MPxNs><sr:OptInDate>tomorrow</sr:OptInDate></sr:ServiceOptIn>",
            )
        )
    assert refused.value.sentence.startswith("OptInDate")
