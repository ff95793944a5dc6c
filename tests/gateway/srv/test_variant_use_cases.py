"""The use cases one SR body maps to by what the gateway knows besides the body: SR6.8's gas
calendar (GCS25 monthly, GCS25a the other periodicities), SR6.27 and SR4.10 on a polyphase
ESME (ECS29f, ECS23b, by the SMI's ESME variant) and SR8.8.2's method B unjoin (CS04b, by the
two devices' types). Each built from the GBCS use case and checked against the rules it
follows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gateway.srv.han import UnjoinService, unjoin_use_case
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.content.configuration import spec_key
from gbcs.devices import DeviceType
from gbcs.payloads import dlms
from gbcs.payloads.gbz import zigbee_time
from gbcs.usecases import by_name

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SUPPLIER = bytes.fromhex("90B3D51F30010000")
GSME = bytes.fromhex("00DB1234567890A1")
ESME = bytes.fromhex("00DB1234567890A0")
GPF = bytes.fromhex("00DB1234567890A3")


def _body(xml: str) -> etree._Element:
    return etree.fromstring(f'<sr:B xmlns:sr="{SR}">{xml}</sr:B>')[0]


def _gas_calendar(periodicity: str, start: str = "2024-04-01T00:00:00Z") -> etree._Element:
    return _body(
        "<sr:UpdateDeviceConfigurationBillingCalendar><sr:GasBillingCalendar>"
        f"<sr:BillingPeriodStart>{start}</sr:BillingPeriodStart>"
        f"<sr:Periodicity>{periodicity}</sr:Periodicity>"
        "</sr:GasBillingCalendar></sr:UpdateDeviceConfigurationBillingCalendar>"
    )


def _command(request: object, name: str, device: bytes, variant: str | None = None) -> Command:
    return Command(request, by_name(name), 7, SUPPLIER, device, NOW, esme_variant=variant)


# ------------------------------------------------------------------- 6.8 on a GSME: GCS25


@pytest.mark.parametrize(
    ("periodicity", "wanted"),
    [
        ("Monthly", "GCS25"),
        ("Daily", "GCS25a"),
        ("Weekly", "GCS25a"),
        ("Quarterly", "GCS25a"),
        ("SixMonthly", "GCS25a"),
        ("Yearly", "GCS25a"),
    ],
)
def test_a_monthly_gas_calendar_is_gcs25_the_others_gcs25a(periodicity: str, wanted: str) -> None:
    e = entry("6.8")
    assert e.codec is not None
    request = e.codec.read(_gas_calendar(periodicity))
    assert e.use_case(DeviceType.GSME, request, GSME) == wanted


def test_gcs25_publishes_one_month_billing_periods_from_the_start() -> None:
    e = entry("6.8")
    assert e.codec is not None
    request = e.codec.read(_gas_calendar("Monthly"))
    content = e.codec.build(_command(request, "GCS25", GSME))
    typed = gc.decode_command(0x007E, content)
    assert isinstance(typed, gc.GasSettings)
    assert typed.message_code == 0x007E
    billing, block = typed.calls
    assert (billing.cluster, billing.command_id) == (0x0700, 0x09)
    assert (block.cluster, block.command_id) == (0x0700, 0x01)
    start = zigbee_time(datetime(2024, 4, 1, tzinfo=UTC))
    event = zigbee_time(NOW)
    # provider 0, issuer event (the gateway's clock), start, a duration of 1, in months (0x23)
    assert billing.payload[4:8] == event.to_bytes(4, "little")
    assert billing.payload[8:12] == start.to_bytes(4, "little")
    assert billing.payload[12:16] == bytes([1, 0, 0, 0x23])
    # GCS25a carries the same two commands: only the message code differs
    assert e.codec.build(_command(request, "GCS25a", GSME)) == content


def test_gcs25_is_critical_as_gcs25a_is() -> None:
    assert by_name("GCS25").critical
    assert by_name("GCS25a").critical


def test_an_electricity_calendar_is_still_refused_by_a_gsme() -> None:
    e = entry("6.8")
    assert e.codec is not None
    body = _body(
        "<sr:UpdateDeviceConfigurationBillingCalendar><sr:ElectricityBillingCalendar>"
        "<sr:BillingTime>00:00:00</sr:BillingTime><sr:Monthly>1</sr:Monthly>"
        "</sr:ElectricityBillingCalendar></sr:UpdateDeviceConfigurationBillingCalendar>"
    )
    with pytest.raises(ServiceError) as caught:
        e.use_case(DeviceType.GSME, e.codec.read(body), GSME)
    assert "GasBillingCalendar" in str(caught.value)


# ----------------------------------------------------------- 6.27 on a polyphase ESME: ECS29f


@pytest.mark.parametrize(
    ("variant", "wanted"),
    [("C", "ECS29f"), ("CD", "ECS29f"), ("A", "ECS29e"), ("B", "ECS29e"), (None, "ECS29e")],
)
def test_the_esme_variant_chooses_ecs29f_for_a_polyphase_meter(
    variant: str | None, wanted: str
) -> None:
    e = entry("6.27")
    assert e.codec is not None
    request = e.codec.read(_body("<sr:UpdateDeviceConfigurationRMSVoltageCounterReset/>"))
    assert e.use_case(DeviceType.ESME, request, ESME, variant) == wanted


def test_ecs29f_resets_each_phases_sag_and_swell_counters() -> None:
    e = entry("6.27")
    assert e.codec is not None
    request = e.codec.read(_body("<sr:UpdateDeviceConfigurationRMSVoltageCounterReset/>"))
    content = e.codec.build(_command(request, "ECS29f", ESME, "C"))
    typed = gc.decode_command(0x00D4, content)
    assert isinstance(typed, gc.DeviceSettings)
    assert typed.counter == 7
    keys = [spec_key(spec) for spec, _ in typed.writes]
    assert keys == [f"action 3 1-0:{c}.{k}.0.4/1" for c in (32, 52, 72) for k in (32, 36)]
    assert all(data == dlms.integer(0) for _, data in typed.writes)
    # ECS29e is the first phase's two only
    single = gc.decode_command(0x00D3, e.codec.build(_command(request, "ECS29e", ESME, "A")))
    assert isinstance(single, gc.DeviceSettings)
    assert [spec_key(spec) for spec, _ in single.writes] == keys[:2]


# ---------------------------------------------------------- 4.10 on a polyphase ESME: ECS23b


_NETWORK_DATA = (
    "<sr:ReadNetworkData><sr:ReadLogPeriod>"
    "<sr:StartDateTime>2024-01-01T00:00:00Z</sr:StartDateTime>"
    "<sr:EndDateTime>2024-01-02T00:00:00Z</sr:EndDateTime>"
    "</sr:ReadLogPeriod></sr:ReadNetworkData>"
)


@pytest.mark.parametrize(
    ("device_type", "variant", "wanted"),
    [
        (DeviceType.ESME, "C", "ECS23b"),
        (DeviceType.ESME, "CD", "ECS23b"),
        (DeviceType.ESME, "A", "ECS23"),
        (DeviceType.ESME, "B", "ECS23"),
        (DeviceType.ESME, None, "ECS23"),
        (DeviceType.GSME, None, "GCS18"),
        (DeviceType.GPF, None, "GCS18"),
    ],
)
def test_the_esme_variant_chooses_ecs23b_for_a_polyphase_meter(
    device_type: DeviceType, variant: str | None, wanted: str
) -> None:
    e = entry("4.10")
    assert e.codec is not None
    request = e.codec.read(_body(_NETWORK_DATA))
    assert e.use_case(device_type, request, ESME, variant) == wanted


# ------------------------------------------------------------ 8.8.2 method B unjoin: CS04b


@pytest.mark.parametrize(
    ("target", "other", "wanted"),
    [
        (DeviceType.GSME, DeviceType.GPF, "CS04b"),
        (DeviceType.ESME, DeviceType.IHD, "CS04b"),
        (DeviceType.GSME, DeviceType.CAD, "CS04b"),
        (DeviceType.GSME, DeviceType.PPMID, "CS04ac"),
        (DeviceType.ESME, DeviceType.PPMID, "CS04ac"),
        (DeviceType.ESME, DeviceType.HCALCS, "CS04ac"),
        (DeviceType.PPMID, DeviceType.ESME, "CS04ac"),
        (None, None, "CS04ac"),
    ],
)
def test_the_unjoin_follows_the_join_method(
    target: DeviceType | None, other: DeviceType | None, wanted: str
) -> None:
    assert unjoin_use_case(target, other) == wanted


def test_8_8_2_sends_cs04b_for_a_gsmes_gpf() -> None:
    e = entry("8.8.2")
    assert e.codec is not None
    request = UnjoinService(GPF, DeviceType.GSME, DeviceType.GPF)
    name = e.use_case(DeviceType.GSME, request, GSME)
    assert name == "CS04b"
    assert "CS04b" not in e.codec.acb_use_cases  # the user's, with its own counter
    content = e.codec.build(_command(request, name, GSME))
    typed = gc.decode_command(0x0010, content)
    assert isinstance(typed, gc.UnjoinMethodB)
    assert typed.other == GPF
    # the content of CS04ac for the same device (GBCS gives both one layout)
    assert content == gc.UnjoinDevice(GPF).encode()


def test_8_8_1_refuses_a_method_b_unjoin_with_a_sentence() -> None:
    e = entry("8.8.1")
    request = UnjoinService(GPF, DeviceType.GSME, DeviceType.GPF)
    with pytest.raises(ServiceError) as caught:
        e.use_case(DeviceType.GSME, request, GSME)
    assert "SR8.8.2" in str(caught.value)


def test_an_unjoin_whose_types_are_not_known_stays_cs04ac() -> None:
    e = entry("8.8.2")
    assert e.codec is not None
    body = _body(
        "<sr:UnjoinServiceNonCritical><sr:OtherDeviceID>00-DB-12-34-56-78-90-A3"
        "</sr:OtherDeviceID></sr:UnjoinServiceNonCritical>"
    )
    request = e.codec.read(body)
    assert request == UnjoinService(GPF)
    assert e.use_case(DeviceType.GSME, request, GSME) == "CS04ac"
