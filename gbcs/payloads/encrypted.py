"""Where a decoded payload carries encrypted content, found by its structure.

GBCS encrypts parts of responses and alerts (payload encryption, X = 04) in two layouts:

- DLMS (ESME, CHF): an A-XDR ``octet-string`` whose value is the ``31``-framed block
  ``31 ‖ 00000000 ‖ ciphertext ‖ tag (12)``, anywhere in the data of an Access-Response or a
  Data-Notification; its length is A-XDR (one byte, or ``81 nn`` / ``82 nnnn``), which the
  decoded tree has already read;
- GBZ (GSME, GPF): a component whose control byte has bit 0x02, whose ZCL payload is the
  ``31``-framed block (:class:`~gbcs.payloads.gbz.EncryptedZcl`).

:func:`find_encrypted` walks a payload from :func:`gbcs.payloads.decode_content` and returns
every such block with a path naming it; :func:`plaintext_tree` decodes a decrypted block as
what that layout carries (A-XDR data, compact arrays included, or the ZCL frame's payload).
No cryptography here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gbcs.errors import DecodeError

if TYPE_CHECKING:
    from gbcs.payloads import dlms
    from gbcs.payloads.dlms import Data
    from gbcs.payloads.gbz import EncryptedZcl

__all__ = ["FRAME_HEADER", "EncryptedBlock", "find_encrypted", "plaintext_tree"]

FRAME_HEADER = b"\x31\x00\x00\x00\x00"
"""Security header of an encrypted block: 31 (security control) and a zero invocation counter."""
_MIN_FRAMED = len(FRAME_HEADER) + 12  # the header and a tag, with an empty ciphertext


@dataclass(frozen=True, slots=True)
class EncryptedBlock:
    """One encrypted block of a payload: where it sits, its layout and its framed bytes."""

    where: str
    """A path in the decoded payload, e.g. ``data[0].items[1]`` or ``components[0]``."""
    layout: Literal["dlms", "gbz"]
    framed: bytes
    zcl: EncryptedZcl | None = None
    """The GBZ component's ZCL header (GBZ only): the plaintext is this frame's payload."""
    cluster_id: int | None = None


def _framed(value: bytes) -> bool:
    return len(value) >= _MIN_FRAMED and value.startswith(FRAME_HEADER)


def _walk(data: Data, where: str) -> Iterator[EncryptedBlock]:
    # Reached only through find_encrypted, which binds ``dlms`` (a DLMS payload exists).
    if isinstance(data, dlms.OctetString):
        if _framed(data.value):
            yield EncryptedBlock(where, "dlms", data.value)
    elif isinstance(data, dlms.Array | dlms.Structure):
        for i, item in enumerate(data.items):
            yield from _walk(item, f"{where}.items[{i}]")


def find_encrypted(payload: object) -> list[EncryptedBlock]:
    """Every encrypted block of a decoded response or alert payload, in order.

    Commands carry none (their content is protected by the MAC alone); content that did not
    decode (:class:`~gbcs.payloads.Raw`) has no structure to search, and gives none."""
    found: list[EncryptedBlock] = []
    # Only the codec of the payload's own kind is imported (a payload of a kind whose codec
    # was never loaded cannot be one of its classes).
    kind = str(getattr(payload, "kind", ""))
    if kind.startswith("dlms"):
        # The module is bound here, for _walk too: an import statement in that recursion
        # would cost more than the walk.
        from gbcs.payloads import dlms as loaded

        global dlms
        dlms = loaded
        if isinstance(payload, dlms.AccessResponse):
            for i, data in enumerate(payload.data):
                found.extend(_walk(data, f"data[{i}]"))
        elif isinstance(payload, dlms.DataNotification):
            found.extend(_walk(payload.body, "body"))
    elif kind.startswith("gbz"):
        from gbcs.payloads.gbz import EncryptedZcl, GbzAlert, GbzPayload

        if isinstance(payload, GbzPayload | GbzAlert):
            for i, component in enumerate(payload.components):
                frame = component.frame
                if isinstance(frame, EncryptedZcl):
                    found.append(
                        EncryptedBlock(
                            f"components[{i}]", "gbz", frame.ciphered, frame, component.cluster_id
                        )
                    )
    return found


def plaintext_tree(block: EncryptedBlock, plaintext: bytes) -> Any:
    """The decrypted content decoded as its layout carries it: A-XDR data for DLMS, compact
    arrays included (``None`` when it is not exactly one A-XDR value), the ZCL frame for GBZ."""
    if block.layout == "gbz":
        assert block.zcl is not None
        frame = block.zcl.with_plaintext(plaintext)
        return {"zcl": frame.as_tree(block.cluster_id)}
    from gbcs.payloads.compact import decode_tree

    try:
        return decode_tree(plaintext)
    except DecodeError:
        return None
