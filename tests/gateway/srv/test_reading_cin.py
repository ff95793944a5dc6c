"""SR9.1's transform: an empty body; the DCC makes up a four-digit CIN for each request and
sends it from the ACB (ECS50 to an ESME, GCS36 to a GSME), in the GBCS form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.errors import EncodeError
from gbcs.payloads import dlms
from gbcs.payloads.gbz import GbzPayload, ZclFrame
from gbcs.usecases import by_name

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
OTHER_USER = bytes.fromhex("90b3d51f3f000001")
NOW = datetime(2015, 1, 1, tzinfo=UTC)


def _read(inner: str) -> object:
    name = "sr:RequestCustomerIdentificationNumber"
    xml = f'<{name} xmlns:sr="{SR}">{inner}</{name}>'
    codec = entry("9.1").codec
    assert codec is not None
    return codec.read(etree.fromstring(xml, _PARSER))


def _build(name: str) -> bytes:
    codec = entry("9.1").codec
    assert codec is not None
    cmd = Command(_read(""), by_name(name), 1300, OTHER_USER, bytes(8), NOW)
    return codec.build(cmd)


def test_ecs50_sets_the_cin_object_to_four_digits() -> None:
    decoded = gc.decode_command(0x0058, _build("ECS50"))
    assert isinstance(decoded, gc.SendCinToEsme)
    assert decoded.counter == 1300
    apdu = dlms.decode_dlms(_build("ECS50"))
    assert isinstance(apdu, dlms.AccessRequest)
    assert apdu.specs == (dlms.set_(1, "0-3:96.13.1.255", 2),)
    assert len(decoded.cin) == 4
    assert decoded.cin.isdigit()


def test_gcs36_is_device_management_update_cin_issued_now() -> None:
    content = _build("GCS36")
    decoded = gc.decode_command(0x0083, content)
    assert isinstance(decoded, gc.SendCinToGsme)
    assert decoded.issued == gc.issuer_id(NOW)
    (component,) = GbzPayload.from_bytes(content).components
    assert component.cluster_id == 0x0708
    assert isinstance(component.frame, ZclFrame)
    assert component.frame.command_id == gc.UPDATE_CIN
    assert len(decoded.cin) == 4
    assert decoded.cin.isdigit()


def test_each_request_gets_a_fresh_number() -> None:
    cins = set()
    for _ in range(20):
        decoded = gc.decode_command(0x0058, _build("ECS50"))
        assert isinstance(decoded, gc.SendCinToEsme)
        cins.add(decoded.cin)
    assert len(cins) > 1


def test_the_acb_sends_both_and_the_device_type_picks_one() -> None:
    codec = entry("9.1").codec
    assert codec is not None
    assert codec.acb_use_cases == {"ECS50", "GCS36"}
    assert entry("9.1").use_case(DeviceType.GSME, _read(""), bytes(8)) == "GCS36"
    with pytest.raises(ServiceError) as caught:
        entry("9.1").use_case(DeviceType.CHF, _read(""), bytes(8))
    assert caught.value.rule == "device_wrong_type"


def test_a_body_with_content_is_refused_with_a_sentence() -> None:
    with pytest.raises(ServiceError) as caught:
        _read("<sr:CustomerIdentificationNumber>1234</sr:CustomerIdentificationNumber>")
    assert caught.value.rule == "duis_invalid_element"
    assert "expected nothing" in str(caught.value)


@pytest.mark.parametrize("cin", [b"123", b"12a4", b"12345"])
def test_a_cin_is_four_digits(cin: bytes) -> None:
    with pytest.raises(EncodeError, match="4 decimal digits"):
        gc.SendCinToEsme(1, cin)
    with pytest.raises(EncodeError, match="4 decimal digits"):
        gc.SendCinToGsme(1, cin)
