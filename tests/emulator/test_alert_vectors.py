"""Every alert the DCC's reference vectors show (``gbcs/*/*_ALERT_*GBCS.HEX``) is one an
emulated device raises on the matching event, with the vector's structure.

Each vector is either in :data:`EVENTS` - an emulated event (a refused command, a keypad
top-up, a firmware image, a metrology integrity issue, ...) whose alerts must include one of
the same message code, alert code, security shape and decoded structure (types, nesting and
field sizes; not values, signatures or times) - or in :data:`GAPS`, naming the use-case family
that raises it when its execution is emulated; a gap is an expected failure (strict: closing
one makes its test fail here until it moves to :data:`EVENTS`). A vector in neither fails.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from emulator.fleet import Fleet
from emulator.usecases.alerts import integrity_warning, supply_outage
from emulator.usecases.firmware import transfer_image
from emulator.usecases.sub_ghz import channel_changed, duty_cycle_limited, message_discarded
from gbcs import content as c
from gbcs.codes import ACB, NETWORK_OPERATOR
from gbcs.frames import Message
from gbcs.payloads import decode_content, dlms
from gbcs.utrn import make_utrn
from tests.conftest import CONFORMANCE
from tests.emulator import future_dated
from tests.emulator.future_dated_credentials import credentials_event, schedule_event
from tests.emulator.support import (
    CHF,
    ESME,
    GSME,
    SEED,
    SUPPLIER,
    HeadEnd,
    pki_for,
    sandbox_fleet,
)

Event = Callable[[], list[Message]]


def _vectors() -> list[str]:
    if not CONFORMANCE.is_dir():
        return []
    return sorted(p.name for p in CONFORMANCE.glob("gbcs/*/*_ALERT_*GBCS.HEX"))


def _load(name: str) -> Message:
    (path,) = CONFORMANCE.glob(f"gbcs/*/{name}")
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))


def skeleton(node: Any) -> Any:
    """A decoded tree without its values: types, nesting and the size of each field (a
    date-time and a hash have theirs; long encrypted blocks only say they are long)."""
    if isinstance(node, list):
        return [skeleton(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("items", "children", "body"):
            out[key] = skeleton(value)
        elif key in ("type", "tag", "apdu", "gbz", "alert_code"):
            out[key] = value
        elif key == "hex" and (
            node.get("type") == "octet-string" or node.get("tag") == "OCTET STRING"
        ):
            size = len(value) // 2
            out["bytes"] = size if size <= 64 else "long"
        elif key == "alert_fields":
            out["fields"] = len(value) // 2
        elif key == "date_time" and value is not None:
            out["date_time"] = True
    return out


def _party(eui: bytes) -> str:
    """Whom an alert goes to, by role: the events use other suppliers than the vectors (a
    change of supplier's new one), so a supplier is any user but the DCC's ACB and the
    network operator."""
    if not eui:
        return "nobody"
    return {ACB: "ACB", NETWORK_OPERATOR: "network operator"}.get(eui, "a supplier")


def shape(message: Message) -> dict[str, Any]:
    """What must match: message code, whom it is addressed to (the business target, and the
    supplementary remote party its other-information names), security shape, and the
    decoded skeleton (whose first element is the alert code itself, kept as its value)."""
    tree = decode_content(message.message_code, message.cra, message.content).as_tree()
    found = skeleton(tree)
    items = tree.get("body", {}).get("items") or tree.get("children") or []
    code = tree.get("alert_code") or (items[0].get("value") if items else None)
    return {
        "message_code": f"0x{message.message_code:04X}",
        "alert_code": code if isinstance(code, str) else f"0x{code:04X}",
        "target": _party(message.business_target),
        "remote_party": _party(message.extensions[:8]),
        "mac": message.mac is not None,
        "signed": message.signature is not None,
        "skeleton": found,
    }


# =========================================================================== events


def _head(fleet: Fleet) -> HeadEnd:
    return HeadEnd(fleet, pki_for())


def _fleet(**kw: Any) -> Fleet:
    return sandbox_fleet(**kw)


def _no_authority_esme() -> list[Message]:
    """The network operator's use case sent by the supplier: refused, 0x8F30."""
    head = _head(_fleet())
    cmd = c.SetAlertBehaviour(c.BEHAVIOUR_BY_NAME["ECS25b"], 5, ((0x8014, True),))
    return head.send(head.command(ESME, cmd, originator=SUPPLIER)).alerts


def _no_authority_gsme() -> list[Message]:
    """The supplier's valve closing sent by the network operator: refused, 0x8F30."""
    head = _head(_fleet())
    cmd = c.ValveClose(issuer_event_id=5)
    return head.send(head.command(GSME, cmd, originator=NETWORK_OPERATOR)).alerts


def _credit_added_locally() -> list[Message]:
    """A UTRN typed on a prepayment ESME's keypad: 0x810E."""
    fleet = _fleet(prepayment=True, balance=1000)
    head = _head(fleet)
    utrn = make_utrn(pki_for(), supplier=SUPPLIER, device=ESME, counter=2 << 32, value=500)
    return head.check(fleet.enter_utrn(ESME, utrn, head.now)).alerts


def _receipt(eui: bytes, version: str) -> Event:
    def event() -> list[Message]:
        fleet = _fleet()
        head = _head(fleet)
        image = fleet.spec(eui).profile.image(version)
        return head.check(fleet.distribute_firmware(eui, image, head.now)).alerts

    return event


def _integrity(eui: bytes) -> Event:
    def event() -> list[Message]:
        fleet = _fleet()
        head = _head(fleet)
        integrity_warning(fleet.device(eui, head.now), 0x0005)
        return head.advance(timedelta(seconds=1)).alerts

    return event


def _not_supported() -> list[Message]:
    """A use case the ESME's firmware lacks (ECS62 on the NB100 as shipped): 0x8F85."""
    head = _head(_fleet())
    boost = (dlms.set_(1, "0-0:94.44.6.1", 2), dlms.unsigned(1))
    cmd = c.DeviceSettings(0x005F, 5, (boost,))
    return head.send(head.command(ESME, cmd)).alerts


def _from_acb(head: HeadEnd, target: bytes, cmd: Any) -> Message:
    """``cmd`` sent by the ACB for the supplier (a supplementary remote party: the
    other-information names it and its request's counter)."""
    return head.builder.command(
        originator=ACB,
        target=target,
        counter=head.next_counter(),
        message_code=cmd.message_code,
        content=cmd.encode(),
        critical=False,
        extensions=SUPPLIER + (200_000).to_bytes(8, "big"),
    )


def _not_supported_for_remote_party() -> list[Message]:
    """ECS61d (SR 7.14, which the ACB sends for the supplier) to an ESME whose firmware lacks
    it: 0x8F85 naming the supplementary remote party."""
    head = _head(_fleet())
    return head.send(_from_acb(head, ESME, c.DlmsRead(0x011C, head.counter + 1))).alerts


def _device_log_changed() -> list[Message]:
    """CCS01 (SR 8.11 Add) whitelists the ESME, then the GSME, on the CHF: CS14 0x8F12 with
    the log after each (the second holding both, as the vector's)."""
    head = _head(_fleet())
    alerts = []
    for n, device in enumerate((ESME, GSME)):
        cmd = c.AddDeviceLogEntry(head.counter + 1, device, bytes([n]) * 16)
        alerts += head.send(_from_acb(head, CHF, cmd)).alerts
    return alerts


def billing_period_ends(fleet: Fleet) -> list[Message]:
    """The ESME has run a command (so keeps family state) and its clock passes the first
    of the month (its factory billing calendar): ECS68 0x8F0A."""
    head = _head(fleet)
    answer = head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())))
    assert answer.response is not None
    head.advance(timedelta(minutes=1))
    # T0 is mid-January: the first of February ends the billing period, logged once the
    # meter has accounted past it (the next tick).
    return head.advance(timedelta(days=17)).alerts + head.advance(timedelta(minutes=1)).alerts


