"""Load limiting, tamper, randomisation, auxiliary controller and Sub GHz scan SRs without a
DCC template (6.4.1, 6.25, 7.12, 6.14.3, 7.13, 7.7, 6.29): the commands are built by the
rules their siblings' references show, the device side decodes them back, and bad bodies are
refused with a sentence."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gateway.srv.example import date
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.content import spec_key
from gbcs.payloads import dlms
from gbcs.usecases import by_name
from tests.gateway.srv.support import gbcs_file

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
DEVICE = bytes.fromhex("00db1234567890a0")
SUPPLIER = bytes.fromhex("90b3d51f30010000")
NOW = _dt.datetime(2024, 1, 15, tzinfo=_dt.UTC)


def _body(name: str, xml: str, attributes: str = "") -> etree._Element:
    return etree.fromstring(f'<sr:{name} xmlns:sr="{SR}" {attributes}>{xml}</sr:{name}>')


def _build(
    srv: str, body: etree._Element, counter: int = 7, execution: _dt.datetime | None = None
) -> gc.DeviceSettings:
    codec = entry(srv).codec
    assert codec is not None
    request = codec.read(body)
    (name,) = codec.builds
    uc = by_name(name)
    content = codec.build(Command(request, uc, counter, SUPPLIER, DEVICE, NOW, execution))
    typed = gc.decode_command(uc.code, content)
    assert isinstance(typed, gc.DeviceSettings)
    assert typed.counter == counter
    return typed


def _values(cmd: gc.DeviceSettings) -> dict[str, dlms.Data]:
    return {spec_key(s): d for s, d in cmd.writes}


def _refused(srv: str, body: etree._Element) -> str:
    codec = entry(srv).codec
    assert codec is not None
    with pytest.raises(ServiceError) as refused:
        codec.read(body)
    assert refused.value.code == "E42", refused.value
    return str(refused.value)


_LOAD_LIMIT = (
    "<sr:LoadLimitPeriod>300</sr:LoadLimitPeriod>"
    "<sr:LoadLimitPowerThreshold>12000</sr:LoadLimitPowerThreshold>"
    "<sr:LoadLimitRestorationPeriod>60</sr:LoadLimitRestorationPeriod>"
    "<sr:LoadLimitSupplyState>Disable</sr:LoadLimitSupplyState>"
)
_LOAD_LIMIT_BODY = "UpdateDeviceConfigurationLoadLimitingGeneralSettings"


_LOAD_LIMIT_OBJECTS = ("0-0:94.44.0.3", "0-0:94.44.128.7", "0-0:94.44.128.6", "0-0:94.44.128.8")
"""Supply state, power threshold, period, restoration period: GBCS's future-dated objects."""


def test_6_4_1_writes_each_value_then_its_activation_now() -> None:
    cmd = _build("6.4.1", _body(_LOAD_LIMIT_BODY, _LOAD_LIMIT))
    assert cmd.message_code == 0x0043
    values = _values(cmd)
    assert list(values) == [
        *(f"set 9000 {obis}/4" for obis in _LOAD_LIMIT_OBJECTS),
        *(f"set 9000 {obis}/6" for obis in _LOAD_LIMIT_OBJECTS),
    ]
    assert list(values.values())[:4] == [
        dlms.boolean(True),
        dlms.double_long_unsigned(12000),
        dlms.double_long_unsigned(300),
        dlms.double_long_unsigned(60),
    ]
    # an all-zero date-time (unspecified, no deviation): take effect at once
    at_once = dlms.octet_string(bytes(9) + b"\x80\x00\xff")
    assert list(values.values())[4:] == [at_once] * 4
    unchanged = _build(
        "6.4.1", _body(_LOAD_LIMIT_BODY, _LOAD_LIMIT.replace("Disable", "Unchanged"))
    )
    assert _values(unchanged)["set 9000 0-0:94.44.0.3/4"] == dlms.boolean(False)


