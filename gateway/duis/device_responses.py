"""DUIS XML of the device service requests' answers: the asynchronous responses and alerts
(:class:`gateway.services.device.DeviceReport`), and the synchronous local command of CV2 /
CV6 (the CV4 pre-command is :func:`gateway.duis.build.precommand_element`). Everything built
here validates against the DUIS 5.4 schema.

- a device's response: ``ResponseMessage`` (ServiceReference, ServiceReferenceVariant,
  ``GBCSPayload``: the device's GBCS, base64), header ``RequestID`` (the user's),
  ``ResponseID`` (the RequestID with originator and target swapped, as the DCC writes it),
  ``ResponseCode`` ``I0``;
- the answer to SR9.1: the same, its ``GBCSPayload`` inside a ``CINMessage`` with the
  ``CustomerIdentificationNumber`` the DCC made up and sent the meter;
- a device's alert: ``DeviceAlertMessage`` (``AlertCode`` in hex, ``GBCSPayload``), header
  ``ResponseID`` = device : recipient : the alert's counter;
- a DCC alert about a request (no answer in time, hub unreachable): ``DCCAlertMessage`` with
  ``DCCAlertCode`` (:data:`gateway.services.device.COMMAND_FAILURE_ALERT`) and
  ``DCCAlert/CommandFailure`` (the RequestID and the device); the reason travels as an XML
  comment, as the front door's error sentences do;
- a quarantined request (threshold anomaly detection, :mod:`gateway.anomaly`):
  ``DCCAlertMessage`` ``AD1`` with ``DCCAlert/QuarantinedRequest`` - the breach's element
  (``ADUserThresholdBreach``, ``ADDCCThresholdBreach`` or ``ADAttributeLimitsBreach``)
  holding the ``RequestID`` and the ``QuarantineEventRef``.
"""

from __future__ import annotations

import base64
import copy
import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from gateway.anomaly import ANOMALY_ALERT, BreachKind
from gateway.duis.build import comment_text, duis_datetime, gbcs_payload_element, serialise
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.envelope import format_request_id
from gateway.duis.signature import XmlSigner
from gateway.duis.xml import DS_NS, RA_NS, SR_NS, sr
from gateway.model import RequestId
from gateway.services.device_types import DeviceReport, ReportKind

__all__ = [
    "ReportRenderer",
    "local_command_element",
    "report_element",
    "response_report_bytes",
]

_NSMAP: Final = {"sr": SR_NS, "ds": DS_NS, "ra": RA_NS}


def _b64(payload: bytes) -> str:
    return base64.b64encode(payload).decode("ascii")


def local_command_element(payload: bytes) -> etree._Element:
    """``sr:LocalCommand/sr:GBCSPayload``: a command returned for local delivery (CV2, CV6)."""
    element = etree.Element(sr("LocalCommand"))
    element.append(gbcs_payload_element(payload))
    return element


def _header(
    root: etree._Element,
    *,
    request_id: str | None,
    response_id: str | None,
    code: str,
    when: datetime,
) -> None:
    header = etree.SubElement(root, sr("Header"))
    if request_id is not None:
        etree.SubElement(header, sr("RequestID")).text = request_id
    if response_id is not None:
        etree.SubElement(header, sr("ResponseID")).text = response_id
    etree.SubElement(header, sr("ResponseCode")).text = code
    etree.SubElement(header, sr("ResponseDateTime")).text = duis_datetime(when)


def report_element(report: DeviceReport, *, schema_version: str = "5.4") -> etree._Element:
    """The unsigned ``sr:Response`` telling a user of ``report``."""
    usual = _usual_response(report)
    if usual is not None:
        # The usual answer: a copy of the tree this function builds for one (lxml copies a
        # tree several times faster than it builds one), its values filled in.
        request_id, response_id, payload, variant = usual
        root = copy.deepcopy(_response_skeleton(schema_version))
        header, message = root[0], root[1][0]
        header[0].text = format_request_id(request_id)
        header[1].text = format_request_id(response_id)
        header[3].text = duis_datetime(_at(report))
        message[0].text = variant.service_reference
        message[1].text = variant.value
        message[2].text = _b64(payload)
        return root
    return _build_report_element(report, schema_version)


_SKELETON_ID: Final = RequestId(bytes(8), bytes(8), 0)


@functools.lru_cache(maxsize=8)
def _response_skeleton(schema_version: str) -> etree._Element:
    """The tree of a response report (kept unchanged: :func:`report_element` copies it)."""
    report = DeviceReport(
        seq=0,
        kind=ReportKind.RESPONSE,
        recipient=bytes(8),
        device=bytes(8),
        code="I0",
        created_at=datetime(2000, 1, 1, tzinfo=UTC),
        request_id=_SKELETON_ID,
        response_id=_SKELETON_ID,
        service_reference_variant="4.1.1",
        payload=b"",
    )
    return _build_report_element(report, schema_version)


