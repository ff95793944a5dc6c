"""SRs 1.5, 2.3, 3.3 and 3.5 to the ESME (ECS04a, ECS04b, ECS07, ECS15a, ECS14) and 1.5's
prepayment-mode variants to the GSME (GCS40a, GCS40b): each body becomes its use case's
content, whose typed decoding reads back what the body said, and bad bodies are refused.

The conformance set holds no template or reference for these use cases: the bodies are
written from the DUIS schema and the content is checked field by field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.codes import SUPPLIER
from gbcs.devices import DeviceType
from gbcs.usecases import by_name

NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
ESME = bytes.fromhex("00DB1234567890A0")
GSME = bytes.fromhex("00DB1234567890A1")
NOW = datetime(2015, 1, 1, tzinfo=UTC)


def _build(srv: str, element: str, inner: str, kind: DeviceType) -> tuple[str, object]:
    found = entry(srv)
    assert found.codec is not None
    body = etree.fromstring(f'<sr:{element} xmlns:sr="{NS}">{inner}</sr:{element}>')
    request = found.codec.read(body)
    device = ESME if kind is DeviceType.ESME else GSME
    name = found.use_case(kind, request, device)
    uc = by_name(name)
    content = found.codec.build(Command(request, uc, 1005, SUPPLIER, device, NOW))
    return name, gc.decode_command(uc.code, content)


def _balance(mode: str, action: str) -> str:
    return f"<sr:{mode}>{action}</sr:{mode}>"


@pytest.mark.parametrize(
    ("kind", "mode", "action", "expected"),
    [
        (DeviceType.ESME, "PrepaymentMode", "<sr:AdjustMeterBalance>-2500</sr:AdjustMeterBalance>",
         ("ECS04a", gc.AdjustMeterBalance(1005, -2500))),
        (DeviceType.ESME, "CreditMode", "<sr:ResetMeterBalance/>",
         ("ECS04b", gc.ResetMeterBalance(1005))),
        (DeviceType.GSME, "PrepaymentMode", "<sr:AdjustMeterBalance>23130</sr:AdjustMeterBalance>",
         ("GCS40a", gc.GasMeterBalance(gc.issuer_id(NOW), gc.CreditAdjustment.INCREMENTAL, 23130))),
        (DeviceType.GSME, "PrepaymentMode", "<sr:ResetMeterBalance/>",
         ("GCS40b", gc.GasMeterBalance(gc.issuer_id(NOW), gc.CreditAdjustment.ABSOLUTE, 0))),
    ],
)  # fmt: skip
def test_the_meter_balance_becomes_its_use_case(
    kind: DeviceType, mode: str, action: str, expected: tuple[str, object]
) -> None:
    assert _build("1.5", "UpdateMeterBalance", _balance(mode, action), kind) == expected


def _debt(recovery: str = "Elec", scale: str = "<sr:DebtRecoveryRatePriceScale>-1"
          "</sr:DebtRecoveryRatePriceScale>", rate: str = "3") -> str:  # fmt: skip
    recoveries = "".join(
        f"<sr:{recovery}DebtRecovery{n}><sr:DebtRecoveryRate>{r}</sr:DebtRecoveryRate>{scale}"
        f"<sr:DebtRecoveryRatePeriod>{p}</sr:DebtRecoveryRatePeriod></sr:{recovery}DebtRecovery{n}>"
        for n, r, p in ((1, rate, "DAILY"), (2, "15", "HOURLY"))
    )
    return (
        "<sr:TimeDebtRegister1>30000</sr:TimeDebtRegister1>"
        "<sr:TimeDebtRegister2>-15000</sr:TimeDebtRegister2>"
        "<sr:PaymentDebtRegister>50000</sr:PaymentDebtRegister>"
        f"<sr:DebtRecoveryPerPayment>1000</sr:DebtRecoveryPerPayment>{recoveries}"
    )


def test_an_esme_debt_update_is_ecs07() -> None:
    name, found = _build("2.3", "UpdateDebt", _debt(), DeviceType.ESME)
    assert name == "ECS07"
    assert found == gc.ManageDebt(
        1005,
        gc.TimeDebtRecovery(3, -1, gc.RecoveryInterval.DAILY),
        gc.TimeDebtRecovery(15, -1, gc.RecoveryInterval.HOURLY),
        per_payment=1000,
        payment_debt=50000,
        time_debt_1=30000,
        time_debt_2=-15000,
    )


@pytest.mark.parametrize(
    ("inner", "words"),
    [
        (_debt(rate="40000"), "-32768 to 32767"),
        (_debt(scale=""), "DebtRecoveryRatePriceScale is missing"),
        (_debt(recovery="Gas", scale=""), "ElecDebtRecovery1 and 2"),
    ],
)
def test_a_bad_esme_debt_update_is_refused(inner: str, words: str) -> None:
    with pytest.raises(ServiceError) as caught:
        _build("2.3", "UpdateDebt", inner, DeviceType.ESME)
    assert words in str(caught.value)


def test_the_esme_event_log_and_privacy_pin() -> None:
    log = "<sr:ESMEEventLogType>ESME</sr:ESMEEventLogType>"
    assert _build("3.3", "ClearEventLog", log, DeviceType.ESME) == (
        "ECS15a",
        gc.ClearEsmeEventLog(1005),
    )
    assert _build("3.5", "DisablePrivacyPIN", "", DeviceType.ESME) == (
        "ECS14",
        gc.DisableEsmePrivacyPin(1005),
    )
