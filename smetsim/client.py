"""A DCC User's side of DUIS: sign a request, POST it to the right endpoint, run the critical
SR dance (CV4, sign the pre-command, CV5), and wait for the asynchronous answer.

Used by ``smetsim send``, the pytest plugin and the end-to-end benchmark::

    async with DuisClient("http://127.0.0.1:8079", keys=keystore) as client:
        outcome = await client.send(template_bytes, fresh=True, wait=True)
        print(outcome.final.code, outcome.final.payload.hex())

Keys: a :class:`gbcs.keystore.Keystore` holding the user's DS private key and certificate
(``smetsim pki export`` writes the sandbox's), needed to sign XML (``sign_xml=True``) and to
sign the GBCS of a critical SR; with the devices' public keys too, answers can be checked and
decrypted (:meth:`Outcome.explain`).
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import aiohttp
from lxml import etree

from gateway.duis.catalogue import ENDPOINT_OF, CommandVariant, ServiceReferenceVariant
from gateway.duis.signature import XmlSigner
from gateway.duis.xml import DS_NS, SR_NS
from gbcs.builders import Builder
from gbcs.codes import KeyPurpose
from gbcs.errors import DecodeError, KeyNotFound
from gbcs.eui import eui_duis
from gbcs.explain import Explanation, explain
from gbcs.frames import Message
from gbcs.keystore import KeyLookup, Keystore

__all__ = [
    "DEFAULT_URL",
    "Answer",
    "ClientError",
    "DuisClient",
    "FinalAnswer",
    "Outcome",
    "build_request",
    "describe_failure",
    "parse",
]

DEFAULT_URL: Final = "http://127.0.0.1:8079"
_CRITICAL: Final = frozenset({CommandVariant.SR_TO_PRECOMMAND})
_PARSER: Final = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False
)
_RID: Final = re.compile(r"^([0-9A-Fa-f-]{23}):([0-9A-Fa-f-]{23}):(\d+)$")


def _sr(name: str) -> str:
    return f"{{{SR_NS}}}{name}"


class ClientError(Exception):
    """Something the user gave cannot be sent (names the value); or the gateway is not there."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The gateway's synchronous answer to one POST."""

    endpoint: str
    status: int
    code: str
    reason: str | None
    body: bytes
    request_id: str
    payload: bytes | None = None
    """The ``GBCSPayload`` it carries (a CV4 pre-command, a CV2 local command), if any."""

    @property
    def ok(self) -> bool:
        return self.code in ("I0", "I99")


@dataclass(frozen=True, slots=True)
class FinalAnswer:
    """The asynchronous answer: a device's response, or a DCC alert about the request."""

    kind: str
    """``response``, ``alert`` or ``dcc-alert``."""
    code: str
    body: bytes
    payload: bytes | None

    @property
    def ok(self) -> bool:
        return self.kind == "response" and self.code == "I0"


@dataclass(slots=True)
class Outcome:
    """Everything that happened to one request."""

    request_id: str
    answers: list[Answer] = field(default_factory=list)
    final: FinalAnswer | None = None
    waited: bool = False

    @property
    def ok(self) -> bool:
        if not self.answers or not self.answers[-1].ok:
            return False
        return not self.waited or (self.final is not None and self.final.ok)

    def __repr__(self) -> str:
        # What failed comes first and the XML bodies are left out: pytest shortens a long
        # repr in an assertion message, and the code and reason must survive that.
        verdict = describe_failure(self) or "ok"
        answers = ", ".join(
            f"{a.endpoint} HTTP {a.status} {a.code}" + (f" ({a.reason})" if a.reason else "")
            for a in self.answers
        )
        final = (
            f"{self.final.kind} {self.final.code}"
            if self.final is not None
            else ("none in time" if self.waited else "not waited for")
        )
        return (
            f"Outcome({verdict}; answers: [{answers}]; final: {final}; "
            f"request_id={self.request_id!r})"
        )

    def explain(self, keys: KeyLookup | None = None) -> Explanation | None:
        """The final answer's GBCS, decoded (checked and decrypted with ``keys``)."""
        if self.final is None or self.final.payload is None:
            return None
        return explain(self.final.payload, keys)


