"""The reading family's transforms: every DCC template of a served read becomes the DCC's
reference command (content built from the use-case tables, parties from the request), and
bad bodies are refused with a sentence."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gateway.srv.reading import ReadRequest
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.gbz import GbzPayload, ZclFrame
from gbcs.usecases import by_name

READING_SRVS = frozenset(
    {
        *("4.1.1", "4.1.2", "4.1.3", "4.3", "4.4.3", "4.6.1", "4.8.1", "4.8.2", "4.8.3"),
        *("4.11.1", "4.11.2", "4.12.1", "4.12.2", "4.13", "4.14", "4.15", "4.16", "4.17"),
        *("4.18", "6.2.1", "6.2.2", "6.2.3", "6.2.4", "6.2.5", "6.2.7", "6.2.9", "6.13"),
        *("6.24.1", "6.30", "6.32", "7.11", "7.14", "8.9", "11.2"),
    }
)

DEVICE_TYPES = {
    0xA0: DeviceType.ESME,
    0xA1: DeviceType.GSME,
    0xA2: DeviceType.CHF,
    0xA3: DeviceType.GPF,
    0xA4: DeviceType.PPMID,
}
"""The DCC test environment's devices by the last byte of their EUI."""

SAME_BODY = {
    "ECS26k": "ECS26b",
    "ECS26l": "ECS26d",
    "GCS21m": "GCS21e",
    "ECS26n": "ECS26i",
    "CCS06": "CCS05/CCS04",
}
"""Use cases whose DUIS body is the same as another's for the same device type (GBCS's
variants for other meter variants or versions): the gateway sends the first GBCS lists, so
these templates become the other use case's command."""

OTHER_PERIOD = {
    "GCS15c_4.4.3_SUCCESS_REQUEST_DUIS.XML": "GCS15c_4.4.3_ERROR_COMMAND_GBCS.HEX",
}
"""Templates whose SUCCESS reference command reads another period than the template's
(2015-01-01T00:00:01 to 2016-01-01T00:00:01, not 2014-12-01 to 2015-11-01): compared with the
reference of the same use case that reads the template's period (GBZ content carries no
counter, so it is the same bytes)."""

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _body(xml: bytes) -> tuple[str, etree._Element]:
    root = etree.fromstring(xml, _PARSER)
    srv = root.findtext(".//{*}ServiceReferenceVariant")
    body = root.find(".//{*}Body")
    assert srv is not None
    assert body is not None
    return srv.strip(), body[0]


def _cases(conformance: Path) -> list[tuple[Path, Path]]:
    found = []
    for template in sorted((conformance / "duis/templates").glob("*_REQUEST_DUIS.XML")):
        srv, _ = _body(template.read_bytes())
        if srv not in READING_SRVS:
            continue
        stem = template.name.removesuffix("_REQUEST_DUIS.XML")
        for reference in conformance.glob(f"gbcs/*/{stem}_COMMAND_GBCS.HEX"):
            found.append((template, reference))
    return found


def _transform(xml: bytes, reference: Message) -> tuple[str, bytes]:
    srv, body = _body(xml)
    found = entry(srv)
    assert found.codec is not None, f"SR {srv} is not served"
    request = found.codec.read(body)
    device_type = DEVICE_TYPES[reference.business_target[-1]]
    name = found.use_case(device_type, request, reference.business_target)
    command = Command(
        request,
        by_name(name),
        reference.originator_counter,
        reference.business_originator,
        reference.business_target,
        datetime(2015, 1, 1, tzinfo=UTC),
    )
    return name, found.codec.build(command)


def test_every_reading_template_becomes_the_reference_command(conformance: Path) -> None:
    compared, skipped, differ = 0, [], []
    for template, reference_path in _cases(conformance):
        if b"KAPublicSecurityCredentials" in template.read_bytes():
            continue  # for an Unknown Remote Party, sent by the ACB: test_future_dated.py
        reference = Message.from_bytes(bytes.fromhex(reference_path.read_text().strip()))
        try:
            name, content = _transform(template.read_bytes(), reference)
        except ServiceError as exc:
            skipped.append(f"{template.name}: {exc.code}")
            continue
        # The file names' use case: "CCS05CCS04" is CCS05/CCS04, "CS02aMAC" CS02a.
        prefix = template.name.split("_")[0].removesuffix("CCS04").removesuffix("MAC")
        expected = by_name(prefix).name
        if name != expected:
            assert SAME_BODY.get(expected) == name, (template.name, name)
            continue
        assert reference.message_code == by_name(name).code
        compared += 1
        if template.name in OTHER_PERIOD:
            other = next(conformance.glob(f"gbcs/*/{OTHER_PERIOD[template.name]}"))
            reference = Message.from_bytes(bytes.fromhex(other.read_text().strip()))
        if content != reference.content:
            differ.append(template.name)
    assert not differ, differ
    # The templates not served: the ACB-sent and unknown-remote-party variants, and the
    # use cases of other device types not built yet.
    assert compared >= 50, (compared, skipped)


