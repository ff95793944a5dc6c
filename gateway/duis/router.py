"""The DUIS front door without HTTP: bytes in, a signed DUIS response out.

:class:`FrontDoor` runs every request through the same steps - safe parse, schema (when one is
loaded), envelope, command variant against the service reference variant, endpoint against the
command variant, signature - and then the handler registered for the request's
:class:`~gateway.duis.catalogue.ServiceReferenceVariant` in its :class:`Router` (routing by
typed keys, per instance). A :class:`~gateway.errors.ServiceError` from any
step becomes a DUIS error response with its code and sentence; any other exception from a
handler is isolated, logged, and becomes an ``E1000`` response. No step before the handler
changes state, so a refused request changes nothing.

Device SRs plug in by registering a handler: ``front_door.router.register(
ServiceReferenceVariant.SR_4_1_1, handler)``; the handler returns ``Reply("I99")`` after
queueing the command, and the asynchronous answer is built with
:func:`gateway.duis.build.build_response` and signed with :attr:`FrontDoor.signer`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from gateway.duis.build import (
    FALLBACK_SERVICE_REFERENCE,
    build_response,
    plain_response_bytes,
    serialise,
)
from gateway.duis.catalogue import (
    ENDPOINT_OF,
    SERVICE_REFERENCES,
    CommandVariant,
    Endpoint,
    ServiceReferenceVariant,
)
from gateway.duis.envelope import (
    DuisRequest,
    check_root,
    format_request_id,
    parse_request,
    parse_request_id,
    peek_header,
)
from gateway.duis.schema import DuisSchema
from gateway.duis.signature import RegisteredCertificate, RequestAuthenticator, XmlSigner
from gateway.duis.xml import DEFAULT_MAX_BODY_BYTES, parse_document
from gateway.errors import ServiceError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What a handler is given: the parsed request, who sent it, where and when."""

    request: DuisRequest
    sender: bytes
    endpoint: Endpoint
    received_at: datetime
    certificate: RegisteredCertificate | None = None
    """The registered certificate that verified the request's signature (None: unsigned)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer: the response code and the ResponseMessage's content element."""

    code: str = "I0"
    content: etree._Element | None = None


Handler = Callable[[RequestContext], Awaitable[Reply]]


_VARIANT_VALUES: Final = frozenset(v.value for v in ServiceReferenceVariant)


class Router:
    """Handlers by service reference variant."""

    def __init__(self) -> None:
        self._handlers: dict[ServiceReferenceVariant, Handler] = {}

    def register(self, variant: ServiceReferenceVariant, handler: Handler) -> None:
        """Route ``variant`` to ``handler``; registering a variant twice is a programming error."""
        if variant in self._handlers:
            raise ValueError(f"a handler is already registered for SR {variant.value}")
        self._handlers[variant] = handler

    def on(self, variant: ServiceReferenceVariant) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`register`."""

        def decorate(handler: Handler) -> Handler:
            self.register(variant, handler)
            return handler

        return decorate

    def handler_for(self, variant: ServiceReferenceVariant) -> Handler | None:
        return self._handlers.get(variant)

    def variants(self) -> frozenset[ServiceReferenceVariant]:
        return frozenset(self._handlers)


# HTTP status of a refused request, by rule; every other rule answers 200 (a DUIS-level answer).
HTTP_STATUS: Final[dict[str, int]] = {
    "duis_body_too_large": 413,
    "duis_not_well_formed": 400,
    "duis_doctype": 400,
    "duis_wrong_namespace": 400,
    "duis_schema_version": 400,
    "duis_schema_invalid": 400,
    "duis_invalid_element": 400,
    "duis_unknown_sr": 400,
    "duis_unsigned": 403,
    "duis_unknown_certificate": 403,
    "duis_certificate_not_originator": 403,
    "duis_bad_signature": 403,
    "duis_internal_error": 500,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the HTTP layer sends back: status, signed DUIS body, and the code and sentence."""

    status: int
    body: bytes
    code: str
    reason: str | None = None
    rule: str | None = None
    sender: bytes | None = None
    request: DuisRequest | None = field(default=None, repr=False)


