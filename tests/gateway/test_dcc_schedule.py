"""SR5.1 Create, 5.2 Read and 5.3 Delete Schedule: the DUIS readers, the rules of the
service and the recurrence on the gateway's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from lxml import etree

from gateway.dcc_schedule import due, occurrences
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.device_responses import report_element
from gateway.duis.nondevice import (
    read_create_schedule,
    read_delete_schedule,
    read_read_schedule,
    result_content,
)
from gateway.duis.xml import SR_NS
from gateway.errors import ServiceError
from gateway.model import CreateSchedule, DeleteSchedule, ReadSchedule, RequestId, ScheduleSpec
from gateway.services import NonDeviceService
from gateway.services.device_dcc_schedule import claim_call
from gateway.services.device_types import DeviceCall, DeviceReport, ReportKind
from tests.gateway.smi import CHF, ESME, NOP, S1, S2, Clock, Ids, commissioned_esme, snapshot

_NS = f'xmlns:sr="{SR_NS}"'


def _create_xml(
    *,
    frequency: str = "Daily",
    start: str = "2026-03-02",
    end: str | None = None,
    variant: str = "4.6.1",
    reference: str | None = None,
    body: str = "DSPRetrieveImportDailyReadLog",
    device: bytes = ESME,
) -> etree._Element:
    ref = reference if reference is not None else ".".join(variant.split(".")[:2])
    end_xml = "" if end is None else f"<sr:ScheduleEndDate>{end}</sr:ScheduleEndDate>"
    return etree.fromstring(
        f"<sr:CreateSchedule {_NS}><sr:ScheduleFrequency>{frequency}</sr:ScheduleFrequency>"
        f"<sr:ScheduleStartDate>{start}</sr:ScheduleStartDate>{end_xml}"
        "<sr:ScheduleExecutionStartTime>01:00:00</sr:ScheduleExecutionStartTime>"
        f"<sr:DSPScheduledServiceReference>{ref}</sr:DSPScheduledServiceReference>"
        f"<sr:DSPScheduledServiceReferenceVariant>{variant}"
        "</sr:DSPScheduledServiceReferenceVariant>"
        f"<sr:DeviceID>{device.hex('-').upper()}</sr:DeviceID>"
        f"<sr:{body}><sr:StartDateOffset>-1</sr:StartDateOffset><sr:StartTime>00:00:00"
        "</sr:StartTime><sr:EndDateOffset>0</sr:EndDateOffset><sr:EndTime>00:00:00</sr:EndTime>"
        f"</sr:{body}></sr:CreateSchedule>"
    )


@pytest.fixture
def home(service: NonDeviceService, ids: Ids) -> NonDeviceService:
    commissioned_esme(service, ids)
    return service


def _create(service: NonDeviceService, ids: Ids, sender: bytes = S1, **kw: str) -> int:
    result = service.handle(sender, ids(sender), read_create_schedule(_create_xml(**kw)))
    assert result.schedule_id is not None
    return result.schedule_id


def test_reader_takes_the_recurrence_and_the_scheduled_sr() -> None:
    spec = read_create_schedule(_create_xml(end="2026-03-31")).spec
    assert (spec.frequency, spec.start_date, spec.end_date) == (
        "Daily",
        date(2026, 3, 2),
        date(2026, 3, 31),
    )
    assert (spec.start_time, spec.variant, spec.device_id) == (time(1), "4.6.1", ESME)
    assert spec.scheduled_body == "DSPRetrieveImportDailyReadLog"


@pytest.mark.parametrize(
    ("kw", "element"),
    [
        ({"frequency": "Hourly"}, "ScheduleFrequency"),
        ({"start": "2026-02-30"}, "ScheduleStartDate"),
        ({"reference": "4.8"}, "DSPScheduledServiceReference"),
    ],
)
def test_reader_refuses_bad_values(kw: dict[str, str], element: str) -> None:
    with pytest.raises(ServiceError) as info:
        read_create_schedule(_create_xml(**kw))
    assert info.value.code == "E42"
    assert element in info.value.sentence


def test_create_read_delete(home: NonDeviceService, ids: Ids) -> None:
    first = _create(home, ids)
    second = _create(home, ids, frequency="Weekly")
    assert second > first
    created = result_content(
        ServiceReferenceVariant.SR_5_1,
        home.handle(S1, ids(S1), read_create_schedule(_create_xml())),
    )
    assert created is not None
    assert int(created.text or "") == second + 1
    read = home.handle(S1, ids(S1), ReadSchedule(device_id=ESME))
    assert [(i, s.frequency) for i, s in read.schedules] == [
        (first, "Daily"),
        (second, "Weekly"),
        (second + 1, "Daily"),
    ]
    content = result_content(ServiceReferenceVariant.SR_5_2, read)
    assert content is not None
    texts = content.xpath("//sr:DSPScheduleID/text()", namespaces={"sr": SR_NS})
    assert texts == [str(first), str(second), str(second + 1)]
    assert content.xpath("//sr:DSPScheduleDetails/sr:DeviceID/text()", namespaces={"sr": SR_NS})
    home.handle(S1, ids(S1), DeleteSchedule(schedule_id=first))
    left = home.handle(S1, ids(S1), ReadSchedule(device_id=ESME)).schedules
    assert [i for i, _ in left] == [second, second + 1]


def test_schedules_survive_a_restart(home: NonDeviceService, ids: Ids, clock: Clock) -> None:
    schedule_id = _create(home, ids)
    again = NonDeviceService(home.storage, clock=clock)
    assert [i for i, _ in again.handle(S1, ids(S1), ReadSchedule(schedule_id)).schedules] == [
        schedule_id
    ]


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"variant": "4.1.1", "body": "DSPReadActivePowerImport"}, "E050101"),
        ({"variant": "4.2", "body": "DSPReadInstantaneousExportRegisters"}, "E050101"),
        ({"body": "DSPReadActiveImportProfileData"}, "E050102"),
        ({"start": "2026-02-28"}, "E050103"),
        ({"end": "2026-03-01", "start": "2026-03-02"}, "E050103"),
        ({"end": "2026-03-01", "start": "2026-03-01"}, "E050103"),  # 01:00 has passed
        ({"device": bytes.fromhex("00db1234567890ff")}, "E050105"),
        ({"device": CHF}, "E050107"),
    ],
)
def test_create_refusals_change_nothing(
    home: NonDeviceService, ids: Ids, kw: dict[str, object], code: str
) -> None:
    before = snapshot(home.storage)
    with pytest.raises(ServiceError) as info:
        _create(home, ids, **kw)  # type: ignore[arg-type]
    assert info.value.code == code
    assert info.value.sentence.endswith(".")
    assert snapshot(home.storage) == before


def test_only_a_role_that_may_send_the_read_schedules_it(home: NonDeviceService, ids: Ids) -> None:
    with pytest.raises(ServiceError) as info:
        _create(home, ids, sender=NOP, variant="4.6.1")  # 4.6.1 is for suppliers
    assert info.value.code == "E050108"


def test_another_users_schedule_is_neither_read_nor_deleted(
    home: NonDeviceService, ids: Ids
) -> None:
    schedule_id = _create(home, ids)
    before = snapshot(home.storage)
    for request, code in (
        (ReadSchedule(schedule_id), "E050202"),
        (DeleteSchedule(schedule_id), "E050302"),
        (ReadSchedule(schedule_id + 1), "E050201"),
        (DeleteSchedule(device_id=ESME), "E050301"),
    ):
        with pytest.raises(ServiceError) as info:
            home.handle(S2, ids(S2), request)
        assert info.value.code == code
    assert snapshot(home.storage) == before


def test_read_and_delete_keys() -> None:
    read = etree.fromstring(
        f"<sr:ReadSchedule {_NS}><sr:DSPScheduleID>12</sr:DSPScheduleID></sr:ReadSchedule>"
    )
    assert read_read_schedule(read) == ReadSchedule(12)
    delete = etree.fromstring(
        f"<sr:DeleteSchedule {_NS}><sr:DeviceID>{ESME.hex('-')}</sr:DeviceID></sr:DeleteSchedule>"
    )
    assert read_delete_schedule(delete) == DeleteSchedule(device_id=ESME)
    both = etree.fromstring(f"<sr:ReadSchedule {_NS}/>")
    with pytest.raises(ServiceError):
        read_read_schedule(both)


def _spec(frequency: str, start: date, end: date | None = None) -> ScheduleSpec:
    return ScheduleSpec(frequency, start, end, time(1), "4.6.1", ESME, "", "x")


def test_occurrences_follow_the_recurrence() -> None:
    after = datetime(2026, 1, 1, tzinfo=UTC)
    daily = occurrences(
        _spec("Daily", date(2026, 1, 30)), after, datetime(2026, 2, 2, 1, 0, tzinfo=UTC)
    )
    assert [d.day for d in daily] == [30, 31, 1, 2]
    monthly = occurrences(
        _spec("Monthly", date(2026, 1, 31)), after, datetime(2026, 4, 30, 2, tzinfo=UTC)
    )
    assert [(d.month, d.day) for d in monthly] == [(1, 31), (2, 28), (3, 31), (4, 30)]
    ended = occurrences(
        _spec("Weekly", date(2026, 1, 1), date(2026, 1, 20)),
        after,
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert [d.day for d in ended] == [1, 8, 15]
    assert CreateSchedule(_spec("Yearly", date(2026, 1, 1))).device_id == ESME


def test_a_run_is_claimed_once_and_reads_the_period_of_its_day(
    home: NonDeviceService, ids: Ids, clock: Clock
) -> None:
    schedule_id = _create(home, ids)  # daily from 2026-03-02 at 01:00, read day -1 to day 0
    clock.advance(days=2)  # 2026-03-03 09:30: the runs of 2 and 3 March are due
    now = clock()
    with home.storage.transaction() as tx:
        assert due(tx, now) == [schedule_id]
        first = claim_call(tx, schedule_id, now)
        second = claim_call(tx, schedule_id, now)
        assert claim_call(tx, schedule_id, now) is None
        assert due(tx, now) == []
    assert isinstance(first, DeviceCall)
    assert isinstance(second, DeviceCall)
    assert first.request_id.originator == S1
    assert first.request_id.target == ESME
    assert (first.service_reference_variant, first.command_variant) == ("4.6.1", 1)
    assert first.request_id.counter == second.request_id.counter  # the submit writes it
    spans = [getattr(call.request, "span", None) for call in (first, second)]
    assert [(s.start, s.end) for s in spans if s is not None] == [
        (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)),
        (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)),
    ]


def test_a_runs_answer_is_a_dsp_scheduled_message() -> None:
    report = DeviceReport(
        seq=1,
        kind=ReportKind.RESPONSE,
        recipient=S1,
        device=ESME,
        code="I0",
        created_at=datetime(2026, 3, 2, 1, tzinfo=UTC),
        request_id=RequestId(S1, ESME, 7),
        response_id=RequestId(ESME, S1, 7),
        service_reference_variant="4.6.1",
        payload=b"\x01\x02",
        dsp_schedule_id=42,
    )
    ns = {"sr": SR_NS}
    root = report_element(report)
    assert root.xpath("//sr:ResponseMessage/sr:GBCSPayload", namespaces=ns) == []
    scheduled = root.xpath("//sr:ResponseMessage/sr:DSPScheduledMessage", namespaces=ns)
    assert [c.text for c in scheduled[0]] == ["AQI=", "42"]
