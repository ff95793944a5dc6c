"""The DCC alert that tells a supplier what became of each device's copy of an SR 11.1 / 11.4
image: ``DCCAlertMessage`` with ``CSPFirmwareDeliveryStatus`` (the 11.1 request's RequestID,
the communications hub, the target device, the firmware version, when, and whether the hub
transferred it: ``Success`` or ``Failure``).

It is filed in the device services' inbox under the 11.1 request's RequestID, so the supplier
reads it as that request's asynchronous answer (``GET /api/v1/responses?requestId=...``) and
gets it POSTed to its response URL like any other report. The device's own receipt (alert
0x8F72 verified / 0x8F1C failed) follows as a device alert.

The DUIS specification, which fixes each DCC alert code's meaning, is not available to this
project (see docs/response-codes.md): :data:`DELIVERY_STATUS_ALERT` is this project's choice
among the schema's codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from lxml import etree

from gateway.duis.build import comment_text, duis_datetime
from gateway.duis.envelope import parse_request_id
from gateway.duis.signature import XmlSigner
from gateway.duis.xml import DS_NS, SR_NS, sr
from gateway.firmware import Delivery
from gateway.services.device_types import DeviceReport, ReportKind

__all__ = ["DELIVERY_STATUS_ALERT", "delivery_status_report"]

DELIVERY_STATUS_ALERT: Final = "N43"
"""The DCC alert code of a ``CSPFirmwareDeliveryStatus`` (this project's choice)."""


def delivery_status_element(
    delivery: Delivery, when: datetime, *, ok: bool, reason: str | None = None
) -> etree._Element:
    """The unsigned ``sr:Response`` of the alert."""
    root = etree.Element(sr("Response"), nsmap={"sr": SR_NS, "ds": DS_NS})
    root.set("schemaVersion", "5.4")
    if reason:
        root.append(etree.Comment(comment_text(reason)))
    header = etree.SubElement(root, sr("Header"))
    etree.SubElement(header, sr("RequestID")).text = delivery.request_id
    etree.SubElement(header, sr("ResponseCode")).text = "I0"
    etree.SubElement(header, sr("ResponseDateTime")).text = duis_datetime(when)
    message = etree.SubElement(etree.SubElement(root, sr("Body")), sr("DCCAlertMessage"))
    etree.SubElement(message, sr("DCCAlertCode")).text = DELIVERY_STATUS_ALERT
    status = etree.SubElement(etree.SubElement(message, sr("DCCAlert")),
                              sr("CSPFirmwareDeliveryStatus"))  # fmt: skip
    for name, value in (
        ("UpdateFirmwareRequestID", delivery.request_id),
        ("CommsHubDeviceID", delivery.hub.hex("-").upper()),
        ("TargetDeviceID", delivery.device.hex("-").upper()),
        ("FirmwareVersion", delivery.version),
        ("TimeStamp", duis_datetime(when)),
        ("CommsHubTransferStatus", "Success" if ok else "Failure"),
    ):
        etree.SubElement(status, sr(name)).text = value
    return root


def delivery_status_report(
    delivery: Delivery,
    when: datetime,
    signer: XmlSigner | None,
    *,
    ok: bool,
    reason: str | None = None,
) -> DeviceReport:
    """The inbox report of the alert, its signed XML built (unsigned without a signer)."""
    root = delivery_status_element(delivery, when, ok=ok, reason=reason)
    body = (
        etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        if signer is None
        else signer.sign_to_bytes(root, consume=True)
    )
    return DeviceReport(
        seq=0,
        kind=ReportKind.DCC_ALERT,
        recipient=delivery.sender,
        device=delivery.device,
        code=DELIVERY_STATUS_ALERT,
        created_at=when,
        request_id=parse_request_id(delivery.request_id),
        reason=reason,
        body=body,
    )
