"""A head end for the emulator tests: builds commands the way the DCC and a supplier would
(with the test PKI), sends them through a fleet, and checks every frame that comes back
with the gbcs verifier."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec

from emulator.fleet import Fleet
from gbcs import content as c
from gbcs.builders import Builder
from gbcs.codes import CRA, SUPPLIER, KeyPurpose
from gbcs.errors import KeyNotFound
from gbcs.eui import parse_eui
from gbcs.frames import Message
from gbcs.keystore import KeyLookup, Keystore, generate_test_pki
from gbcs.usecases import use_case
from gbcs.verify import Check, Verifier

SEED = b"emulator-tests"
ESME = parse_eui("00-DB-12-34-56-78-90-A0")
GSME = parse_eui("00-DB-12-34-56-78-90-A1")
CHF = parse_eui("00-DB-12-34-56-78-90-A2")
GPF = parse_eui("00-DB-12-34-56-78-90-A3")
T0 = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)

_PKI: dict[bytes, Keystore] = {}


def pki_for(seed: bytes = SEED) -> Keystore:
    """The test PKI of ``seed`` (organisations' keys; device keys derived the fleet's way)."""
    if seed not in _PKI:
        _PKI[seed] = generate_test_pki(seed, devices=[ESME, GSME, CHF, GPF])
    return _PKI[seed]


class WithFleetDevices:
    """A key lookup for the head end: the organisations' keystore, plus the public keys of
    the fleet's devices (their certificates, in real life)."""

    def __init__(self, organisations: KeyLookup, fleet: Fleet) -> None:
        self.organisations = organisations
        self.fleet = fleet

    def public_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        if eui in self.fleet:
            return self.fleet.public_key(eui, purpose)
        return self.organisations.public_key(eui, purpose)

    def private_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
        if eui in self.fleet:
            raise KeyNotFound(eui, purpose, private=True)
        return self.organisations.private_key(eui, purpose)


@dataclass
class Answer:
    """What came back: the response (if any) and the alerts, all verified."""

    messages: list[Message]
    response: Message | None = None
    alerts: list[Message] = field(default_factory=list)

    def alert_codes(self) -> list[int]:
        return [alert_code(m) for m in self.alerts]


def alert_code(message: Message) -> int:
    decoded = c.decode_alert(message.message_code, message.content)
    if isinstance(decoded, c.DlmsAlert):
        return decoded.code
    if isinstance(decoded, c.FutureDatedFirmwareAlert):
        return 0x8F66 if decoded.executed else 0x8F67
    return decoded.alert_code


class HeadEnd:
    """Sends commands to a fleet as the DCC would and checks what comes back."""

    def __init__(self, fleet: Fleet, organisations: KeyLookup, start: datetime = T0) -> None:
        self.fleet = fleet
        self.keys = WithFleetDevices(organisations, fleet)
        self.builder = Builder(self.keys)
        self.verifier = Verifier(self.keys)
        self.now = start
        self.counter = int(start.timestamp() * 1000)

    def next_counter(self) -> int:
        self.counter += 1
        return self.counter

    def command(
        self,
        target: bytes,
        cmd: object,
        *,
        originator: bytes = SUPPLIER,
        counter: int | None = None,
        critical: bool | None = None,
    ) -> Message:
        code: int = cmd.message_code  # type: ignore[attr-defined]
        uc = use_case(code)
        assert uc is not None
        return self.builder.command(
            originator=originator,
            target=target,
            counter=self.counter if counter is None else counter,
            message_code=code,
            content=cmd.encode(),  # type: ignore[attr-defined]
            critical=uc.critical if critical is None else critical,
        )

    def send(self, message: Message | bytes, via: bytes | None = None) -> Answer:
        frame = message if isinstance(message, bytes) else message.to_bytes()
        target = via or (message.business_target if isinstance(message, Message) else ESME)
        frames = self.fleet.handle(target, frame, self.now)
        return self.check(frames)

    def check(self, frames: list[bytes]) -> Answer:
        messages = [Message.from_bytes(f) for f in frames]
        answer = Answer(messages)
        for m in messages:
            verification = self.verifier.verify(m)
            assert verification.ok, f"{m.message_code:#06x}: {verification}"
            assert Check.VALID in (verification.mac, verification.signature)
            if m.cra is CRA.RESPONSE:
                assert answer.response is None, "one response per command"
                answer.response = m
            else:
                assert m.cra is CRA.ALERT
                answer.alerts.append(m)
        return answer

    def advance(self, delta: timedelta) -> Answer:
        self.now += delta
        return self.check([o.frame for o in self.fleet.advance(self.now)])

    def decrypt(self, message: Message) -> c.Decrypt:
        return lambda framed: self.builder.decrypt_payload(message, framed)


def sandbox_fleet(*, prepayment: bool = False, balance: int = 0, faults: bool = False) -> Fleet:
    fleet = Fleet(SEED, pki_for(), faults=faults)
    fleet.add_sandbox_devices(prepayment=prepayment, balance=balance)
    return fleet
