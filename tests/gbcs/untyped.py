"""The conformance messages whose use case has no typed content codec yet.

For these the project claims only what the generic layer gives: the content decodes to the
DLMS / GBZ / ASN.1 tree (not raw) and re-encodes byte for byte. Each entry is checked to be
really untyped (the typed decoder refuses it), so the set shrinks as codecs are added.
"""

from __future__ import annotations

from gbcs import content as c
from gbcs.codes import CRA
from gbcs.frames import Message
from gbcs.payloads.gbz import GbzAlert
from gbcs.usecases import use_case

UNTYPED: frozenset[tuple[str, CRA]] = frozenset(
    # Every message of the sample is typed: the set stays as the check of any that is not.
)


def untyped_key(message: Message) -> tuple[str, CRA]:
    uc = use_case(message.message_code)
    assert uc is not None, f"unknown message code 0x{message.message_code:04X}"
    return uc.name, CRA(message.cra)


def decode_typed(message: Message) -> c.Content:
    """The typed content of ``message`` by its direction; DecodeError if there is none."""
    if message.cra == CRA.COMMAND:
        return c.decode_command(message.message_code, message.content)
    if message.cra == CRA.RESPONSE:
        return c.decode_response(message.message_code, message.content)
    return c.decode_alert(message.message_code, message.content)


def typed_bytes(typed: c.Content) -> bytes:
    """The bytes a typed content encodes to (a GBZ alert is its own payload: ``to_bytes``)."""
    if isinstance(typed, GbzAlert):
        return typed.to_bytes()
    return typed.encode()