def _billing(*, twin: bool) -> Event:
    def event() -> list[Message]:
        fleet = Fleet(SEED, pki_for(), faults=False)
        fleet.add(ESME, "calder-cx3" if twin else "northbrook-nb100")
        return billing_period_ends(fleet)

    return event


PPMID = bytes.fromhex("00db1234567890a4")


def ppmid_update() -> tuple[HeadEnd, list[Message]]:
    """SR 11.4: the hub hands the PPMID an image of its next version; the PPMID runs it (CS09)
    and at its next tick the hub reports the transfer (CCS08)."""
    fleet = _fleet()
    fleet.add(PPMID, "lumen-pp4-ppmid", hub=CHF)
    head = _head(fleet)
    image = fleet.spec(PPMID).profile.image("00000200")
    frames = transfer_image(fleet, CHF, PPMID, image, head.now)
    return head, head.check(frames).alerts + head.advance(timedelta(seconds=1)).alerts


def channel_mask(page: int, *channels: int) -> dlms.BitString:
    """A Sub GHz channel mask: the page in the top 5 bits, a bit per channel below."""
    bits = page << 27
    for channel in channels:
        bits |= 1 << channel
    return dlms.BitString(32, bits.to_bytes(4, "big"))


def sub_ghz_configuration() -> dlms.Data:
    """A DBCH04 configuration: the channel masks of pages 28-31, then the hub's limits
    (each of the type the GBCS object gives it)."""
    return dlms.structure(
        *(channel_mask(page, 1, 2) for page in (28, 29, 30, 31)),
        dlms.long_unsigned(130),
        dlms.long_unsigned(220),
        dlms.unsigned(5),
        dlms.long_unsigned(7),
        dlms.unsigned(7),
        dlms.unsigned(12),
        dlms.long_unsigned(6000),
        dlms.unsigned(130),
        dlms.long_unsigned(100),
        dlms.long_unsigned(4000),
        dlms.long_unsigned(3000),
    )


