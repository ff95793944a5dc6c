"""`smetsim request`: a DUIS request for every served SR, valid against the DUIS 5.4 schema
(when ../shared has it) and read by the gateway's own readers (always); clear refusals."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

import smetsim.requests
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.envelope import parse_request
from gateway.srv.catalogue import CATALOGUE
from gbcs.codes import ACB, DCC_ACCESS_CONTROL, SUPPLIER, KeyPurpose
from smetsim.cli import main
from smetsim.requests import RequestError, request_fields, write_request
from tests.gateway.duis import support
from tests.gateway.duis.support import xmlschema_errors

DER = Encoding.DER

_EXAMPLED = [srv.value for srv, e in CATALOGUE.items() if e.served and e.example is not None]

# Each served SR with its defaults, and the variants of the SRs whose body holds a choice.
CASES: list[tuple[str, dict[str, str], int | None]] = [
    *(
        (srv, {}, None)
        for srv in _EXAMPLED
        if srv
        not in ("6.15.1", "6.15.2", "6.21", "6.23", "8.4", "8.5", "8.13", "11.1", "11.3", "11.4")
    ),
    ("6.15.2", {"DeviceCertificate": "<NO ROLE DS>"}, 4),
    (
        "6.21",
        {
            "DigitalSigningCertificate": "<SUP DS>",
            "KeyAgreementCertificate": "<SUP KA>",
            "Certificate": "<CA>",
        },
        None,
    ),
    (
        "6.23",
        {
            "DigitalSigningCertificate": "<SUP DS>",
            "KeyAgreementCertificate": "<SUP KA>",
            "Certificate": "<CA>",
        },
        None,
    ),
    ("11.3", {"FirmwareHash": "ab" * 32}, None),
    ("11.3", {"FirmwareHash": "ab" * 32, "ExecutionDateTime": "2030-01-01T00:00:00Z"}, None),
    ("11.1", {"FirmwareImage": "U01FVFNJTQ==", "FirmwareVersion": "00020000"}, None),
    ("11.4", {"FirmwareImage": "U01FVFNJTQ==", "FirmwareVersion": "1"}, None),
    ("12.1", {"UPRN": "100023336956"}, None),
    ("8.6", {"SecondaryImportMPAN": "1312345678222", "ExportMPAN": "1312345678333"}, None),
    (
        "8.13",
        {
            "OriginalRequestID": "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:5",
            "DeviceGBCSResponse": "3wAAAA==",
        },
        None,
    ),
    ("8.5", {"KeyAgreementCertificate": "<ACB KA>", "Certificate": "<CA>"}, None),
    (
        "8.5",
        {
            "KeyAgreementCertificate": "<ACB KA>",
            "Certificate": "<CA>",
            "DigitalSigningCertificate": "<ACB DS>",
            "ApplyTimeBasedCPVChecks": "false",
        },
        None,
    ),
    ("2.2", {"UTRN": "12345678901234567890"}, 3),
    ("6.11", {"TolerancePeriod": "30"}, 7),
    ("8.2", {"MPxN": "1312345678111"}, None),
    ("8.2", {"UPRN": "100023336956"}, None),
    ("8.2", {"PostCode": "AB1 2CD", "AddressIdentifier": "1"}, None),
    ("8.4", {"UpdateDeviceStatusExceptCH": "Pending"}, None),
    ("8.4", {"UpdateDeviceStatusCH": "Withdrawn"}, None),
    ("8.4", {"DeleteDevice": "yes"}, None),
    ("8.4", {"FirmwareVersion": "00000200", "DeviceModel": "X"}, None),
    ("8.4", {"ExportMPAN": "1312345678999"}, None),
    ("8.11", {"RequestType": "Remove"}, None),
    ("8.11", {"ExportMPAN": "1312345678999", "SecondaryImportMPAN": "1312345678222"}, None),
    ("12.2", {"DeviceType": "GSME", "ESMEVariant": ""}, None),
    ("6.5", {"PolyPhaseVoltageSettings": "yes", "RMSVoltageCountersNotReset": "yes"}, None),
    ("6.8", {"Daily": "yes"}, None),
    ("6.8", {"Weekly": "7", "BillingTime": "23:30:00"}, None),
    ("6.8", {"Quarterly": "yes", "DayOfMonth": "28", "BillingPeriodStartMonth": "2"}, None),
    ("6.8", {"Yearly": "yes"}, None),
    ("6.8", {"Periodicity": "SixMonthly"}, None),
    ("6.18.2", {"MaxDemandActivePowerExportValue": "yes"}, None),
    (
        "6.18.2",
        {"MaxDemandActivePowerImportValue": "", "MaxDemandConfigTimeActivePowerImportValue": "y"},
        None,
    ),
    ("6.20.1", {"SecondaryImportMPAN": "1312345678222"}, None),
    ("6.20.1", {"ImportMPRN": "1234567890"}, None),
    ("6.7", {"UncontrolledGasFlowRateDecimal": "1.2345", "SupplyTamperState": "Locked"}, None),
    (
        "6.28",
        {"LowerBandSubGHzChannels27To34": "none", "UpperBandSubGHzChannels0To26": "0-3,7"},
        None,
    ),
    ("6.14.2", {"DeactivateSwitch": "yes", "StartDate": "2030-01-*", "SwitchTypeAndId": ""}, None),
    (
        "6.14.2",
        {"index": "5", "SwitchTypeAndId": "00-DB-12-34-56-78-90-A5", "EndDate": "2031-12-31"},
        None,
    ),
    ("7.5", {"index": "3", "Duration": "0"}, None),
    ("7.8", {"index": "5"}, None),
    ("7.10", {"RemoveFromBoostButton": "1,2,5"}, None),
    ("7.16", {"auxiliaryControllerN": "5", "InputFromControlledLoad": "yes"}, None),
    ("7.13", {"auxiliaryControllerN": "2", "InputFromControlledLoad": "yes"}, None),
    ("6.14.3", {"CommandedStateLevel": "100", "InputFromControlledLoad": "yes"}, None),
    ("6.14.3", {"DaysOfWeekApplicability": "", "StartDate": "2030-01-*"}, None),
    ("6.4.1", {"LoadLimitSupplyState": "Disable"}, None),
    ("6.25", {"SupplyTamperState": "Unchanged"}, None),
    ("6.15.1", {"DigitalSigningCertificate": "<SUP DS>", "Certificate": "<CA>"}, 4),
    (
        "6.15.1",
        {
            "DigitalSigningCertificate": "<SUP DS>",
            "KeyAgreementCertificate": "<SUP KA>",
            "Certificate": "<CA>",
            "RemotePartyFloorSeqNumber": "1000",
            "ApplyTimeBasedCPVChecks": "false",
        },
        None,
    ),
    ("6.17", {"CredentialType": "Key Agreement"}, None),
    ("1.2.1", {"ExecutionDateTime": "2030-01-01T00:00:00Z", "TOUPrice": "-150"}, None),
    ("1.1.2", {"ExecutionDateTime": "2030-01-01T00:00:00Z", "NightPrice": "900"}, None),
    ("1.2.2", {"DayPrice": "3100", "PriceScale": "-4"}, None),
    ("1.5", {"ResetMeterBalance": "yes"}, None),
    ("1.5", {"PrepaymentMode": "yes", "AdjustMeterBalance": "-2000"}, None),
    ("1.6", {"Prepayment": "yes"}, None),
    ("1.6", {"DisablementThreshold": "-500", "ExecutionDateTime": "3000-12-31T00:00:00Z"}, None),
    ("2.1", {"ExecutionDateTime": "2030-01-01T00:00:00Z", "MaxCreditThreshold": "0"}, None),
    ("2.1", {"UpdatePrepayConfigElectricity": "yes", "DebtRecoveryRateCap": "65535"}, None),
    ("2.3", {"DebtRecoveryPerPayment": "2500", "DebtRecoveryRatePeriod2": "HOURLY"}, None),
    ("2.3", {"ElecDebtRecovery": "yes", "DebtRecoveryRate1": "-20"}, None),
    ("3.1", {"SupplierMessage": "Top up soon ~ thanks!"}, None),
    ("3.2", {"RestrictionDateTime": "2030-06-01T12:00:00Z"}, None),
    ("3.3", {"ESMEEventLogType": ""}, None),
    ("3.3", {"ESMEEventLogType": "ESME"}, None),
    ("3.4", {"SupplierName": "A", "SupplierTelephoneNumber": "01234 567890"}, None),
    ("6.26", {"DailyTariffBlockCounterMatrixReset": "false"}, None),
    ("6.24.1", {"RemotePartyRole": "Root, Recovery,LoadController"}, None),
]


def _ids(case: tuple[str, dict[str, str], int | None]) -> str:
    srv, fields, cv = case
    return "-".join([srv, *(f"{k}={v}" for k, v in fields.items()), f"cv{cv}"])


def _certificates(fields: dict[str, str]) -> dict[str, str]:
    """The placeholders of CASES as the test PKI's certificates (base64 DER)."""
    pki = support.pki()
    found = {
        "<ACB KA>": pki.certificate(ACB, KeyPurpose.KA),
        "<ACB DS>": pki.certificate(ACB, KeyPurpose.DS),
        "<CA>": pki.certificate(ACB, KeyPurpose.DS),  # any certificate: the schema's form
        "<SUP DS>": pki.certificate(SUPPLIER, KeyPurpose.DS),
        "<SUP KA>": pki.certificate(SUPPLIER, KeyPurpose.KA),
        # A certificate naming an entity with no remote party role: a device certificate's form.
        "<NO ROLE DS>": pki.certificate(DCC_ACCESS_CONTROL, KeyPurpose.DS),
    }
    out = {}
    for name, value in fields.items():
        cert = found.get(value)
        out[name] = value if cert is None else base64.b64encode(cert.public_bytes(DER)).decode()
    return out


