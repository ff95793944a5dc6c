"""The meter's variant, as the SMI holds it, decides the command: the DCC's twin-element 1.6
templates give the DCC's twin-element commands once the supplier says (SR8.4) the ESME is
twin-element, and SR6.22's polyphase alert settings go to a polyphase ESME only."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbcs import content as gc
from gbcs.codes import NETWORK_OPERATOR
from gbcs.eui import eui_duis
from gbcs.frames import Message
from gbcs.usecases import by_name
from smetsim.client import DuisClient
from smetsim.requests import write_request
from smetsim.sandbox import ESME, Sandbox
from tests.e2e.support import gbcs_of, request, template

TWIN = [
    # the DCC's templates of the twin-element 1.6, in their RequestID counters' order
    "ECS02_1.6_CANCELLATION_TWIN",
    "ECS02_1.6_FUTURE_DATED_TWIN",
    "ECS03_1.6_FUTURE_DATED_TWIN",
    "ECS03_1.6_CANCELLATION_TWIN",
]


def _variant(sandbox: Sandbox) -> str | None:
    record = sandbox.gateway.service.get_device(ESME)
    assert record is not None
    return record.esme_variant


async def _set_variant(client: DuisClient, variant: str, counter: int | None = None) -> None:
    """SR8.4 UpdateDeviceDetails from the ESME's Responsible Supplier (MP125)."""
    xml = write_request(
        "8.4",
        fields={"DeviceID": eui_duis(ESME), "ESMEVariant": variant},
        counter=client.fresh_counter() if counter is None else counter,
    )
    answer = await client.post(xml)
    assert answer.code == "I0", answer.reason


def _reference(conformance: Path, stem: str) -> Message:
    found = list(conformance.glob(f"gbcs/*/{stem}_SUCCESS_PRECOMMAND_GBCS.HEX"))
    assert len(found) == 1, stem
    return Message.from_bytes(bytes.fromhex(found[0].read_text().strip()))


