"""Threshold anomaly detection: what exceeds a user's thresholds is quarantined, not sent.

The Smart Energy Code asks the DCC to count, per DCC User and per kind of service request,
what each user sends, to check data values in requests against limits, and to quarantine a
request that exceeds an Anomaly Detection Threshold; the user is told with DCC alert ``AD1``
(DUIS ``QuarantinedRequest``). This module holds:

- :class:`Threshold`: a count of one SR in a rolling period, for one user or DCC-wide (every
  user together), or an attribute limit on a value the request carries (:data:`ATTRIBUTES`);
- :class:`AnomalyDetector`: its tables (component ``anomaly``, :data:`MIGRATIONS`), the
  thresholds, and :meth:`AnomalyDetector.screen`, which the device service calls inside the
  transaction that accepts a request (after every other rule passed): it counts from the
  database, so the count is exact whichever process or batch accepts the request - SQLite
  lets one writer in at a time and the count's own row is written in that transaction;
- the quarantine: held requests with their breach, released or deleted by the admin API
  (``gateway.anomaly_routes``).

Only requests that go to a device over the WAN are screened and counted (CommandVariant 1 and
the signed critical command of CV5); pre-commands (CV4) and local delivery (CV2, CV6) are not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from gateway.errors import AdminError
from gateway.storage import Migration, Row, Storage, Transaction, version_triggers
from gateway.users import get_user
from gbcs import content as gc
from gbcs.errors import DecodeError, GbcsError
from gbcs.eui import eui_duis, parse_eui
from gbcs.utrn import parse_utrn

__all__ = [
    "ANOMALY_ALERT",
    "ATTRIBUTES",
    "MIGRATIONS",
    "AnomalyDetector",
    "Breach",
    "BreachKind",
    "Quarantined",
    "Threshold",
    "threshold_from_json",
]

ANOMALY_ALERT: Final = "AD1"
"""The DUIS ``DCCAlertCode`` of a quarantined request."""

MAX_PERIOD_S: Final = 366 * 24 * 3600
MAX_LIMIT: Final = 10**12


class BreachKind(StrEnum):
    """The DUIS element under ``QuarantinedRequest`` naming what the request exceeded."""

    USER = "ADUserThresholdBreach"
    DCC = "ADDCCThresholdBreach"
    ATTRIBUTE = "ADAttributeLimitsBreach"


ATTRIBUTES: Final[Mapping[str, Mapping[str, str]]] = {
    "2.2": {
        "UTRN value": "the credit the UTRN carries, in pence (its 13-bit value, times 100 "
        "when its value class is pounds)",
    },
    "1.1.1": {
        "price": "the highest TOU or block price of the tariff, in the units of its "
        "PriceScale (as the DUIS request writes it)",
        "standing charge": "the tariff's standing charge, in the units of its PriceScale",
    },
}
"""The values the gateway can read from a request, by SR: what attribute limits apply to.
They are read from the GBCS command the gateway sends (the same for CV1 and the signed
pre-command of CV5): a UTRN's value is not encrypted, only MACed."""


class QuarantineState(StrEnum):
    HELD = "held"
    RELEASED = "released"
    DELETED = "deleted"


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "anomaly",
        1,
        """
        CREATE TABLE anomaly_thresholds (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            scope TEXT NOT NULL UNIQUE,
            user BLOB,
            srv TEXT NOT NULL,
            attribute TEXT,
            limit_value INTEGER NOT NULL,
            period_s INTEGER
        );
        CREATE INDEX anomaly_thresholds_srv ON anomaly_thresholds (srv);

        CREATE TABLE anomaly_counts (
            id INTEGER PRIMARY KEY,
            user BLOB NOT NULL,
            srv TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX anomaly_counts_srv ON anomaly_counts (srv, at);
        CREATE INDEX anomaly_counts_user ON anomaly_counts (user, srv, at);

        CREATE TABLE anomaly_quarantine (
            ref INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id TEXT NOT NULL UNIQUE,
            sender BLOB NOT NULL,
            device BLOB NOT NULL,
            srv TEXT NOT NULL,
            breach TEXT NOT NULL,
            detail TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            decided_at TEXT
        );
        CREATE INDEX anomaly_quarantine_state ON anomaly_quarantine (state, ref);
        """,
    ),
    Migration(
        "anomaly",
        2,
        """
        CREATE TABLE anomaly_meta (
            key TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO anomaly_meta (key, value) VALUES ('thresholds_version', 0);
        """
        + version_triggers(
            "anomaly_thresholds_on", "anomaly_thresholds", "anomaly_meta", "thresholds_version"
        ),
    ),
)
"""The tables of anomaly detection (component ``anomaly``): thresholds, the counted requests
(kept for the longest period of their SR's thresholds), the quarantine; the thresholds'
version, which triggers move on every change (by any process sharing the database), so each
process reads the thresholds again only when they changed."""


