"""SR8.14 Communications Hub Status Update: the CHF and its GPF move through their install and
return states as the lifecycle allows - both, or neither - and the DCC's templates read."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.duis.envelope import parse_request
from gateway.duis.nondevice import read_non_device_request
from gateway.duis.xml import parse_document
from gateway.errors import ServiceError
from gateway.model import CommsHubStatusUpdate, DeviceStatus
from gateway.services import NonDeviceService
from gbcs.devices import DeviceType
from tests.gateway.smi import CHF, ESME, GPF, S1, S2, Ids, commissioned_esme, prenotify, snapshot


@pytest.fixture
def hub(service: NonDeviceService, ids: Ids) -> NonDeviceService:
    """A CHF and its GPF, pre-notified (Pending)."""
    prenotify(service, ids, CHF, DeviceType.CHF, associated_gpf_id=GPF)
    return service


def _update(service: NonDeviceService, ids: Ids, variant: str, sender: bytes = S1) -> None:
    service.handle(sender, ids(sender), CommsHubStatusUpdate(variant, CHF))


def _statuses(service: NonDeviceService) -> tuple[DeviceStatus, DeviceStatus]:
    chf, gpf = service.get_device(CHF), service.get_device(GPF)
    assert chf is not None
    assert gpf is not None
    return chf.status, gpf.status


def test_install_with_sm_wan_commissions_the_hub(hub: NonDeviceService, ids: Ids) -> None:
    _update(hub, ids, "8.14.1")
    assert _statuses(hub) == (DeviceStatus.COMMISSIONED, DeviceStatus.COMMISSIONED)


def test_install_without_sm_wan_waits_then_commissions(hub: NonDeviceService, ids: Ids) -> None:
    _update(hub, ids, "8.14.2")
    installed = DeviceStatus.INSTALLED_NOT_COMMISSIONED
    assert _statuses(hub) == (installed, installed)
    _update(hub, ids, "8.14.1")
    assert _statuses(hub) == (DeviceStatus.COMMISSIONED, DeviceStatus.COMMISSIONED)


@pytest.mark.parametrize("variant", ["8.14.3", "8.14.4"])
def test_a_returned_hub_is_withdrawn_but_not_a_commissioned_one(
    hub: NonDeviceService, ids: Ids, variant: str
) -> None:
    _update(hub, ids, "8.14.1")
    before = snapshot(hub.storage)
    with pytest.raises(ServiceError) as refused:
        _update(hub, ids, variant)
    assert refused.value.rule == "hub_update_bad_status"
    assert "Commissioned" in refused.value.sentence
    assert snapshot(hub.storage) == before


@pytest.mark.parametrize("variant", ["8.14.3", "8.14.4"])
def test_a_hub_returned_before_commissioning_is_withdrawn(
    hub: NonDeviceService, ids: Ids, variant: str
) -> None:
    _update(hub, ids, "8.14.2")
    _update(hub, ids, variant)
    assert _statuses(hub) == (DeviceStatus.WITHDRAWN, DeviceStatus.WITHDRAWN)


def test_refusals_change_nothing(service: NonDeviceService, ids: Ids) -> None:
    commissioned_esme(service, ids)
    before = snapshot(service.storage)
    cases = [
        (CommsHubStatusUpdate("8.14.1", ESME), S1, "hub_update_unknown"),
        (CommsHubStatusUpdate("8.14.1", bytes(8)), S1, "hub_update_unknown"),
        (CommsHubStatusUpdate("8.14.3", CHF), S2, "hub_update_not_supplier"),
    ]
    for request, sender, rule in cases:
        with pytest.raises(ServiceError) as refused:
            service.handle(sender, ids(sender), request)
        assert refused.value.rule == rule
    # the counters the refusals took are not consumed either
    assert snapshot(service.storage) == before


@pytest.mark.parametrize(
    ("name", "variant", "facts"),
    [
        ("8.14.2_COMMUNICATIONS_HUB_STATUS_UPDATE_INSTALL_NO_SM_WAN", "8.14.2",
         {"CHFInstallType": "CHF Install - no SM WAN", "MPxN": "1000999888",
          "PremiseType": "Low Rise Apartment (MDU <= 5 floors)"}),
        ("8.14.3_COMMUNICATIONS_HUB_STATUS_UPDATE_FAULT_RETURN", "8.14.3",
         {"CHFFaultReason": "Damaged case", "OtherDeviceID": "00-DB-12-34-56-78-90-A0"}),
    ],
)  # fmt: skip
def test_the_dcc_templates_read(
    conformance: Path, name: str, variant: str, facts: dict[str, str]
) -> None:
    xml = (conformance / "duis/templates" / f"{name}_REQUEST_DUIS.XML").read_bytes()
    request = read_non_device_request(parse_request(parse_document(xml)))
    assert isinstance(request, CommsHubStatusUpdate)
    assert (request.variant, request.device_id) == (variant, bytes.fromhex("00db1234567890a2"))
    assert facts.items() <= dict(request.facts).items()
