"""The meters' payment logs and the ESME's change of mode billing log, answered from what the
meters keep (SR 4.4.2, 4.4.4, 4.4.5):

* the prepayment credits log: every UTRN a meter accepted, remotely or at its keypad, with
  the device time and the credit it added (``top_ups`` in the reading family's state, the
  last :data:`TOP_UP_LOG`; recorded by a top-up hook of ``MeterDevice.accept_utrn``).
  The GSME answers GCS15e with a ZCL Publish Top Up Log, the newest first, at most as many
  as the Get Top Up Log asks (the DCC's reference response carries them so, not encrypted);
  the ESME answers ECS20d with the entries of the period (time, credit in milli-pence);
* the payment-based debt payments log (``debt_payments``: time, amount collected, debt type,
  debt outstanding, the last :data:`TOP_UP_LOG`): when a GSME accepts a top-up while its
  payment-based debt register (GCS04's register 3: debt type 2) holds debt, it collects
  the register's percentage of the credit added (hundredths of a percent), at most what is
  outstanding, from the credit - the meter's balance and debt fall by it - and logs it.
  The ESME does the same with the payment-based debt ECS07 set (same register and terms,
  kept by the account family) and answers ECS20a with the collections of the period: time
  and amount, not encrypted, as GBCS has it;
* the ESME's change of mode billing log (ECS20b): the registers the tariff family logged at
  each payment mode change (its ``billing_log``), in the daily read log's row layout.

A log read returns exactly the entries whose time is in the period asked (both ends
included); the ESME's logs are compact arrays of double-long-unsigned (time in seconds since
2000, amount in milli-pence), as GBCS has them.
"""

from __future__ import annotations

import datetime as _dt
import struct
from typing import Any

from emulator.clock import to_seconds
from emulator.devices.families import Reply, handles
from emulator.devices.meter import on_top_up
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.usecases.reading import (
    UNIX_2000,
    _dlms_read,
    _protected_read,
    _protected_reply,
    fitting,
)
from gbcs import content as gc
from gbcs.content.reads_gbz import NOT_FOUND, PREPAYMENT
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.gbz import (
    CONTROL_ENCRYPTED,
    CONTROL_LAST,
    FC_CLUSTER_SPECIFIC,
    FC_DISABLE_DEFAULT_RESPONSE,
    FC_SERVER_TO_CLIENT,
    EncryptedZcl,
    GbzComponent,
    GbzPayload,
    ZclFrame,
)
from gbcs.payloads.read_values import CREDITS_TYPE, DEBT_TYPE, MODE_CHANGE_TYPE, TOU_REGISTERS

FAMILY = "reading"
GCS15D = 0x00C4
GCS15E = 0x00C5
ECS20A = 0x002E
ECS20B = 0x002F
ECS20D = 0x00C9
GET_TOP_UP_LOG = 0x08
GET_DEBT_LOG = 0x0A
PUBLISH_TOP_UP_LOG = 0x05
PUBLISH_DEBT_LOG = 0x06
_SERVER_COMMAND = FC_CLUSTER_SPECIFIC | FC_SERVER_TO_CLIENT | FC_DISABLE_DEFAULT_RESPONSE
TOP_UP_LOG = 10
"""Entries the prepayment credits log and the debt payments log keep."""
PAYMENT_DEBT_TYPE = 2
"""ZCL DebtType of the payment-based debt register (Debt 3)."""
MILLI_PENCE = 1000
"""Milli-pence a penny: the unit of the meters' money and of the logs' amounts."""
_CREDIT = struct.Struct(">II")
_DEBT = struct.Struct(">II")
_ROW = struct.Struct(">II48I32I")
_PREPAY = struct.Struct(">6i")


