"""SR8.13 Return Local Command Response: the device's answer to a command the user delivered
locally (CV2 / CV6), returned to the DCC, filed as the response to the original request.

The job checks - in one transaction of the group commit, nothing changed on a refusal - the
RequestID rules of the 8.13 request itself (sent to the ACB), that the original request is
the user's and was returned for local delivery (and not answered already), and that the GBCS
is a response of that device to that command (message code, parties, counter), its signature
valid when it carries one and its MAC when the ACB is its target (a MAC between the device
and the user is the user's to check). It then files the response report - the user gets it
as it gets any device response (its response URL, the inbox) - and marks the request
answered.
"""

from __future__ import annotations

from gateway.errors import ServiceError
from gateway.model import NON_DEVICE_ACB, RequestId
from gateway.services.device_reports import Inbox
from gateway.services.device_types import DeviceReport, ReportKind, counter_value, rid_text
from gateway.srv.han import LocalCommandResponse
from gateway.storage import Transaction
from gateway.users import check_counter, check_sender, write_counter
from gbcs.codes import CRA
from gbcs.errors import DecodeError
from gbcs.frames import Message
from gbcs.verify import Check, Verifier

__all__ = ["file_local_response"]


def file_local_response(
    tx: Transaction,
    inbox: Inbox,
    verifier: Verifier,
    acb: bytes,
    sender: bytes,
    request_id: RequestId,
    request: LocalCommandResponse,
) -> DeviceReport:
    """Check and file it (see the module docstring); the report filed."""
    _, last = check_sender(tx, sender, request_id.originator)
    if request_id.target != NON_DEVICE_ACB:
        raise ServiceError("wrong_target", target=request_id.target)
    check_counter(sender, request_id.counter, last)
    original = rid_text(request.original)
    row = tx.one(
        "SELECT device, reply_to, gbcs_counter, message_code, variant, state "
        "FROM device_requests WHERE request_id = ? AND sender = ?",
        (original, sender),
    )
    if row is None:
        raise ServiceError("local_unknown_request", request_id=original)
    if row["state"] != "local":
        raise ServiceError("local_not_pending", request_id=original, state=str(row["state"]))
    device = bytes(row["device"])

    def mismatch(reason: str) -> ServiceError:
        return ServiceError("local_response_mismatch", request_id=original, reason=reason)

    try:
        message = Message.from_bytes(request.payload)
    except DecodeError as exc:
        raise mismatch(f"it is not a GBCS message ({exc})") from None
    expected = (device, bytes(row["reply_to"]), counter_value(row["gbcs_counter"]))
    if message.cra is not CRA.RESPONSE:
        raise mismatch(f"it is a {message.cra.name.lower()}, not a response")
    if message.message_code != int(row["message_code"]):
        raise mismatch(f"its message code 0x{message.message_code:04X} is not the command's")
    found = (message.business_originator, message.business_target, message.originator_counter)
    if found != expected:
        raise mismatch("its device, target or counter is not the command's")
    if message.signature is not None and verifier.verify_signature(message) is not Check.VALID:
        raise mismatch("its GBCS signature does not verify against the device's certificate")
    if message.business_target == acb and verifier.verify_mac(message) is not Check.VALID:
        raise mismatch("its MAC does not verify")
    write_counter(tx, sender, request_id.counter)
    report = inbox.new(
        kind=ReportKind.RESPONSE,
        recipient=sender,
        device=device,
        code="I0",
        request_id=request.original,
        response_id=RequestId(device, request.original.originator, request.original.counter),
        variant=str(row["variant"]),
        payload=request.payload,
    )
    # The frame log reads the answer from the report (the payload is the frame).
    filed = inbox.insert(tx, report, answer_frame=True)
    assert filed is not None  # a response is filed once: its request was 'local' until now
    tx.execute(
        "UPDATE device_requests SET state = 'answered', finished_at = ? WHERE request_id = ?",
        (report.created_at.isoformat(), original),
    )
    return filed
