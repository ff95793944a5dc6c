"""The emulated devices' state, saved as it changes: ``STATE/devices.db``.

A fleet's host (the sandbox, or worker 0 of ``sandbox --workers``, or an MQTT fleet worker of
``smetsim fleet serve``) saves the state of every device a frame changed before that frame's
answer is handed to the WAN, so a meter never reports a change (say, supply disabled) that a
SIGKILL then undoes. One SQLite table holds a JSON row per device that has changed; rows are
written in one transaction per batch of frames, for the devices those frames touched only.
``fleet.json`` (written on a clean stop) still holds the specs and every device's state; on
start the rows are laid over it, so the newer of the two wins.

Several MQTT fleet workers (one per partition) may share the file: each writes only the
devices of its hubs, and SQLite's write lock (with WAL, readers never wait) keeps their
transactions apart.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from emulator.errors import EmulatorError
from emulator.fleet import Fleet

FILE_NAME: Final = "devices.db"

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS device_state ("
    " eui BLOB PRIMARY KEY,"
    " state TEXT NOT NULL"
    ") WITHOUT ROWID"
)


_encode: Final = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
"""``json.dumps`` with those arguments, without making an encoder per device saved (the
states are plain trees from ``to_json``: no cycles to look for)."""


class DeviceStore:
    """The saved device states of one state folder.

    ``fsync``: each save reaches the disk before it returns (durability ``full``: a power
    cut loses nothing reported); without it a save reaches the operating system (durability
    ``process``: a killed process loses nothing, a power cut may)."""

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA busy_timeout = 10000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {'FULL' if fsync else 'OFF'}")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            self._db.close()
            raise EmulatorError(f"cannot open the device state {path}: {exc}") from None
        self.saves = 0
        """Transactions written (one per batch of frames that changed a device)."""
        self._saved: dict[bytes, str] = {}
        """The JSON this store last committed for each device: a touched device whose state
        came out the same (a hub that only passed a command on) is not written again."""

    @classmethod
    def in_state(cls, state: Path, *, durability: str) -> DeviceStore:
        """The store of state folder ``state`` for a gateway ``durability`` (full, process)."""
        return cls(state / FILE_NAME, fsync=durability == "full")

    def save(self, states: Iterable[dict[str, Any]]) -> None:
        """Write these device states (from :meth:`Fleet.state_of`) in one transaction."""
        saved = self._saved
        rows = []
        for state in states:
            eui, text = bytes.fromhex(state["eui"]), _encode(state)
            if saved.get(eui) != text:
                rows.append((eui, text))
        if not rows:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO device_state (eui, state) VALUES (?, ?)"
                " ON CONFLICT (eui) DO UPDATE SET state = excluded.state",
                rows,
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        saved.update(rows)
        self.saves += 1

    def save_fleet(self, fleet: Fleet, euis: Iterable[bytes]) -> None:
        """Save the state of ``euis`` (devices of ``fleet`` that have state)."""
        self.save(fleet.state_of(eui) for eui in euis)

    def flush(self, fleet: Fleet) -> None:
        """Save every device ``fleet`` says was touched since the last flush."""
        touched = fleet.take_touched()
        if touched:
            self.save_fleet(fleet, touched)

    def states(self) -> list[dict[str, Any]]:
        """Every saved device state."""
        rows = self._db.execute("SELECT eui, state FROM device_state").fetchall()
        out = []
        for eui, text in rows:
            try:
                state = json.loads(text)
            except ValueError:
                raise EmulatorError(
                    f"{self.path}: the saved state of {bytes(eui).hex()} is not JSON"
                ) from None
            if not isinstance(state, dict):
                raise EmulatorError(f"{self.path}: the saved state of {bytes(eui).hex()} is bad")
            out.append(state)
        return out

    def load_into(self, fleet: Fleet) -> int:
        """Lay the saved states over ``fleet`` (devices it does not host are skipped: a
        fleet made with fewer ``--devices``); how many were put back."""
        count = 0
        for state in self.states():
            try:
                eui = bytes.fromhex(state["eui"])
            except (KeyError, TypeError, ValueError):
                raise EmulatorError(f"{self.path}: a saved device state has no EUI") from None
            if eui not in fleet:
                continue
            try:
                fleet.load_state(state)
            except EmulatorError as exc:
                raise EmulatorError(f"{self.path}: {exc}") from None
            count += 1
        return count

    def close(self) -> None:
        self._db.close()


def open_device_store(state: Path, fleet: Fleet, *, durability: str) -> DeviceStore:
    """Open the store of ``state`` and lay what it holds over ``fleet``."""
    store = DeviceStore.in_state(state, durability=durability)
    try:
        store.load_into(fleet)
        # What was just loaded needs no saving; what the load touched is nothing new.
        fleet.take_touched()
    except BaseException:
        store.close()
        raise
    return store
