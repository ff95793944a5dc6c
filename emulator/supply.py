"""The ESME load switch and the GSME valve, as state machines written as tables.

A dict from (state, event) to the next state; an event missing from the
table is illegal in that state and raises :class:`~emulator.errors.TransitionError`, which a
device turns into an error response. The tables are data, so ``docs/emulator.md`` shows
them as generated diagrams (:func:`mermaid`).

Both supplies share the three SMETS2 states: **enabled** (load switch closed / valve open:
energy flows), **disabled** (switch open / valve closed) and **armed** (disabled, but the
consumer may restore supply by pressing the button on the meter). A gas valve cannot be
opened remotely - only armed - which is the one difference between the two tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from emulator.errors import TransitionError


class SupplyState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    ARMED = "armed"


class SupplyEvent(StrEnum):
    REMOTE_ENABLE = "remote-enable"
    """ECS42: close the load switch. (No gas equivalent: a valve is never opened remotely.)"""
    REMOTE_DISABLE = "remote-disable"
    """ECS43 open the load switch / GCS32 close the valve."""
    REMOTE_ARM = "remote-arm"
    """ECS44 / GCS39: arm, so that the consumer can restore supply locally."""
    CONSUMER_BUTTON = "consumer-button"
    """The consumer presses the button on an armed meter."""
    CREDIT_EXHAUSTED = "credit-exhausted"
    """Prepayment: available credit fell to the disablement threshold."""
    CREDIT_RESTORED = "credit-restored"
    """Prepayment: a top-up lifted available credit above the threshold (supply is armed)."""


Table = Mapping[tuple[SupplyState, SupplyEvent], SupplyState]

_E, _D, _A = SupplyState.ENABLED, SupplyState.DISABLED, SupplyState.ARMED

LOAD_SWITCH: Table = MappingProxyType(
    {
        (_E, SupplyEvent.REMOTE_ENABLE): _E,
        (_D, SupplyEvent.REMOTE_ENABLE): _E,
        (_A, SupplyEvent.REMOTE_ENABLE): _E,
        (_E, SupplyEvent.REMOTE_DISABLE): _D,
        (_D, SupplyEvent.REMOTE_DISABLE): _D,
        (_A, SupplyEvent.REMOTE_DISABLE): _D,
        (_D, SupplyEvent.REMOTE_ARM): _A,
        (_A, SupplyEvent.REMOTE_ARM): _A,
        (_A, SupplyEvent.CONSUMER_BUTTON): _E,
        (_E, SupplyEvent.CREDIT_EXHAUSTED): _D,
        (_A, SupplyEvent.CREDIT_EXHAUSTED): _D,
        (_D, SupplyEvent.CREDIT_EXHAUSTED): _D,
        (_D, SupplyEvent.CREDIT_RESTORED): _A,
    }
)
"""ESME load switch. Arming an enabled supply is refused (there is nothing to arm)."""

VALVE: Table = MappingProxyType(
    {
        (_E, SupplyEvent.REMOTE_DISABLE): _D,
        (_D, SupplyEvent.REMOTE_DISABLE): _D,
        (_A, SupplyEvent.REMOTE_DISABLE): _D,
        (_D, SupplyEvent.REMOTE_ARM): _A,
        (_A, SupplyEvent.REMOTE_ARM): _A,
        (_A, SupplyEvent.CONSUMER_BUTTON): _E,
        (_E, SupplyEvent.CREDIT_EXHAUSTED): _D,
        (_A, SupplyEvent.CREDIT_EXHAUSTED): _D,
        (_D, SupplyEvent.CREDIT_EXHAUSTED): _D,
        (_D, SupplyEvent.CREDIT_RESTORED): _A,
    }
)
"""GSME valve: like the load switch, without a remote open."""


def transition(name: str, table: Table, state: SupplyState, event: SupplyEvent) -> SupplyState:
    """The next state, or :class:`TransitionError` when ``event`` is illegal in ``state``."""
    try:
        return table[(state, event)]
    except KeyError:
        raise TransitionError(name, state.value, event.value) from None


def mermaid(table: Table) -> str:
    """The table as a Mermaid state diagram (for the docs)."""
    lines = ["stateDiagram-v2"]
    for (state, event), target in table.items():
        lines.append(f"    {state.value} --> {target.value}: {event.value}")
    return "\n".join(lines)
