"""Configuration SRs through HTTP: the DCC's template in, the ESME changes its settings, the
response comes back in the reference shape; a bad body is refused and changes nothing."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from emulator.usecases.configuration import setting
from gbcs import content as gc
from gbcs.payloads import dlms
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, Sandbox
from tests.e2e.support import SchemaCheck, request, template


async def _final(client: DuisClient, xml: bytes, schema: SchemaCheck, *, sign: bool = False):  # type: ignore[no-untyped-def]
    outcome = await client.send(xml, sign=sign, wait=True, within=5)
    for answer in outcome.answers:
        assert answer.code in ("I0", "I99"), (answer.code, answer.reason)
    return schema.response(outcome)


async def test_6_12_template_sets_the_power_thresholds(
    sandbox: Sandbox, client: DuisClient, conformance: Path, schema: SchemaCheck
) -> None:
    xml = client.with_counter(template(conformance, "ECS34_6.12_SUCCESS_REQUEST_DUIS.XML"))
    message = await _final(client, xml, schema)
    assert message.message_code == 0x0047
    assert gc.decode_response(0x0047, message.content).ok
    held = setting(sandbox.fleet.device(ESME, 0), "set 21 0-0:16.0.0.255/2")
    assert held == dlms.array(dlms.double_long_unsigned(2300), dlms.double_long_unsigned(4600))


async def test_6_8_critical_billing_calendar_through_cv4_and_cv5(
    sandbox: Sandbox, client: DuisClient, conformance: Path, schema: SchemaCheck
) -> None:
    xml = client.with_counter(template(conformance, "ECS30a_6.8_SUCCESS_REQUEST_DUIS.XML"))
    message = await _final(client, xml, schema, sign=True)
    assert message.message_code == 0x00D7
    assert message.signature is not None  # the response to a critical command is signed
    assert gc.decode_response(0x00D7, message.content).ok
    calendar = setting(sandbox.fleet.device(ESME, 0), "set 22 0-0:15.0.0.255/4")
    assert isinstance(calendar, dlms.Array)
    months = [item.items[1].value[2] for item in calendar.items]  # type: ignore[union-attr, index]
    assert months == [1, 4, 7, 10]


async def test_a_bad_body_is_refused_and_changes_nothing(
    sandbox: Sandbox, client: DuisClient
) -> None:
    body = (
        "<sr:UpdateDeviceConfigurationInstantaneousPowerThreshold>"
        "<sr:LowMediumPowerThreshold>5000</sr:LowMediumPowerThreshold>"
        "<sr:MediumHighPowerThreshold>4600</sr:MediumHighPowerThreshold>"
        "</sr:UpdateDeviceConfigurationInstantaneousPowerThreshold>"
    )
    answer = await client.post(request(client, "6.12", ESME, body))
    assert answer.code == "E42", (answer.code, answer.reason)
    assert "below the low/medium" in (answer.reason or "")
    assert setting(sandbox.fleet.device(ESME, 0), "set 21 0-0:16.0.0.255/2") is None


async def test_6_17_issues_a_certification_request(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    body = (
        "<sr:IssueSecurityCredentials><sr:CredentialType>Digital Signature</sr:CredentialType>"
        "</sr:IssueSecurityCredentials>"
    )
    message = await _final(client, request(client, "6.17", ESME, body, cv=4), schema, sign=True)
    assert message.message_code == 0x000A
    answer = gc.decode_response(0x000A, message.content)
    assert isinstance(answer, gc.CertificationRequest)
    assert x509.load_der_x509_csr(answer.der).is_signature_valid