_Usual = tuple[RequestId, RequestId, bytes, ServiceReferenceVariant]


def _usual_response(report: DeviceReport) -> _Usual | None:
    """A device's answer with nothing unusual (no reason comment), which the fast paths take:
    its RequestID, ResponseID, payload and variant; None for any other report."""
    if (
        report.kind is ReportKind.RESPONSE
        and not report.reason
        and report.request_id is not None
        and report.response_id is not None
        and report.payload is not None
        and report.service_reference_variant is not None
        and report.dsp_schedule_id is None
        and report.cin is None
    ):
        variant = ServiceReferenceVariant(report.service_reference_variant)
        return report.request_id, report.response_id, report.payload, variant
    return None


_MARKS: Final = (
    ("request_id", b"MARKRQIDQ"),
    ("response_id", b"MARKRSIDQ"),
    ("date_time", b"MARKWHENQ"),
    ("service_reference", b"MARKSREFQ"),
    ("variant", b"MARKSRVVQ"),
    ("payload", b"MARKLOADQ"),
)
"""The values of a response report, in document order, and the mark each template holds in
its place (letters only: every serialisation writes them as they are)."""
_MARK_SPLIT: Final = re.compile(b"(" + b"|".join(mark for _, mark in _MARKS) + b")")
_SAFE_VERSION: Final = re.compile(r"[0-9A-Za-z.]{1,20}")


@dataclass(frozen=True, slots=True)
class _Cut:
    """Bytes cut around the marks: ``parts[0] + values[0] + parts[1] + ... + parts[-1]``."""

    parts: tuple[bytes, ...]

    @classmethod
    def of(cls, octets: bytes) -> _Cut:
        pieces = _MARK_SPLIT.split(octets)
        if tuple(pieces[1::2]) != tuple(mark for _, mark in _MARKS):
            raise AssertionError(f"the response template's marks moved: {pieces[1::2]!r}")
        return cls(tuple(pieces[0::2]))

    def fill(self, values: tuple[bytes, ...]) -> bytes:
        parts = self.parts
        return b"".join(
            (
                parts[0], values[0], parts[1], values[1], parts[2], values[2], parts[3],
                values[3], parts[4], values[4], parts[5], values[5], parts[6],
            )
        )  # fmt: skip


@functools.lru_cache(maxsize=8)
def _response_template(schema_version: str) -> tuple[_Cut, _Cut]:
    """The serialisation and the exclusive C14N of :func:`report_element`'s own tree of a
    response (so the bytes are lxml's, not hand-written), cut around its values."""
    root = copy.deepcopy(_response_skeleton(schema_version))
    header, message = root[0], root[1][0]
    marks = dict(_MARKS)
    header[0].text = marks["request_id"].decode()
    header[1].text = marks["response_id"].decode()
    header[3].text = marks["date_time"].decode()
    message[0].text = marks["service_reference"].decode()
    message[1].text = marks["variant"].decode()
    message[2].text = marks["payload"].decode()
    return (
        _Cut.of(etree.tostring(root, encoding="UTF-8")),
        _Cut.of(etree.tostring(root, method="c14n", exclusive=True, with_comments=False)),
    )


def response_report_bytes(
    report: DeviceReport, *, schema_version: str = "5.4"
) -> tuple[bytes, bytes] | None:
    """``(etree.tostring(root, encoding="UTF-8"), its exclusive C14N)`` of
    ``report_element(report)`` for a device's usual answer, written from a template without
    building a tree (what :meth:`gateway.duis.signature.XmlSigner.sign_plain` signs); ``None``
    for any other report (the caller then builds the tree). Every value written is a token
    with nothing to escape: EUIs in hex, digits, the catalogue's references, base64."""
    usual = _usual_response(report)
    if usual is None or _SAFE_VERSION.fullmatch(schema_version) is None:
        return None
    request_id, response_id, payload, variant = usual
    values = (
        format_request_id(request_id).encode("ascii"),
        format_request_id(response_id).encode("ascii"),
        duis_datetime(_at(report)).encode("ascii"),
        variant.service_reference.encode("ascii"),
        variant.value.encode("ascii"),
        base64.b64encode(payload),
    )
    document, c14n = _response_template(schema_version)
    return document.fill(values), c14n.fill(values)