def sub_ghz_configured() -> tuple[HeadEnd, list[Message]]:
    """SR 6.28 (DBCH04) sets the hub's Sub GHz configuration: at its next tick, DBCH09."""
    head = _head(_fleet())
    writes = ((dlms.set_(1, "0-0:94.44.10.0", 2), sub_ghz_configuration()),)
    cmd = c.DeviceSettings(0x010D, head.next_counter() % (1 << 24), writes)
    answer = head.send(head.command(CHF, cmd, counter=head.counter))
    assert answer.response is not None
    return head, answer.alerts + head.advance(timedelta(seconds=1)).alerts


def _channel_scan() -> list[Message]:
    """SR 6.29 (DBCH05, from the ACB) asks the hub for a Sub GHz channel scan: DBCH08 tells
    the outcome of its assessment."""
    head = _head(_fleet())
    writes = ((dlms.set_(1, "0-0:94.44.10.1", 2), dlms.unsigned(0)),)
    cmd = c.DeviceSettings(0x010E, head.next_counter() % (1 << 24), writes)
    answer = head.send(head.command(CHF, cmd, counter=head.counter))
    assert answer.response is not None
    return answer.alerts + head.advance(timedelta(seconds=1)).alerts


def _sub_ghz(event: Callable[[Any, HeadEnd], None]) -> Event:
    def run() -> list[Message]:
        fleet = _fleet()
        head = _head(fleet)
        event(fleet.device(CHF, head.now), head)
        return head.advance(timedelta(seconds=1)).alerts

    return run


def _discard(hub: Any, head: HeadEnd) -> None:
    """The hub discards an ACB-sent read of the ESME for the supplier."""
    read = c.DlmsRead(0x011C, head.next_counter())
    message_discarded(hub, _from_acb(head, ESME, read))


def _outage() -> list[Message]:
    """The ESME's supply is lost for ten minutes and comes back: ECS80 0x8F36."""
    fleet = _fleet()
    head = _head(fleet)
    end = int(head.now.timestamp())
    supply_outage(fleet.device(ESME, head.now), end - 600, end)
    return head.advance(timedelta(seconds=1)).alerts