@pytest.mark.parametrize("srv", ["6.4.1", "6.14.3"])
def test_future_dated_and_cancelled_requests_carry_their_activation(srv: str) -> None:
    """The Device pattern: the execution date-time goes in every activation attribute (the
    device holds the command until then); DUIS's 3000-12-31 cancels the pending one."""
    codec = entry(srv).codec
    assert codec is not None
    assert codec.future_dated
    body = (
        _body(_LOAD_LIMIT_BODY, _LOAD_LIMIT)
        if srv == "6.4.1"
        else _body(_CALENDAR, _entry(1, 50, "09:00:00", ()) + _definitions((1, "*-12-25")))
    )
    when = _dt.datetime(2030, 1, 15, 9, tzinfo=_dt.UTC)
    cases = (
        (when, dlms.CosemDateTime.from_datetime(when).to_bytes()),
        (_dt.datetime(3000, 12, 31, tzinfo=_dt.UTC), b"\xff" * 9 + b"\x80\x00\xff"),
    )
    for execution, expected in cases:
        cmd = _build(srv, body, execution=execution)
        dated = [d for s, d in cmd.writes if s.class_id == 9000 and s.index == 6]
        assert dated
        assert all(d == dlms.octet_string(expected) for d in dated)
        undated = [d for s, d in _build(srv, body).writes if s.class_id == 9000 and s.index == 6]
        assert undated != dated


@pytest.mark.parametrize(
    ("xml", "says"),
    [
        (_LOAD_LIMIT.replace(">300<", ">-1<"), "LoadLimitPeriod"),
        (_LOAD_LIMIT.replace(">12000<", ">0<"), "0 W"),
        (_LOAD_LIMIT.replace(">12000<", ">4294967296<"), "4294967295"),
        (_LOAD_LIMIT.replace("Disable", "Off"), "'Off' is not Disable or Unchanged"),
        (_LOAD_LIMIT.replace("<sr:LoadLimitPeriod>300</sr:LoadLimitPeriod>", ""), "missing"),
    ],
)
def test_6_4_1_bad_settings_are_refused(xml: str, says: str) -> None:
    assert says in _refused("6.4.1", _body(_LOAD_LIMIT_BODY, xml))


def test_6_25_and_7_12_write_what_ecs26m_and_ecs26c_read() -> None:
    tamper = _build(
        "6.25",
        _body(
            "SetElectricitySupplyTamperState", "<sr:SupplyTamperState>Locked</sr:SupplyTamperState>"
        ),
    )
    assert tamper.message_code == 0x0068
    (obis,) = [s.obis for s, _ in tamper.writes]
    assert str(obis) == gc.DLMS_READS[0x00F9][-1].obis  # ECS26m's supply tamper state
    assert tamper.writes[0][1] == dlms.boolean(True)

    offset = _build(
        "7.12",
        _body(
            "SetRandomisedOffsetLimit", "<sr:RandomisedOffsetLimit>1799</sr:RandomisedOffsetLimit>"
        ),
    )
    assert offset.message_code == 0x004B
    assert str(offset.writes[0][0].obis) == gc.DLMS_READS[0x003D][2].obis  # ECS26c's limit
    assert offset.writes[0][1] == dlms.long_unsigned(1799)


def test_6_25_and_7_12_bad_values_are_refused() -> None:
    tamper = "<sr:SupplyTamperState>Open</sr:SupplyTamperState>"
    assert "'Open'" in _refused("6.25", _body("SetElectricitySupplyTamperState", tamper))
    too_long = "<sr:RandomisedOffsetLimit>1800</sr:RandomisedOffsetLimit>"
    assert "0 to 1799" in _refused("7.12", _body("SetRandomisedOffsetLimit", too_long))