# =========================================================================== thresholds


@dataclass(frozen=True, slots=True)
class Threshold:
    """A count threshold (``period_s`` set) or an attribute limit (``attribute`` set)."""

    user: bytes | None
    """The DCC User it applies to; None: DCC-wide (a count: every user's requests together;
    an attribute limit: every user's requests)."""
    srv: str
    limit: int
    period_s: int | None = None
    attribute: str | None = None
    id: int | None = None

    @property
    def kind(self) -> BreachKind:
        if self.attribute is not None:
            return BreachKind.ATTRIBUTE
        return BreachKind.DCC if self.user is None else BreachKind.USER

    @property
    def scope(self) -> str:
        """What makes two thresholds the same one (a new one replaces the old)."""
        user = "*" if self.user is None else self.user.hex()
        return f"{user}|{self.srv}|{self.attribute or ''}|{self.period_s or ''}"

    def describe(self) -> str:
        who = "all users" if self.user is None else eui_duis(self.user)
        if self.attribute is not None:
            return f"{self.attribute} of SR {self.srv} at most {self.limit} ({who})"
        return f"at most {self.limit} SR {self.srv} per {self.period_s} s ({who})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "user": None if self.user is None else eui_duis(self.user),
            "srv": self.srv,
            "limit": self.limit,
            "kind": self.kind.value,
        }
        if self.attribute is None:
            out["period_s"] = self.period_s
        else:
            out["attribute"] = self.attribute
        return out


_THRESHOLD_KEYS: Final = frozenset({"user", "srv", "limit", "period_s", "attribute"})


def threshold_from_json(data: Mapping[str, Any], where: str = "threshold") -> Threshold:
    """A threshold from its JSON (or TOML) form; :class:`AdminError` naming the bad field.
    Whether its user is registered is checked when it is set (:meth:`AnomalyDetector.set`)."""
    unknown = set(data) - _THRESHOLD_KEYS
    if unknown:
        raise AdminError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(_THRESHOLD_KEYS))})"
        )
    user_text = data.get("user")
    user: bytes | None = None
    if user_text is not None:
        if not isinstance(user_text, str):
            raise AdminError(
                f"{where}: user must be an EUI such as 90-B3-D5-1F-30-01-00-00, or null"
            )
        try:
            user = parse_eui(user_text)
        except ValueError as exc:
            raise AdminError(f"{where}: user {user_text!r}: {exc}") from None
    srv = data.get("srv")
    served = _served_variants()
    if not isinstance(srv, str) or srv not in served:
        raise AdminError(
            f"{where}: srv {srv!r} is not a device SR this gateway serves "
            f"(one of {', '.join(sorted(served, key=_srv_order))})"
        )
    limit = data.get("limit")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise AdminError(f"{where}: limit {limit!r} must be a whole number from 0 to {MAX_LIMIT}")
    attribute = data.get("attribute")
    period = data.get("period_s")
    if attribute is None:
        if (
            isinstance(period, bool)
            or not isinstance(period, int)
            or not 0 < period <= MAX_PERIOD_S
        ):
            raise AdminError(
                f"{where}: period_s {period!r} must be a whole number of seconds from 1 to "
                f"{MAX_PERIOD_S} (a count threshold counts over a rolling period)"
            )
        return Threshold(user, srv, limit, period_s=period)
    if period is not None:
        raise AdminError(f"{where}: an attribute limit has no period_s (give one or the other)")
    known = ATTRIBUTES.get(srv, {})
    if attribute not in known:
        readable = ", ".join(f"SR {s}: {', '.join(map(repr, a))}" for s, a in ATTRIBUTES.items())
        raise AdminError(
            f"{where}: attribute {attribute!r} cannot be read from SR {srv} requests "
            f"(readable: {readable})"
        )
    return Threshold(user, srv, limit, attribute=str(attribute))