def test_every_served_sr_has_a_recipe() -> None:
    """Every served SR's family module gives an example body beside its codec."""
    missing = [srv.value for srv, e in CATALOGUE.items() if e.served and e.example is None]
    assert missing == []


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_the_gateway_reads_what_is_written(case: tuple[str, dict[str, str], int | None]) -> None:
    srv, fields, cv = case
    document = write_request(srv, fields=_certificates(fields), command_variant=cv, counter=7)
    request = parse_request(etree.fromstring(document))
    variant = ServiceReferenceVariant(srv)
    assert request.header.service_reference_variant is variant
    assert request.header.request_id.counter == 7
    entry = CATALOGUE[variant]
    if entry.codec is not None:
        entry.codec.read(request.body)
    else:
        assert entry.non_device_reader is not None
        entry.non_device_reader(request)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_what_is_written_is_valid_against_the_duis_schema(
    case: tuple[str, dict[str, str], int | None], conformance: Path
) -> None:
    srv, fields, cv = case
    document = write_request(srv, fields=_certificates(fields), command_variant=cv)
    assert xmlschema_errors(document, conformance) == []


def test_home_defaults_are_filled_and_the_target_is_the_rows_first_device_type() -> None:
    fields = request_fields("8.2")
    assert fields["MPxN"] == "1312345678111"  # the home's import MPAN
    assert fields["DeviceID"] == "<the --device EUI>"
    assert request_fields("8.11")["DeviceID"] == "00-DB-12-34-56-78-90-B0"
    assert ":00-DB-12-34-56-78-90-A1:" in write_request("6.6").decode()  # the GSME
    assert ":00-DB-12-34-56-78-90-A2:" in write_request("6.28").decode()  # the CHF
    assert ":00-DB-12-34-56-78-90-A0:" in write_request("6.12").decode()  # the ESME


