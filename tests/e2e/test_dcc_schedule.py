"""A DCC schedule in a whole sandbox (SR5.1, 5.2, 5.3): a daily 4.6.1 read of the ESME's
import daily read log created, the sandbox's clock moved three days, and three reads made
on the schedule's recurrence and delivered to the supplier like any device response; the
schedule read back, deleted, and no read made after. Each run's answer is a
``DSPScheduledMessage`` naming its schedule."""

from __future__ import annotations

import re
from datetime import timedelta

from smetsim.client import DuisClient
from smetsim.requests import write_request
from smetsim.sandbox import ESME, Sandbox
from tests.e2e.support import SchemaCheck

_ID = re.compile(rb"<sr:DSPScheduleID>(\d+)</sr:DSPScheduleID>")


def _rid(counter: int) -> str:
    supplier = "90-B3-D5-1F-30-01-00-00"
    return f"{supplier}:{ESME.hex('-').upper()}:{counter}"


async def test_a_daily_schedule_delivers_a_read_a_day(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    start = sandbox.clock() + timedelta(days=1)
    created_counter = client.fresh_counter()
    create = write_request(
        "5.1",
        fields={
            "ScheduleStartDate": start.date().isoformat(),
            "ScheduleExecutionStartTime": start.strftime("%H:%M:%S"),
        },
        counter=created_counter,
    )
    created = await client.post(create)
    assert created.code == "I0", created.reason
    schema(created.body)
    found = _ID.search(created.body)
    assert found is not None
    schedule_id = int(found.group(1))
    assert await client.wait(_rid(created_counter + 1), within=0.3) is None  # not before its day

    sandbox.clock.forward(timedelta(days=3, minutes=1).total_seconds())
    for run in (1, 2, 3):
        final = await client.wait(_rid(created_counter + run), within=10)
        assert final is not None, f"run {run} was not delivered"
        assert final.ok, final
        assert final.payload is not None
        schema(final.body)
        assert f"<sr:DSPScheduleID>{schedule_id}</sr:DSPScheduleID>".encode() in final.body
        assert b"<sr:DSPScheduledMessage>" in final.body
        # identified by its ResponseID (device : owner : counter), not by a RequestID
        assert b"<sr:RequestID>" not in final.body
        response_id = f"{ESME.hex('-').upper()}:90-B3-D5-1F-30-01-00-00:{created_counter + run}"
        assert f"<sr:ResponseID>{response_id}</sr:ResponseID>".encode() in final.body
    assert await client.wait(_rid(created_counter + 4), within=0.3) is None  # three days, three

    read = await client.post(
        write_request(
            "5.2", fields={"DSPScheduleID": str(schedule_id)}, counter=client.fresh_counter()
        )
    )
    assert read.code == "I0", read.reason
    schema(read.body)
    assert f"<sr:DSPScheduleID>{schedule_id}</sr:DSPScheduleID>".encode() in read.body
    assert b"<sr:DSPScheduledServiceReferenceVariant>4.6.1<" in read.body

    delete = await client.post(
        write_request(
            "5.3", fields={"DSPScheduleID": str(schedule_id)}, counter=client.fresh_counter()
        )
    )
    assert delete.code == "I0", delete.reason
    again = await client.post(
        write_request(
            "5.2", fields={"DSPScheduleID": str(schedule_id)}, counter=client.fresh_counter()
        )
    )
    assert again.code == "E050201", again.reason
