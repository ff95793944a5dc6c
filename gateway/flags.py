"""DCC Service Flags per meter point (SEC modification MP077): the two rule sets and the queue.

Each MPxN carries a DCC Service Flag that the Registration Data Providers receive (E45 for
gas, D0350 for electricity; :mod:`gateway.registration` writes the files). It is ``None``
until a smart meter is operated via the DCC for that meter point.

``dsp`` - the DCC's current rules (MP077's Preliminary Assessment), the default:

1. null until a smart meter associated with the meter point is Commissioned;
2. **A** when an associated smart meter becomes Commissioned (SR8.1.1), or when a meter point
   that is not already A is linked to a Commissioned smart meter (SR8.11 Add, SR8.4
   UpdateMPxN);
3. **N** when an associated smart meter is decommissioned (SR8.3) or a Commissioned one is
   unlinked from it (SR8.4) - except where the meter point is still associated with another
   Commissioned smart meter; and only a meter point that is A becomes N;
4. InstalledNotCommissioned, Suspended, Recovery and Recovered change nothing.

``mp077`` - the proposers' wider rules (flag values A, N and the new **I**; W and S removed):

1. **A** whenever an associated smart meter is Commissioned;
2. else **I** when one is InstalledNotCommissioned;
3. else, for a meter point that has had a flag (A or I), **N** when every associated smart
   meter is Decommissioned, in Recovery, Recovered (or none is left after an unlink) - the
   Working Group dropped Suspended, so a Suspended meter keeps the flag as it is.

A change of flag is recorded on the meter point and queued (``flag_changes``, not yet
notified) in the same transaction as the SMI change that caused it.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from typing import Final, Literal

from gateway.model import DeviceStatus
from gateway.storage import Transaction
from gbcs.devices import Fuel

FlagRules = Literal["dsp", "mp077"]
"""``dsp``: the DCC's current rules (default). ``mp077``: the proposers' wider rules."""

FLAG_RULES: Final[tuple[FlagRules, ...]] = ("dsp", "mp077")


class ServiceFlag(StrEnum):
    """DCC Service Flag values this project sends (``I`` only under ``mp077``)."""

    ACTIVE = "A"
    NOT_ACTIVE = "N"
    INSTALLED_NOT_COMMISSIONED = "I"


class FlagEvent(StrEnum):
    """What happened to a smart meter associated with the meter point."""

    COMMISSIONED = "commissioned"
    DECOMMISSIONED = "decommissioned"
    LINKED = "linked"
    UNLINKED = "unlinked"
    STATUS_CHANGED = "status changed"


_C = DeviceStatus.COMMISSIONED
_INC = DeviceStatus.INSTALLED_NOT_COMMISSIONED
_NOT_ACTIVE_MP077: Final = frozenset(
    {DeviceStatus.DECOMMISSIONED, DeviceStatus.RECOVERY, DeviceStatus.RECOVERED}
)


def next_flag(
    rules: FlagRules,
    current: ServiceFlag | None,
    meters: Collection[DeviceStatus],
    event: FlagEvent,
    device_status: DeviceStatus,
) -> ServiceFlag | None:
    """The meter point's flag after ``event``.

    ``meters``: the statuses of the smart meters associated with the meter point AFTER the
    event (an unlinked meter no longer counts; a decommissioned one counts as Decommissioned).
    ``device_status``: the status of the meter the event happened to, after it.
    """
    if _C in meters:
        return ServiceFlag.ACTIVE
    if rules == "dsp":
        if current is ServiceFlag.ACTIVE and (
            event is FlagEvent.DECOMMISSIONED
            or (event is FlagEvent.UNLINKED and device_status is _C)
        ):
            return ServiceFlag.NOT_ACTIVE
        return current
    if rules == "mp077":
        if _INC in meters:
            return ServiceFlag.INSTALLED_NOT_COMMISSIONED
        if DeviceStatus.SUSPENDED in meters or current is None:
            return current
        if all(s in _NOT_ACTIVE_MP077 for s in meters) and current is not ServiceFlag.NOT_ACTIVE:
            return ServiceFlag.NOT_ACTIVE
        return current
    raise ValueError(f"unknown service flag rules {rules!r}: expected one of {FLAG_RULES}")


def check_rules(rules: str) -> FlagRules:
    """``rules`` as a :data:`FlagRules`; ValueError naming the value otherwise."""
    for known in FLAG_RULES:
        if rules == known:
            return known
    raise ValueError(f"unknown service flag rules {rules!r}: expected 'dsp' or 'mp077'")


def meter_statuses(tx: Transaction, mpxn: str) -> list[DeviceStatus]:
    """Statuses of the smart meters linked to ``mpxn`` in any slot (index look-ups only)."""
    rows = tx.all(
        "SELECT device_id, status FROM devices WHERE import_mpxn = ?1 "
        "UNION SELECT device_id, status FROM devices WHERE secondary_import_mpan = ?1 "
        "UNION SELECT device_id, status FROM devices WHERE export_mpan = ?1",
        (mpxn,),
    )
    return [DeviceStatus(r["status"]) for r in rows]


def apply_event(
    tx: Transaction,
    rules: FlagRules,
    mpxns: Collection[str],
    event: FlagEvent,
    device_status: DeviceStatus,
    *,
    effective_date: str,
    now: str,
) -> list[tuple[str, ServiceFlag]]:
    """Recompute the flag of each of ``mpxns`` after an SMI change made earlier in ``tx``.

    Records and queues every change; returns ``(mpxn, new flag)`` for those that changed.
    ``effective_date`` is ``YYYYMMDD``.
    """
    changed: list[tuple[str, ServiceFlag]] = []
    for mpxn in sorted(set(mpxns)):
        row = tx.one("SELECT fuel, service_flag FROM meter_points WHERE mpxn = ?", (mpxn,))
        if row is None:
            continue
        current = None if row["service_flag"] is None else ServiceFlag(row["service_flag"])
        new = next_flag(rules, current, meter_statuses(tx, mpxn), event, device_status)
        if new is None or new is current:
            continue
        tx.execute(
            "UPDATE meter_points SET service_flag = ?, flag_date = ? WHERE mpxn = ?",
            (new.value, effective_date, mpxn),
        )
        tx.execute(
            "INSERT INTO flag_changes (mpxn, fuel, flag, effective_date, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (mpxn, Fuel(row["fuel"]).value, new.value, effective_date, now),
        )
        changed.append((mpxn, new))
    return changed