@on_top_up
def _record_top_up(device: Any, at: int, utrn: str, amount: int) -> None:
    """Log the top-up; collect payment-based debt from it (see the module docstring)."""
    state = device.family_state(FAMILY)
    log = state.setdefault("top_ups", [])
    log.append([at, utrn, amount // MILLI_PENCE])
    del log[:-TOP_UP_LOG]
    debt = device.family_state("tariff").get("debt")
    if not debt:
        return
    owed = int(debt["registers"][2]) - int(state.get("payment_debt_collected", 0))
    terms = debt["terms"][2] or {}
    credit = device.meter.credit
    # The meter's debt pools its registers (time-based recovery draws on it too).
    share = amount * int(terms.get("percentage", 0)) // 10_000
    collected = min(owed, share, int(credit.debt))
    if collected <= 0:
        return
    credit.balance -= collected
    credit.debt -= collected
    state["payment_debt_collected"] = int(state.get("payment_debt_collected", 0)) + collected
    payments = state.setdefault("debt_payments", [])
    payments.append([at - UNIX_2000, collected, PAYMENT_DEBT_TYPE, owed - collected])
    del payments[:-TOP_UP_LOG]


def top_ups(device: Any, start: int, end: int) -> list[tuple[int, str, int]]:
    """The top-ups logged from ``start`` to ``end`` (seconds since 2000, inclusive), oldest
    first: (seconds since 2000, UTRN, pence)."""
    out = []
    for at, utrn, pence in device.family_state(FAMILY).get("top_ups", []):
        t = int(at) - UNIX_2000
        if start <= t <= end:
            out.append((t, str(utrn), int(pence)))
    return out


def debt_payments(device: Any, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The payment-based debt collections logged in the period, oldest first: (seconds since
    2000, amount collected, debt type, outstanding after)."""
    out = []
    for at, collected, kind, outstanding in device.family_state(FAMILY).get("debt_payments", []):
        if start <= int(at) <= end:
            out.append((int(at), int(collected), int(kind), int(outstanding)))
    return out


def _compact(description: bytes, body: bytes) -> dlms.Data:
    return dlms.CompactArray(description, body)


# -- the gas meter: ZCL logs -------------------------------------------------------------


def _asked(command: Message, code: int) -> tuple[gc.Span, ZclFrame]:
    """The period and the ZCL request of a log read of the prepayment cluster."""
    cmd = gc.decode_command(code, command.content)
    if not isinstance(cmd, gc.GbzRead) or cmd.span is None:
        raise CommandError(f"message code 0x{code:04X} content is not a log read")
    (component,) = GbzPayload.from_bytes(command.content).components
    if not isinstance(component.frame, ZclFrame) or len(component.frame.payload) < 5:
        raise CommandError(f"message code 0x{code:04X} asks in a plain ZCL frame")
    return cmd.span, component.frame


def top_up_log_payload(entries: list[tuple[int, str, int]]) -> bytes:
    """A Publish Top Up Log payload, one command of one: each top-up's UTRN (an octet string
    of its digits), credit (milli-pence) and time (seconds since 2000), in the given order."""
    out = bytearray((0, 1))
    for at, utrn, pence in entries:
        code = "".join(ch for ch in utrn if ch.isdigit()).encode("ascii")
        out += bytes([len(code)]) + code + struct.pack("<iI", pence * MILLI_PENCE, at)
    return bytes(out)


def read_top_up_log_payload(payload: bytes) -> list[tuple[int, str, int]]:
    """(time, UTRN, milli-pence) of each entry of a :func:`top_up_log_payload`."""
    out, at = [], 2
    while at < len(payload):
        n = payload[at]
        code = payload[at + 1 : at + 1 + n].decode("ascii")
        amount, when = struct.unpack_from("<iI", payload, at + 1 + n)
        out.append((when, code, amount))
        at += 1 + n + 8
    return out


@handles(DeviceType.GSME, GCS15E)
def read_gas_top_up_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS15e: the top-ups of the period, the newest first, at most as many as asked; none
    is the NOT_FOUND default response."""
    span, frame = _asked(command, GCS15E)
    start, end = span.seconds()
    wanted = frame.payload[4]
    entries = list(reversed(top_ups(device, start, end)))[:wanted]
    if not entries:
        return Reply(gc.ZclFailure(GET_TOP_UP_LOG, NOT_FOUND, PREPAYMENT).encode())
    answer = ZclFrame(
        _SERVER_COMMAND, frame.sequence, PUBLISH_TOP_UP_LOG, top_up_log_payload(entries)
    )
    return fitting(GbzPayload((GbzComponent(PREPAYMENT, answer, CONTROL_LAST),)).to_bytes())


def debt_log_payload(entries: list[tuple[int, int, int, int]]) -> bytes:
    """A Publish Debt Log payload, one command of one: collection time, amount collected,
    debt type, debt outstanding (milli-pence)."""
    return bytes((0, 1)) + b"".join(struct.pack("<IIBI", *e) for e in entries)


@handles(DeviceType.GSME, GCS15D)
def read_gas_debt_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS15d: the payment-based debt collections of the period of the debt type asked (0xFF
    any), oldest first, at most as many as asked, encrypted; none is NOT_FOUND."""
    span, frame = _asked(command, GCS15D)
    start, end = span.seconds()
    wanted, debt_type = frame.payload[4], frame.payload[5]
    entries = [e for e in debt_payments(device, start, end) if debt_type in (0xFF, e[2])][:wanted]
    if not entries:
        return Reply(gc.ZclFailure(GET_DEBT_LOG, NOT_FOUND, PREPAYMENT).encode())
    ciphered = ctx.builder.encrypt_payload(
        device=device.eui,
        target=command.business_originator,
        counter=command.originator_counter,
        plaintext=debt_log_payload(entries),
    )
    sealed = EncryptedZcl(_SERVER_COMMAND, frame.sequence, PUBLISH_DEBT_LOG, ciphered)
    component = GbzComponent(PREPAYMENT, sealed, CONTROL_LAST | CONTROL_ENCRYPTED)
    return fitting(GbzPayload((component,)).to_bytes())


# -- the electricity meter: DLMS logs ----------------------------------------------------


@handles(DeviceType.ESME, ECS20D)
def read_credits_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS20d: the top-ups of the period, oldest first: (time, credit in milli-pence)."""
    cmd = _dlms_read(command, ECS20D)
    assert cmd.span is not None
    start, end = cmd.span.seconds()
    body = b"".join(
        _CREDIT.pack(at, pence * MILLI_PENCE) for at, _, pence in top_ups(device, start, end)
    )
    data = (_compact(CREDITS_TYPE, body),)
    return fitting(gc.DlmsReadResponse.for_command(cmd, data).encode())


@handles(DeviceType.ESME, ECS20A)
def read_debt_payments_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS20a: the payment-based debt collections of the period, oldest first."""
    cmd = _dlms_read(command, ECS20A)
    assert cmd.span is not None
    start, end = cmd.span.seconds()
    # Only the payment-based register (ECS07's) is collected per payment: time and amount.
    body = b"".join(
        _DEBT.pack(at, collected) for at, collected, _, _ in debt_payments(device, start, end)
    )
    data = (_compact(DEBT_TYPE, body),)
    return fitting(gc.DlmsReadResponse.for_command(cmd, data).encode())


ModeChangeRow = tuple[int, int, list[int], tuple[int, ...]]
"""(seconds since 2000, total import, 48 TOU registers, the six prepayment registers)."""


def mode_change_rows(device: Any, start: int, end: int) -> list[ModeChangeRow]:
    """What the ESME logged at each payment mode change in the period (the tariff family's
    ``billing_log``), oldest first. The prepayment registers are those the log kept - the
    meter balance and the accumulated debt; the emergency credit balance and the three debt
    registers it does not keep read 0."""
    out: list[ModeChangeRow] = []
    for entry in device.family_state("tariff").get("billing_log", []):
        at = to_seconds(_dt.datetime.fromisoformat(entry["at"])) - UNIX_2000
        if not start <= at <= end:
            continue
        registers = [int(v) for v in entry["registers"]]
        tou = (registers[1:] + [0] * TOU_REGISTERS)[:TOU_REGISTERS]
        prepay = (int(entry.get("balance", 0)), 0, int(entry.get("debt", 0)), 0, 0, 0)
        out.append((at, registers[0], tou, prepay))
    return out


def mode_change_plaintext(rows: list[ModeChangeRow]) -> bytes:
    """The ECS20b plaintext: ``structure { compact array }`` of GBCS's change of mode rows
    (time, total, 48 TOU registers, 32 block registers: 0, the meter bills no blocks, then
    the six prepayment registers)."""
    body = b"".join(
        _ROW.pack(at, total & 0xFFFF_FFFF, *(v & 0xFFFF_FFFF for v in tou), *[0] * 32)
        + _PREPAY.pack(*prepay)
        for at, total, tou, prepay in rows
    )
    data = dlms.structure(_compact(MODE_CHANGE_TYPE, body))
    return data.to_bytes()


@handles(DeviceType.ESME, ECS20B)
def read_mode_change_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS20b: the registers at each payment mode change of the period, encrypted."""
    cmd = _protected_read(device, command, ECS20B)
    assert cmd.span is not None
    start, end = cmd.span.seconds()
    plaintext = mode_change_plaintext(mode_change_rows(device, start, end))
    return _protected_reply(device, command, ctx, cmd, plaintext)
