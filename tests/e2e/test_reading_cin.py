"""SR9.1 end to end: the home's Other User asks for a Customer Identification Number; the
ACB sends the DCC's four digits to the meter, which keeps them (across a restart) and answers
that it took them."""

from __future__ import annotations

import pytest

from emulator.usecases.reading_cin import shown_cin
from gbcs import content as gc
from gbcs.codes import ACB, CRA
from smetsim.client import DuisClient
from smetsim.home import OTHER_USER
from smetsim.sandbox import Sandbox
from tests.e2e.support import SchemaCheck, request
from tests.e2e.test_device_srs import ESME, GSME, call

BODY = "<sr:RequestCustomerIdentificationNumber/>"


@pytest.mark.xfail(
    strict=True,
    reason="the device service lets a sender serve a device only as its Responsible Supplier "
    "or network operator (gateway.services.device_rules.check_serves); DUIS lets an Other User "
    "send 9.1 to any meter - the hook is the lead's to add",
)
@pytest.mark.parametrize(("target", "code"), [(ESME, 0x0058), (GSME, 0x0083)])
async def test_the_meter_takes_the_cin_the_dcc_made_up(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck, target: bytes, code: int
) -> None:
    now = int(sandbox.clock().timestamp())
    assert shown_cin(sandbox.fleet.device(target, now)) is None
    xml = request(client, "9.1", target, BODY, originator=OTHER_USER)
    message = await call(client, xml, schema)
    assert message.cra is CRA.RESPONSE
    assert message.message_code == code
    assert (message.business_originator, message.business_target) == (target, ACB)
    response = gc.decode_response(code, message.content)
    assert isinstance(response, gc.Outcome | gc.ZclStatus)
    assert response.ok
    cin = shown_cin(sandbox.fleet.device(target, now))
    assert cin is not None
    assert len(cin) == gc.CIN_DIGITS
    assert cin.isdigit()


async def test_a_supplier_may_not_ask_for_a_cin(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    outcome = await client.send(request(client, "9.1", ESME, BODY), wait=True, within=5)
    assert outcome.answers[0].code == "E4", outcome.answers[0].reason
    now = int(sandbox.clock().timestamp())
    assert shown_cin(sandbox.fleet.device(ESME, now)) is None