def _read(srv: str, inner: str) -> object:
    xml = f'<sr:X xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway">{inner}</sr:X>'
    found = entry(srv)
    assert found.codec is not None
    return found.codec.read(etree.fromstring(xml, _PARSER))


def _period(start: str, end: str) -> str:
    return (
        f"<sr:ReadLogPeriod><sr:StartDateTime>{start}</sr:StartDateTime>"
        f"<sr:EndDateTime>{end}</sr:EndDateTime></sr:ReadLogPeriod>"
    )


def test_a_period_is_read_into_the_span() -> None:
    found = _read("4.8.1", _period("2014-12-31T00:00:00.00Z", "2015-01-01T00:00:00Z"))
    assert found == ReadRequest(
        gc.Span(datetime(2014, 12, 31, tzinfo=UTC), datetime(2015, 1, 1, tzinfo=UTC))
    )


@pytest.mark.parametrize(
    ("srv", "inner", "words"),
    [
        ("4.8.1", _period("2015-01-02T00:00:00Z", "2015-01-01T00:00:00Z"), "before it starts"),
        ("4.8.1", _period("1999-01-02T00:00:00Z", "2015-01-01T00:00:00Z"), "before 2000"),
        ("4.8.1", _period("2015-01-0200:00:00Z", "2015-01-01T00:00:00Z"), "xs:dateTime"),
        ("4.8.1", "", "ReadLogPeriod"),
        ("4.1.2", _period("2015-01-01T00:00:00Z", "2015-01-01T00:00:00Z"), "unexpected"),
        ("6.13", _period("2015-01-01T00:00:00Z", "2015-01-02T00:00:00Z"), "LogToRead"),
        (
            "6.13",
            _period("2015-01-01T00:00:00Z", "2015-01-02T00:00:00Z")
            + "<sr:LogToRead>Diary</sr:LogToRead>",
            "Diary",
        ),
    ],
)
def test_bad_bodies_are_refused_with_a_sentence(srv: str, inner: str, words: str) -> None:
    with pytest.raises(ServiceError) as caught:
        _read(srv, inner)
    assert caught.value.rule == "duis_invalid_element"
    assert words in str(caught.value)


def test_a_log_the_device_type_lacks_is_refused() -> None:
    request = _read(
        "6.13",
        _period("2015-01-01T00:00:00Z", "2015-01-02T00:00:00Z")
        + "<sr:LogToRead>ALCSEvent</sr:LogToRead>",
    )
    with pytest.raises(ServiceError) as caught:
        entry("6.13").use_case(DeviceType.CHF, request, bytes(8))
    assert "ALCSEvent" in str(caught.value)


SUPPLIER_EUI = bytes.fromhex("90b3d51f30010000")
PERIOD = _period("2014-12-01T00:00:00Z", "2015-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("srv", "device_type", "inner", "name"),
    [
        ("4.1.4", DeviceType.GSME, "", "GCS13b"),
        ("4.2", DeviceType.ESME, "", "ECS17a"),
        ("4.4.2", DeviceType.ESME, PERIOD, "ECS20b"),
        ("4.4.4", DeviceType.ESME, PERIOD, "ECS20a"),
        ("4.4.5", DeviceType.ESME, PERIOD, "ECS20d"),
        ("4.6.2", DeviceType.ESME, PERIOD, "ECS21c"),
        ("4.10", DeviceType.ESME, PERIOD, "ECS23"),
        ("4.10", DeviceType.GSME, PERIOD, "GCS18"),
        ("7.4", DeviceType.ESME, "", "ECS45"),
        ("4.18", DeviceType.GSME, "", "GCS60"),
        ("6.2.3", DeviceType.GSME, "", "GCS21k"),
        ("6.2.4", DeviceType.ESME, "", "ECS26i"),
        ("6.2.8", DeviceType.GSME, "", "GCS21a"),
        ("6.2.9", DeviceType.ESME, "", "ECS26j"),
        ("6.2.10", DeviceType.ESME, "", "ECS25r1"),
        ("6.2.10", DeviceType.GSME, "", "GCS20r"),
        ("6.13", DeviceType.ESME, PERIOD + "<sr:LogToRead>PowerEvent</sr:LogToRead>", "ECS35e"),
        ("6.13", DeviceType.GSME, PERIOD + "<sr:LogToRead>Event</sr:LogToRead>", "CS10a"),
        ("6.13", DeviceType.GSME, PERIOD + "<sr:LogToRead>Security</sr:LogToRead>", "CS10b"),
        ("6.13", DeviceType.CHF, PERIOD + "<sr:LogToRead>Security</sr:LogToRead>", "ECS35d"),
        ("6.31", DeviceType.CHF, "", "DBCH01"),
        ("7.15", DeviceType.ESME, "", "ECS61e"),
        ("8.9", DeviceType.GSME, "", "CS07"),
    ],
)
def test_reads_without_a_shared_reference_decode_back_to_the_request(
    srv: str, device_type: DeviceType, inner: str, name: str
) -> None:
    """Built by the same tables and rules as the reads the references check; the content is
    the use case's typed command, carrying the period asked."""
    request = _read(srv, inner)
    found = entry(srv)
    assert found.codec is not None
    device = bytes.fromhex("00db1234567890a0")
    chosen = found.use_case(device_type, request, device)
    assert chosen == name
    uc = by_name(name)
    command = Command(request, uc, 1234, SUPPLIER_EUI, device, datetime(2015, 1, 1, tzinfo=UTC))
    decoded = gc.decode_command(uc.code, found.codec.build(command))
    # GCS18 reads the whole network data log: its command carries no period.
    asked = None if name == "GCS18" else getattr(request, "span", None)
    assert getattr(decoded, "span", None) == asked
    if isinstance(decoded, gc.DlmsRead | gc.ProtectedRead):
        assert decoded.counter == 1234


