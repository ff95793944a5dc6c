"""The device service requests' DUIS bodies to typed requests, through the catalogue.

The body of each variant is the catalogue's (:mod:`gateway.srv.catalogue`), read by its
family module's codec; CV5/CV6 carry ``SignedPreCommand`` instead. A body that is not the
SR's own is ``duis_body_mismatch``; a variant without a codec is ``E47`` from the catalogue.
A future-dated request's ``ExecutionDateTime`` is read here, taken off the body before its
codec reads it, and handed to the device service with the call (which holds a DSP-pattern
request until then, or has a Device-pattern codec put it in the command).
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from datetime import datetime
from typing import Final

from lxml import etree

from gateway.duis.catalogue import CommandVariant, ServiceReferenceVariant
from gateway.duis.envelope import DuisRequest
from gateway.duis.xml import SR_NS
from gateway.errors import ServiceError
from gateway.services.device import DeviceCall, SignedPreCommand
from gateway.srv.catalogue import CATALOGUE
from gateway.srv.fields import Fields, invalid, read_datetime
from gateway.srv.registry import CODECS

__all__ = ["DEVICE_VARIANTS", "read_device_call", "read_device_request"]

DEVICE_VARIANTS: Final = frozenset(CODECS)
"""The device SR variants this gateway serves (those with a codec)."""

_SIGNED: Final = frozenset(
    {CommandVariant.SIGNED_PRECOMMAND, CommandVariant.SIGNED_PRECOMMAND_LOCAL}
)


def _read_signed(body: etree._Element) -> SignedPreCommand:
    f = Fields(body, ("ExecutionDateTime", "GBCSPayload"))
    text = re.sub(r"\s+", "", f.text("GBCSPayload") or "")
    try:
        payload = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("GBCSPayload", "it is not base64") from None
    if not payload:
        raise invalid("GBCSPayload", "it is empty")
    return SignedPreCommand(payload)


def _execution(body: etree._Element) -> tuple[etree._Element, datetime | None]:
    """The body without its ``ExecutionDateTime`` (a copy, when it had one), and that time."""
    found = body.findall(f"{{{SR_NS}}}ExecutionDateTime")
    if not found:
        return body, None
    if len(found) > 1:
        raise invalid("ExecutionDateTime", "it appears twice")
    when = read_datetime("ExecutionDateTime", (found[0].text or "").strip())
    stripped = copy.deepcopy(body)
    for element in stripped.findall(f"{{{SR_NS}}}ExecutionDateTime"):
        stripped.remove(element)
    return stripped, when


def _split(request: DuisRequest) -> tuple[etree._Element, datetime | None]:
    """The body the codec reads and the execution the gateway acts on: a codec that reads its
    own ExecutionDateTime (``reads_execution``) gets the body whole, and the gateway then
    sends the command at once - the device executes it when the content says."""
    codec = CATALOGUE[request.header.service_reference_variant].codec
    if codec is not None and codec.reads_execution:
        return request.body, None
    return _execution(request.body)


def read_device_request(request: DuisRequest) -> object:
    """The typed request of a device SR's body (``SignedPreCommand`` for CV5/CV6)."""
    return _read_device_body(request, _split(request)[0])


def _read_device_body(request: DuisRequest, body: etree._Element) -> object:
    header = request.header
    variant: ServiceReferenceVariant = header.service_reference_variant
    entry = CATALOGUE[variant]
    if entry.codec is None:
        raise ServiceError("duis_sr_not_supported", srv=variant.value)
    expected = entry.row.body
    if header.command_variant in _SIGNED:
        expected = "SignedPreCommand"
    if request.body_name != expected:
        raise ServiceError(
            "duis_body_mismatch", srv=variant.value, expected=expected, found=request.body_name
        )
    if expected == "SignedPreCommand":
        return _read_signed(body)
    return entry.codec.read(body)


def read_device_call(request: DuisRequest, sender: bytes) -> DeviceCall:
    """The :class:`DeviceCall` the device service takes for a parsed request."""
    header = request.header
    body, execution = _split(request)
    return DeviceCall(
        sender=sender,
        request_id=header.request_id,
        command_variant=int(header.command_variant),
        service_reference_variant=header.service_reference_variant.value,
        request=_read_device_body(request, body),
        execution=execution,
    )
