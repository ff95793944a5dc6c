"""What every use-case family of :mod:`gbcs.content` shares: the registry of typed command and
response decoders, the DLMS request / response helpers, :class:`DlmsCommand` and the generic
:class:`Outcome` response, and the exact-form check every decoder ends with."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import asn1, dlms, gbz
from gbcs.payloads._buf import axdr_length
from gbcs.payloads.dlms import (
    NULL,
    AccessKind,
    AccessRequest,
    AccessResponse,
    AccessResult,
    AccessSpec,
    CosemDateTime,
    Data,
    OctetString,
    Structure,
)
from gbcs.payloads.gbz import (
    CONTROL_LAST,
    Cluster,
    DefaultResponse,
    GbzComponent,
    GbzPayload,
    ZclFrame,
)

Encrypt = Callable[[bytes], bytes]
"""plaintext -> ``31 ‖ counter ‖ ciphertext ‖ tag`` (the device's side of the payload key)."""
Decrypt = Callable[[bytes], bytes]
"""``31``-framed blob -> plaintext; raises :class:`DecodeError` when the tag fails."""

# =========================================================================== DLMS helpers


def _request(counter: int, specs: Sequence[AccessSpec], data: Sequence[Data]) -> bytes:
    return AccessRequest(dlms.invoke_id_for(counter), tuple(specs), tuple(data)).to_bytes()


def _counter_of(invoke_id: int) -> int:
    if invoke_id & 0xFF00_0000 != 0x2000_0000:
        raise DecodeError(f"DLMS invoke id 0x{invoke_id:08x} is not of the GBCS form 0x20nnnnnn")
    return invoke_id & 0x00FF_FFFF


def _parse_request(content: bytes, specs: Sequence[AccessSpec]) -> tuple[int, tuple[Data, ...]]:
    """The counter and data of an Access-Request with exactly these specifications."""
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, AccessRequest):
        raise DecodeError("expected a DLMS Access-Request")
    if apdu.specs != tuple(specs):
        raise DecodeError("the Access-Request does not address the objects of this use case")
    if len(apdu.data) != len(specs):
        raise DecodeError(f"{len(apdu.data)} data values for {len(specs)} requests")
    return _counter_of(apdu.invoke_id), apdu.data


def _parse_response(content: bytes, kinds: Sequence[AccessKind]) -> AccessResponse:
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, AccessResponse):
        raise DecodeError("expected a DLMS Access-Response")
    if tuple(x.kind for x in apdu.results) != tuple(kinds):
        raise DecodeError("the Access-Response does not answer the requests of this use case")
    if len(apdu.data) != len(kinds):
        raise DecodeError(f"{len(apdu.data)} data values for {len(kinds)} results")
    _counter_of(apdu.invoke_id)
    return apdu


def _octets(value: Data, what: str) -> bytes:
    if not isinstance(value, OctetString) or value.type != dlms.DataType.OCTET_STRING:
        raise DecodeError(f"{what}: expected an octet-string")
    return value.value


def _int(value: Data, what: str, *types: dlms.DataType) -> int:
    if not isinstance(value, dlms.Integer) or (types and value.type not in types):
        raise DecodeError(f"{what}: expected {'/'.join(t.name for t in types) or 'an integer'}")
    return value.value


def _items(value: Data, what: str, n: int | None = None) -> tuple[Data, ...]:
    if not isinstance(value, Structure | dlms.Array):
        raise DecodeError(f"{what}: expected a structure or array")
    if n is not None and len(value.items) != n:
        raise DecodeError(f"{what}: expected {n} elements, found {len(value.items)}")
    return value.items


def _stamp(when: _dt.datetime) -> OctetString:
    return dlms.octet_string(CosemDateTime.from_datetime(when).to_bytes())


def _when(value: Data, what: str) -> _dt.datetime:
    raw = _octets(value, what)
    if len(raw) != 12:
        raise DecodeError(f"{what}: a COSEM date-time is 12 bytes")
    when = CosemDateTime.from_bytes(raw).to_datetime()
    if when is None:
        raise DecodeError(f"{what}: date-time not fully specified")
    return when


