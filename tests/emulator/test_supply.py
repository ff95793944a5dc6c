from __future__ import annotations

import pytest

from emulator.errors import TransitionError
from emulator.supply import LOAD_SWITCH, VALVE, SupplyEvent, SupplyState, mermaid, transition

E, D, A = SupplyState.ENABLED, SupplyState.DISABLED, SupplyState.ARMED


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        (E, SupplyEvent.REMOTE_DISABLE, D),
        (D, SupplyEvent.REMOTE_ARM, A),
        (A, SupplyEvent.CONSUMER_BUTTON, E),
        (D, SupplyEvent.REMOTE_ENABLE, E),
        (A, SupplyEvent.REMOTE_ENABLE, E),
        (E, SupplyEvent.CREDIT_EXHAUSTED, D),
        (D, SupplyEvent.CREDIT_RESTORED, A),
    ],
)
def test_load_switch_transitions(
    state: SupplyState, event: SupplyEvent, expected: SupplyState
) -> None:
    assert transition("load switch", LOAD_SWITCH, state, event) is expected


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (E, SupplyEvent.REMOTE_ARM),  # nothing to arm
        (E, SupplyEvent.CONSUMER_BUTTON),
        (D, SupplyEvent.CONSUMER_BUTTON),  # the button works only when armed
        (E, SupplyEvent.CREDIT_RESTORED),
    ],
)
def test_load_switch_refuses_illegal_events(state: SupplyState, event: SupplyEvent) -> None:
    with pytest.raises(TransitionError, match=event.value) as caught:
        transition("load switch", LOAD_SWITCH, state, event)
    assert caught.value.state == state.value


def test_a_gas_valve_is_never_opened_remotely() -> None:
    for state in SupplyState:
        with pytest.raises(TransitionError):
            transition("valve", VALVE, state, SupplyEvent.REMOTE_ENABLE)
    # ... but it can be armed and opened by the consumer.
    armed = transition("valve", VALVE, D, SupplyEvent.REMOTE_ARM)
    assert transition("valve", VALVE, armed, SupplyEvent.CONSUMER_BUTTON) is E


def test_every_table_target_is_a_state_and_diagram_lists_every_edge() -> None:
    for table in (LOAD_SWITCH, VALVE):
        diagram = mermaid(table)
        assert diagram.startswith("stateDiagram-v2")
        assert diagram.count("-->") == len(table)
