"""A decoded GBCS message explained: for people (a text tree) and for programs (a JSON-able dict).

:func:`explain` never raises for bad bytes: the sentence of the :class:`DecodeError` is kept in
:attr:`Explanation.error`. With a key lookup, MAC and signature are checked, and every encrypted
block the payload's structure carries (:mod:`gbcs.payloads.encrypted`: DLMS octet-strings of any
length, GBZ encrypted components) is decrypted with the key agreement GBCS gives for the message;
a block that cannot be decrypted is listed with the reason, never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gbcs.codes import ACB, CRA
from gbcs.crypto import SharedSecretCache
from gbcs.errors import DecodeError, GbcsError, KeyNotFound
from gbcs.eui import eui_duis
from gbcs.frames import Message, is_gbt_block, reassemble_gbt
from gbcs.payloads import Raw, decode_content
from gbcs.usecases import use_case
from gbcs.verify import Check, KeyAgreement, Verification, Verifier

if TYPE_CHECKING:  # the keystore (and x509) is the caller's to import: decode without keys
    from gbcs.keystore import KeyLookup
    from gbcs.payloads.encrypted import EncryptedBlock

__all__ = ["Decrypted", "Explanation", "explain", "explain_blocks", "iso_date_time"]

NO_KEYS = "no keystore given: pass --keystore DIR holding the recipient's KA private key"


@dataclass(frozen=True, slots=True)
class Decrypted:
    """An encrypted block of the content: where, and its plaintext (or why not)."""

    offset: int
    """Where the framed block starts in the content."""
    framed: bytes
    plaintext: bytes | None
    error: str | None = None
    """Why the block was not decrypted (``None`` when it was)."""
    tree: Any = None
    """The plaintext decoded as the layout carries it: A-XDR data (DLMS), the ZCL frame (GBZ)."""
    where: str = ""
    """The block's path in the decoded payload, e.g. ``data[0].items[1]``, ``components[0]``."""
    layout: str = "dlms"


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything ``smetsim decode`` shows of one input."""

    data: bytes
    message: Message | None = None
    error: str | None = None
    verification: Verification | None = None
    use_case: str | None = None
    use_case_title: str | None = None
    reencodes: bool = False
    payload: Any = None
    """The payload's ``as_tree()`` (JSON-able), or None when the payload codec is absent."""
    payload_kind: str | None = None
    decrypted: tuple[Decrypted, ...] = ()
    gbt_blocks: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    values: tuple[str, ...] = ()
    """A read's answer as labelled values with units and times (:mod:`gbcs.payloads.read_values`),
    once decrypted; an alert's code and details (:func:`gbcs.content.alerts.alert_values`);
    empty for other messages."""

    # ---- for programs --------------------------------------------------------------------

    def as_json(self, input_label: str) -> dict[str, Any]:
        """One JSON object: the fields of ``smetsim decode --json``."""
        m = self.message
        v = self.verification
        return {
            "input": input_label,
            "error": self.error,
            "message_code": None if m is None else m.message_code,
            "use_case": self.use_case,
            "cra": None if m is None else m.cra.name.lower(),
            "originator_counter": None if m is None else m.originator_counter,
            "business_originator": None if m is None else m.business_originator.hex(),
            "business_target": None if m is None else m.business_target.hex(),
            "mac": None if v is None else v.mac.value,
            "signature": None if v is None else v.signature.value,
            "reencodes": self.reencodes,
            "shape": None if m is None else _shape(m),
            "date_time": None if m is None or m.date_time is None else m.date_time.hex(),
            "extensions": None if m is None else m.extensions.hex(),
            "content": None if m is None else m.content.hex(),
            "payload_kind": self.payload_kind,
            "payload": self.payload,
            "decrypted": [
                {
                    "where": d.where,
                    "layout": d.layout,
                    "offset": d.offset,
                    "decrypted": d.plaintext is not None,
                    "reason": d.error,
                    "plaintext": None if d.plaintext is None else d.plaintext.hex(),
                    "data": d.tree,
                }
                for d in self.decrypted
            ],
            "gbt_blocks": self.gbt_blocks,
            "values": list(self.values),
            "length": len(self.data),
        }

    # ---- for people ----------------------------------------------------------------------

    def render(self, input_label: str) -> str:
        """A readable tree."""
        lines = [input_label]
        m = self.message
        if m is None:
            lines.append(f"└─ error: {self.error}")
            return "\n".join(lines)
        v = self.verification
        name = self.use_case or f"0x{m.message_code:04X}"
        title = f" {self.use_case_title}" if self.use_case_title else ""
        rows: list[tuple[str, Any]] = [
            ("use case", f"{name} (0x{m.message_code:04X}){title}"),
            (
                "shape",
                _shape_text(m)
                + (f", from {self.gbt_blocks} GBT blocks" if self.gbt_blocks else ""),
            ),
            ("CRA", f"{m.cra.name.lower()}, originator counter {m.originator_counter}"),
            ("business originator", eui_duis(m.business_originator)),
            ("business target", eui_duis(m.business_target)),
            ("date-time", "none" if m.date_time is None else _cosem_date_time(m.date_time)),
        ]
        if m.extensions:
            rows.append(("other-information extensions", _extensions(m.extensions)))
        if v is not None:
            rows.append(("MAC", v.mac.value))
            rows.append(("signature", v.signature.value))
        rows.append(("re-encodes byte for byte", "yes" if self.reencodes else "NO"))
        payload_label = f"content ({len(m.content)} bytes"
        payload_label += f", {self.payload_kind})" if self.payload_kind else ")"
        rows.append((payload_label, self.payload if self.payload is not None else m.content.hex()))
        for d in self.decrypted:
            label = f"encrypted block {d.where} ({d.layout}, content byte {d.offset})"
            if d.plaintext is None:
                rows.append((label, f"not decrypted: {d.error}"))
            elif d.tree is not None:
                rows.append((label, {"plaintext": d.plaintext.hex(), "data": d.tree}))
            else:
                rows.append((label, {"plaintext": d.plaintext.hex()}))
        if self.values:
            rows.append(("values", list(self.values)))
        for note in self.notes:
            rows.append(("note", note))
        for index, (key, value) in enumerate(rows):
            last = index == len(rows) - 1
            lines.extend(_tree_lines(key, value, last))
        return "\n".join(lines)


