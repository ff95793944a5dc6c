"""Configuration and auxiliary load control SRs: each DCC template's transform is the DCC's
reference command (content byte for byte), and bad bodies are refused with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gbcs import content as gc
from tests.gateway.srv.support import transform

TEMPLATES = [
    "ECS28b_6.4.2_SUCCESS_REQUEST_DUIS.XML",
    "ECS29a_6.5_SUCCESS_REQUEST_DUIS.XML",
    "ECS29b_6.5_SUCCESS_REQUEST_DUIS.XML",
    "ECS29c_6.5_SUCCESS_REQUEST_DUIS.XML",
    "ECS29e_6.27_SUCCESS_REQUEST_DUIS.XML",
    "ECS30_6.8_SUCCESS_REQUEST_DUIS.XML",
    "ECS30a_6.8_SUCCESS_REQUEST_DUIS.XML",
    "ECS34_6.12_SUCCESS_REQUEST_DUIS.XML",
    "ECS37_6.18.1_SUCCESS_REQUEST_DUIS.XML",
    "ECS39a_6.20.1_SINGLE_SUCCESS_REQUEST_DUIS.XML",
    "ECS39a_6.20.1_TWIN_SUCCESS_REQUEST_DUIS.XML",
    "ECS39b_6.20.2_SUCCESS_REQUEST_DUIS.XML",
    "ECS46a_6.14.1_ALL_OPTIONALS_SUCCESS_REQUEST_DUIS.XML",
    "ECS46a_6.14.1_SOME_OPTIONALS_SUCCESS_REQUEST_DUIS.XML",
    "ECS46c_6.14.2_IMMEDIATE_SOME_OPTIONALS_SUCCESS_REQUEST_DUIS.XML",
    "ECS47Activate_7.5_SUCCESS_REQUEST_DUIS.XML",
    "ECS47Deactivate_7.6_SUCCESS_REQUEST_DUIS.XML",
    "ECS47Reset_7.8_SUCCESS_REQUEST_DUIS.XML",
    "ECS47e_7.16_APC_INPUT_SUCCESS_REQUEST_DUIS.XML",
    "ECS47e_7.16_APC_OUTPUT_SUCCESS_REQUEST_DUIS.XML",
    "ECS57_6.18.2_ALL_OPTIONALS_SUCCESS_REQUEST_DUIS.XML",
    "ECS57_6.18.2_SOME_OPTIONALS_SUCCESS_REQUEST_DUIS.XML",
    "ECS62Add_7.9_SUCCESS_REQUEST_DUIS.XML",
    "ECS62Remove_7.10_SUCCESS_REQUEST_DUIS.XML",
    "DBCH04_6.28_SUCCESS_REQUEST_DUIS.XML",
]

GAS_TEMPLATES = [
    "GCS23_6.6_SUCCESS_REQUEST_DUIS.XML",
    "GCS24_6.7_SUCCESS_REQUEST_DUIS.XML",
    "GCS24a_6.7_SUCCESS_REQUEST_DUIS.XML",
    "GCS25a_6.8_SUCCESS_REQUEST_DUIS.XML",
    "GCS41_6.20.1_SUCCESS_REQUEST_DUIS.XML",
]
"""GSME settings: their issuer event id is the gateway's clock, which the support module sets
to the time the DCC made its references (2015-01-01)."""

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_template_becomes_the_dcc_reference_command(conformance: Path, template: str) -> None:
    found = transform(conformance, template)
    assert found.ours == found.reference.content
    # and the device side reads it back as the same typed command
    typed = gc.decode_command(found.reference.message_code, found.ours)
    assert isinstance(typed, gc.DeviceSettings)
    assert typed.counter == found.reference.originator_counter % (1 << 24)


@pytest.mark.parametrize("template", GAS_TEMPLATES)
def test_the_gas_template_becomes_the_dcc_reference_command(
    conformance: Path, template: str
) -> None:
    found = transform(conformance, template)
    assert found.ours == found.reference.content
    assert isinstance(gc.decode_command(found.reference.message_code, found.ours), gc.GasSettings)


def _body(xml: str) -> etree._Element:
    return etree.fromstring(f'<sr:B xmlns:sr="{SR}">{xml}</sr:B>')[0]


def _refused(srv: str, xml: str) -> str:
    codec = entry(srv).codec
    assert codec is not None
    with pytest.raises(ServiceError) as refused:
        codec.read(_body(xml))
    assert refused.value.code == "E42", refused.value
    return str(refused.value)


_RMS = "".join(
    f"<sr:{k}{w}>{v}</sr:{k}{w}>"
    for k in ("RMSExtremeOverVoltage", "RMSExtremeUnderVoltage", "RMSVoltageSag", "RMSVoltageSwell")
    for w, v in (("MeasurementPeriod", 30), ("Threshold", 250))
)
_AVG = (
    "<sr:AverageRMSOverVoltageThreshold>264</sr:AverageRMSOverVoltageThreshold>"
    "<sr:AverageRMSUnderVoltageThreshold>200</sr:AverageRMSUnderVoltageThreshold>"
    "<sr:AverageRMSVoltageMeasurementPeriod>30</sr:AverageRMSVoltageMeasurementPeriod>"
)


@pytest.mark.parametrize(
    ("srv", "xml", "says"),
    [
        (
            "6.5",
            "<sr:UpdateDeviceConfigurationVoltage><sr:RMSVoltageSettings>"
            + _RMS
            + "</sr:RMSVoltageSettings></sr:UpdateDeviceConfigurationVoltage>",
            "SinglePhaseVoltageSettings or three",
        ),
        (
            "6.5",
            "<sr:UpdateDeviceConfigurationVoltage><sr:RMSVoltageSettings>"
            + _RMS.replace(">250<", ">-1<", 1)
            + "</sr:RMSVoltageSettings><sr:SinglePhaseVoltageSettings>"
            + _AVG
            + "</sr:SinglePhaseVoltageSettings></sr:UpdateDeviceConfigurationVoltage>",
            "'-1'",
        ),
        (
            "6.12",
            "<sr:X><sr:LowMediumPowerThreshold>5000</sr:LowMediumPowerThreshold>"
            "<sr:MediumHighPowerThreshold>4600</sr:MediumHighPowerThreshold></sr:X>",
            "below the low/medium",
        ),
        (
            "6.8",
            "<sr:X><sr:ElectricityBillingCalendar><sr:BillingTime>12:00:00Z</sr:BillingTime>"
            "<sr:Monthly>29</sr:Monthly></sr:ElectricityBillingCalendar></sr:X>",
            "'29'",
        ),
        ("6.18.2", "<sr:ResetMaximumDemandRegisters/>", "no register"),
        (
            "6.20.1",
            "<sr:X><sr:ImportMPANs><sr:ImportMPAN>12345</sr:ImportMPAN></sr:ImportMPANs></sr:X>",
            "13 digits",
        ),
        (
            "6.14.1",
            '<sr:X><sr:ALCSHCALCSDescription index="6"><sr:SwitchDescription>a'
            "</sr:SwitchDescription></sr:ALCSHCALCSDescription></sr:X>",
            "'6'",
        ),
        (
            "6.14.1",
            '<sr:X><sr:ALCSHCALCSDescription index="1"><sr:SwitchDescription>'
            + "x" * 23
            + "</sr:SwitchDescription></sr:ALCSHCALCSDescription></sr:X>",
            "1 to 22",
        ),
        (
            "7.5",
            '<sr:ActivateAuxiliaryLoad><sr:ActivateALCSHCALCS index="1">'
            "<sr:Duration>70000</sr:Duration></sr:ActivateALCSHCALCS></sr:ActivateAuxiliaryLoad>",
            "'70000'",
        ),
        (
            "7.9",
            "<sr:X>"
            + "".join(
                f'<sr:AddToBoostButton index="{n}">false</sr:AddToBoostButton>' for n in range(1, 6)
            )
            + "</sr:X>",
            "change nothing",
        ),
        (
            "6.28",
            "<sr:X><sr:LowerBandSubGHzChannels0To26><sr:Channel27/>"
            "</sr:LowerBandSubGHzChannels0To26></sr:X>",
            "Channel27 is not a channel 0 to 26",
        ),
        (
            "6.6",
            "<sr:X><sr:CalorificValue>40.05</sr:CalorificValue>"
            "<sr:ConversionFactor>1.02264</sr:ConversionFactor></sr:X>",
            "more than 1 decimal places",
        ),
        (
            "6.6",
            "<sr:X><sr:CalorificValue>40.0</sr:CalorificValue>"
            "<sr:ConversionFactor>0</sr:ConversionFactor></sr:X>",
            "zero every reading",
        ),
        (
            "6.7",
            "<sr:X><sr:UncontrolledGasFlowRateDecimal>6.6</sr:UncontrolledGasFlowRateDecimal>"
            "<sr:SupplyDepletionState>Unchanged</sr:SupplyDepletionState>"
            "<sr:SupplyTamperState>Unchanged</sr:SupplyTamperState>"
            "<sr:StabilisationPeriod>60</sr:StabilisationPeriod>"
            "<sr:MeasurementPeriod>300</sr:MeasurementPeriod></sr:X>",
            "above 6.5535",
        ),
        (
            "6.8",
            "<sr:X><sr:GasBillingCalendar><sr:BillingPeriodStart>2015-01-01T00:00:00Z"
            "</sr:BillingPeriodStart><sr:Periodicity>Fortnightly</sr:Periodicity>"
            "</sr:GasBillingCalendar></sr:X>",
            "'Fortnightly'",
        ),
        (
            "7.16",
            '<sr:LimitAPCLevel auxiliaryControllerN="1">'
            "<sr:StartDateTime>2015-01-03T01:00:00Z</sr:StartDateTime>"
            "<sr:EndDateTime>2015-01-03T00:00:00Z</sr:EndDateTime>"
            "<sr:CommandedStateLevel>50</sr:CommandedStateLevel></sr:LimitAPCLevel>",
            "after StartDateTime",
        ),
        (
            "7.16",
            '<sr:LimitAPCLevel auxiliaryControllerN="1">'
            "<sr:StartDateTime>2015-01-03T00:00:00Z</sr:StartDateTime>"
            "<sr:EndDateTime>2015-01-03T01:00:00Z</sr:EndDateTime>"
            "<sr:CommandedStateLevel>101</sr:CommandedStateLevel></sr:LimitAPCLevel>",
            "'101'",
        ),
    ],
)
def test_bad_bodies_are_refused_with_a_sentence(srv: str, xml: str, says: str) -> None:
    assert says in _refused(srv, xml)


def test_a_settings_command_addressing_another_use_cases_object_is_not_that_use_case() -> None:
    from gbcs.errors import DecodeError
    from gbcs.payloads import dlms

    wrong = gc.DeviceSettings(0x0047, 1, ((dlms.set_(1, "0-0:94.44.6.1", 2), dlms.boolean(True)),))
    with pytest.raises(DecodeError):
        wrong.encode()