class _Encodable(Protocol):
    def encode(self) -> bytes: ...


def _check_exact(decoded: _Encodable, content: bytes) -> None:
    if decoded.encode() != content:
        raise DecodeError(
            f"{type(decoded).__name__}: content is not in the form GBCS devices send; kept raw"
        )


class DlmsCommand:
    """Base of the DLMS commands: ``specs()`` lists the objects addressed."""

    __slots__ = ()
    counter: int
    message_code: ClassVar[int]

    def specs(self) -> tuple[AccessSpec, ...]:
        raise NotImplementedError

    def kinds(self) -> tuple[AccessKind, ...]:
        """The response kinds answering :meth:`specs` (with-selection answered as plain)."""
        plain = {
            AccessKind.GET_WITH_SELECTION: AccessKind.GET,
            AccessKind.SET_WITH_SELECTION: AccessKind.SET,
        }
        return tuple(plain.get(s.kind, s.kind) for s in self.specs())


@dataclass(frozen=True, slots=True)
class Outcome:
    """The response to a DLMS command that returns no data: one result per request
    (0 = success; DLMS Data-Access-Result / Action-Result codes otherwise). The data list
    is ``null-data`` throughout, as in every reference response of this shape."""

    counter: int
    results: tuple[AccessResult, ...]

    @classmethod
    def for_command(cls, command: DlmsCommand, result: int | Sequence[int] = 0) -> Outcome:
        kinds = command.kinds()
        codes = [result] * len(kinds) if isinstance(result, int) else list(result)
        if len(codes) != len(kinds):
            raise EncodeError(f"{len(codes)} result codes for {len(kinds)} requests")
        return cls(
            command.counter, tuple(AccessResult(k, c) for k, c in zip(kinds, codes, strict=True))
        )

    @property
    def ok(self) -> bool:
        return all(x.ok for x in self.results)

    def encode(self) -> bytes:
        # The bytes AccessResponse(invoke id, (NULL,) * n, results).to_bytes() writes.
        results = self.results
        n = len(results)
        count = axdr_length(n)
        return b"".join(
            (
                b"\xda",
                dlms.invoke_id_for(self.counter).to_bytes(4, "big"),
                b"\x00\x00",  # no date-time, no specifications
                count,
                b"\x00" * n,
                count,
                *[x.to_bytes() for x in results],
            )
        )

    def _encode_tree(self) -> bytes:
        """The reference encoder (:meth:`encode` writes the same bytes directly)."""
        return AccessResponse(
            dlms.invoke_id_for(self.counter), (NULL,) * len(self.results), self.results
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> Outcome:
        fast = _outcome_fields(content)
        if fast is not None:
            return cls(*fast)
        return cls._decode_tree(content)

    @classmethod
    def _decode_tree(cls, content: bytes) -> Outcome:
        """The reference decoder (the fast path takes exactly what :meth:`encode` writes)."""
        apdu = dlms.decode_dlms(content)
        if not isinstance(apdu, AccessResponse) or apdu.specs is not None:
            raise DecodeError("expected a DLMS Access-Response")
        if any(d != NULL for d in apdu.data) or len(apdu.data) != len(apdu.results):
            raise DecodeError("an outcome carries null-data only")
        return cls(_counter_of(apdu.invoke_id), apdu.results)


_RESULT_BY_BYTES: dict[bytes, AccessResult] = {
    bytes((kind, code)): AccessResult(kind, code)
    for kind in (AccessKind.GET, AccessKind.SET, AccessKind.ACTION)
    for code in range(256)
}
"""Every Access-Response-Specification (immutable, so shared) by its two bytes."""


def _outcome_fields(content: bytes) -> tuple[int, tuple[AccessResult, ...]] | None:
    """(counter, results) when ``content`` is exactly what :meth:`Outcome.encode` writes
    for them (a short list), else None."""
    if content[:2] != b"\xda\x20" or content[5:7] != b"\x00\x00" or len(content) < 9:
        return None
    n = content[7]
    if n >= 0x80 or len(content) != 9 + 3 * n or content[8 + n] != n:
        return None
    if content[8 : 8 + n] != bytes(n):
        return None
    results = []
    for at in range(9 + n, len(content), 2):
        found = _RESULT_BY_BYTES.get(content[at : at + 2])
        if found is None:
            return None
        results.append(found)
    return int.from_bytes(content[2:5], "big"), tuple(results)


def _fixed_request_counter(content: bytes, body: bytes) -> int | None:
    """The counter of a DLMS request whose bytes after the invoke id never vary, when
    ``content`` is exactly that request, else None."""
    if len(content) != 5 + len(body) or content[:2] != b"\xd9\x20" or content[5:] != body:
        return None
    return int.from_bytes(content[2:5], "big")


@dataclass(frozen=True, slots=True)
class ZclFailure:
    """A GBZ error response: ZCL Default Response with a non-success status (e.g. 0xC0
    HARDWARE_FAILURE in the GCS32 reference error response)."""

    command_id: int
    status: int
    cluster_id: int = Cluster.METERING

    ok: ClassVar[bool] = False

    def encode(self) -> bytes:
        frame = ZclFrame(
            gbz.FC_SERVER_TO_CLIENT,
            0,
            gbz.DEFAULT_RESPONSE,
            DefaultResponse(self.command_id, self.status).to_bytes(),
        )
        return GbzPayload((GbzComponent(self.cluster_id, frame, CONTROL_LAST),)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ZclFailure:
        payload = GbzPayload.from_bytes(content)
        if len(payload.components) != 1 or not isinstance(payload.components[0].frame, ZclFrame):
            raise DecodeError("expected one plain GBZ component")
        frame = payload.components[0].frame
        if frame.cluster_specific or frame.command_id != gbz.DEFAULT_RESPONSE:
            raise DecodeError("expected a ZCL Default Response")
        d = DefaultResponse.from_bytes(frame.payload)
        found = cls(d.command_id, d.status, payload.components[0].cluster_id)
        _check_exact(found, content)
        return found


def _sequence(content: bytes, n: int | None = None) -> asn1.Der:
    node = asn1.decode_der(content)
    if node.tag != asn1.SEQUENCE or node.children is None:
        raise DecodeError("expected an ASN.1 SEQUENCE")
    if n is not None and len(node.children) != n:
        raise DecodeError(f"expected a SEQUENCE of {n}, found {len(node.children)}")
    return node


# =========================================================================== registry

Decoder = Callable[[bytes], object]
"""content bytes -> typed content (a ``decode`` classmethod); DecodeError when not that shape."""

COMMAND_DECODERS: dict[int, Decoder] = {}
"""Message code -> the decoder of its command content; filled by :func:`register`."""
RESPONSE_DECODERS: dict[int, tuple[Decoder, ...]] = {}
"""Message code -> the decoders of its response shapes, tried in order."""


def register(message_code: int, command: Decoder, *responses: Decoder) -> None:
    """Make ``message_code`` known to :func:`gbcs.content.decode_command` (``command``) and
    :func:`gbcs.content.decode_response` (``responses``: success and failure shapes, tried in
    order). Each family module calls this for its use cases when it is imported."""
    if message_code in COMMAND_DECODERS:
        raise ValueError(f"message code 0x{message_code:04X} is registered twice")
    if not responses:
        raise ValueError(f"message code 0x{message_code:04X} needs at least one response decoder")
    COMMAND_DECODERS[message_code] = command
    RESPONSE_DECODERS[message_code] = responses


def first_decoded(decoders: Sequence[Decoder], content: bytes, what: str) -> object:
    """What the first of ``decoders`` that takes ``content`` in its exact form makes of it."""
    errors = []
    for decoder in decoders:
        try:
            found = decoder(content)
            _check_exact(found, content)  # type: ignore[arg-type]
        except (DecodeError, EncodeError, ValueError) as exc:
            errors.append(str(exc))
            continue
        return found
    raise DecodeError(f"{what}: " + "; ".join(errors))


__all__ = ["Decrypt", "DlmsCommand", "Encrypt", "Outcome", "ZclFailure"]
