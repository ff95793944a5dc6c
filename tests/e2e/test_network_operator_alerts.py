"""The network operator's alert settings, end to end through the sandbox: what it sets with
SR6.22 (ECS25b) it reads back with SR6.2.10, which the gateway sends as ECS25r2 because the
sender is the network operator; the supplier's SR6.2.10 of the same meter is still ECS25r1 and
shows the supplier's own objects, untouched by the network operator's settings."""

from __future__ import annotations

from gbcs import content as gc
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.frames import CRA, Message
from gbcs.payloads.dlms import BitString
from gbcs.usecases import by_name
from gbcs.verify import Check, Verifier
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, POLYPHASE_ESME, Sandbox
from tests.e2e.support import SchemaCheck, request
from tests.e2e.test_device_srs import call

EVERYTHING = (1 << 256) - 1
"""A behaviour object of a meter fresh from the factory: every alert enabled."""
READ = "<sr:ReadDeviceConfigurationEventAndAlertBehaviours/>"


def _settings(subgroup: str, code: str, value: str = "Disable") -> str:
    return (
        "<sr:ConfigureAlertBehaviour><sr:ElectricityNetworkOperatorAlerts>"
        f"<sr:{subgroup}><sr:x{code}>{value}</sr:x{code}></sr:{subgroup}>"
        "</sr:ElectricityNetworkOperatorAlerts></sr:ConfigureAlertBehaviour>"
    )


async def _set(client: DuisClient, schema: SchemaCheck, meter: bytes, body: str) -> None:
    xml = request(client, "6.22", meter, body, originator=NETWORK_OPERATOR)
    message = await call(client, xml, schema)
    assert message.message_code == by_name("ECS25b").code
    done = gc.decode_response(message.message_code, message.content)
    assert isinstance(done, gc.Outcome)
    assert done.ok


async def _read(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck, meter: bytes, sender: bytes
) -> tuple[Message, list[int]]:
    """SR6.2.10 from ``sender``: the device's response and each object it read, as the
    number whose bit ``n`` is set when alert ``..nn`` is enabled."""
    message = await call(client, request(client, "6.2.10", meter, READ, originator=sender), schema)
    assert message.cra is CRA.RESPONSE
    assert (message.business_originator, message.business_target) == (meter, sender)
    assert Verifier(sandbox.keystore).verify(message).mac is Check.VALID
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.DlmsReadResponse)
    assert response.ok
    objects = []
    for data in response.data:
        assert isinstance(data, BitString)
        assert data.bits == 256
        objects.append(int.from_bytes(data.data, "big"))
    return message, objects


async def test_the_network_operator_reads_back_its_polyphase_setting_with_ecs25r2(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    await _set(client, schema, POLYPHASE_ESME, _settings("NetworkOperatorESMEPolyPhase", "8003"))

    message, objects = await _read(sandbox, client, schema, POLYPHASE_ESME, NETWORK_OPERATOR)
    assert message.message_code == by_name("ECS25r2").code
    # ECS25b's alert object (0x8003 now off), then ECS25b3's logging object (untouched)
    assert objects == [EVERYTHING & ~(1 << 0x03), EVERYTHING]

    message, objects = await _read(sandbox, client, schema, POLYPHASE_ESME, SUPPLIER)
    assert message.message_code == by_name("ECS25r1").code
    # the supplier's four objects (alerts, HAN, alarm, logging): the 0x80xx settings are
    # not theirs, so nothing is off
    assert objects == [EVERYTHING] * 4


async def test_the_network_operator_reads_back_a_single_phase_setting_and_its_change(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    """On the single-phase ESME a single-phase setting (0x8002) and a common one (0x8014)
    are taken; enabling 0x8002 again shows in the next read."""
    await _set(client, schema, ESME, _settings("NetworkOperatorESMESinglePhase", "8002"))
    await _set(client, schema, ESME, _settings("NetworkOperatorESMECommon", "8014"))
    message, objects = await _read(sandbox, client, schema, ESME, NETWORK_OPERATOR)
    assert message.message_code == by_name("ECS25r2").code
    assert objects == [EVERYTHING & ~(1 << 0x02) & ~(1 << 0x14), EVERYTHING]

    await _set(client, schema, ESME, _settings("NetworkOperatorESMESinglePhase", "8002", "Enable"))
    _, objects = await _read(sandbox, client, schema, ESME, NETWORK_OPERATOR)
    assert objects == [EVERYTHING & ~(1 << 0x14), EVERYTHING]

    message, objects = await _read(sandbox, client, schema, ESME, SUPPLIER)
    assert message.message_code == by_name("ECS25r1").code
    assert objects == [EVERYTHING] * 4