def _shape(message: Message) -> str:
    if message.mac is not None:
        return "general-ciphering"
    if message.signature_omitted:
        return "general-signing-without-signature"
    return "general-signing"


def _shape_text(message: Message) -> str:
    if message.mac is not None:
        return "General-Ciphering (MAC'd) around General-Signing"
    if message.signature_omitted:
        return "General-Signing without signature field (pre-command)"
    return "General-Signing (signed only)"


def _cosem_date_time(raw: bytes) -> str:
    year = int.from_bytes(raw[0:2], "big")
    month, day, _dow, hour, minute, second, hundredths = raw[2:9]

    def part(value: int, width: int, unspecified: int) -> str:
        return "*" * width if value == unspecified else f"{value:0{width}d}"

    text = (
        f"{part(year, 4, 0xFFFF)}-{part(month, 2, 0xFF)}-{part(day, 2, 0xFF)} "
        f"{part(hour, 2, 0xFF)}:{part(minute, 2, 0xFF)}:{part(second, 2, 0xFF)}"
    )
    if hundredths != 0xFF:
        text += f".{hundredths:02d}"
    return f"{text} (COSEM {raw.hex()})"


def iso_date_time(value: object) -> str | None:
    """A 12-byte COSEM date-time (hex) as an ISO 8601 date, or None when ``value`` is not
    one with every field given (a wildcard field has no ISO form)."""
    if not isinstance(value, str) or len(value) != 24:
        return None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        return None
    year = int.from_bytes(raw[0:2], "big")
    month, day, _dow, hour, minute, second, hundredths = raw[2:9]
    deviation = int.from_bytes(raw[9:11], "big", signed=True)
    if not (1970 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= 31 and hour < 24):
        return None
    if minute > 59 or second > 59 or hundredths not in (*range(100), 0xFF):
        return None
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if deviation == -0x8000 or deviation == 0:  # not specified, or UTC
        return text + "Z"
    # COSEM's deviation is local time minus UTC in minutes, negated (UTC = local + deviation).
    offset = -deviation
    sign = "+" if offset >= 0 else "-"
    return f"{text}{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def _extensions(ext: bytes) -> dict[str, str]:
    """The other-information extensions, by the layout docs/gbcs.md describes (*unsure*)."""
    out: dict[str, str] = {"raw": ext.hex()}
    if len(ext) >= 8:
        out["supplementary remote party"] = eui_duis(ext[:8])
    if len(ext) >= 16:
        out["supplementary remote party counter"] = str(int.from_bytes(ext[8:16], "big"))
    if len(ext) == 24:
        out["supplementary originator counter"] = str(int.from_bytes(ext[16:24], "big"))
    elif len(ext) > 24:
        out["key agreement certificate"] = ext[16:].hex()
    return out