def test_the_default_user_is_one_the_sr_takes() -> None:
    supplier, operator = "90-B3-D5-1F-30-01-00-00:", "90-B3-D5-1F-30-02-00-00:"
    assert supplier in write_request("6.12").decode()  # IS
    assert operator in write_request("6.5").decode()  # ED only
    assert supplier in write_request("6.5", user=SUPPLIER).decode()  # --user wins


def test_attribute_fields_are_written_on_the_body_element() -> None:
    text = write_request("7.16", fields={"auxiliaryControllerN": "4"}).decode()
    assert '<sr:LimitAPCLevel auxiliaryControllerN="4">' in text
    assert "<sr:auxiliaryControllerN" not in text


def test_an_empty_value_leaves_the_element_out() -> None:
    text = write_request("12.2", fields={"DeviceType": "GSME", "ESMEVariant": ""}).decode()
    assert "ESMEVariant" not in text
    assert "<sr:DeviceType>GSME</sr:DeviceType>" in text


def test_the_schema_check_can_fail(conformance: Path) -> None:
    document = write_request("6.11", fields={"TolerancePeriod": "soon"})
    assert xmlschema_errors(document, conformance) != []


def test_defaults_come_from_the_home_and_options_change_them() -> None:
    text = write_request("8.11").decode()
    assert ":00-DB-12-34-56-78-90-A2:" in text  # the home's CHF
    assert "<sr:DeviceID>00-DB-12-34-56-78-90-B0</sr:DeviceID>" in text
    text = write_request(
        "4.1.1", device=bytes.fromhex("00db1234567890a1"), user=bytes.fromhex("90b3d51f30020000")
    ).decode()
    assert "90-B3-D5-1F-30-02-00-00:00-DB-12-34-56-78-90-A1:" in text
    text = write_request("8.3", device=bytes.fromhex("00db1234567890a1")).decode()
    assert "<sr:DeviceID>00-DB-12-34-56-78-90-A1</sr:DeviceID>" in text
    assert ":90-B3-D5-1F-30-00-00-02:" in text  # non-device SRs go to the DCC
    assert "<sr:CommandVariant>4</sr:CommandVariant>" in write_request("7.2").decode()
    assert "<sr:CommandVariant>8</sr:CommandVariant>" in write_request("8.2").decode()