def _state(
    level: int = 50, *, input_side: bool = True, n: int = 3, end: str = "01:00"
) -> etree._Element:
    marker = "<sr:InputFromControlledLoad/>" if input_side else ""
    return _body(
        "SetAuxiliaryControllerState",
        "<sr:StartDateTime>2015-01-03T00:00:00Z</sr:StartDateTime>"
        f"<sr:EndDateTime>2015-01-03T{end}:00Z</sr:EndDateTime>"
        f"<sr:CommandedStateLevel>{level}</sr:CommandedStateLevel>{marker}",
        f'auxiliaryControllerN="{n}"',
    )


def test_7_13_writes_start_end_and_the_state_script(conformance: Path) -> None:
    cmd = _build("7.13", _state())
    assert cmd.message_code == 0x011E
    assert [str(s.obis) for s, _ in cmd.writes[:2]] == ["0-0:94.44.119.1", "0-0:94.44.119.2"]
    # The same period and level as the DCC's 7.16 reference (ECS47e: controller 3's input at
    # 50 %) give the same date-times and the same script id, run from the switching table.
    ref = gbcs_file(conformance, "ECS47e_7.16_APC_INPUT_SUCCESS_COMMAND_GBCS.HEX")
    theirs = gc.decode_command(ref.message_code, ref.content)
    assert isinstance(theirs, gc.DeviceSettings)
    assert [d for _, d in cmd.writes] == [d for _, d in theirs.writes]
    action, script = cmd.writes[2]
    assert str(action.obis) == "0-0:10.0.103.255"
    assert script == dlms.long_unsigned(0x2300 | 50)  # input side, controller 3, 50 %
    output = _build("7.13", _state(100, input_side=False, n=5))
    assert str(output.writes[0][0].obis) == "0-0:94.44.121.1"
    assert output.writes[2][1] == dlms.long_unsigned(0x1500 | 100)


def test_7_13_bad_values_are_refused() -> None:
    assert "0 to 100" in _refused("7.13", _state(101))
    assert "1 to 5" in _refused("7.13", _state(n=6))
    assert "after StartDateTime" in _refused("7.13", _state(end="00:00"))


_DAYS = "".join(
    f"<sr:DayOfWeekApplicability><sr:DayOfWeekID>{d}</sr:DayOfWeekID></sr:DayOfWeekApplicability>"
    for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
)


def _entry(n: int, level: int, at: str, special: tuple[int, ...]) -> str:
    applicable = "".join(f'<sr:SpecialDaysApplicability identifier="{i}"/>' for i in special)
    return (
        "<sr:AuxiliaryControllerSchedule>"
        f'<sr:AuxiliaryControllerAction auxiliaryControllerN="{n}">'
        f"<sr:CommandedStateLevel>{level}</sr:CommandedStateLevel><sr:InputFromControlledLoad/>"
        f"</sr:AuxiliaryControllerAction>{applicable}"
        f"<sr:DaysOfWeekApplicability>{_DAYS}</sr:DaysOfWeekApplicability>"
        f"<sr:AuxiliaryControllerSchedulePeriodAndTime><sr:SwitchTime>{at}</sr:SwitchTime>"
        f"<sr:StartDate>{date('StartDate', '2015-06-21')}</sr:StartDate>"
        f"<sr:EndDate>{date('EndDate', '2015-12-21')}</sr:EndDate>"
        "</sr:AuxiliaryControllerSchedulePeriodAndTime></sr:AuxiliaryControllerSchedule>"
    )


def _definitions(*days: tuple[int, str]) -> str:
    return (
        "<sr:AuxiliaryControllerSpecialDayDefinitions>"
        + "".join(
            f'<sr:AuxiliaryControllerSpecialDayDefinition identifier="{i}">'
            f"{date('Date', d)}</sr:AuxiliaryControllerSpecialDayDefinition>"
            for i, d in days
        )
        + "</sr:AuxiliaryControllerSpecialDayDefinitions>"
    )


_CALENDAR = "UpdateDeviceConfigurationAuxiliaryControllerScheduler"