def _tree_lines(key: str, value: Any, last: bool, prefix: str = "") -> Iterator[str]:
    branch = "└─ " if last else "├─ "
    child_prefix = prefix + ("   " if last else "│  ")
    if isinstance(value, dict) and "type" in value:
        # A typed data node ({"type": t, "value"/"hex": v} or {"type": t, "items": [...]})
        # reads better on one line, or as its type with its items below.
        keys = set(value)
        if keys in ({"type", "value"}, {"type", "hex"}):
            scalar = value.get("value", value.get("hex"))
            text = f"{prefix}{branch}{key}: {value['type']} {_scalar(scalar)}".rstrip()
            when = iso_date_time(scalar) if value["type"] == "octet-string" else None
            yield text if when is None else f"{text} ({when})"
            return
        if keys == {"type", "items"} and isinstance(value["items"], list):
            yield from _tree_lines(f"{key} ({value['type']})", value["items"], last, prefix)
            return
    if isinstance(value, dict):
        yield f"{prefix}{branch}{key}"
        items = list(value.items())
        for i, (k, v) in enumerate(items):
            yield from _tree_lines(str(k), v, i == len(items) - 1, child_prefix)
    elif isinstance(value, list):
        yield f"{prefix}{branch}{key}" + ("" if value else ": []")
        for i, v in enumerate(value):
            yield from _tree_lines(f"[{i}]", v, i == len(value) - 1, child_prefix)
    else:
        yield f"{prefix}{branch}{key}: {_scalar(value)}"


