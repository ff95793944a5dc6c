"""What ESMEs and GSMEs share: a :class:`~emulator.metering.Meter` moved by the clock, and
the consumer's button."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from emulator.devices.base import Device
from emulator.devices.families import FAMILY_TICKERS, TICKER_DUE, TICKER_NOTES, Alert
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.metering import Meter, MeterEvent, PaymentMode
from emulator.supply import SupplyEvent
from gbcs.alerts import AlertCode
from gbcs.errors import DecodeError
from gbcs.frames import Message
from gbcs.utrn import verify_utrn

UTRN_CACHE = 5
"""UTRN counters a meter remembers; a UTRN older than all of them is refused."""
TopUpHook = Callable[["MeterDevice", int, str, int], None]
TOP_UP_HOOKS: list[TopUpHook] = []
"""What the use-case families do when a meter accepts a top-up, with (device, device time,
UTRN, milli-pence added) once the credit is in: log it, collect payment-based debt."""


def on_top_up(hook: TopUpHook) -> TopUpHook:
    """Register a family's :data:`TOP_UP_HOOKS` entry."""
    TOP_UP_HOOKS.append(hook)
    return hook


_NEVER = 1 << 62
"""Later than any device time: no ticker due until the family state changes."""

MAX_METER_BALANCE = 50_000_000
"""Milli-pence (GBP 500): credit beyond this is refused (alert 0x8F47)."""

METER_EVENT_ALERTS: dict[MeterEvent, int] = {
    MeterEvent.LOW_CREDIT: 0x810D,  # combined credit below low credit threshold
    MeterEvent.EMERGENCY_CREDIT_ACTIVATED: 0x81AB,  # emergency credit activated
    MeterEvent.SUPPLY_DISABLED_CREDIT: AlertCode.CREDIT_BELOW_DISABLEMENT_THRESHOLD,
    MeterEvent.SUPPLY_ARMED: AlertCode.SUPPLY_ARMED,
    MeterEvent.CREDIT_ADDED: AlertCode.CREDIT_ADDED_LOCALLY,
}
"""The GBCS alert each metering event raises."""