class FrontDoor:
    """The pipeline every DUIS request goes through (see the module docstring)."""

    def __init__(
        self,
        *,
        authenticator: RequestAuthenticator,
        signer: XmlSigner | None,
        schema: DuisSchema | None = None,
        router: Router | None = None,
        clock: Callable[[], datetime] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.authenticator = authenticator
        self.signer = signer
        self.schema = schema
        self.router = router if router is not None else Router()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.max_body_bytes = max_body_bytes
        self.refresh_certificates: Callable[[], Awaitable[bool]] | None = None
        """Rereads the registered certificates when the users changed (True if they did)."""

    async def handle(self, endpoint: Endpoint, body: bytes) -> Outcome:
        """Process one request POSTed to ``endpoint``; never raises for anything the user sent."""
        received_at = self.clock()
        root: etree._Element | None = None
        request: DuisRequest | None = None
        sender: bytes | None = None
        try:
            root = parse_document(body, max_bytes=self.max_body_bytes)
            if self.schema is not None:
                check_root(root)
                self.schema.validate(root)
            request = parse_request(root)
            header = request.header
            variant = header.service_reference_variant
            if header.command_variant not in variant.command_variants:
                allowed = ", ".join(str(int(cv)) for cv in sorted(variant.command_variants))
                raise ServiceError(
                    "duis_cv_not_allowed",
                    cv=int(header.command_variant),
                    srv=variant.value,
                    allowed=allowed,
                )
            expected = ENDPOINT_OF[header.command_variant]
            if expected is not endpoint:
                raise ServiceError(
                    "duis_wrong_endpoint",
                    cv=int(header.command_variant),
                    expected=expected.path,
                    endpoint=endpoint.path,
                )
            try:
                sender, certificate = self.authenticator.identify(request)
            except ServiceError as error:
                # Another worker process may have registered the certificate: reread the
                # users (only when they changed, maybe for a request just before this one)
                # and try once more.
                refresh = self.refresh_certificates
                if error.rule != "duis_unknown_certificate" or refresh is None:
                    raise
                await refresh()
                sender, certificate = self.authenticator.identify(request)
            handler = self.router.handler_for(variant)
            if handler is None:
                if _is_device_request(request):
                    raise ServiceError("duis_device_sr_unavailable", srv=variant.value)
                raise ServiceError("duis_sr_not_supported", srv=variant.value)
            reply = await handler(
                RequestContext(request, sender, endpoint, received_at, certificate)
            )
        except ServiceError as error:
            return self._refusal(error, root, request, sender)
        except Exception as exc:  # a failing handler is isolated
            logger.exception("internal error while processing a DUIS request")
            failure = ServiceError(
                "duis_internal_error",
                srv=request.header.service_reference_variant.value if request else "(unknown)",
                error=type(exc).__name__,
            )
            return self._refusal(failure, root, request, sender)
        header = request.header
        if self.signer is not None and self.signer.engine == "fast":
            # Written and signed from templates: the bytes of the tree path (tests prove it).
            plain = plain_response_bytes(
                code=reply.code,
                service_reference=header.service_reference,
                service_reference_variant=header.service_reference_variant.value,
                date_time=self.clock(),
                request_id=format_request_id(header.request_id),
                schema_version=_response_version(request.schema_version),
                content=reply.content,
            )
            signed = None if plain is None else self.signer.sign_plain(*plain)
            if signed is not None:
                return Outcome(
                    status=200, body=signed, code=reply.code, sender=sender, request=request
                )
        response = build_response(
            code=reply.code,
            service_reference=header.service_reference,
            service_reference_variant=header.service_reference_variant.value,
            date_time=self.clock(),
            request_id=format_request_id(header.request_id),
            content=reply.content,
            schema_version=_response_version(request.schema_version),
        )
        return Outcome(
            status=200,
            body=self.finish(response),
            code=reply.code,
            sender=sender,
            request=request,
        )

    def finish(self, response: etree._Element) -> bytes:
        """Sign (when a signer is configured) and serialise a response."""
        if self.signer is not None:
            return self.signer.sign_to_bytes(response, consume=True)
        return serialise(response)

    def refuse(self, error: ServiceError) -> Outcome:
        """The signed error response to a request refused before it was read (e.g. too large)."""
        return self._refusal(error, None, None, None)

    def _refusal(
        self,
        error: ServiceError,
        root: etree._Element | None,
        request: DuisRequest | None,
        sender: bytes | None,
    ) -> Outcome:
        request_id: str | None = None
        reference, variant = FALLBACK_SERVICE_REFERENCE
        version = "5.4"
        if request is not None:
            request_id = format_request_id(request.header.request_id)
            reference = request.header.service_reference
            variant = request.header.service_reference_variant.value
            version = _response_version(request.schema_version)
        elif root is not None:
            raw_id, raw_reference, raw_variant = peek_header(root)
            request_id = _valid_request_id(raw_id)
            if raw_variant is not None and raw_variant in _VARIANT_VALUES:
                known = ServiceReferenceVariant(raw_variant)
                if raw_reference in SERVICE_REFERENCES and raw_reference == known.service_reference:
                    reference, variant = raw_reference, raw_variant
                else:
                    reference, variant = known.service_reference, raw_variant
            version = _response_version(root.get("schemaVersion") or "5.4")
        response = build_response(
            code=error.code,
            service_reference=reference,
            service_reference_variant=variant,
            date_time=self.clock(),
            request_id=request_id,
            reason=error.sentence,
            schema_version=version,
        )
        logger.info("refused a request: %s %s", error.code, error.sentence)
        return Outcome(
            status=HTTP_STATUS.get(error.rule, 200),
            body=self.finish(response),
            code=error.code,
            reason=error.sentence,
            rule=error.rule,
            sender=sender,
            request=request,
        )


def _is_device_request(request: DuisRequest) -> bool:
    return request.header.command_variant is not CommandVariant.NON_DEVICE


def _valid_request_id(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return format_request_id(parse_request_id(text))
    except ValueError:
        return None


def _response_version(requested: str) -> str:
    """Answer in the request's 5.x version when it is one, else 5.4."""
    text = requested.strip()
    if text.startswith("5.") and text[2:].isdigit():
        return text
    return "5.4"