class DuisClient:
    """DUIS over HTTP as a DCC User (see the module docstring)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        keys: Keystore | None = None,
        sign_xml: bool = False,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.keys = keys
        self.sign_xml = sign_xml
        self.timeout = timeout
        self._session = session
        self._own_session = session is None
        self._signers: dict[bytes, XmlSigner] = {}
        self._last_counter = 0
        self._caught_up: set[bytes] = set()

    async def __aenter__(self) -> DuisClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    # -- building ---------------------------------------------------------------------------

    def fresh_counter(self) -> int:
        """A new RequestID counter: epoch milliseconds (as DCC tools count), increasing."""
        value = max(int(time.time() * 1000), self._last_counter + 1)
        self._last_counter = value
        return value

    async def catch_up_counter(self, originator: bytes) -> int | None:
        """Ask the gateway (smetsim's ``GET /admin/users``) for the last RequestID counter it
        accepted from ``originator``, so :meth:`fresh_counter` goes above it even when a
        request was sent with a counter ahead of the clock. None when the gateway does not
        say (a gateway without that admin API, or a user with no request yet)."""
        try:
            async with self.session.get(f"{self.url}/admin/users") as response:
                if response.status != 200:
                    return None
                users = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return None
        if not isinstance(users, list):
            return None
        wanted = eui_duis(originator)
        for user in users:
            if isinstance(user, dict) and user.get("eui") == wanted:
                last = user.get("last_request_counter")
                if isinstance(last, int) and not isinstance(last, bool):
                    self._last_counter = max(self._last_counter, last)
                    return last
        return None

    def with_counter(self, xml: bytes, counter: int | None = None) -> bytes:
        """``xml`` with its RequestID counter replaced (by a fresh one when ``None``)."""
        root = parse(xml)
        element = _header_element(root, "RequestID")
        match = _RID.match((element.text or "").strip())
        if match is None:
            raise ClientError(f"RequestID {element.text!r} is not originatorEUI:targetEUI:counter")
        value = self.fresh_counter() if counter is None else counter
        element.text = f"{match.group(1)}:{match.group(2)}:{value}"
        return _serialise(root)

    def signer(self, eui: bytes) -> XmlSigner:
        """The XML signer of user ``eui`` (its DS key and certificate from the keystore)."""
        signer = self._signers.get(eui)
        if signer is None:
            keys = self._need_keys(eui, "sign the XML")
            certificate = keys.certificate(eui, KeyPurpose.DS)
            if certificate is None:
                raise ClientError(f"the keystore has no DS certificate for {eui_duis(eui)}")
            signer = XmlSigner(keys.private_key(eui, KeyPurpose.DS), certificate)
            self._signers[eui] = signer
        return signer

    def _need_keys(self, eui: bytes, why: str) -> Keystore:
        if self.keys is None:
            raise ClientError(
                f"to {why} as {eui_duis(eui)} its keys are needed: give a keystore "
                "(--keystore DIR from 'smetsim pki export', or --state DIR of the sandbox)"
            )
        if not self.keys.has_private_key(eui, KeyPurpose.DS):
            raise ClientError(f"the keystore holds no DS private key of {eui_duis(eui)}")
        return self.keys

    def sign_precommand(self, precommand: bytes, signer: bytes) -> bytes:
        """The pre-command's GBCS signed with ``signer``'s DS key (what a user does for CV5)."""
        keys = self._need_keys(signer, "sign the pre-command of a critical SR")
        try:
            message = Message.from_bytes(precommand)
            return Builder(keys).sign(message, signer).to_bytes()
        except (DecodeError, KeyNotFound) as exc:
            raise ClientError(f"cannot sign the pre-command: {exc}") from None

    @staticmethod
    def signed_precommand_request(xml: bytes, signed: bytes, command_variant: int = 5) -> bytes:
        """The CV5 (or CV6) request of a CV4 request: same header, ``SignedPreCommand`` body."""
        root = parse(xml)
        _header_element(root, "CommandVariant").text = str(command_variant)
        body = root.find(_sr("Body"))
        if body is None:
            raise ClientError("the request has no Body")
        for child in list(body):
            body.remove(child)
        element = etree.SubElement(body, _sr("SignedPreCommand"))
        etree.SubElement(element, _sr("GBCSPayload")).text = base64.b64encode(signed).decode()
        for signature in root.findall(f"{{{DS_NS}}}Signature"):
            root.remove(signature)
        return _serialise(root)

    # -- sending ----------------------------------------------------------------------------

    async def post(self, xml: bytes, *, sign: bool | None = None) -> Answer:
        """POST one request to the endpoint of its CommandVariant; the synchronous answer."""
        root = parse(xml)
        cv = _command_variant(root)
        request_id = (_header_element(root, "RequestID").text or "").strip()
        if self.sign_xml if sign is None else sign:
            originator = _originator(request_id)
            xml = self.signer(originator).sign_bytes(xml)
        endpoint = ENDPOINT_OF[cv].path
        try:
            async with self.session.post(
                self.url + endpoint,
                data=xml,
                headers={"Content-Type": "application/xml; charset=utf-8"},
            ) as response:
                body = await response.read()
                status = response.status
                code = response.headers.get("X-DUIS-Response-Code") or _response_code(body)
                reason = response.headers.get("X-DUIS-Reason")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ClientError(f"cannot reach the gateway at {self.url}: {exc}") from None
        return Answer(endpoint, status, code, reason, body, request_id, _gbcs_payload(body))

    async def wait(self, request_id: str, within: float | None = None) -> FinalAnswer | None:
        """The asynchronous answer to ``request_id`` from the inbox (long-polling it), or
        ``None`` when none came ``within`` seconds."""
        deadline = time.monotonic() + (self.timeout if within is None else within)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                async with self.session.get(
                    self.url + "/api/v1/responses",
                    params={"requestId": request_id, "wait": f"{min(left, 30.0):.3f}"},
                ) as response:
                    body = await response.read()
                    if response.status == 200:
                        return FinalAnswer(
                            kind=response.headers.get("X-Report-Kind", "response"),
                            code=response.headers.get("X-DUIS-Response-Code")
                            or _response_code(body),
                            body=body,
                            payload=_gbcs_payload(body),
                        )
                    if response.status != 404:
                        raise ClientError(
                            f"the inbox answered HTTP {response.status}: {body[:200]!r}"
                        )
            except (aiohttp.ClientError, OSError) as exc:
                raise ClientError(f"cannot reach the gateway at {self.url}: {exc}") from None
            await asyncio.sleep(0)

    async def send(
        self,
        xml: bytes,
        *,
        fresh: bool = False,
        wait: bool = False,
        within: float | None = None,
        sign: bool | None = None,
    ) -> Outcome:
        """Send one request; a critical SR written as CV4 goes through CV4, the signing of its
        pre-command and CV5 in one go. ``wait``: also wait for the asynchronous answer."""
        if fresh:
            originator = _originator(_request_id_of(xml))
            if originator not in self._caught_up:
                # Once per user: later fresh counters of this client only go up from there.
                self._caught_up.add(originator)
                await self.catch_up_counter(originator)
            xml = self.with_counter(xml)
        root = parse(xml)
        request_id = (_header_element(root, "RequestID").text or "").strip()
        outcome = Outcome(request_id)
        answer = await self.post(xml, sign=sign)
        outcome.answers.append(answer)
        cv = _command_variant(root)
        if cv in _CRITICAL and answer.code == "I0" and answer.payload is not None:
            signed = self.sign_precommand(answer.payload, _originator(request_id))
            answer = await self.post(self.signed_precommand_request(xml, signed), sign=sign)
            outcome.answers.append(answer)
        if wait and answer.code == "I99":
            outcome.waited = True
            outcome.final = await self.wait(request_id, within)
        return outcome

    async def send_many(
        self, requests: Sequence[bytes], *, wait: bool = False, fresh: bool = False
    ) -> list[Outcome]:
        return list(await asyncio.gather(*(self.send(x, wait=wait, fresh=fresh) for x in requests)))


# =========================================================================== XML helpers


def parse(xml: bytes) -> etree._Element:
    """A DUIS request document (no DTDs, entities or network)."""
    if b"<!DOCTYPE" in xml:
        raise ClientError("the request has a DOCTYPE: DUIS requests carry none")
    try:
        return etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ClientError(f"the request is not well-formed XML: {exc}") from None


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _header_element(root: etree._Element, name: str) -> etree._Element:
    element = root.find(f"{_sr('Header')}/{_sr(name)}")
    if element is None:
        raise ClientError(f"the request has no Header/{name}")
    return element


def _command_variant(root: etree._Element) -> CommandVariant:
    text = (_header_element(root, "CommandVariant").text or "").strip()
    try:
        return CommandVariant(int(text))
    except ValueError:
        raise ClientError(f"CommandVariant {text!r} is not 1 to 8") from None


def _request_id_of(xml: bytes) -> str:
    return (_header_element(parse(xml), "RequestID").text or "").strip()


def _originator(request_id: str) -> bytes:
    match = _RID.match(request_id)
    if match is None:
        raise ClientError(f"RequestID {request_id!r} is not originatorEUI:targetEUI:counter")
    return bytes.fromhex(match.group(1).replace("-", ""))


def _response_code(body: bytes) -> str:
    match = re.search(rb"<(?:\w+:)?ResponseCode>([^<]+)<", body)
    return match.group(1).decode() if match else "?"


def _gbcs_payload(body: bytes) -> bytes | None:
    match = re.search(rb"<(?:\w+:)?GBCSPayload>([^<]+)<", body)
    if match is None:
        return None
    try:
        return base64.b64decode(re.sub(rb"\s+", b"", match.group(1)))
    except ValueError:
        return None


def describe_failure(outcome: Outcome) -> str | None:
    """A sentence for what went wrong, or None."""
    for answer in outcome.answers:
        if not answer.ok:
            return f"{answer.endpoint} answered {answer.code}: {answer.reason or 'no reason given'}"
    if outcome.waited and outcome.final is None:
        return f"no answer to {outcome.request_id} in time"
    if outcome.final is not None and not outcome.final.ok:
        return f"the request ended with a {outcome.final.kind} {outcome.final.code}"
    return None


def build_request(
    *,
    service_reference_variant: str,
    command_variant: int,
    originator: bytes,
    target: bytes,
    counter: int,
    body: str,
    schema_version: str = "5.4",
) -> bytes:
    """A DUIS request document, unsigned: ``body`` is the XML of the body element in the
    ``sr`` prefix (e.g. ``"<sr:ReadFirmwareVersion/>"``)."""
    variant = ServiceReferenceVariant(service_reference_variant)
    request_id = f"{eui_duis(originator)}:{eui_duis(target)}:{counter}"
    text = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sr:Request xmlns:sr="{SR_NS}" schemaVersion="{schema_version}">'
        f"<sr:Header><sr:RequestID>{request_id}</sr:RequestID>"
        f"<sr:CommandVariant>{command_variant}</sr:CommandVariant>"
        f"<sr:ServiceReference>{variant.service_reference}</sr:ServiceReference>"
        f"<sr:ServiceReferenceVariant>{variant.value}</sr:ServiceReferenceVariant>"
        f"</sr:Header><sr:Body>{body}</sr:Body></sr:Request>"
    )
    return text.encode("utf-8")
