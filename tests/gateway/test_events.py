"""The event bus's relayed events (other workers') and the flow's restore from the database's
rows, without a gateway."""

from __future__ import annotations

import logging

import pytest

from gateway.events import Event, EventBus
from gateway.web.flow import Flow, Restored

RID = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:{}"


def test_a_relayed_event_reaches_the_stream_and_only_the_listeners_that_ask() -> None:
    bus = EventBus()
    bus.worker = 1
    own: list[Event] = []
    every: list[Event] = []
    bus.listen(own.append)
    bus.listen(every.append, relayed=True)
    subscription = bus.subscribe()
    local = bus.publish("rdp-file", direction="written", file="a")
    relayed = bus.relay(
        {"seq": 7, "type": "rdp-file", "at": "2026-01-01T00:00:00+00:00", "worker": 0, "file": "b"}
    )
    assert relayed is not None
    assert [e.fields["file"] for e in own] == ["a"]
    assert [e.fields["file"] for e in every] == ["a", "b"]
    # Numbered in this process's sequence, its time and its worker as they were.
    assert (local.seq, relayed.seq) == (1, 2)
    assert relayed.as_json() == {
        "seq": 2,
        "type": "rdp-file",
        "at": "2026-01-01T00:00:00+00:00",
        "file": "b",
        "worker": 0,
    }
    assert local.as_json()["worker"] == 1
    assert subscription.queue.qsize() == 2
    assert "worker" not in EventBus().publish("rdp-file", file="c").as_json()  # one process


def test_a_listener_of_some_types_gets_only_those_and_wants_says_who_would_hear() -> None:
    bus = EventBus()
    logged: list[Event] = []
    bus.listen(logged.append, types=("rdp-file",))
    assert bus.wants("rdp-file")
    assert not bus.wants("command-sent")  # nobody would get it: a hot path may skip it
    bus.publish("command-sent", hub="00", bytes=1)
    bus.publish("rdp-file", file="a")
    assert [e.type for e in logged] == ["rdp-file"]
    subscription = bus.subscribe()
    assert bus.wants("command-sent")  # a stream takes every type
    bus.unsubscribe(subscription)
    assert not bus.wants("command-sent")
    bus.listen(lambda event: None)  # a listener of every type
    assert bus.wants("command-sent")
    with pytest.raises(ValueError, match="nonsense"):
        bus.listen(logged.append, types=("nonsense",))


@pytest.mark.parametrize(
    "data",
    [
        {"type": "nonsense", "at": "x", "worker": 0},
        {"type": "rdp-file", "worker": 0},
        {"type": "rdp-file", "at": "x"},
        {"type": "rdp-file", "at": "x", "worker": "0"},
    ],
)
def test_a_relayed_event_that_is_not_one_is_dropped(
    data: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus()
    every: list[Event] = []
    bus.listen(every.append, relayed=True)
    with caplog.at_level(logging.WARNING, logger="gateway.events"):
        assert bus.relay(data) is None
    assert every == []
    assert "dropped" in caplog.text


def _restored(n: int, final: str | None = "response") -> Restored:
    return Restored(
        request_id=RID.format(n),
        at=f"2026-01-01T00:00:{n:02d}+00:00",
        srv="4.1.1",
        name="Read Instantaneous Import Registers",
        cv=1,
        sender="90-B3-D5-1F-30-01-00-00",
        device="00-DB-12-34-56-78-90-A0",
        code="I99",
        final_kind=final,
        final_code=None if final is None else "I0",
        final_at=None,
    )


def test_the_flow_restores_the_newest_rows_behind_what_it_saw() -> None:
    flow = Flow(keep=3)
    bus = EventBus()
    bus.listen(flow.on_event)
    bus.publish("sr-received", requestId=RID.format(9), srv="4.1.1", code="I99", ms=1.0)
    added = flow.restore([_restored(n, None if n == 5 else "response") for n in range(1, 6)])
    assert added == 3
    # Newest first: the live one, then the newest restored; the oldest fall off.
    assert [e.key for e in flow.entries()] == [RID.format(n) for n in (9, 5, 4)]
    assert [e.restored for e in flow.entries()] == [False, True, True]
    assert [e.outcome for e in flow.entries()] == ["pending", "pending", "response"]
    # A row the flow already has live is not laid over it.
    assert flow.restore([_restored(9)]) == 0
    assert [e.restored for e in flow.entries()] == [False, True, True]
