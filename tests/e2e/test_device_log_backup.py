"""SR8.9 with ReadSecurityDetails end to end: the ACB sends CCS07 to the home's CHF, which
answers with the device log it holds, in GBCS's shape."""

from __future__ import annotations

from gbcs import content as c
from gbcs.codes import ACB, CRA
from gbcs.eui import eui_duis
from smetsim.client import DuisClient
from smetsim.home import CHF, PENDING_ESME, PENDING_MPAN
from smetsim.sandbox import Sandbox
from tests.e2e.support import SchemaCheck, request
from tests.e2e.test_device_srs import call


async def test_the_hub_backs_up_its_device_log(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    """8.11 whitelists the pre-notified ESME with its install code; the backup lists it with
    that key, as the hub holds it."""
    key = "30313233343536373839414243444546"
    add = (
        f"<sr:UpdateHANDeviceLog><sr:DeviceID>{eui_duis(PENDING_ESME)}</sr:DeviceID>"
        "<sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist>"
        f"<sr:JoinTimePeriod>60</sr:JoinTimePeriod><sr:InstallCode>{key}</sr:InstallCode>"
        f"<sr:ImportMPxN>{PENDING_MPAN}</sr:ImportMPxN>"
        "</sr:AddDeviceToCHFWhitelist></sr:UpdateHANDeviceLog>"
    )
    added = await call(client, request(client, "8.11", CHF, add), schema)
    assert c.Outcome.decode(added.content).ok
    body = "<sr:ReadDeviceLog><sr:ReadSecurityDetails/></sr:ReadDeviceLog>"
    message = await call(client, request(client, "8.9", CHF, body), schema)
    assert message.cra is CRA.RESPONSE
    assert message.message_code == 0x00FE
    assert (message.business_originator, message.business_target) == (CHF, ACB)
    logs = c.decode_response(0x00FE, message.content)
    assert isinstance(logs, c.ChfSecurityLogs)
    assert (PENDING_ESME, bytes.fromhex(key)) in logs.logs[0].entries
    assert logs.logs[0].extended_pan_id == CHF
