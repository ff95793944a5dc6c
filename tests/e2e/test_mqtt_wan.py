"""The gateway's WAN through a real MQTT broker (mosquitto): DUIS over HTTP in, GBCS published
to the hub's topic, answered by a fleet worker holding the devices, the signed answer in the
inbox. A worker that goes away makes its hub unreachable (E1001), not hung on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from emulator.fleet import Fleet
from gbcs.codes import CRA, SUPPLIER
from gbcs.eui import eui_duis
from gbcs.verify import Check, Verifier
from smetsim.client import DuisClient
from smetsim.mqtt import MqttFleetWorker, MqttWan, fleet_hubs
from smetsim.sandbox import CHF, ESME, Sandbox, SandboxSettings
from tests.conftest import Broker
from tests.e2e.support import SchemaCheck, gbcs_of, request, request_id

READ = "<sr:ReadInstantaneousImportRegisters/>"


@contextlib.asynccontextmanager
async def sandbox_over_mqtt(
    tmp_path: Path, port: int
) -> AsyncIterator[tuple[Sandbox, MqttWan, MqttFleetWorker]]:
    wan = MqttWan("127.0.0.1", port, prefix="test")
    await wan.start()
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, response_timeout=2.0, durability="process"
    )
    sandbox = await Sandbox.start(settings, wan_routes={CHF: wan})
    worker: MqttFleetWorker | None = None
    try:
        # The worker holds the same devices as the sandbox would (same seed, same keys).
        seed = (settings.gateway.state / "seed").read_text().strip()
        fleet = Fleet(bytes.fromhex(seed), sandbox.keystore)
        fleet.add_sandbox_devices()
        worker = MqttFleetWorker(
            fleet, fleet_hubs(fleet), "127.0.0.1", port, clock=sandbox.clock, prefix="test"
        )
        await worker.start()
        assert await wan.wait_reachable({CHF}, 10) == set()
        yield sandbox, wan, worker
    finally:
        if worker is not None:
            await worker.close()
        await sandbox.close()
        # aiomqtt connects in the loop's default executor: let its thread go.
        await asyncio.get_running_loop().shutdown_default_executor()


async def unreachable(wan: MqttWan, hub: bytes) -> None:
    """Until ``wan`` reports ``hub`` unreachable (at most 10 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while wan.reachable(hub):
        assert loop.time() < deadline, f"hub {eui_duis(hub)} stayed reachable"
        await asyncio.sleep(0.01)


async def test_4_1_1_goes_through_the_broker_to_a_fleet_worker(
    tmp_path: Path, mqtt_broker: int, schema: SchemaCheck
) -> None:
    async with sandbox_over_mqtt(tmp_path, mqtt_broker) as (sandbox, wan, worker):
        assert fleet_hubs(worker.fleet) == {CHF}
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            xml = request(c, "4.1.1", ESME, READ)
            outcome = await c.send(xml, wait=True, within=10)
        assert [a.code for a in outcome.answers] == ["I99"]
        assert outcome.final is not None
        assert outcome.final.code == "I0", outcome.final.body[:400]
        schema(outcome.final.body)
        assert request_id(xml) in outcome.final.body.decode()
        message = gbcs_of(outcome.final.body)
        assert message.cra is CRA.RESPONSE
        assert message.message_code == 0x0027  # ECS17b
        assert (message.business_originator, message.business_target) == (ESME, SUPPLIER)
        assert Verifier(sandbox.keystore).verify(message).mac is Check.VALID
        # over the broker, not through the sandbox's in-process fleet
        assert sandbox.wan.stats.sent_down == 0
        assert (wan.sent, wan.received) == (1, 1)
        assert (worker.commands, worker.answers) == (1, 1)


async def test_a_worker_that_leaves_makes_its_hub_unreachable(
    tmp_path: Path, mqtt_broker: int
) -> None:
    async with sandbox_over_mqtt(tmp_path, mqtt_broker) as (sandbox, wan, worker):
        await worker.close()
        await unreachable(wan, CHF)
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            answer = await c.post(request(c, "4.1.1", ESME, READ))
        assert answer.code == "E1001", (answer.code, answer.reason)
        assert eui_duis(CHF) in (answer.reason or "")


async def test_both_sides_come_back_after_the_broker_restarts(
    tmp_path: Path, mqtt_broker_process: Broker
) -> None:
    async with sandbox_over_mqtt(tmp_path, mqtt_broker_process.port) as (sandbox, wan, worker):
        mqtt_broker_process.stop()
        await unreachable(wan, CHF)
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            refused = await c.post(request(c, "4.1.1", ESME, READ))
            assert refused.code == "E1001"
            mqtt_broker_process.start()
            assert await wan.wait_reachable({CHF}, 20) == set()
            outcome = await c.send(request(c, "4.1.1", ESME, READ), wait=True, within=10)
        assert outcome.final is not None
        assert outcome.final.code == "I0"
        assert wan.reconnections == 1
        assert worker.reconnections == 1
