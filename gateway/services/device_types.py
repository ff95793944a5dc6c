"""The values of the device SRs: the request as the front door hands it over, the synchronous
answer, the report a DCC User is told later, and the states of a request.

Used by the device service (:mod:`gateway.services.device`), its report storage
(:mod:`gateway.services.device_reports`) and the DUIS side (:mod:`gateway.duis`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from gateway.model import RequestId

__all__ = [
    "COMMAND_FAILURE_ALERT",
    "Accepted",
    "DeviceCall",
    "DeviceReport",
    "DeviceRequest",
    "Key",
    "OpenRequest",
    "ReportKind",
    "ReportListener",
    "RequestState",
    "SignedPreCommand",
    "counter_blob",
    "counter_value",
    "parse_rid",
    "rid_text",
]


@dataclass(frozen=True, slots=True)
class SignedPreCommand:
    """CV5 / CV6 ``SignedPreCommand``: the pre-command of a critical SR, signed by the user."""

    payload: bytes
    service_reference_variant = ""  # the header's variant applies


DeviceRequest = Any
"""A typed request of the catalogue's family modules (:mod:`gateway.srv`), or
:class:`SignedPreCommand`."""


@dataclass(frozen=True, slots=True)
class DeviceCall:
    """One device SR as the front door hands it over."""

    sender: bytes
    """The DCC User whose XML signature was verified (or the originator, unsigned mode)."""
    request_id: RequestId
    command_variant: int
    service_reference_variant: str
    request: DeviceRequest
    execution: datetime | None = None
    """The body's ``ExecutionDateTime`` (a future-dated request), UTC; None: at once."""
    dsp_schedule_id: int | None = None
    """The DCC schedule (SR5.1) whose run this is; None: a user's own request."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The synchronous answer to a device SR."""

    code: str
    """``I99`` (sent; the answer follows) or ``I0`` (pre-command / local command returned)."""
    precommand: bytes | None = None
    local_command: bytes | None = None
    cancelled: tuple[str, ...] = ()
    """The RequestIDs a cancellation took out of the schedule (``I0``)."""


class ReportKind(StrEnum):
    RESPONSE = "response"
    """The device's answer to a request (DUIS ``ResponseMessage`` with its GBCS)."""
    ALERT = "alert"
    """An alert from a device (DUIS ``DeviceAlertMessage``)."""
    DCC_ALERT = "dcc-alert"
    """The DCC's own alert about a request: no answer in time, hub unreachable
    (DUIS ``DCCAlertMessage`` / ``CommandFailure``)."""


COMMAND_FAILURE_ALERT: Final = "N12"
"""The DCC alert code this gateway gives a CommandFailure (no answer from the device in time,
or its hub unreachable). The DUIS specification that fixes each N-code's meaning is not
available to this project: N12 is this project's choice among the schema's codes."""


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """One entry of the inbox: what a DCC User is told asynchronously."""

    seq: int
    kind: ReportKind
    recipient: bytes
    device: bytes
    code: str
    """``I0`` for a response; the DCC alert code for a DCC alert; for a device alert, its
    alert code in hex (``8F30``)."""
    created_at: datetime
    request_id: RequestId | None = None
    response_id: RequestId | None = None
    service_reference_variant: str | None = None
    payload: bytes | None = None
    """The GBCS frame as the device sent it."""
    alert_code: int | None = None
    reason: str | None = None
    """Why a DCC alert was raised (for people)."""
    body: bytes | None = None
    """The signed DUIS XML, once built."""
    delivered: bool = False
    dsp_schedule_id: int | None = None
    """A DCC schedule's run (SR5.1): its answer is a ``DSPScheduledMessage`` naming it."""
    cin: str | None = None
    """SR9.1's answer: the Customer Identification Number the DCC made up and sent the meter,
    which the user is given with the device's response (a ``CINMessage``)."""


ReportListener = Callable[[DeviceReport], None]


@dataclass(slots=True)
class OpenRequest:
    """A request sent and not yet answered (in memory, mirrored in ``device_requests``)."""

    request_id: RequestId
    rid: str
    sender: bytes
    variant: str
    details: dict[str, Any] | None
    deadline: float
    """``time.time()`` seconds."""


class RequestState(StrEnum):
    """The ``state`` of a device request in the ``device_requests`` table."""

    PRECOMMAND = "precommand"
    """CV4: the pre-command was returned; a CV5/CV6 with the same RequestID may use it."""
    SENT = "sent"
    """On the WAN, awaiting its answer."""
    ANSWERED = "answered"
    FAILED = "failed"
    LOCAL = "local"
    """CV2/CV6: returned for local delivery."""
    QUARANTINED = "quarantined"
    """Held by threshold anomaly detection (gateway.anomaly)."""
    HELD = "held"
    """Future-dated (DSP pattern): built, waiting for its execution date-time
    (:mod:`gateway.schedule`)."""
    CANCELLED = "cancelled"
    """Held, then cancelled by its user before it was sent."""


Key = tuple[bytes, bytes, int]
"""How an answer finds its request: (device, the GBCS business originator, counter)."""


def counter_blob(counter: int) -> bytes:
    """A GBCS counter as stored (8 bytes, big-endian: SQLite integers are signed)."""
    return counter.to_bytes(8, "big")


def counter_value(value: bytes) -> int:
    """The GBCS counter of a stored :func:`counter_blob`."""
    return int.from_bytes(value, "big")


def rid_text(request_id: RequestId) -> str:
    """The RequestID as stored and as DUIS writes it (``originator:target:counter``)."""
    return (
        f"{request_id.originator.hex('-').upper()}:{request_id.target.hex('-').upper()}"
        f":{request_id.counter}"
    )


def parse_rid(text: str) -> RequestId:
    """A stored :func:`rid_text` back (stored text: no checks)."""
    originator, target, counter = text.split(":")
    return RequestId(
        bytes.fromhex(originator.replace("-", "")),
        bytes.fromhex(target.replace("-", "")),
        int(counter),
    )
