"""SR8.9 with ``ReadSecurityDetails``: CCS07 to a CHF, sent by the ACB; anywhere else the
element is refused with a sentence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.payloads import dlms
from gbcs.usecases import by_name

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
SR = "http://www.dccinterface.co.uk/ServiceUserGateway"


def _read(inner: str) -> object:
    xml = f'<sr:ReadDeviceLog xmlns:sr="{SR}">{inner}</sr:ReadDeviceLog>'
    codec = entry("8.9").codec
    assert codec is not None
    return codec.read(etree.fromstring(xml, _PARSER))


def test_security_details_choose_ccs07_from_the_acb() -> None:
    request = _read("<sr:ReadSecurityDetails/>")
    assert entry("8.9").use_case(DeviceType.CHF, request, bytes(8)) == "CCS07"
    assert entry("8.9").use_case(DeviceType.CHF, _read(""), bytes(8)) == "CCS05/CCS04"
    codec = entry("8.9").codec
    assert codec is not None
    assert "CCS07" in codec.acb_use_cases
    now = datetime(2015, 1, 1, tzinfo=UTC)
    content = codec.build(Command(request, by_name("CCS07"), 77, bytes(8), bytes(8), now))
    apdu = dlms.decode_dlms(content)
    assert isinstance(apdu, dlms.AccessRequest)
    assert apdu.specs == (
        dlms.action(104, "0-0:30.3.0.255", 4),
        dlms.action(104, "0-0:30.3.1.255", 4),
    )
    assert gc.decode_command(0x00FE, content) == gc.ReadChfSecurityLog(77)


@pytest.mark.parametrize(
    ("inner", "words"),
    [
        ("<sr:ReadSecurityDetails>x</sr:ReadSecurityDetails>", "holds text"),
        ("<sr:ReadSecurityDetails/><sr:ReadSecurityDetails/>", "twice"),
        ("<sr:Other/>", "unexpected element Other"),
    ],
)
def test_bad_bodies_are_refused(inner: str, words: str) -> None:
    with pytest.raises(ServiceError) as caught:
        _read(inner)
    assert caught.value.rule == "duis_invalid_element"
    assert words in str(caught.value)


def test_a_meters_log_has_no_security_details() -> None:
    with pytest.raises(ServiceError) as caught:
        entry("8.9").use_case(DeviceType.ESME, _read("<sr:ReadSecurityDetails/>"), bytes(8))
    assert caught.value.rule == "duis_invalid_element"
    assert "only a CHF" in str(caught.value)