async def test_a_twin_element_esme_gets_the_dccs_twin_element_commands(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    # The default home's ESME is single element (its profile's variant A): the twin
    # templates' transforms are then the single-element ones (tests/e2e/test_templates.py
    # lists the difference).
    assert _variant(sandbox) == "A"
    await _set_variant(client, "B", counter=1000)  # below the templates' own counters
    assert _variant(sandbox) == "B"
    for stem in TWIN:
        xml = template(conformance, f"{stem}_SUCCESS_REQUEST_DUIS.XML")
        outcome = await client.send(xml, wait=True, within=5)
        precommand = outcome.answers[0]
        assert precommand.code == "I0", (stem, precommand.reason)
        assert precommand.payload is not None
        ours, theirs = Message.from_bytes(precommand.payload), _reference(conformance, stem)
        assert ours.message_code == theirs.message_code, stem
        assert ours.originator_counter == theirs.originator_counter, stem
        assert ours.content == theirs.content, stem
        # and the signed command reached the meter, which took it
        assert outcome.final is not None, outcome
        assert outcome.final.ok, (stem, outcome.final)


async def test_back_to_single_element_the_same_template_is_the_single_element_command(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    stem = "ECS02_1.6_FUTURE_DATED_TWIN"
    xml = template(conformance, f"{stem}_SUCCESS_REQUEST_DUIS.XML")
    await _set_variant(client, "B")
    twin = await client.post(client.with_counter(xml))
    await _set_variant(client, "A")
    single = await client.post(client.with_counter(xml))
    assert twin.payload is not None
    assert single.payload is not None
    twin_content = Message.from_bytes(twin.payload).content
    single_content = Message.from_bytes(single.payload).content
    twin_cmd = gc.decode_command(by_name("ECS02").code, twin_content)
    single_cmd = gc.decode_command(by_name("ECS02").code, single_content)
    assert isinstance(twin_cmd, gc.ElecCreditMode)
    assert isinstance(single_cmd, gc.ElecCreditMode)
    assert twin_cmd.twin
    assert not single_cmd.twin


_ECS25B = "ECS25b_6.22_SUCCESS_REQUEST_DUIS.XML"
"""Network operator alerts: x8014, x8015 (common) and x8003 (polyphase)."""


async def _alert_command(client: DuisClient, conformance: Path) -> tuple[tuple[int, bool], ...]:
    """The ECS25b template's command, returned for local delivery (CV2)."""
    xml = template(conformance, _ECS25B).replace(
        b"<sr:CommandVariant>1</sr:CommandVariant>", b"<sr:CommandVariant>2</sr:CommandVariant>"
    )
    answer = await client.post(client.with_counter(xml))
    assert answer.code == "I0", answer.reason
    assert answer.payload is not None
    command = gc.decode_command(by_name("ECS25b").code, Message.from_bytes(answer.payload).content)
    assert isinstance(command, gc.SetAlertBehaviour)
    return command.settings


async def test_polyphase_alert_settings_go_to_a_polyphase_esme_only(
    sandbox: Sandbox, client: DuisClient, conformance: Path
) -> None:
    assert await _alert_command(client, conformance) == ((0x8014, True), (0x8015, False))
    await _set_variant(client, "CD")
    assert await _alert_command(client, conformance) == (
        (0x8003, True),
        (0x8014, True),
        (0x8015, False),
    )


@pytest.mark.parametrize(("variant", "code"), [("A", "E42"), ("C", "I99")])
async def test_only_polyphase_settings_are_refused_for_a_single_phase_esme(
    sandbox: Sandbox, client: DuisClient, variant: str, code: str
) -> None:
    await _set_variant(client, variant)
    body = (
        "<sr:ConfigureAlertBehaviour><sr:ElectricityNetworkOperatorAlerts>"
        "<sr:NetworkOperatorESMEPolyPhase><sr:x8003>Disable</sr:x8003>"
        "</sr:NetworkOperatorESMEPolyPhase></sr:ElectricityNetworkOperatorAlerts>"
        "</sr:ConfigureAlertBehaviour>"
    )
    xml = request(client, "6.22", ESME, body, originator=NETWORK_OPERATOR)
    outcome = await client.send(xml, wait=True, within=5)
    answer = outcome.answers[-1]
    assert answer.code == code, answer.reason
    if code == "E42":
        assert "only polyphase settings" in answer.reason
        assert outcome.final is None
    else:
        # Sent: the emulated meter is single phase whatever the SMI says (its firmware's
        # variant is A), so it refuses the polyphase alert with a failed result, as the
        # DCC's ECS25b ERROR response does.
        assert outcome.final is not None
        response = gbcs_of(outcome.final.body)
        assert response.message_code == by_name("ECS25b").code
        answer_content = gc.decode_response(response.message_code, response.content)
        assert isinstance(answer_content, gc.Outcome)
        assert not answer_content.ok


async def _local_command(client: DuisClient, srv: str, body: str, originator: bytes) -> Message:
    """The command of ``srv`` to the ESME, returned for local delivery (CV2)."""
    xml = request(client, srv, ESME, body, cv=2, originator=originator)
    answer = await client.post(xml)
    assert answer.code == "I0", answer.reason
    assert answer.payload is not None
    return Message.from_bytes(answer.payload)


_RESET = "<sr:UpdateDeviceConfigurationRMSVoltageCounterReset/>"


@pytest.mark.parametrize(("variant", "name"), [("A", "ECS29e"), ("B", "ECS29e"), ("C", "ECS29f")])
async def test_6_27_to_a_polyphase_esme_resets_each_phase(
    sandbox: Sandbox, client: DuisClient, variant: str, name: str
) -> None:
    await _set_variant(client, variant)
    command = await _local_command(client, "6.27", _RESET, NETWORK_OPERATOR)
    assert command.message_code == by_name(name).code
    settings = gc.decode_command(command.message_code, command.content)
    assert isinstance(settings, gc.DeviceSettings)
    # two counters (sag, swell) a phase: one phase, or L1, L2 and L3
    assert len(settings.writes) == (6 if name == "ECS29f" else 2)


async def test_6_27_sent_to_a_polyphase_esme_reaches_it_as_ecs29f(
    sandbox: Sandbox, client: DuisClient
) -> None:
    await _set_variant(client, "CD")
    xml = request(client, "6.27", ESME, _RESET, originator=NETWORK_OPERATOR)
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.answers[0].code == "I99", outcome.answers[0].reason
    assert outcome.final is not None
    # The emulated meter is single phase whatever the SMI says (its firmware lists ECS29e
    # only): it answers the ECS29f it was sent, refusing it.
    assert gbcs_of(outcome.final.body).message_code == by_name("ECS29f").code


_NETWORK_DATA = (
    "<sr:ReadNetworkData><sr:ReadLogPeriod>"
    "<sr:StartDateTime>2024-01-01T00:00:00Z</sr:StartDateTime>"
    "<sr:EndDateTime>2024-01-02T00:00:00Z</sr:EndDateTime>"
    "</sr:ReadLogPeriod></sr:ReadNetworkData>"
)


@pytest.mark.parametrize(("variant", "name"), [("A", "ECS23"), ("B", "ECS23"), ("C", "ECS23b")])
async def test_4_10_to_a_polyphase_esme_reads_each_phase(
    sandbox: Sandbox, client: DuisClient, variant: str, name: str
) -> None:
    await _set_variant(client, variant)
    command = await _local_command(client, "4.10", _NETWORK_DATA, NETWORK_OPERATOR)
    assert command.message_code == by_name(name).code