def test_the_hub_and_auxiliary_reads_are_sent_by_the_acb() -> None:
    for srv, name in (("6.31", "DBCH01"), ("6.13", "ECS35d"), ("4.6.2", "ECS21c")):
        codec = entry(srv).codec
        assert codec is not None
        assert name in codec.acb_use_cases


def test_a_read_for_another_device_type_is_refused_and_11_2_reaches_the_gas_meter() -> None:
    request = _read("4.8.2", PERIOD)
    with pytest.raises(ServiceError) as caught:
        entry("4.8.2").use_case(DeviceType.GSME, request, bytes(8))
    assert caught.value.rule == "device_wrong_type"
    assert entry("11.2").use_case(DeviceType.GSME, _read("11.2", ""), bytes(8)) == "GCS38"


@pytest.mark.parametrize(
    ("inner", "words"),
    [
        ("", "1 to 7"),
        ("<sr:RemotePartyRole>Landlord</sr:RemotePartyRole>", "Landlord"),
        ("<sr:RemotePartyRole>ACB</sr:RemotePartyRole>" * 2, "twice"),
    ],
)
def test_bad_credential_reads_are_refused(inner: str, words: str) -> None:
    with pytest.raises(ServiceError) as caught:
        _read("6.24.1", inner)
    assert caught.value.rule == "duis_invalid_element"
    assert words in str(caught.value)


def _build(srv: str, name: str, inner: str) -> bytes:
    found = entry(srv)
    assert found.codec is not None
    request = _read(srv, inner)
    uc = by_name(name)
    device = bytes.fromhex("00db1234567890a0")
    command = Command(request, uc, 1234, SUPPLIER_EUI, device, datetime(2015, 1, 1, tzinfo=UTC))
    return found.codec.build(command)


def test_the_gas_network_data_read_asks_the_whole_network_data_log() -> None:
    """GCS18: Get Sampled Data of sample id 2 from the earliest sample held (time 1), the 41
    six-minute samples the log holds - whatever period the request gives."""
    for end in ("2015-01-01T04:00:00Z", "2015-01-03T00:00:00Z"):
        content = _build("4.10", "GCS18", _period("2015-01-01T00:00:00Z", end))
        (component,) = GbzPayload.from_bytes(content).components
        assert component.cluster_id == 0x0702
        assert isinstance(component.frame, ZclFrame)
        assert component.frame.command_id == 0x08
        fields = struct.unpack("<HIBH", component.frame.payload)
        assert fields == (2, 1, 0, 4 * 10 + 1)


def test_the_esme_supply_status_reads_the_disconnect_controls_state() -> None:
    """ECS45: one GET of the disconnect control (IC 70, 0-0:96.3.10.255) control_state (3)."""
    apdu = dlms.decode_dlms(_build("7.4", "ECS45", ""))
    assert isinstance(apdu, dlms.AccessRequest)
    (spec,) = apdu.specs
    assert (spec.kind, spec.class_id, str(spec.obis), spec.index) == (
        dlms.AccessKind.GET,
        70,
        "0-0:96.3.10.255",
        3,
    )
    assert apdu.invoke_id == dlms.invoke_id_for(1234)


def test_the_polyphase_network_data_read_asks_each_phase() -> None:
    """ECS23b: ECS23's attributes for L1, L2 and L3, each profile restricted to the period."""
    content = _build("4.10", "ECS23b", PERIOD)
    decoded = gc.decode_command(by_name("ECS23b").code, content)
    assert isinstance(decoded, gc.DlmsRead)
    assert decoded.span == _read("4.10", PERIOD).span  # type: ignore[attr-defined]
    apdu = dlms.decode_dlms(content)
    assert isinstance(apdu, dlms.AccessRequest)
    single = dlms.decode_dlms(_build("4.10", "ECS23", PERIOD))
    assert isinstance(single, dlms.AccessRequest)
    phases = {str(s.obis).split(":")[1].split(".")[0] for s in apdu.specs}
    assert phases == {"32", "52", "72"}
    assert len(apdu.specs) == 3 * len(single.specs)
