"""The answers coming up the WAN, in the device service: each frame matched to its request,
its report filed, and the SMI changes it drives.

:class:`Answers` is the part of :class:`gateway.services.device.DeviceService` that takes the
frames the WAN receives (:meth:`Answers.on_frame`):

- a **response** is matched to its open request by (device, business target, counter) - once:
  a duplicate, a late or an unknown one is ignored, and so is one to the ACB whose MAC does
  not verify; the request is marked answered, the frame logged, and a successful answer
  drives the SMI (the lifecycle of 8.11 / 8.1.1 and the HAN, :mod:`gateway.services.device_han`;
  a confirmed change of the supplier's credentials, :mod:`gateway.services.device_credentials`;
  a firmware version, :mod:`gateway.services.device_firmware`), then a :class:`DeviceReport`
  is filed for the request's sender;
- an **alert** becomes an alert report for its business target (and a meter's 0x00CA /
  0x00CB future-dated alert updates the SMI as its immediate response would have); one
  addressed to the ACB is checked with the ACB's keys (a bad MAC or signature: ignored) and
  forwarded, as the DCC does, to the user its other-information names (a supplementary
  remote party), else to the device's responsible supplier(s) (``docs/alerts.md``).

Each filing joins the group commit and the listener is told once it is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from gateway import frame_log
from gateway.errors import ServiceError
from gateway.group_commit import GroupCommit
from gateway.model import DeviceStatus, RequestId
from gateway.services import device_credentials, device_han
from gateway.services.device_firmware import activated_version
from gateway.services.device_reports import Inbox
from gateway.services.device_rules import alert_code, succeeded
from gateway.services.device_types import (
    DeviceReport,
    Key,
    OpenRequest,
    ReportKind,
    ReportListener,
)
from gateway.smi import Smi
from gateway.storage import Storage, Transaction
from gbcs.codes import CRA
from gbcs.errors import DecodeError
from gbcs.frames import Message
from gbcs.verify import Check, Verifier

__all__ = ["Answers"]

logger = logging.getLogger("gateway.services.device")


class Answers:
    """The answer side of the device service (see the module docstring); the service sets
    these attributes."""

    storage: Storage
    smi: Smi
    acb: bytes
    verifier: Verifier
    inbox: Inbox
    commits: GroupCommit
    listener: ReportListener | None
    stats: dict[str, int]
    _open: dict[Key, OpenRequest]

    def on_frame(self, source: bytes, frame: bytes) -> None:
        """The WAN receiver: a frame came up from device ``source``."""
        try:
            message = Message.from_bytes(frame)
        except DecodeError as exc:
            self.stats["ignored"] += 1
            logger.warning("undecodable frame from %s ignored: %s", _eui(source), exc)
            return
        if message.cra is CRA.RESPONSE:
            self._on_response(message, frame)
        elif message.cra is CRA.ALERT:
            self._on_alert(message, frame)
        else:
            self.stats["ignored"] += 1
            logger.warning("a command came up the WAN from %s: ignored", _eui(source))

    def _on_response(self, message: Message, frame: bytes) -> None:
        device = message.business_originator
        key = (device, message.business_target, message.originator_counter)
        opened = self._open.get(key)
        if opened is None:
            self.stats["ignored"] += 1
            logger.info(
                "response from %s counter %d ignored (no request awaits it: late, duplicate "
                "or unknown)",
                _eui(device),
                message.originator_counter,
            )
            return
        if message.business_target == self.acb and not self._authentic(message):
            self.stats["ignored"] += 1
            logger.warning("response from %s with a bad MAC or signature ignored", _eui(device))
            return
        del self._open[key]
        request_id = opened.request_id
        report = self.inbox.new(
            kind=ReportKind.RESPONSE,
            recipient=opened.sender,
            device=request_id.target,
            code="I0",
            request_id=request_id,
            response_id=RequestId(request_id.target, request_id.originator, request_id.counter),
            variant=opened.variant,
            payload=frame,
            dsp_schedule_id=None if opened.details is None else opened.details.get("dsp_schedule"),
        )
        worked = bool(opened.details) and succeeded(message)
        version = activated_version(message)

        def job(tx: Transaction) -> DeviceReport | None:
            changed = tx.execute(
                "UPDATE device_requests SET state = 'answered', finished_at = ? "
                "WHERE request_id = ? AND state = 'sent'",
                (report.created_at.isoformat(), opened.rid),
            )
            if not changed:
                return None
            if worked and opened.details:
                self._apply_lifecycle(opened.details, device)
            if version is not None:
                self._firmware_activated(device, version)
            # The frame log reads the answer from the report (the payload is the frame).
            return self.inbox.insert(tx, report, answer_frame=True)

        # The SMI transitions of a successful answer go through the non-device service:
        # run once, guarded.
        lifecycle = worked and bool(opened.details)
        self.commits.enqueue(job, self._filed(ReportKind.RESPONSE), replayable=not lifecycle)

    def _authentic(self, message: Message) -> bool:
        """A response or alert to the ACB carries the device's MAC, or - the answer to a
        critical command the ACB signed itself (SR6.21), a critical alert - the device's
        signature; either must verify."""
        if message.mac is None and message.signature is not None:
            return self.verifier.verify_signature(message) is Check.VALID
        return self.verifier.verify_mac(message) is Check.VALID

    def _apply_lifecycle(self, details: Mapping[str, Any], device: bytes) -> None:
        """SMI transitions a successful answer drives; a rule failure is logged (the device
        did act: its answer still goes to the user)."""
        try:
            with self.storage.transaction():  # a savepoint: a refusal undoes only this
                device_han.apply_answer(self.storage, self.smi, details, device)
                device_credentials.apply_answer(self.smi, dict(details), device)
                if "commission" in details:
                    target = bytes.fromhex(details["commission"])
                    record = self.smi.get_device(target)
                    if record is not None and record.status is not DeviceStatus.COMMISSIONED:
                        self.smi.on_commissioned(target)
        except ServiceError as exc:
            logger.warning("SMI not updated after %s answered: %s", _eui(device), exc)

    def _on_alert(self, message: Message, frame: bytes) -> None:
        if message.business_target == self.acb:
            self._on_acb_alert(message, frame)
            return
        device = message.business_originator
        code = alert_code(message)
        report = self.inbox.new(
            kind=ReportKind.ALERT,
            recipient=message.business_target,
            device=device,
            code=f"{code:04X}",
            response_id=RequestId(device, message.business_target, message.originator_counter),
            payload=frame,
            alert_code=code,
        )
        version = activated_version(message)
        supplier = device_credentials.alert_supplier(message)

        def job(tx: Transaction) -> DeviceReport | None:
            filed = frame_log.alert_filed(tx, self.inbox.insert(tx, report), frame)
            if filed is not None:
                self._after_alert(device, version, supplier)
            return filed

        self.commits.enqueue(job, self._filed(ReportKind.ALERT), replayable=True)

    def _on_acb_alert(self, message: Message, frame: bytes) -> None:
        """An alert GBCS addresses to the ACB (the hub's CS14, CCS08 and Sub GHz alerts, the
        PPMID's CS09, an ECS100 for a supplementary remote party): checked with the ACB's keys,
        then forwarded as the device alert it is - the frame as the device sent it - to the
        user its other-information names, else to the device's responsible supplier(s)."""
        device = message.business_originator
        if not self._authentic(message):
            self.stats["ignored"] += 1
            logger.warning("alert to the ACB from %s with a bad MAC or signature ignored",
                           _eui(device))  # fmt: skip
            return
        code = alert_code(message)
        named = message.extensions[:8] if len(message.extensions) >= 8 else None
        version = activated_version(message)
        supplier = device_credentials.alert_supplier(message)

        def job(tx: Transaction) -> list[DeviceReport]:
            # Read in the commit, as the SMI stands when the alert is filed.
            recipients = (
                [named] if named is not None else sorted(self.smi.responsible_suppliers(device))
            )
            if not recipients:
                logger.warning("alert 0x%04X to the ACB from %s not forwarded: the device is "
                               "not in the SMI", code, _eui(device))  # fmt: skip
            filed = []
            for recipient in recipients:
                report = self.inbox.new(
                    kind=ReportKind.ALERT,
                    recipient=recipient,
                    device=device,
                    code=f"{code:04X}",
                    response_id=RequestId(device, recipient, message.originator_counter),
                    payload=frame,
                    alert_code=code,
                )
                one = frame_log.alert_filed(tx, self.inbox.insert(tx, report), frame)
                if one is not None:
                    filed.append(one)
            if filed:
                self._after_alert(device, version, supplier)
            return filed

        self.commits.enqueue(job, self._filed_all, replayable=True)

    def _after_alert(self, device: bytes, version: str | None, supplier: bytes | None) -> None:
        """The SMI changes an alert reports, as its immediate response would have: a firmware
        version activated (0x00CA), a supplier's credentials in place (0x00CB)."""
        if version is not None:
            self._firmware_activated(device, version)
        if supplier is not None:
            self._apply_lifecycle({"supplier_credentials": supplier.hex()}, device)

    def _firmware_activated(self, device: bytes, version: str) -> None:
        """The SMI records the firmware a device reports running (CS06, 0x00CA alert)."""
        try:
            with self.storage.transaction():  # a savepoint: a refusal undoes only this
                self.smi.on_firmware_activated(device, version)
        except ServiceError as exc:
            logger.warning("SMI firmware version of %s not updated: %s", _eui(device), exc)

    def _filed(self, kind: ReportKind) -> Callable[[Any], None]:
        """What to do once a report's transaction is over: count it and tell the listener."""

        def done(outcome: Any) -> None:
            if isinstance(outcome, BaseException):
                logger.error("a %s could not be filed: %r", kind.value, outcome)
                return
            if outcome is None:
                self.stats["ignored"] += 1
                return
            self.stats[_STAT[kind]] += 1
            self.tell(outcome)

        return done

    def _filed_all(self, outcome: Any) -> None:
        """As :meth:`_filed` for an alert forwarded to several users (a list of reports)."""
        if isinstance(outcome, BaseException) or not outcome:
            self._filed(ReportKind.ALERT)(outcome or None)
            return
        for report in outcome:
            self._filed(ReportKind.ALERT)(report)

    # -- telling ------------------------------------------------------------------------------

    def tell(self, report: DeviceReport) -> None:
        if self.listener is None:
            return
        try:
            self.listener(report)
        except Exception:  # the report is in the inbox; telling is best effort here
            logger.exception("the report listener failed on report %d", report.seq)


_STAT: Final = {
    ReportKind.RESPONSE: "answered",
    ReportKind.ALERT: "alerts",
    ReportKind.DCC_ALERT: "failed",
}


def _eui(value: bytes) -> str:
    return value.hex("-").upper()
