"""SR6.22 Configure Alert Behaviour: each DCC template's transform is the DCC's reference
command (content byte for byte), the polyphase settings go to a polyphase ESME only (the
meter's variant), the gas event settings build GCS20, and bad bodies are refused with a
sentence."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.alerts import (
    NETWORK_OPERATOR_POLYPHASE,
    SUPPLIER_ESME_POLYPHASE,
    ConfigureAlertBehaviour,
)
from gateway.srv.catalogue import entry
from gateway.srv.example import ExampleError, Values
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.usecases import by_name
from tests.gateway.srv.support import transform

TEMPLATES = [
    "ECS25a1_6.22_SUCCESS_REQUEST_DUIS.XML",
    "ECS25a2_6.22_SUCCESS_REQUEST_DUIS.XML",
    "ECS25b_6.22_SUCCESS_REQUEST_DUIS.XML",
    "ECS25b3_6.22_SUCCESS_REQUEST_DUIS.XML",
]
NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
ESME = bytes.fromhex("00db1234567890a0")


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_transform_is_the_dcc_reference(conformance: Path, template: str) -> None:
    found = transform(conformance, template)
    assert found.use_case == template.split("_")[0]
    assert found.ours == found.reference.content


def _body(inner: str) -> etree._Element:
    return etree.fromstring(
        f'<sr:ConfigureAlertBehaviour xmlns:sr="{NS}">{inner}</sr:ConfigureAlertBehaviour>'
    )


def _read(inner: str) -> ConfigureAlertBehaviour:
    codec = entry("6.22").codec
    assert codec is not None
    request: ConfigureAlertBehaviour = codec.read(_body(inner))
    return request


def _build(
    request: ConfigureAlertBehaviour,
    use_case: str,
    counter: int = 5,
    variant: str | None = None,
) -> bytes:
    codec = entry("6.22").codec
    assert codec is not None
    originator = NETWORK_OPERATOR if use_case.startswith("ECS25b") else SUPPLIER
    return codec.build(
        Command(
            request,
            by_name(use_case),
            counter,
            originator,
            ESME,
            _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC),
            esme_variant=variant,
        )
    )


def _settings(content: bytes, use_case: str) -> tuple[tuple[int, bool], ...]:
    command = gc.decode_command(by_name(use_case).code, content)
    assert isinstance(command, gc.SetAlertBehaviour)
    return command.settings


@pytest.mark.parametrize(
    ("group", "use_case", "inner", "codes"),
    [
        ("ElectricitySupplierAlerts", "ECS25a", "SupplierESMECommon", (0x81A0, 0x81C6)),
        ("ElectricitySupplierLoggingSettings", "ECS25a3", "SupplierESMECommon", (0x810E,)),
        (
            "ElectricityNetworkOperatorAlerts",
            "ECS25b",
            "NetworkOperatorESMESinglePhase",
            (0x8002, 0x8099),
        ),
    ],
)
def test_use_cases_without_a_reference_follow_the_same_rule(
    group: str, use_case: str, inner: str, codes: tuple[int, ...]
) -> None:
    """ECS25a and ECS25a3 have no DCC reference: the same layout on their own objects."""
    settings = "".join(
        f"<sr:x{code:04X}>{'Enable' if n % 2 else 'Disable'}</sr:x{code:04X}>"
        for n, code in enumerate(codes)
    )
    request = _read(f"<sr:{group}><sr:{inner}>{settings}</sr:{inner}></sr:{group}>")
    assert request.use_case == use_case
    content = _build(request, use_case)
    command = gc.decode_command(by_name(use_case).code, content)
    assert isinstance(command, gc.SetAlertBehaviour)
    assert command.settings == tuple((code, bool(n % 2)) for n, code in enumerate(codes))
    assert command.target.use_case == use_case


_MIXED = (
    "<sr:ElectricitySupplierAlerts><sr:SupplierESMECommon><sr:x810D>Enable</sr:x810D>"
    "</sr:SupplierESMECommon><sr:SupplierESMEPolyPhase><sr:x81B7>Disable</sr:x81B7>"
    "</sr:SupplierESMEPolyPhase></sr:ElectricitySupplierAlerts>"
)
_POLYPHASE_ONLY = (
    "<sr:ElectricityNetworkOperatorAlerts><sr:NetworkOperatorESMEPolyPhase>"
    "<sr:x8003>Enable</sr:x8003><sr:x8016>Disable</sr:x8016></sr:NetworkOperatorESMEPolyPhase>"
    "</sr:ElectricityNetworkOperatorAlerts>"
)


@pytest.mark.parametrize("variant", ["C", "CD", "CDEF", "CEF"])
def test_a_polyphase_esme_gets_the_polyphase_settings(variant: str) -> None:
    request = _read(_MIXED)
    assert [(s.code, s.polyphase) for s in request.settings] == [(0x810D, False), (0x81B7, True)]
    content = _build(request, "ECS25a", variant=variant)
    assert _settings(content, "ECS25a") == ((0x810D, True), (0x81B7, False))
    alone = _build(_read(_POLYPHASE_ONLY), "ECS25b", variant=variant)
    assert _settings(alone, "ECS25b") == ((0x8003, True), (0x8016, False))


@pytest.mark.parametrize("variant", [None, "A", "B", "AD", "BDEF", "AEG"])
def test_a_single_phase_esme_gets_the_others_only(variant: str | None) -> None:
    """Single element (A..), twin element (B..) or not known: the DCC leaves the polyphase
    settings out (as its ECS25b reference does with the template's x8003)."""
    content = _build(_read(_MIXED), "ECS25a", variant=variant)
    assert _settings(content, "ECS25a") == ((0x810D, True),)


@pytest.mark.parametrize("variant", [None, "A", "BD"])
def test_only_polyphase_settings_for_a_single_phase_esme_are_refused(
    variant: str | None,
) -> None:
    request = _read(_POLYPHASE_ONLY)  # read: the meter is not known yet
    with pytest.raises(ServiceError) as refused:
        _build(request, "ECS25b", variant=variant)
    assert refused.value.code == "E42"
    sentence = refused.value.sentence
    assert "only polyphase settings" in sentence
    assert "00-DB-12-34-56-78-90-A0 is single phase" in sentence
    assert f"ESME variant {variant or 'not known'}" in sentence


_GAS = (
    "<sr:GasSupplierAlertEventSettings>"
    "<sr:x810E><sr:WANAlert>Enable</sr:WANAlert><sr:HANAlert>Disable</sr:HANAlert>"
    "<sr:EventLog>Disable</sr:EventLog><sr:Alarm>Disable</sr:Alarm></sr:x810E>"
    "<sr:x8161><sr:WANAlert>Disable</sr:WANAlert><sr:HANAlert>Disable</sr:HANAlert>"
    "<sr:EventLog>Enable</sr:EventLog><sr:Alarm>Enable</sr:Alarm></sr:x8161>"
    "<sr:x81AA><sr:WANAlert>Enable</sr:WANAlert><sr:HANAlert>Enable</sr:HANAlert>"
    "<sr:EventLog>Enable</sr:EventLog><sr:Alarm>Enable</sr:Alarm></sr:x81AA>"
    "<sr:x81C6><sr:WANAlert>Disable</sr:WANAlert><sr:HANAlert>Disable</sr:HANAlert>"
    "<sr:EventLog>Enable</sr:EventLog><sr:Alarm>Enable</sr:Alarm></sr:x81C6>"
    "</sr:GasSupplierAlertEventSettings>"
)


def test_gas_event_settings_build_gcs20() -> None:
    """One Set Event Configuration per distinct configuration (ZCL Device Management:
    log as general event 3, push to WAN 0x08, to HAN 0x10, physical alarm 0x40), each
    listing its events; the Issuer Event ID is the DCC's clock."""
    request = _read(_GAS)
    e = entry("6.22")
    assert e.codec is not None
    assert e.codec.use_case_for(request, ("GCS20",)) == "GCS20"
    assert "GCS20" in e.codec.builds
    now = _dt.datetime(2026, 1, 1, tzinfo=_dt.UTC)
    content = e.codec.build(Command(request, by_name("GCS20"), 9, SUPPLIER, ESME, now))
    command = gc.decode_command(0x00AD, content)
    assert isinstance(command, gc.GasEventBehaviours)
    assert command.issued == gc.issuer_id(now)
    assert [(b.to_bits(), codes) for b, codes in command.groups] == [
        (0x08, (0x810E,)),
        (0x43, (0x8161, 0x81C6)),
        (0x5B, (0x81AA,)),
    ]
    assert command.settings()[0x8161] == gc.EventBehaviour(
        wan=False, han=False, log=True, alarm=True
    )


def test_gas_wan_only_settings_are_not_built() -> None:
    with pytest.raises(ServiceError) as refused:
        _read("<sr:GasSupplierAlerts><sr:x810D>Enable</sr:x810D></sr:GasSupplierAlerts>")
    assert refused.value.code == "E47"
    assert "GasSupplierAlertEventSettings" in refused.value.sentence


def test_gas_settings_are_refused_for_an_esme() -> None:
    e = entry("6.22")
    assert e.codec is not None
    with pytest.raises(ServiceError) as refused:
        e.codec.use_case_for(_read(_GAS), ("ECS25a", "ECS25a1"))
    assert "GSME" in refused.value.sentence


@pytest.mark.parametrize(
    ("inner", "says"),
    [
        ("", "must hold one of"),
        (
            "<sr:ElectricitySupplierAlerts><sr:SupplierESMECommon><sr:x810D>On</sr:x810D>"
            "</sr:SupplierESMECommon></sr:ElectricitySupplierAlerts>",
            "neither Enable nor Disable",
        ),
        (
            "<sr:ElectricitySupplierAlerts><sr:SupplierESMECommon><sr:x8014>Enable</sr:x8014>"
            "</sr:SupplierESMECommon></sr:ElectricitySupplierAlerts>",
            "unexpected element x8014",
        ),
        (
            "<sr:ElectricitySupplierAlerts><sr:SupplierESMECommon/></sr:ElectricitySupplierAlerts>",
            "holds no alert setting",
        ),
        ("<sr:ElectricitySupplierAlerts/>", "holds no settings group"),
        (
            "<sr:ElectricityNetworkOperatorAlerts><sr:NetworkOperatorESMESinglePhase>"
            "<sr:x8002>Enable</sr:x8002></sr:NetworkOperatorESMESinglePhase>"
            "<sr:NetworkOperatorESMEPolyPhase><sr:x8003>Enable</sr:x8003>"
            "</sr:NetworkOperatorESMEPolyPhase></sr:ElectricityNetworkOperatorAlerts>",
            "not both",
        ),
        (
            "<sr:ElectricitySupplierAlerts><sr:SupplierESMECommon><sr:x810D>Enable</sr:x810D>"
            "<sr:x810D>Disable</sr:x810D></sr:SupplierESMECommon></sr:ElectricitySupplierAlerts>",
            "appears twice",
        ),
        ("<sr:GasSupplierAlertEventSettings/>", "holds no alert setting"),
        (
            "<sr:GasSupplierAlertEventSettings><sr:x810E><sr:WANAlert>Enable</sr:WANAlert>"
            "</sr:x810E></sr:GasSupplierAlertEventSettings>",
            "HANAlert, EventLog, Alarm missing",
        ),
        (
            "<sr:GasSupplierAlertEventSettings><sr:x810E><sr:WANAlert>Yes</sr:WANAlert>"
            "<sr:HANAlert>Enable</sr:HANAlert><sr:EventLog>Enable</sr:EventLog>"
            "<sr:Alarm>Enable</sr:Alarm></sr:x810E></sr:GasSupplierAlertEventSettings>",
            "neither Enable nor Disable",
        ),
        (
            "<sr:GasSupplierAlertEventSettings><sr:x81B7><sr:WANAlert>Enable</sr:WANAlert>"
            "</sr:x81B7></sr:GasSupplierAlertEventSettings>",
            "unexpected element x81B7",
        ),
    ],
)
def test_bad_bodies_are_refused_with_a_sentence(inner: str, says: str) -> None:
    with pytest.raises(ServiceError) as refused:
        _read(inner)
    assert refused.value.code == "E42"
    assert says in refused.value.sentence


def test_electricity_settings_are_refused_for_a_gsme() -> None:
    request = _read(
        "<sr:ElectricitySupplierAlerts><sr:SupplierESMECommon><sr:x810D>Enable</sr:x810D>"
        "</sr:SupplierESMECommon></sr:ElectricitySupplierAlerts>"
    )
    e = entry("6.22")
    assert e.codec is not None
    with pytest.raises(ServiceError) as refused:
        e.codec.use_case_for(request, ("GCS20",))
    assert "ESME" in refused.value.sentence


def test_the_polyphase_groups_are_the_alerts_a_single_phase_esme_refuses() -> None:
    assert frozenset(SUPPLIER_ESME_POLYPHASE + NETWORK_OPERATOR_POLYPHASE) == gc.POLYPHASE_ALERTS


def test_the_example_writes_a_gsmes_settings_too() -> None:
    codec = entry("6.22").codec
    assert codec is not None
    assert codec.example is not None
    group = {"Group": "GasSupplierAlertEventSettings", "Enable": "81A0", "Disable": "8119"}
    content = codec.example.content(Values(group, frozenset(group)))
    request = _read(content)
    on = gc.EventBehaviour(wan=True, han=True, log=True, alarm=True)
    off = gc.EventBehaviour(wan=False, han=False, log=False, alarm=False)
    assert request.gas == ((0x8119, off), (0x81A0, on))
    with pytest.raises(ExampleError, match="GasSupplierAlertEventSettings"):
        codec.example.content(Values({**group, "Group": "Gas"}, frozenset(group)))
