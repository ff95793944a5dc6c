"""The DCC's future-dated tariff, price, payment mode and prepayment configuration commands
(1.1.1, 1.2.1, 1.6, 2.1 to the ESME and the GSME), executed by an emulated meter.

Each ``*_8F66_*_ALERT_*`` vector of these use cases is the alert a meter raises for one part
of the future-dated command of the same stem (``ECS01a_1.1.1_8F66_FUTURE_DATED_TOU_BLOCK_
SUCCESS_ALERT_PRICE_MATRIX`` for ``ECS01a_1.1.1_FUTURE_DATED_TOU_BLOCK_SUCCESS_COMMAND``).
:func:`execute` sends that command's content (MAC'd and signed afresh with the test PKI) to
a fleet set up for it, an hour before its execution date-time, and passes two hours.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from emulator.devices.meter import MeterDevice
from emulator.fleet import Fleet
from emulator.metering import PaymentMode, PrepaymentConfig, Tariff
from gbcs import content as c
from gbcs.codes import SUPPLIER
from gbcs.frames import Message
from gbcs.payloads import gbz
from gbcs.usecases import use_case
from tests.conftest import CONFORMANCE
from tests.emulator.support import CHF, ESME, GPF, GSME, SEED, Answer, HeadEnd, pki_for

USE_CASES = ("ECS01a", "ECS01b", "ECS02", "ECS03", "ECS08a")
GAS_USE_CASES = ("GCS01a", "GCS01b", "GCS02", "GCS03", "GCS05")
TO_CREDIT = ("ECS02", "GCS02")
"""The switches to credit mode: their meter is in prepayment mode until they execute."""
TWIN_PROFILE = "calder-cx3"
"""A twin-element ESME's profile, for the commands that charge the secondary element."""


def vectors() -> list[str]:
    """The future-dated execution alert vectors of these use cases."""
    if not CONFORMANCE.is_dir():
        return []
    return sorted(
        p.name
        for p in CONFORMANCE.glob("gbcs/*/*_8F66_*_ALERT_*GBCS.HEX")
        if p.name.startswith(tuple(f"{u}_" for u in USE_CASES + GAS_USE_CASES))
    )


def load(name: str) -> Message:
    (path,) = CONFORMANCE.glob(f"gbcs/*/{name}")
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))


def command_name(alert: str) -> str:
    """The reference command whose execution raises ``alert``."""
    stem, rest = alert.removesuffix("_GBCS.HEX").split("_8F66_", 1)
    return f"{stem}_{rest.split('_ALERT_', 1)[0]}_COMMAND_GBCS.HEX"


def alert_time(message: Message) -> datetime:
    """The date-time an 8F66 alert says its command executed at."""
    alert = c.decode_alert(message.message_code, message.content)
    if isinstance(alert, c.DlmsAlert):
        return alert.when
    assert isinstance(alert, gbz.GbzAlert)
    return gbz.from_zigbee_time(alert.timestamp)


@dataclass
class Executed:
    """A reference command held by a meter, and what the meter did when it fell due."""

    head: HeadEnd
    command: Message
    answer: Answer
    """The meter's answer when the command arrived."""
    alerts: list[Message]
    """What the meter raised: with its answer, then as its clock passed the execution
    date-time."""
    at: datetime
    held: tuple[PaymentMode, Tariff, PrepaymentConfig]
    """The meter's mode, tariff and prepayment configuration while it held the command."""

    def meter(self) -> MeterDevice:
        device = self.head.fleet.device(self.command.business_target, self.head.now)
        assert isinstance(device, MeterDevice)
        return device


def _fleet(stem: str) -> Fleet:
    fleet = Fleet(SEED, pki_for(), faults=False)
    prepayment = stem.startswith(TO_CREDIT)
    profile = TWIN_PROFILE if "_TWIN_" in stem else "northbrook-nb100"
    fleet.add(ESME, profile, hub=CHF, prepayment=prepayment, balance=1_000_000)
    fleet.add(GSME, "northbrook-ng20", hub=CHF, partner=GPF, prepayment=prepayment)
    fleet.add(CHF, "tellurian-ch2-chf", partner=GPF)
    fleet.add(GPF, "tellurian-ch2-gpf", hub=CHF, partner=GSME)
    return fleet


def execute(alert: str, *, restart: bool = False) -> Executed:
    """The command of ``alert``, sent by the supplier an hour before its execution date-time
    (when the alert says it ran), then two hours passing. ``restart``: the meter is saved
    and loaded again (through JSON, as the device store does) while it holds the command."""
    reference = load(command_name(alert))
    at = alert_time(load(alert))
    head = HeadEnd(_fleet(alert), pki_for(), start=at - timedelta(hours=1))
    uc = use_case(reference.message_code)
    assert uc is not None
    command = head.builder.command(
        originator=SUPPLIER,
        target=reference.business_target,
        counter=reference.originator_counter,
        message_code=reference.message_code,
        content=reference.content,
        critical=uc.critical,
    )
    device = head.fleet.device(reference.business_target, head.now)
    assert isinstance(device, MeterDevice)
    answer = head.send(command)
    if restart:
        saved = json.dumps(head.fleet.state_of(reference.business_target))
        head.fleet.load_state(json.loads(saved))
        device = head.fleet.device(reference.business_target, head.now)
        assert isinstance(device, MeterDevice)
    meter = device.meter
    held = (meter.mode, meter.tariff, meter.prepayment)
    alerts = answer.alerts + head.advance(timedelta(hours=2)).alerts
    return Executed(head, command, answer, alerts, at, held)
