"""The transform of a DCC request template, in process: its body through the catalogue's
codec, built for the parties of the DCC's reference command of the same name."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from gateway.duis.envelope import parse_request
from gateway.duis.xml import parse_document
from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gateway.srv.spec import Command
from gbcs.frames import Message
from gbcs.usecases import by_name


@dataclass(frozen=True, slots=True)
class Transform:
    ours: bytes
    """The content the codec builds."""
    reference: Message
    use_case: str


def reference(conformance: Path, template: str) -> Message:
    """The DCC's command (or pre-command) made from ``template``."""
    stem = template.removesuffix("_REQUEST_DUIS.XML")
    for kind in ("COMMAND", "PRECOMMAND"):
        for path in conformance.glob(f"gbcs/*/{stem}_{kind}_GBCS.HEX"):
            return _message(path)
    raise FileNotFoundError(stem)


def gbcs_file(conformance: Path, name: str) -> Message:
    """The DCC's GBCS message in the file ``name`` (in whichever use case's folder)."""
    (path,) = conformance.glob(f"gbcs/*/{name}")
    return _message(path)


def _message(path: Path) -> Message:
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))


def body_of(conformance: Path, template: str) -> tuple[str, object]:
    """The template's SRV and its typed request (read by the catalogue's codec)."""
    root = parse_document((conformance / "duis/templates" / template).read_bytes())
    request = parse_request(root)
    srv = request.header.service_reference_variant.value
    codec = entry(srv).codec
    assert codec is not None, f"{srv} has no codec"
    return srv, codec.read(request.body)


def transform(conformance: Path, template: str) -> Transform:
    theirs = reference(conformance, template)
    srv, typed = body_of(conformance, template)
    e = entry(srv)
    assert e.codec is not None
    for names in e.row.use_cases.values():
        try:
            name = e.codec.use_case_for(typed, names)
        except ServiceError:  # the body is another device type's
            continue
        uc = by_name(name)
        if uc.code == theirs.message_code:
            command = Command(
                request=typed,
                use_case=uc,
                counter=theirs.originator_counter,
                originator=theirs.business_originator,
                device=theirs.business_target,
                now=_dt.datetime(2015, 1, 1, tzinfo=_dt.UTC),
            )
            return Transform(e.codec.build(command), theirs, name)
    raise AssertionError(f"{template}: no use case of {srv} has code {theirs.message_code:#06x}")