@pytest.mark.parametrize(
    ("srv", "kwargs", "message"),
    [
        ("9.99", {}, "'9.99' is not a DUIS 5.4 service reference variant"),
        ("8.5", {}, "SR 8.5 needs KeyAgreementCertificate=VALUE"),
        (
            "8.5",
            {"fields": {"KeyAgreementCertificate": "not base64!", "Certificate": "x"}},
            "'not base64!' is neither base64 nor a certificate file",
        ),
        ("4.1.1", {"fields": {"Colour": "red"}}, "SR 4.1.1 has no field Colour (its fields: none)"),
        ("2.2", {"fields": {"utrn": "1"}}, "SR 2.2 has no field utrn (its fields: UTRN)"),
        ("4.1.1", {"command_variant": 4}, "SR 4.1.1 takes CommandVariant 1, 2, 3, not 4"),
        ("7.1", {"command_variant": 5}, "CommandVariant 5 carries the signed pre-command"),
        ("8.4", {}, "SR 8.4 changes one thing"),
        ("8.4", {"fields": {"DeleteDevice": "y", "ExportMPAN": "1"}}, "SR 8.4 changes one thing"),
        ("6.8", {"fields": {"Daily": "y", "Weekly": "2"}}, "give one of Daily, Weekly, "),
        (
            "6.28",
            {"fields": {"LowerBandSubGHzChannels27To34": "0-3"}},
            "LowerBandSubGHzChannels27To34='0-3': its channels are 27 to 34",
        ),
        (
            "6.28",
            {"fields": {"GSMECurfew": "1", "UpperBandSubGHzChannels0To26": "x"}},
            "give channels as",
        ),
        ("6.14.2", {"fields": {"StartDate": "tomorrow"}}, "StartDate='tomorrow': give a date as"),
        ("6.14.2", {"fields": {"DaysOfWeekApplicability": "Funday"}}, "'Funday' is not Monday"),
        (
            "7.9",
            {"fields": {"AddToBoostButton": "6"}},
            "AddToBoostButton='6': list switches 1 to 5",
        ),
        ("6.15.1", {}, "SR 6.15.1 needs DigitalSigningCertificate=VALUE"),
        (
            "1.5",
            {"fields": {"ResetMeterBalance": "y", "AdjustMeterBalance": "5"}},
            "give one of AdjustMeterBalance, ResetMeterBalance, not ",
        ),
        (
            "1.6",
            {"fields": {"Credit": "y", "SuspendDebtDisabled": "false"}},
            "give Credit or Prepayment (and its settings), not both",
        ),
        (
            "6.24.1",
            {"fields": {"RemotePartyRole": "Supplier,Landlord"}},
            "RemotePartyRole='Supplier,Landlord': list 1 to 7 different roles",
        ),
        ("6.24.1", {"fields": {"RemotePartyRole": "ACB,ACB"}}, "list 1 to 7 different roles"),
    ],
)
def test_refusals_name_the_problem(srv: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        write_request(srv, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def without_621(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SR has a codec now: an SR that is not served is shown on a catalogue whose 6.21
    has none, as it was before 6.21 was built."""
    srv = ServiceReferenceVariant("6.21")
    patched = dict(CATALOGUE)
    patched[srv] = dataclasses.replace(CATALOGUE[srv], codec=None, non_device_reader=None)
    monkeypatch.setattr(smetsim.requests, "CATALOGUE", patched)


@pytest.mark.usefixtures("without_621")
def test_an_sr_not_served_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = "SR 6.21 (Request Handover Of DCC Controlled Device) is not served"
    with pytest.raises(RequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        write_request("6.21")
    out = tmp_path / "out.xml"
    with pytest.raises(SystemExit) as exit_:
        main(["request", "6.21", "-o", str(out)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.startswith("smetsim: error: SR 6.21 (Request Handover")
    assert not out.exists()


def test_the_command_writes_a_file_or_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "read.xml"
    with pytest.raises(SystemExit) as exit_:
        main(["request", "6.11", "TolerancePeriod=30", "--cv", "4", "-o", str(out)])
    assert exit_.value.code == 0
    assert "<sr:TolerancePeriod>30</sr:TolerancePeriod>" in out.read_text()
    with pytest.raises(SystemExit):
        main(["request", "11.2"])
    assert "<sr:ReadFirmwareVersion/>" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["request", "4.1.1", "Colour=red"], "smetsim: error: SR 4.1.1 has no field Colour"),
        (["request", "4.1.1", "Colour"], "smetsim: error: 'Colour' is not field=value"),
        (["request", "4.1.1", "--device", "nope"], "smetsim: error: Invalid value for '--device'"),
    ],
)
def test_the_command_refuses_in_one_line_and_writes_nothing(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.xml"
    with pytest.raises(SystemExit) as exit_:
        main([*args, "-o", str(out)])
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message), captured.err
    assert captured.err.count("\n") == 1
    assert captured.out == ""
    assert not out.exists()


def test_fields_lists_an_srs_fields(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["request", "6.11", "--fields"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("CurrentDateTime=")
    assert lines[1] == "TolerancePeriod=60"


def test_a_certificate_can_be_given_as_a_pem_or_der_file(tmp_path: Path) -> None:
    cert = support.pki().certificate(ACB, KeyPurpose.KA)
    assert cert is not None
    pem, der = tmp_path / "acb-ka.pem", tmp_path / "acb-ka.der"
    pem.write_bytes(cert.public_bytes(Encoding.PEM))
    der.write_bytes(cert.public_bytes(DER))
    expected = base64.b64encode(cert.public_bytes(DER)).decode()
    text = write_request(
        "8.5", fields={"KeyAgreementCertificate": str(pem), "Certificate": str(der)}
    ).decode()
    assert text.count(expected) == 2