@dataclass(slots=True, eq=False, kw_only=True)
class MeterDevice(Device):
    """A device with a meter: registers, half hours, supply, credit."""

    meter: Meter
    utrn_counters: list[int] | None = None
    """Counters of the UTRNs accepted most recently (at most :data:`UTRN_CACHE`)."""
    quiet: tuple[int, int] | None = field(default=None, repr=False)
    """Device times ``[from, until)`` in which no family ticker has work (see
    :data:`~emulator.devices.families.TICKER_DUE`): the tickers last ran at ``from`` and
    none is due before ``until``; a tick inside runs only their notes of the clock
    (:data:`~emulator.devices.families.TICKER_NOTES`). Not saved: None (run them) after any
    change to the family state, and on a fresh or restored device."""

    has_clock_state: ClassVar[bool] = True

    # -- time ------------------------------------------------------------------------------

    def tick(self, now: int) -> list[Alert]:
        due: list[Alert] = []
        if self.extra:
            clock = now + self.clock_offset
            quiet = self.quiet
            # Device time going back before their last run runs them too: their notes of
            # the clock would then move a log's start back past a date already logged.
            if quiet is None or not quiet[0] <= clock < quiet[1]:
                due = [a for ticker in FAMILY_TICKERS for a in ticker(self, now)]
                self.quiet = self._quiet_from(clock)
            else:
                for note in TICKER_NOTES.get(self.DEVICE_TYPE, ()):
                    note(self, clock)
        events = self.meter.advance(now)
        if not events and not due and self.pending_activation is None:
            return []  # (Device.tick has nothing to do either)
        alerts = due + [Alert(METER_EVENT_ALERTS[e]) for e in events]
        return alerts + Device.tick(self, now)

    def _quiet_from(self, clock: int) -> tuple[int, int] | None:
        """The quiet span starting at device time ``clock``, just after the tickers ran."""
        until = _NEVER
        for ticker in FAMILY_TICKERS:
            next_due = TICKER_DUE.get(ticker)
            at = clock if next_due is None else next_due(self, clock)
            if at is not None and at < until:
                if at <= clock:
                    return None
                until = at
        # A due function may have taken the family state (which clears ``quiet``): the
        # caller stores this span after, so that does not wake the tickers again.
        return (clock, until)

    def family_state(self, family: str) -> dict[str, Any]:
        # Whoever takes the state may change what a ticker would do: they run next tick.
        self.quiet = None
        return Device.family_state(self, family)

    # -- prepayment ------------------------------------------------------------------------

    def accept_utrn(
        self, utrn: str, ctx: DeviceContext, *, local: bool, now: int | None = None
    ) -> tuple[int, list[Alert]]:
        """Check a UTRN and add its credit: (pence added, alerts). A refused UTRN raises
        :class:`CommandError` carrying its alert (0x8F63 not authentic, 0x8F51 used
        already, 0x8F47 over the maximum balance); nothing changes then. An accepted one
        goes to the :data:`TOP_UP_HOOKS` with the device time of ``now`` (else the last half
        hour accounted)."""
        if self.meter.mode is not PaymentMode.PREPAYMENT:
            raise CommandError("a top-up was sent to a meter in credit mode")
        cache = self.utrn_counters or []
        supplier = self.trust.supplier
        try:
            token = verify_utrn(
                ctx.keys,
                utrn,
                supplier=supplier,
                device=self.eui,
                reference=min(cache) if cache else 0,
                cache=ctx.verifier.agreement.cache,
            )
        except DecodeError as exc:
            raise CommandError(str(exc), alert_code=AlertCode.UTRN_NOT_AUTHENTIC) from None
        if token is None:
            raise CommandError(
                f"UTRN {utrn} is not authentic for this meter",
                alert_code=AlertCode.UTRN_NOT_AUTHENTIC,
            )
        if token.counter in cache:
            raise CommandError(
                f"UTRN {utrn} was used already", alert_code=AlertCode.DUPLICATE_UTRN_ENTERED
            )
        amount = token.pence * 1000
        if self.meter.credit.balance + amount > MAX_METER_BALANCE:
            raise CommandError(
                f"UTRN {utrn} would take the balance over the maximum",
                alert_code=AlertCode.CREDIT_WOULD_EXCEED_MAXIMUM_METER_BALANCE,
            )
        cache = sorted([*cache, token.counter])[-UTRN_CACHE:]
        self.utrn_counters = cache
        events = self.meter.add_credit(amount)
        at = self.meter.accounted_to if now is None else self.device_time(now)
        for hook in TOP_UP_HOOKS:
            hook(self, at, utrn, amount)
        if not local:
            events = [e for e in events if e is not MeterEvent.CREDIT_ADDED]
        self._log(f"UTRN top-up of {token.pence}p (counter {token.counter:#x})")
        return token.pence, [Alert(METER_EVENT_ALERTS[e]) for e in events]

    def enter_utrn(self, utrn: str, now: int, ctx: DeviceContext) -> list[Message]:
        """The consumer types a UTRN on the meter's keypad."""
        out = self.seal(self.due_alerts(now), now, ctx)
        try:
            _, alerts = self.accept_utrn(utrn, ctx, local=True, now=now)
        except CommandError as exc:
            self._log(f"keypad UTRN refused: {exc}")
            alerts = [Alert(exc.alert_code)] if exc.alert_code else []
        return out + self.seal(alerts, now, ctx)

    # -- the consumer ----------------------------------------------------------------------

    def press_button(self, now: int, ctx: DeviceContext) -> list[Message]:
        """The consumer presses the button: an armed supply is restored; otherwise
        nothing happens (the button is not an error)."""
        out = self.seal(self.due_alerts(now), now, ctx)
        if self.meter.supply.value == "armed":
            self.meter.operate_supply(SupplyEvent.CONSUMER_BUTTON)
            self._log("supply restored by the consumer")
        return out

    # -- snapshot --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = Device.to_json(self)
        data["meter"] = self.meter.to_json()
        data["utrn_counters"] = self.utrn_counters
        return data

    def restore_json(self, data: Mapping[str, Any]) -> None:
        Device.restore_json(self, data)
        self.quiet = None
        self.meter = Meter.from_json(
            data["meter"], self.meter.shape, self.meter.key, self.meter.supply_table
        )
        counters = data.get("utrn_counters")
        self.utrn_counters = None if counters is None else [int(v) for v in counters]