def test_6_14_3_writes_the_calendar_ecs61d_reads_back(conformance: Path) -> None:
    """The calendar the DCC's ECS61d reference response holds (three controllers, each off at
    the hour and 50 % at half past, on their input, Monday to Friday), written as a DUIS body:
    ECS46d writes exactly the special days and calendar values that response reads."""
    entries = (
        _entry(1, 0, "09:00:00", (1, 2, 3))
        + _entry(1, 50, "09:30:00", (1, 3))
        + _entry(2, 0, "10:00:00", (1, 2, 3))
        + _entry(2, 50, "10:30:00", (1, 2, 3))
        + _entry(3, 0, "11:00:00", (1, 2, 3))
        + _entry(3, 50, "11:30:00", (2, 3))
    )
    days = _definitions((1, "*-12-25"), (2, "*-12-26"), (3, "2015-04-03"))
    cmd = _build("6.14.3", _body(_CALENDAR, entries + days))
    assert cmd.message_code == 0x011A
    ref = gbcs_file(conformance, "ECS61d_7.14_SUCCESS_RESPONSE_GBCS.HEX")
    read = gc.DlmsReadResponse.decode(ref.content)
    gets = gc.DLMS_READS[0x011C]
    written = _values(cmd)
    # written as the pending (0-1) pair, read back from the active (0-0) pair once activated
    for get, value in zip(gets[5:], read.data[5:], strict=True):
        pending = get.obis.replace("0-0:", "0-1:")
        assert written[f"set {get.class_id} {pending}/{get.attribute}"] == value
    at_once = dlms.octet_string(bytes(9) + b"\x80\x00\xff")
    assert list(written.items())[2:] == [
        ("set 9000 0-0:94.44.128.26/6", at_once),
        ("set 9000 0-0:94.44.128.35/6", at_once),
    ]


def test_6_14_3_bad_calendars_are_refused() -> None:
    days = _definitions((1, "*-12-25"))
    assert "not defined" in _refused(
        "6.14.3", _body(_CALENDAR, _entry(1, 0, "09:00:00", (2,)) + days)
    )
    too_high = _entry(1, 101, "09:00:00", ())
    assert "0 to 100" in _refused("6.14.3", _body(_CALENDAR, too_high + days))
    twice = _definitions((1, "*-12-25"), (1, "*-12-26"))
    assert "given twice" in _refused("6.14.3", _body(_CALENDAR, twice))


def test_7_7_reads_the_alcs_data_and_6_29_asks_for_a_scan() -> None:
    codec = entry("7.7").codec
    assert codec is not None
    uc = by_name("ECS61a")
    content = codec.build(
        Command(codec.read(_body("ReadALCSData", "")), uc, 9, SUPPLIER, DEVICE, NOW)
    )
    read = gc.decode_command(uc.code, content)
    assert isinstance(read, gc.DlmsRead)
    gets = read.gets()
    assert len({g.obis for g in gets}) == 17
    # the labels and switch types ECS46a / ECS46c write; the special days and calendar are the
    # active pair, that ECS46c / ECS46d write as the pending 0-1 pair and activate
    written = (gc.SETTINGS_OBJECTS[0x0053], gc.SETTINGS_OBJECTS[0x0054])
    for g in gets[:12]:
        key = f"set {g.class_id} {g.obis.replace('0-0:1', '0-1:1')}/{g.attribute}"
        assert any(p.fullmatch(key) for p in written), key
    # then each switch's output: the disconnect control of switch n
    assert [(g.class_id, g.obis) for g in gets[12:]] == [
        (70, f"0-{n}:96.3.10.255") for n in range(1, 6)
    ]

    scan = _build("6.29", _body("RequestCHFSubGHzChannelScan", ""))
    assert scan.message_code == 0x010E
    assert list(_values(scan).items()) == [("set 1 0-0:94.44.10.1/2", dlms.unsigned(0))]
    assert "unexpected" in _refused("6.29", _body("RequestCHFSubGHzChannelScan", "<sr:X/>"))