def _apc_limit(*, input_: bool) -> Event:
    """An ECS47e APC level limit (controller 1, input or output) whose period ends: ECS102."""

    def event() -> list[Message]:
        fleet = Fleet(SEED, pki_for(), faults=False)
        fleet.add(ESME, "northbrook-nb100", firmware="00020000")  # has the controllers
        head = _head(fleet)
        start, end = head.now, head.now + timedelta(minutes=30)
        script = (0x2100 if input_ else 0x1100) | 10
        writes = (
            (dlms.set_(1, "0-0:94.44.117.3", 2), _cosem(start)),
            (dlms.set_(1, "0-0:94.44.117.4", 2), _cosem(end)),
            (dlms.action(9, "0-0:10.0.107.255", 1), dlms.long_unsigned(script)),
        )
        answer = head.send(head.command(ESME, c.DeviceSettings(0x011F, 5, writes)))
        assert answer.response is not None
        return head.advance(timedelta(hours=1)).alerts

    return event


def _cosem(when: datetime) -> dlms.Data:
    return dlms.octet_string(dlms.CosemDateTime.from_datetime(when).to_bytes())


def _future_activation(executed: bool) -> Event:
    """A future-dated CS06 (11.3) falling due: 0x8F66 executed; 0x8F67 when the image was
    activated meanwhile by an immediate CS06, so nothing is left to activate."""

    def event() -> list[Message]:
        fleet = _fleet()
        head = _head(fleet)
        profile = fleet.spec(ESME).profile
        head.check(fleet.distribute_firmware(ESME, profile.image("00020000"), head.now))
        digest = profile.image_hash("00020000")
        at = head.now + timedelta(hours=2)
        head.send(head.command(ESME, c.ActivateFirmware(digest, head.next_counter(), at)))
        if not executed:
            head.send(head.command(ESME, c.ActivateFirmware(digest, head.next_counter())))
        return head.advance(timedelta(hours=3)).alerts

    return event


EVENTS: dict[str, Event] = {
    "GCA-DLMS_NA_8F30_ALERT_GBCS.HEX": _no_authority_esme,
    "GCA-ZigBee_NA_8F30_ALERT_GBCS.HEX": _no_authority_gsme,
    "GNCA-DLMS_NA_810E_ALERT_GBCS.HEX": _credit_added_locally,
    "FDRA-DLMS_NA_8F72_ALERT_GBCS.HEX": _receipt(ESME, "00020000"),
    "FDRA-ZigBee_NA_8F72_ALERT_GBCS.HEX": _receipt(GSME, "00030100"),
    "MIIWA-DLMS_NA_81A0_ALERT_GBCS.HEX": _integrity(ESME),
    "MIIWA-ZigBee_NA_81A0_ALERT_GBCS.HEX": _integrity(GSME),
    "ECS100_NA_8F85_ALERT_GBCS.HEX": _not_supported,
    "CS06_11.3_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX": _future_activation(True),
    "CS06_11.3_8F67_FUTURE_DATED_ERROR_ALERT_GBCS.HEX": _future_activation(False),
    "ECS80_NA_8F36_ALERT_GBCS.HEX": _outage,
    "ECS102_NA_8F87_INPUT_ALERT_GBCS.HEX": _apc_limit(input_=True),
    "ECS102_NA_8F87_OUTPUT_ALERT_GBCS.HEX": _apc_limit(input_=False),
    "CS02bSupplierBySupplier_6.15.1_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX": partial(
        credentials_event, executed=True
    ),
    "CS02bSupplierBySupplier_6.15.1_8F67_FUTURE_DATED_ERROR_ALERT_GBCS.HEX": partial(
        credentials_event, executed=False
    ),
    "CS02gLoadControllerBySupplier_6.15.1_8F66_FUTURE_DATED_SUCCESS_ALERT_GBCS.HEX": partial(
        credentials_event, executed=True, load_controller=True
    ),
    "CS02gLoadControllerBySupplier_6.15.1_8F67_FUTURE_DATED_ERROR_ALERT_GBCS.HEX": partial(
        credentials_event, executed=False, load_controller=True
    ),
    "ECS46c_6.14.2_8F66_FUTURE_DATED_ALL_OPTIONALS_SUCCESS_ALERT_CALENDAR_GBCS.HEX": (
        schedule_event
    ),
    "ECS46c_6.14.2_8F66_FUTURE_DATED_ALL_OPTIONALS_SUCCESS_ALERT_SPECIAL_DAYS_GBCS.HEX": (
        schedule_event
    ),
    "ECS100_NA_8F85_SUPPLEMENTARY_REMOTE_PARTY_ALERT_GBCS.HEX": _not_supported_for_remote_party,
    "CS14_NA_8F12_ALERT_GBCS.HEX": _device_log_changed,
    "ECS68_NA_8F0A_SINGLE_ALERT_GBCS.HEX": _billing(twin=False),
    "ECS68_NA_8F0A_TWIN_ALERT_GBCS.HEX": _billing(twin=True),
    "CCS08_NA_NA_ALERT_GBCS.HEX": lambda: ppmid_update()[1],
    "CS09_NA_8F8B_ALERT_GBCS.HEX": lambda: ppmid_update()[1],
    "DBCH04_6.28_NA_SUCCESS_ALERT_DBCH09_GBCS.HEX": lambda: sub_ghz_configured()[1],
    "DBCH08_NA_8F28_ALERT_GBCS.HEX": _channel_scan,
    "DBCH06_NA_8F20_ALERT_GBCS.HEX": _sub_ghz(
        lambda hub, head: duty_cycle_limited(hub, GSME, int(head.now.timestamp()))
    ),
    "DBCH07_NA_8F26_ALERT_GBCS.HEX": _sub_ghz(
        lambda hub, head: channel_changed(hub, 0xE000_0001, 0)
    ),
    "DBCH10_NA_8F2C_ALERT_GBCS.HEX": _sub_ghz(_discard),
}
"""Vector -> the emulated event that raises its alert."""


