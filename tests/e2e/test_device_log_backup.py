"""SR8.9 with ReadSecurityDetails end to end: the ACB sends CCS07 to the home's CHF, which
answers with the device log it holds, in GBCS's shape."""

from __future__ import annotations

from gbcs import content as c
from gbcs.codes import ACB, CRA
from smetsim.client import DuisClient
from smetsim.home import CHF
from smetsim.sandbox import Sandbox
from tests.e2e.support import SchemaCheck, request
from tests.e2e.test_device_srs import call


async def test_the_hub_backs_up_its_device_log(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    body = "<sr:ReadDeviceLog><sr:ReadSecurityDetails/></sr:ReadDeviceLog>"
    message = await call(client, request(client, "8.9", CHF, body), schema)
    assert message.cra is CRA.RESPONSE
    assert message.message_code == 0x00FE
    assert (message.business_originator, message.business_target) == (CHF, ACB)
    logs = c.decode_response(0x00FE, message.content)
    assert isinstance(logs, c.ChfSecurityLogs)
    hub = sandbox.fleet.device(CHF, int(sandbox.clock().timestamp()))
    held = sorted(
        (eui, e.install_code)
        for eui, e in (getattr(hub, "device_log", None) or {}).items()
        if len(e.install_code) == c.LINK_KEY_BYTES
    )
    assert list(logs.logs[0].entries) == held