def _served_variants() -> frozenset[str]:
    # Imported here: the device service imports this module, and the catalogue the service.
    from gateway.srv.registry import CODECS

    return frozenset(v.value for v in CODECS)


def _srv_order(srv: str) -> tuple[int, ...]:
    return tuple(int(p) for p in srv.split("."))


def _threshold(row: Row) -> Threshold:
    return Threshold(
        user=None if row["user"] is None else bytes(row["user"]),
        srv=str(row["srv"]),
        limit=int(row["limit_value"]),
        period_s=None if row["period_s"] is None else int(row["period_s"]),
        attribute=row["attribute"],
        id=int(row["id"]),
    )


# =========================================================================== breaches


@dataclass(frozen=True, slots=True)
class Breach:
    """A request quarantined by :meth:`AnomalyDetector.screen`."""

    kind: BreachKind
    ref: int
    """The QuarantineEventRef (DUIS: an integer of at most 20 digits)."""
    detail: str
    """What was exceeded, for people."""


@dataclass(frozen=True, slots=True)
class Quarantined:
    """One entry of the quarantine."""

    ref: int
    request_id: str
    sender: bytes
    device: bytes
    srv: str
    breach: BreachKind
    detail: str
    state: QuarantineState
    created_at: str
    decided_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "requestId": self.request_id,
            "user": eui_duis(self.sender),
            "device": eui_duis(self.device),
            "srv": self.srv,
            "breach": self.breach.value,
            "detail": self.detail,
            "state": self.state.value,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
        }


def _quarantined(row: Row) -> Quarantined:
    return Quarantined(
        ref=int(row["ref"]),
        request_id=str(row["request_id"]),
        sender=bytes(row["sender"]),
        device=bytes(row["device"]),
        srv=str(row["srv"]),
        breach=BreachKind(row["breach"]),
        detail=str(row["detail"]),
        state=QuarantineState(row["state"]),
        created_at=str(row["created_at"]),
        decided_at=row["decided_at"],
    )