def _future_dated(name: str) -> Event:
    """The DCC's future-dated tariff / prepayment command falling due on the meter."""
    return lambda: future_dated.execute(name).alerts


EVENTS |= {name: _future_dated(name) for name in future_dated.vectors()}

_SECURITY = (
    "security family, not done: the load controller replacing its own credentials (CS02g "
    "0x0125) - the emulated devices take no command from a load controller, and send their "
    "alerts to the supplier or the network operator only"
)
_AUXILIARY = "configuration / auxiliary family"
GAPS: dict[str, str] = {}
"""Vector -> who raises it once emulated (each an expected failure here)."""

for _name in _vectors():
    if "8F66" in _name or "8F67" in _name:
        if _name.startswith("CS06_") or _name in EVENTS:
            continue
        if _name.startswith("CS02"):
            GAPS.setdefault(_name, _SECURITY)
        elif _name.startswith("ECS46c"):
            GAPS.setdefault(_name, f"{_AUXILIARY}: the future-dated switching schedule (6.14.2)")


def _cases() -> list[Any]:
    out = []
    for name in _vectors():
        marks = ()
        if name in GAPS:
            marks = (pytest.mark.xfail(strict=True, reason=GAPS[name]),)
        out.append(pytest.param(name, marks=marks, id=name.removesuffix("_GBCS.HEX")))
    return out


def test_every_vector_is_an_event_or_a_named_gap(conformance: Path) -> None:
    names = _vectors()
    assert len(names) == 66
    unclassified = [n for n in names if n not in EVENTS and n not in GAPS]
    assert unclassified == []
    assert not set(EVENTS) & set(GAPS)


@pytest.mark.parametrize("name", _cases())
def test_an_emulated_event_raises_the_vectors_alert(conformance: Path, name: str) -> None:
    expected = shape(_load(name))
    event = EVENTS.get(name)
    assert event is not None, f"no emulated event raises {name}"
    raised = [shape(m) for m in event()]
    assert expected in raised, f"expected {expected}\nraised {raised}"
