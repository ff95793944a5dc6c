"""SRs 1.5, 1.7, 2.3, 2.5, 3.1 - 3.5 and 6.26 through a whole sandbox: each DCC template,
sent as it is (its own RequestID counter), comes back as the DCC's reference command or
pre-command - message code, CRA, counter, parties and content. The ZCL Issuer Event ID is
the sandbox's clock when it built the command (the reference's was the DCC's: 2015-01-01);
the rest of the content is byte for byte the reference's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gbcs import content as gc
from gbcs.frames import Message
from smetsim.client import DuisClient
from smetsim.sandbox import Sandbox
from tests.e2e.support import template
from tests.gateway.srv.test_account import SERVED


def _reference(conformance: Path, stem: str) -> Message:
    (path,) = conformance.glob(f"gbcs/*/{stem}_GBCS.HEX")
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))


@pytest.mark.parametrize("stem", SERVED)
async def test_template_through_the_sandbox_is_the_reference(
    client: DuisClient, sandbox: Sandbox, conformance: Path, stem: str
) -> None:
    xml = template(conformance, f"{stem}_SUCCESS_REQUEST_DUIS.XML")
    pre = b"<sr:CommandVariant>4</sr:CommandVariant>" in xml
    theirs = _reference(conformance, f"{stem}_SUCCESS_{'PRECOMMAND' if pre else 'COMMAND'}")
    if not pre:  # CV2: the command comes back for local delivery
        xml = xml.replace(
            b"<sr:CommandVariant>1</sr:CommandVariant>", b"<sr:CommandVariant>2</sr:CommandVariant>"
        )
    before = datetime.now(UTC).replace(microsecond=0)
    answer = await client.post(xml)
    after = datetime.now(UTC)
    assert answer.code == "I0", (answer.code, answer.reason)
    assert answer.payload is not None
    ours = Message.from_bytes(answer.payload)
    assert ours.signature_omitted == pre
    assert (ours.message_code, ours.cra, ours.originator_counter) == (
        theirs.message_code,
        theirs.cra,
        theirs.originator_counter,
    )
    assert (ours.business_originator, ours.business_target) == (
        theirs.business_originator,
        theirs.business_target,
    )
    mine: Any = gc.decode_command(ours.message_code, ours.content)
    reference: Any = gc.decode_command(theirs.message_code, theirs.content)
    if isinstance(mine, gc.GasTariff):  # the issuer event id is its prices'
        issued = mine.price.issued
        mine = dataclasses.replace(
            mine, price=dataclasses.replace(mine.price, issued=reference.price.issued)
        )
    else:
        issued = getattr(mine, "issued", None)
        if issued is not None:
            mine = dataclasses.replace(mine, issued=reference.issued)
    if issued is not None:
        assert gc.issuer_id(before) <= issued <= gc.issuer_id(after)
    assert mine.encode() == theirs.content
