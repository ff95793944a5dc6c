"""The SMI status lifecycle as a table: every status reachable, illegal steps refused."""

from __future__ import annotations

import pytest

from gateway.errors import IllegalTransitionError
from gateway.inventory import (
    DELETED,
    NOT_IN_SMI,
    SMI_TRANSITIONS,
    SmiEvent,
    State,
    lifecycle_markdown,
    next_status,
)
from gateway.model import DeviceStatus

DEVICE = bytes.fromhex("00db1234567890a0")
P, W, INC, C = (
    DeviceStatus.PENDING,
    DeviceStatus.WHITELISTED,
    DeviceStatus.INSTALLED_NOT_COMMISSIONED,
    DeviceStatus.COMMISSIONED,
)


def test_main_road_pending_to_decommissioned() -> None:
    state: State = NOT_IN_SMI
    for event, expected in [
        (SmiEvent.PRENOTIFY, P),
        (SmiEvent.WHITELIST, W),
        (SmiEvent.COMMISSION, C),
        (SmiEvent.DECOMMISSION, DeviceStatus.DECOMMISSIONED),
    ]:
        state = next_status(DEVICE, state, event)
        assert state is expected


def test_every_schema_status_is_reachable_from_not_in_smi() -> None:
    reached: set[State] = {NOT_IN_SMI}
    frontier: list[State] = [NOT_IN_SMI]
    while frontier:
        state = frontier.pop()
        for (source, _), target in SMI_TRANSITIONS.items():
            if source == state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == {NOT_IN_SMI, DELETED, *DeviceStatus}


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (P, SmiEvent.COMMISSION),  # must be whitelisted first
        (C, SmiEvent.COMMISSION),
        (C, SmiEvent.DELETE),  # delete only while Pending
        (P, SmiEvent.DECOMMISSION),  # a Pending device was never installed: delete it
        (DeviceStatus.DECOMMISSIONED, SmiEvent.DECOMMISSION),
        (DeviceStatus.DECOMMISSIONED, SmiEvent.WHITELIST),
        (P, SmiEvent.SET_PENDING),
        (C, SmiEvent.SET_PENDING),
        (C, SmiEvent.SET_INSTALLED_NOT_COMMISSIONED),
        (NOT_IN_SMI, SmiEvent.WHITELIST),
        (DELETED, SmiEvent.PRENOTIFY),
        (DeviceStatus.RECOVERED, SmiEvent.COMMISSION),
    ],
)
def test_illegal_transitions_raise_a_local_error(state: State, event: SmiEvent) -> None:
    with pytest.raises(IllegalTransitionError) as err:
        next_status(DEVICE, state, event)
    assert err.value.status == str(state)
    assert err.value.event == event.value
    assert "00-DB-12-34-56-78-90-A0" in str(err.value)


def test_sentinels_have_no_way_back() -> None:
    assert all(source is not DELETED for source, _ in SMI_TRANSITIONS)
    assert all(target is not NOT_IN_SMI for target in SMI_TRANSITIONS.values())


def test_markdown_lists_every_transition() -> None:
    text = lifecycle_markdown()
    assert text.count("\n") == len(SMI_TRANSITIONS) + 1
    assert "| Pending | whitelist: be added to a CHF device log (SR8.11) | Whitelisted |" in text


def test_the_documented_table_is_the_code() -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "inventory.md"
    assert lifecycle_markdown() in doc.read_text(encoding="utf-8")
