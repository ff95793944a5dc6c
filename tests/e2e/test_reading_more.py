"""More reads end to end: each DUIS request reaches the emulated device, which answers from
what it holds, and the gateway delivers the DCC's response shape."""

from __future__ import annotations

import pytest

from emulator.usecases.billing import read_billing_plaintext
from emulator.usecases.reading import UNIX_2000
from emulator.usecases.reading_more import (
    active_price,
    load_limit_count,
    payment_control,
    read_snapshot_plaintext,
)
from gbcs import content as gc
from gbcs.codes import CRA
from gbcs.payloads import dlms
from gbcs.payloads.gbz import EncryptedZcl, ReadAttributesResponse, ZclFrame
from smetsim.client import DuisClient
from smetsim.sandbox import Sandbox
from tests.e2e.support import SchemaCheck, decrypter, request
from tests.e2e.test_device_srs import ESME, GSME, call


@pytest.mark.parametrize(
    ("srv", "body", "code"),
    [
        ("4.15", "<sr:ReadLoadLimitData/>", 0x0042),
        ("4.11.1", "<sr:ReadTariffPrimaryElement/>", 0x003A),
        ("4.12.1", "<sr:ReadMaximumDemandImportRegisters/>", 0x002C),
        ("6.2.5", "<sr:ReadDeviceConfigurationInstantaneousPowerThresholds/>", 0x0040),
    ],
)
async def test_esme_reads_through_the_gateway(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck, srv: str, body: str, code: int
) -> None:
    message = await call(client, request(client, srv, ESME, body), schema)
    assert message.cra is CRA.RESPONSE
    assert message.message_code == code
    response = gc.decode_response(code, message.content)
    assert isinstance(response, gc.DlmsReadResponse)
    assert response.ok
    now = int(sandbox.clock().timestamp())
    esme = sandbox.fleet.device(ESME, now)
    if code == 0x0042:
        assert response.data[1] == dlms.double_long_unsigned(load_limit_count(esme))
    if code == 0x003A:
        price = active_price(esme.meter, esme.device_time(now))
        assert response.data[0] == dlms.double_long_unsigned(price)


async def test_gas_payment_mode_through_the_gateway(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    body = "<sr:ReadDeviceConfigurationPaymentMode/>"
    message = await call(client, request(client, "6.2.9", GSME, body), schema)
    assert message.message_code == 0x00BF
    response = gc.decode_response(0x00BF, message.content)
    assert isinstance(response, gc.GbzReadResponse)
    (component,) = response.payload.components
    assert isinstance(component.frame, ZclFrame)
    (record,) = ReadAttributesResponse.from_bytes(component.frame.payload).records
    gsme = sandbox.fleet.device(GSME, int(sandbox.clock().timestamp()))
    assert record.value is not None
    assert int.from_bytes(record.value.raw, "little") == payment_control(gsme)


async def test_4_4_3_billing_log_through_the_gateway(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    now = int(sandbox.clock().timestamp())
    esme = sandbox.fleet.device(ESME, now)
    state = esme.family_state("reading")
    # An entry the device logged (as its ticker does) and one outside the period asked.
    inside, outside = now - UNIX_2000 - 86_400, now - UNIX_2000 - 40 * 86_400
    state["billing"] = [
        [t, 1000 + n, *range(48), 5, 0, 0, 0, 0, 0] for n, t in enumerate((outside, inside))
    ]
    start = gc.from_utc_seconds(inside - 3600)
    end = gc.from_utc_seconds(inside + 3600)
    body = (
        "<sr:RetrieveBillingCalendarTriggeredBillingDataLog><sr:ReadLogPeriod>"
        f"<sr:StartDateTime>{start:%Y-%m-%dT%H:%M:%SZ}</sr:StartDateTime>"
        f"<sr:EndDateTime>{end:%Y-%m-%dT%H:%M:%SZ}</sr:EndDateTime>"
        "</sr:ReadLogPeriod></sr:RetrieveBillingCalendarTriggeredBillingDataLog>"
    )
    message = await call(client, request(client, "4.4.3", ESME, body), schema)
    assert message.message_code == 0x0030
    response = gc.decode_response(0x0030, message.content)
    assert isinstance(response, gc.ProtectedResponse)
    entries = read_billing_plaintext(decrypter(sandbox.keystore, message)(response.encrypted))
    assert entries == [(inside, 1001, list(range(48)), (5, 0, 0, 0, 0, 0))]


async def test_4_6_1_gas_daily_read_log_through_the_gateway(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    now = int(sandbox.clock().timestamp())
    meter = sandbox.fleet.device(GSME, now).meter
    meter.accounted_to -= 3 * 86_400  # three days the meter has yet to record
    meter.advance(now)
    midnight = now - now % 86_400
    first = gc.from_utc_seconds(midnight - UNIX_2000 - 2 * 86_400)
    last = gc.from_utc_seconds(midnight - UNIX_2000)
    body = (
        "<sr:RetrieveImportDailyReadLog><sr:ReadLogPeriod>"
        f"<sr:StartDateTime>{first:%Y-%m-%dT%H:%M:%SZ}</sr:StartDateTime>"
        f"<sr:EndDateTime>{last:%Y-%m-%dT%H:%M:%SZ}</sr:EndDateTime>"
        "</sr:ReadLogPeriod></sr:RetrieveImportDailyReadLog>"
    )
    message = await call(client, request(client, "4.6.1", GSME, body), schema)
    assert message.message_code == 0x0077
    response = gc.decode_response(0x0077, message.content)
    assert isinstance(response, gc.GbzReadResponse)
    decrypt = decrypter(sandbox.keystore, message)
    times = [
        read_snapshot_plaintext(decrypt(x.frame.ciphered))[1]
        for x in response.payload.components
        if isinstance(x.frame, EncryptedZcl)
    ]
    assert [t + UNIX_2000 for t in times] == [midnight, midnight - 86_400, midnight - 2 * 86_400]
