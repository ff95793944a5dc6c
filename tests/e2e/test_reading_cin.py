"""SR9.1 end to end: the home's Other User asks for a Customer Identification Number; the
ACB sends the DCC's four digits to the meter, which keeps them (across a restart) and answers
that it took them; the Other User gets the same digits with the answer, in a CINMessage."""

from __future__ import annotations

import pytest
from lxml import etree

from emulator.usecases.reading_cin import shown_cin
from gateway.duis.xml import SR_NS
from gbcs import content as gc
from gbcs.codes import ACB, CRA
from gbcs.usecases import by_name
from smetsim.client import DuisClient
from smetsim.home import OTHER_USER
from smetsim.sandbox import Sandbox
from tests.e2e.support import SchemaCheck, request
from tests.e2e.test_device_srs import ESME, GSME, call

BODY = "<sr:RequestCustomerIdentificationNumber/>"


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


@pytest.mark.parametrize("target", [ESME, GSME])
async def test_the_other_user_is_given_the_cin_the_meter_shows(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck, target: bytes
) -> None:
    """DUIS answers 9.1 with a CINMessage: the device's response and the number; each
    request a new number (the DCC makes it up), always the one the meter then shows."""
    given = []
    for _ in range(2):
        outcome = await client.send(
            request(client, "9.1", target, BODY, originator=OTHER_USER), wait=True, within=5
        )
        message = schema.response(outcome)
        assert outcome.final is not None
        assert message.message_code == by_name("ECS50" if target == ESME else "GCS36").code
        cin = _cin_message(outcome.final.body)
        now = int(sandbox.clock().timestamp())
        assert cin == shown_cin(sandbox.fleet.device(target, now))
        given.append(cin)
    # the inbox keeps it (polled later, the same document)
    (filed,) = [r for r in sandbox.devices.reports(recipient=OTHER_USER) if r.cin == given[-1]]
    assert filed.body is not None
    assert _cin_message(filed.body) == given[-1]


def _cin_message(xml: bytes) -> str:
    """The ``CustomerIdentificationNumber`` of a ``ResponseMessage/CINMessage``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml, parser)
    found = root.findall(f".//{{{SR_NS}}}ResponseMessage/{{{SR_NS}}}CINMessage")
    assert len(found) == 1, xml[:600]
    payload, number = found[0]
    assert payload.tag == f"{{{SR_NS}}}GBCSPayload"
    assert number.tag == f"{{{SR_NS}}}CustomerIdentificationNumber"
    assert number.text is not None
    return number.text


async def test_a_supplier_may_not_ask_for_a_cin(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    outcome = await client.send(request(client, "9.1", ESME, BODY), wait=True, within=5)
    assert outcome.answers[0].code == "E4", outcome.answers[0].reason
    now = int(sandbox.clock().timestamp())
    assert shown_cin(sandbox.fleet.device(ESME, now)) is None