def _build_report_element(report: DeviceReport, schema_version: str) -> etree._Element:
    root = etree.Element(sr("Response"), nsmap=_NSMAP)
    root.set("schemaVersion", schema_version)
    request_id = None if report.request_id is None else format_request_id(report.request_id)
    response_id = None if report.response_id is None else format_request_id(report.response_id)
    if report.reason:
        root.append(etree.Comment(comment_text(report.reason)))
    if report.kind is ReportKind.RESPONSE:
        assert report.payload is not None
        assert report.service_reference_variant is not None
        # A DCC schedule's run answers no request of the user: DUIS identifies it by its
        # ResponseID and DSPScheduleID, with no RequestID (the inbox files it under one).
        if report.dsp_schedule_id is not None:
            request_id = None
        _header(root, request_id=request_id, response_id=response_id, code="I0", when=_at(report))
        message = etree.SubElement(etree.SubElement(root, sr("Body")), sr("ResponseMessage"))
        variant = ServiceReferenceVariant(report.service_reference_variant)
        etree.SubElement(message, sr("ServiceReference")).text = variant.service_reference
        etree.SubElement(message, sr("ServiceReferenceVariant")).text = variant.value
        if report.cin is not None:  # SR9.1: the number the meter shows, to the user alone
            cin = etree.SubElement(message, sr("CINMessage"))
            etree.SubElement(cin, sr("GBCSPayload")).text = _b64(report.payload)
            etree.SubElement(cin, sr("CustomerIdentificationNumber")).text = report.cin
        elif report.dsp_schedule_id is None:
            etree.SubElement(message, sr("GBCSPayload")).text = _b64(report.payload)
        else:  # a DCC schedule's run names its schedule
            scheduled = etree.SubElement(message, sr("DSPScheduledMessage"))
            etree.SubElement(scheduled, sr("GBCSPayload")).text = _b64(report.payload)
            etree.SubElement(scheduled, sr("DSPScheduleID")).text = str(report.dsp_schedule_id)
    elif report.kind is ReportKind.ALERT:
        assert report.payload is not None
        _header(root, request_id=None, response_id=response_id, code="I0", when=_at(report))
        alert = etree.SubElement(etree.SubElement(root, sr("Body")), sr("DeviceAlertMessage"))
        code = report.alert_code if report.alert_code is not None else 0
        etree.SubElement(alert, sr("AlertCode")).text = f"{code:04X}"
        etree.SubElement(alert, sr("GBCSPayload")).text = _b64(report.payload)
    else:
        _header(root, request_id=request_id, response_id=None, code="I0", when=_at(report))
        message = etree.SubElement(etree.SubElement(root, sr("Body")), sr("DCCAlertMessage"))
        etree.SubElement(message, sr("DCCAlertCode")).text = report.code
        if report.code == ANOMALY_ALERT:
            _quarantined_request(etree.SubElement(message, sr("DCCAlert")), report, request_id)
            return root
        failure = etree.SubElement(etree.SubElement(message, sr("DCCAlert")), sr("CommandFailure"))
        etree.SubElement(failure, sr("CommandRequestID")).text = request_id or ""
        etree.SubElement(failure, sr("DeviceID")).text = report.device.hex("-").upper()
    return root


def _quarantined_request(
    alert: etree._Element, report: DeviceReport, request_id: str | None
) -> None:
    """``QuarantinedRequest``: the breach's element (the report's payload names it, see
    ``DeviceService._screen``), the RequestID and the QuarantineEventRef (its alert code)."""
    kind = BreachKind((report.payload or b"").decode("ascii"))
    quarantined = etree.SubElement(alert, sr("QuarantinedRequest"))
    breach = etree.SubElement(quarantined, sr(kind.value))
    etree.SubElement(breach, sr("RequestID")).text = request_id or ""
    etree.SubElement(breach, sr("QuarantineEventRef")).text = str(report.alert_code or 0)


def _at(report: DeviceReport) -> datetime:
    return report.created_at


class ReportRenderer:
    """The signed DUIS XML of a report (``signer`` None: unsigned): what the device service's
    inbox stores with each report (:class:`gateway.services.device_reports.Inbox`)."""

    __slots__ = ("signer",)

    def __init__(self, signer: XmlSigner | None) -> None:
        self.signer = signer

    def __call__(self, report: DeviceReport) -> bytes:
        """A device's usual answer is written and signed from templates (the bytes the tree
        gives), anything else through the tree."""
        if self.signer is not None:
            prepared = response_report_bytes(report)
            if prepared is not None:
                signed = self.signer.sign_plain(*prepared)
                if signed is not None:
                    return signed
            return self.signer.sign_to_bytes(report_element(report), consume=True)
        return serialise(report_element(report))
