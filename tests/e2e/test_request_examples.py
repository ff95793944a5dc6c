"""The request examples of the tariff and account SRs (``smetsim request``), sent as written
to the meter each is for: the sandbox's gateway accepts each and builds the GBCS command the
SR's use case sends, whose content decodes as that use case's."""

from __future__ import annotations

import pytest

from gateway.duis.catalogue import ServiceReferenceVariant
from gbcs import content as gc
from gbcs.frames import Message
from gbcs.usecases import by_name
from smetsim.client import DuisClient
from smetsim.requests import write_request
from smetsim.sandbox import ESME, GSME

# The SR, the meter (the gas-only use cases need --device GSME) and the use case it builds.
CASES = [
    ("1.1.2", ESME, "ECS01c"),
    ("1.2.1", ESME, "ECS01b"),
    ("1.2.2", ESME, "ECS01d"),
    ("1.5", GSME, "GCS40c"),
    ("1.5", ESME, "ECS04a"),
    ("1.6", GSME, "GCS02"),
    ("1.6", ESME, "ECS02"),
    ("1.7", ESME, "ECS05"),
    ("2.1", GSME, "GCS05"),
    ("2.3", GSME, "GCS04"),
    ("2.5", ESME, "ECS09"),
    ("2.5", GSME, "GCS06"),
    ("3.1", ESME, "ECS10"),
    ("3.1", GSME, "GCS07"),
    ("3.2", ESME, "ECS12"),
    ("3.3", ESME, "ECS15c"),
    ("3.4", ESME, "ECS16"),
    ("3.4", GSME, "GCS44"),
    ("3.5", GSME, "GCS11"),
    ("3.5", ESME, "ECS14"),
    ("6.26", ESME, "ECS48"),
    ("6.24.1", ESME, "CS02a"),
]


_IDS = [f"{srv}-{use_case}" for srv, _, use_case in CASES]


@pytest.mark.parametrize(("srv", "device", "use_case"), CASES, ids=_IDS)
async def test_the_example_is_built_as_the_use_case(
    client: DuisClient, srv: str, device: bytes, use_case: str
) -> None:
    # The lowest CV that hands the command back: the local-delivery one, or the pre-command.
    allowed = {int(cv) for cv in ServiceReferenceVariant(srv).command_variants}
    cv = 2 if 2 in allowed else 4
    xml = write_request(srv, device=device, command_variant=cv, counter=client.fresh_counter())
    answer = await client.post(xml)
    assert answer.code == "I0", (answer.code, answer.reason)
    assert answer.payload is not None
    message = Message.from_bytes(answer.payload)
    assert message.message_code == by_name(use_case).code
    gc.decode_command(message.message_code, message.content)


async def test_the_esme_prepay_configuration_example_is_built_as_ecs08a(
    client: DuisClient,
) -> None:
    fields = {"UpdatePrepayConfigElectricity": "yes"}
    xml = write_request("2.1", device=ESME, command_variant=4, fields=fields,
                        counter=client.fresh_counter())  # fmt: skip
    answer = await client.post(xml)
    assert answer.code == "I0", (answer.code, answer.reason)
    assert answer.payload is not None
    message = Message.from_bytes(answer.payload)
    found = gc.decode_command(message.message_code, message.content)
    assert isinstance(found, gc.ElecPrepayConfig)
    assert [(e.time.hour, e.start) for e in found.schedule] == [(0, True), (10, False), (16, True)]


async def test_the_esme_debt_example_is_built_as_ecs07(client: DuisClient) -> None:
    fields = {"ElecDebtRecovery": "yes", "DebtRecoveryRatePriceScale": "-3"}
    xml = write_request("2.3", device=ESME, command_variant=4, fields=fields,
                        counter=client.fresh_counter())  # fmt: skip
    answer = await client.post(xml)
    assert answer.code == "I0", (answer.code, answer.reason)
    assert answer.payload is not None
    message = Message.from_bytes(answer.payload)
    found = gc.decode_command(message.message_code, message.content)
    assert isinstance(found, gc.ManageDebt)
    assert found.recovery_1.price_scale == -3