def _scalar(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# ---- use case and payload ---------------------------------------------------------------


def _use_case(code: int) -> tuple[str | None, str | None, bool]:
    uc = use_case(code)
    if uc is None:
        return None, None, False
    return uc.name or None, uc.title, uc.encrypted_response


def _payload(code: int, cra: CRA, content: bytes) -> tuple[object, Any, str | None, list[str]]:
    """(payload, its tree, its kind, notes); the payload is None when decoding it failed."""
    try:
        payload = decode_content(code, cra, content)
        return payload, payload.as_tree(), str(payload.kind), []
    except Exception as exc:  # a codec bug must not stop a decode: the content shows as hex
        return None, None, None, [f"payload decoder failed: {type(exc).__name__}: {exc}"]


# ---- encrypted blocks --------------------------------------------------------------------


def _decrypt_block(
    message: Message, block: EncryptedBlock, agreement: KeyAgreement | None
) -> Decrypted:
    offset = message.content.find(block.framed)
    if agreement is None:
        return Decrypted(
            offset, block.framed, None, NO_KEYS, where=block.where, layout=block.layout
        )
    try:
        plaintext = agreement.decrypt(message, block.framed)
    except KeyNotFound as exc:
        device = eui_duis(message.business_originator)
        target = eui_duis(agreement.payload_target(message))
        reason = f"{exc}: neither {target} (the recipient) nor {device} has a KA private key here"
        return Decrypted(offset, block.framed, None, reason, where=block.where, layout=block.layout)
    except DecodeError:
        reason = (
            "the tag does not verify with the key agreed between "
            f"{eui_duis(message.business_originator)} and "
            f"{eui_duis(agreement.payload_target(message))} "
            f"(counter {agreement.payload_counter(message)}): wrong key, or the block was altered"
        )
        return Decrypted(offset, block.framed, None, reason, where=block.where, layout=block.layout)
    from gbcs.payloads.encrypted import plaintext_tree

    try:
        tree = plaintext_tree(block, plaintext)
    except Exception:  # a codec bug must not stop a decode: the plaintext still shows as hex
        tree = None
    return Decrypted(
        offset, block.framed, plaintext, tree=tree, where=block.where, layout=block.layout
    )


def _decrypt_all(
    message: Message, payload: object, agreement: KeyAgreement | None
) -> tuple[Decrypted, ...]:
    if message.cra is CRA.COMMAND:
        return ()
    # Imported here: a command (a one-message decode, often) carries no encrypted block.
    from gbcs.payloads.encrypted import find_encrypted

    return tuple(_decrypt_block(message, b, agreement) for b in find_encrypted(payload))


# ---- entry points ----------------------------------------------------------------------


def explain(
    data: bytes,
    keys: KeyLookup | None = None,
    *,
    acb: bytes = ACB,
    cache: SharedSecretCache | None = None,
    gbt_blocks: int = 0,
    verifier: Verifier | None = None,
) -> Explanation:
    """Decode, check and explain one message (never raises for bad input). ``verifier``
    (one a process, over ``keys``) keeps the keys agreed for one message for the next:
    without it each call makes its own."""
    try:
        message = Message.from_bytes(data)
    except DecodeError as exc:
        return Explanation(data=data, error=str(exc))
    agreement: KeyAgreement | None = None
    if verifier is None and keys is not None:
        verifier = Verifier(keys, acb=acb, cache=cache)
    if verifier is not None:
        verification = verifier.verify(message)
        agreement = verifier.agreement
    else:
        verification = Verification(
            mac=Check.ABSENT if message.mac is None else Check.UNKNOWN,
            signature=Check.ABSENT if message.signature is None else Check.UNKNOWN,
        )
    name, title, encrypted_response = _use_case(message.message_code)
    payload, tree, kind, notes = _payload(message.message_code, message.cra, message.content)
    decrypted = _decrypt_all(message, payload, agreement)
    if isinstance(payload, Raw) and encrypted_response and message.cra is not CRA.COMMAND:
        notes.append(
            "the use case carries encrypted content, but the content did not decode "
            f"({payload.reason}): no encrypted block could be located"
        )
    try:
        reencodes = message.to_bytes() == data
    except GbcsError:
        reencodes = False
    values: list[str] = []
    if message.cra is CRA.RESPONSE:
        plaintexts = [d.plaintext for d in decrypted if d.plaintext is not None]
        # Imported here: the typed codecs are needed only for a read's answer.
        from gbcs.payloads.read_values import labelled

        values = labelled(message.message_code, message.content, plaintexts)
    elif message.cra is CRA.ALERT:
        from gbcs.content.alerts import alert_values

        values = alert_values(message.message_code, message.content)
    return Explanation(
        data=data,
        message=message,
        verification=verification,
        use_case=name or f"0x{message.message_code:04X}",
        use_case_title=title,
        reencodes=reencodes,
        payload=tree,
        payload_kind=kind,
        decrypted=decrypted,
        gbt_blocks=gbt_blocks,
        notes=tuple(notes),
        values=tuple(values),
    )


def explain_blocks(
    blocks: list[bytes],
    keys: KeyLookup | None = None,
    *,
    acb: bytes = ACB,
    cache: SharedSecretCache | None = None,
    verifier: Verifier | None = None,
) -> Explanation:
    """Reassemble GBT blocks, then explain the whole message."""
    if not all(is_gbt_block(b) for b in blocks):
        return Explanation(data=b"".join(blocks), error="not every part is a GBT block")
    try:
        whole = reassemble_gbt(blocks)
    except DecodeError as exc:
        return Explanation(data=b"".join(blocks), error=str(exc))
    return explain(whole, keys, acb=acb, cache=cache, gbt_blocks=len(blocks), verifier=verifier)