class QuarantineError(AdminError):
    """A release or delete that cannot be done (unknown reference, already decided)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


# =========================================================================== the detector


class AnomalyDetector:
    """Thresholds, counting and the quarantine over the gateway's store (see the module
    docstring). Methods taking a ``tx`` run inside the caller's transaction; the others open
    their own."""

    def __init__(self, storage: Storage) -> None:
        storage.migrate(MIGRATIONS)
        self.storage = storage
        # The thresholds by SR, as of ``_version``, checked in transaction ``_checked_in``:
        # every device request is screened, and reading the thresholds each time was a
        # query per request. Another process may change them (gateway --workers): the version
        # is read once per transaction (a group commit's batch), when no other can write.
        self._by_srv: dict[str, list[Threshold]] = {}
        self._version: int | None = None
        self._checked_in: int | None = None

    # -- thresholds ---------------------------------------------------------------------------

    def set(self, threshold: Threshold) -> Threshold:
        """Add ``threshold``, or replace the one of the same user, SR, attribute and period;
        :class:`AdminError` (nothing changed) when its user is not registered."""
        with self._changing(), self.storage.transaction() as tx:
            if threshold.user is not None and get_user(tx, threshold.user) is None:
                raise AdminError(
                    f"user {eui_duis(threshold.user)} is not a registered DCC User "
                    "(register it with POST /admin/users first)"
                )
            row = tx.one(
                "INSERT INTO anomaly_thresholds (scope, user, srv, attribute, limit_value, "
                "period_s) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE SET "
                "limit_value = excluded.limit_value RETURNING id",
                (
                    threshold.scope,
                    threshold.user,
                    threshold.srv,
                    threshold.attribute,
                    threshold.limit,
                    threshold.period_s,
                ),
            )
        assert row is not None
        return Threshold(
            threshold.user,
            threshold.srv,
            threshold.limit,
            threshold.period_s,
            threshold.attribute,
            int(row["id"]),
        )

    def remove(self, threshold_id: int) -> Threshold:
        """Remove a threshold; :class:`QuarantineError` (404) when there is none."""
        with self._changing(), self.storage.transaction() as tx:
            row = tx.one("DELETE FROM anomaly_thresholds WHERE id = ? RETURNING *", (threshold_id,))
        if row is None:
            raise QuarantineError(f"no anomaly threshold has id {threshold_id}", status=404)
        return _threshold(row)

    def thresholds(self) -> list[Threshold]:
        with self.storage.transaction() as tx:
            rows = tx.all("SELECT * FROM anomaly_thresholds ORDER BY id")
        return [_threshold(r) for r in rows]

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Around a change of the thresholds: the cache is read again after it (committed or
        not, and when it is part of a caller's transaction that is later rolled back, the
        version read in the next transaction tells)."""
        self._forget()
        try:
            yield
        finally:
            self._forget()

    def _forget(self) -> None:
        self._version = None
        self._checked_in = None

    def _of_srv(self, tx: Transaction, srv: str) -> list[Threshold]:
        """The thresholds of ``srv`` as ``tx`` sees them (from the cache when it is current)."""
        if self._checked_in != tx.serial:
            row = tx.one("SELECT value FROM anomaly_meta WHERE key = 'thresholds_version'")
            version = None if row is None else int(row["value"])
            if version is None or version != self._version:
                by_srv: dict[str, list[Threshold]] = {}
                for r in tx.all("SELECT * FROM anomaly_thresholds ORDER BY id"):
                    threshold = _threshold(r)
                    by_srv.setdefault(threshold.srv, []).append(threshold)
                self._by_srv, self._version = by_srv, version
            self._checked_in = None if version is None else tx.serial
        return self._by_srv.get(srv, [])

    # -- the check ----------------------------------------------------------------------------

    def screen(
        self,
        tx: Transaction,
        *,
        sender: bytes,
        srv: str,
        message_code: int,
        content: bytes,
        request_id: str,
        device: bytes,
        now: datetime,
    ) -> Breach | None:
        """Check a request about to be sent against the thresholds of its SR, in the
        transaction that accepts it. None: it passes (and is counted, when its SR has a count
        threshold); a :class:`Breach`: it is in the quarantine now, not counted."""
        every = self._of_srv(tx, srv)
        if not every:
            return None
        mine = [t for t in every if t.user is None or t.user == sender]
        # Attribute limits first: a value over its limit is wrong whatever the counts say.
        limits = [t for t in mine if t.attribute is not None]
        if limits:
            values = read_attributes(srv, message_code, content)
            for t in limits:
                assert t.attribute is not None
                value = values.get(t.attribute)
                if value is not None and value > t.limit:
                    detail = f"{t.attribute} {value} exceeds the limit {t.limit} of SR {t.srv}"
                    return self._hold(tx, t.kind, detail, sender, device, srv, request_id, now)
        counts = sorted(
            (t for t in mine if t.period_s is not None),
            key=lambda t: (t.user is None, t.id or 0),  # the user's own first
        )
        at = now.timestamp()
        for t in counts:
            assert t.period_s is not None
            since = at - t.period_s
            if t.user is None:
                found = tx.one(
                    "SELECT COUNT(*) AS n FROM anomaly_counts WHERE srv = ? AND at > ?",
                    (srv, since),
                )
            else:
                found = tx.one(
                    "SELECT COUNT(*) AS n FROM anomaly_counts "
                    "WHERE user = ? AND srv = ? AND at > ?",
                    (sender, srv, since),
                )
            sent = 0 if found is None else int(found["n"])
            if sent >= t.limit:
                who = "by all users" if t.user is None else f"by {eui_duis(sender)}"
                detail = (
                    f"{sent} SR {srv} sent {who} in the last {t.period_s} s: "
                    f"the threshold is {t.limit}"
                )
                return self._hold(tx, t.kind, detail, sender, device, srv, request_id, now)
        if any(t.period_s is not None for t in every):
            self.count(tx, sender, srv, now, every)
        return None

    def count(
        self,
        tx: Transaction,
        sender: bytes,
        srv: str,
        now: datetime,
        thresholds: list[Threshold] | None = None,
    ) -> None:
        """Count one request of ``sender`` for ``srv`` sent at ``now`` (a released one too),
        and forget the counts no threshold of the SR looks back to."""
        if thresholds is None:
            thresholds = self._of_srv(tx, srv)
        periods = [t.period_s for t in thresholds if t.period_s is not None]
        if not periods:
            return
        at = now.timestamp()
        tx.execute("INSERT INTO anomaly_counts (user, srv, at) VALUES (?, ?, ?)", (sender, srv, at))
        tx.execute("DELETE FROM anomaly_counts WHERE srv = ? AND at <= ?", (srv, at - max(periods)))

    def _hold(
        self,
        tx: Transaction,
        kind: BreachKind,
        detail: str,
        sender: bytes,
        device: bytes,
        srv: str,
        request_id: str,
        now: datetime,
    ) -> Breach:
        ref = tx.insert(
            "INSERT INTO anomaly_quarantine (request_id, sender, device, srv, breach, detail, "
            "state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request_id,
                sender,
                device,
                srv,
                kind.value,
                detail,
                QuarantineState.HELD,
                now.isoformat(),
            ),
        )
        return Breach(kind, ref, detail)

    # -- the quarantine -----------------------------------------------------------------------

    def quarantine(
        self,
        *,
        state: QuarantineState | None = None,
        held_first: bool = False,
        limit: int = -1,
    ) -> list[Quarantined]:
        """The quarantine's entries, oldest first (``state``: only those; ``held_first``: the
        held ones before the others; ``limit``: at most so many, -1 all)."""
        where = "" if state is None else "WHERE state = ?"
        order = "state != ?, ref" if held_first else "ref"
        values: tuple[Any, ...] = () if state is None else (state,)
        if held_first:
            values += (QuarantineState.HELD,)
        with self.storage.transaction() as tx:
            rows = tx.all(
                f"SELECT * FROM anomaly_quarantine {where} ORDER BY {order} LIMIT ?",
                (*values, limit),
            )
        return [_quarantined(r) for r in rows]

    def decide(
        self, tx: Transaction, ref: int, state: QuarantineState, now: datetime
    ) -> Quarantined:
        """Mark a held request released or deleted; :class:`QuarantineError` (nothing
        changed) when ``ref`` is unknown (404) or was decided already (409)."""
        row = tx.one("SELECT * FROM anomaly_quarantine WHERE ref = ?", (ref,))
        if row is None:
            raise QuarantineError(
                f"no quarantined request has QuarantineEventRef {ref}", status=404
            )
        if row["state"] != QuarantineState.HELD:
            raise QuarantineError(
                f"the request of QuarantineEventRef {ref} ({row['request_id']}) was "
                f"{row['state']} already",
                status=409,
            )
        stamp = now.isoformat()
        tx.execute(
            "UPDATE anomaly_quarantine SET state = ?, decided_at = ? WHERE ref = ?",
            (state, stamp, ref),
        )
        return _quarantined(row)


def read_attributes(srv: str, message_code: int, content: bytes) -> dict[str, int]:
    """The values of :data:`ATTRIBUTES` in the GBCS command of an SR (empty when there are
    none, or the content cannot be read: the device would refuse it anyway)."""
    if srv not in ATTRIBUTES:
        return {}
    try:
        command = gc.decode_command(message_code, content)
    except (GbcsError, ValueError):
        return {}
    if isinstance(command, gc.TopUp | gc.TopUpGas):
        try:
            _, value, value_class, _ = parse_utrn(command.utrn)
        except DecodeError:
            return {}
        pounds = value_class.name == "POUNDS"
        return {"UTRN value": value * 100 if pounds else value}
    if isinstance(command, gc.UpdateTariff):
        prices = [*command.tou_prices, *(p for block in command.block_prices for p in block)]
        return {"price": max(prices, default=0), "standing charge": command.standing_charge}
    return {}
