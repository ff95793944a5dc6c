"""SR6.8 with a monthly gas calendar through the sandbox: the gateway sends GCS25 (critical,
CV4 then CV5), the GSME keeps the calendar, and SR6.2.3 reads the same billing period back."""

from __future__ import annotations

from datetime import UTC, datetime

from gbcs import content as gc
from gbcs.payloads.gbz import ZclFrame, zigbee_time
from smetsim.client import DuisClient
from smetsim.sandbox import GSME, Sandbox
from tests.e2e.support import SchemaCheck, gbcs_of, request

START = datetime(2025, 2, 1, tzinfo=UTC)


async def test_6_8_monthly_gas_calendar_is_gcs25_and_reads_back(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    body = (
        "<sr:UpdateDeviceConfigurationBillingCalendar><sr:GasBillingCalendar>"
        "<sr:BillingPeriodStart>2025-02-01T00:00:00Z</sr:BillingPeriodStart>"
        "<sr:Periodicity>Monthly</sr:Periodicity>"
        "</sr:GasBillingCalendar></sr:UpdateDeviceConfigurationBillingCalendar>"
    )
    xml = request(client, "6.8", GSME, body, cv=4)
    outcome = await client.send(xml, sign=True, wait=True, within=5)
    for answer in outcome.answers:
        assert answer.code in ("I0", "I99"), (answer.code, answer.reason)
    assert outcome.final is not None
    assert outcome.final.kind == "response"
    schema(outcome.final.body)
    message = gbcs_of(outcome.final.body)
    assert message.message_code == 0x007E  # GCS25
    assert message.signature is not None  # a critical command's response is signed
    done = gc.decode_response(0x007E, message.content)
    assert isinstance(done, gc.GasSettingsDone)
    assert done.ok

    read = await client.send(
        request(client, "6.2.3", GSME, "<sr:ReadDeviceConfigurationBillingCalendar/>"),
        wait=True,
        within=5,
    )
    assert read.final is not None, read.answers
    assert read.final.kind == "response"
    reply = gbcs_of(read.final.body)
    response = gc.decode_response(reply.message_code, reply.content)
    assert isinstance(response, gc.GbzReadResponse)
    (published,) = response.payload.components
    assert isinstance(published.frame, ZclFrame)
    # Publish Billing Period: provider, issuer event, start, duration 1, in months (0x23)
    payload = published.frame.payload
    assert payload[8:12] == zigbee_time(START).to_bytes(4, "little")
    assert payload[12:16] == bytes([1, 0, 0, 0x23])
