"""The device state store's writes: what is committed is what a new store reads back, and a
device whose state came out the same is not written again."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from smetsim.device_store import DeviceStore


def _state(eui: str, counter: int) -> dict[str, Any]:
    return {"eui": eui, "counters": {"00db1234567890a0": counter}, "log": []}


def test_an_unchanged_state_is_not_written_again_and_a_changed_one_is(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "devices.db", fsync=False)
    a, b = "00aa000000000001", "00aa000000000002"
    store.save([_state(a, 1), _state(b, 1)])
    store.save([_state(a, 1), _state(b, 1)])  # the same JSON: no transaction
    assert store.saves == 1
    store.save([_state(a, 1), _state(b, 2)])
    assert store.saves == 2
    store.close()
    reopened = DeviceStore(tmp_path / "devices.db", fsync=False)
    assert sorted(reopened.states(), key=lambda s: str(s["eui"])) == [_state(a, 1), _state(b, 2)]
    reopened.close()


def test_a_save_that_fails_is_written_again_next_time(tmp_path: Path) -> None:
    store = DeviceStore(tmp_path / "devices.db", fsync=False)
    eui = "00aa000000000001"
    blocker = sqlite3.connect(tmp_path / "devices.db", isolation_level=None)
    blocker.execute("PRAGMA busy_timeout = 0")
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    store._db.execute("PRAGMA busy_timeout = 0")
    with pytest.raises(sqlite3.OperationalError):
        store.save([_state(eui, 5)])
    blocker.execute("ROLLBACK")
    blocker.close()
    assert store.saves == 0
    store.save([_state(eui, 5)])  # not taken for saved: written now
    assert store.saves == 1
    assert store.states() == [_state(eui, 5)]
    store.close()
