"""A fleet hosts many emulated devices, addressed by EUI, with lazy state.

Adding a device records only how to make it (a shared :class:`DeviceSpec`); its state is
created the first time a frame reaches it, and its private keys are derived from the fleet
seed and its EUI when first needed and kept only in a bounded cache. So a hundred thousand
devices cost little until they are used, and nothing about them needs storing but what
changed: :meth:`Fleet.snapshot` writes that as JSON, :meth:`Fleet.restore` reads it back.

The fleet is also the host that applies each profile's quirks - response latency, drops
and corrupted MACs - deterministically from the seed and the frame, so a run is
reproducible. The WAN adapters call :meth:`Fleet.deliver` (frames with their delays) or
:meth:`Fleet.handle` (just the frames).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from emulator.clock import to_seconds
from emulator.devices import DEVICE_CLASSES
from emulator.devices.base import Device, DeviceSpec
from emulator.devices.chf import Chf
from emulator.devices.meter import MeterDevice
from emulator.devices.trust import DEFAULT_TRUST, DeviceContext, DeviceKeys, Trust
from emulator.errors import EmulatorError, UnknownDeviceError
from emulator.firmware import FirmwareProfile, ProfileCatalogue, load_profiles
from emulator.profiles import device_key, mix64, unit_interval
from gbcs.codes import KeyPurpose
from gbcs.crypto import SharedSecretCache
from gbcs.devices import DeviceType
from gbcs.errors import DecodeError
from gbcs.eui import eui_duis, parse_eui
from gbcs.frames import Message
from gbcs.keystore import KeyLookup, derive_device_key

SNAPSHOT_FORMAT = "smetsim-fleet/1"

SANDBOX_DEVICES: tuple[tuple[str, str], ...] = (
    ("00-DB-12-34-56-78-90-A0", "northbrook-nb100"),
    ("00-DB-12-34-56-78-90-A1", "northbrook-ng20"),
    ("00-DB-12-34-56-78-90-A2", "tellurian-ch2-chf"),
    ("00-DB-12-34-56-78-90-A3", "tellurian-ch2-gpf"),
)
"""The sandbox's default home: ESME, GSME, CHF and GPF of the DCC reference test data."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A frame a device sends, and how long after the command it arrives."""

    eui: bytes
    """The device that sent it."""
    frame: bytes
    delay: float = 0.0
    """Seconds of response latency (the profile's quirk)."""


def _now(now: datetime | int) -> int:
    return now if isinstance(now, int) else to_seconds(now)


class Fleet:
    """Many devices, each created on first use from its spec."""

    def __init__(
        self,
        seed: bytes,
        organisations: KeyLookup,
        *,
        profiles: ProfileCatalogue | None = None,
        faults: bool = True,
        key_cache: int = 4096,
        secret_cache: int = 16384,
    ) -> None:
        """``organisations``: the public keys of the remote parties (suppliers, network
        operators, the ACB) - a test PKI or a real keystore. ``faults``: apply the
        profiles' drop and corrupt-MAC quirks (latency is always reported)."""
        if not seed:
            raise ValueError("a fleet needs a non-empty seed")
        self.seed = seed
        self.organisations = organisations
        self.profiles = profiles if profiles is not None else load_profiles()
        self.faults = faults
        self._specs: dict[bytes, DeviceSpec] = {}
        self._devices: dict[bytes, Device] = {}
        self._keys: OrderedDict[tuple[bytes, KeyPurpose], ec.EllipticCurvePrivateKey] = (
            OrderedDict()
        )
        self._key_cache = key_cache
        self._secrets = SharedSecretCache(max_entries=secret_cache)
        self._spec_cache: dict[tuple[Any, ...], DeviceSpec] = {}
        # Per device used recently: (the trust its context was made for, the context, the
        # device's key (profiles.device_key), which the frame draws mix in).
        self._contexts: OrderedDict[bytes, tuple[Trust, DeviceContext, int]] = OrderedDict()
        # The keyed hash of the frame draws, copied per frame (saves hashing the key block).
        self._frame_hash = hashlib.blake2b(digest_size=8, key=seed[:64])
        self._latest = 0
        """The latest time the fleet was told of (Unix seconds)."""
        self._last_moment: tuple[datetime, int] | None = None
        """The datetime last given to :meth:`deliver` / :meth:`handle`, in Unix seconds
        (a host often sends a batch of frames at one moment)."""
        self._touched: set[bytes] = set()
        """Devices whose state a frame, tick or consumer may have changed since the host
        last asked (:meth:`take_touched`): what it must save before their answers leave."""

    # -- membership ------------------------------------------------------------------------

    def add(
        self,
        eui: bytes | str,
        profile: str | FirmwareProfile,
        *,
        firmware: str | None = None,
        trust: Trust = DEFAULT_TRUST,
        hub: bytes | str | None = None,
        partner: bytes | str | None = None,
        prepayment: bool = False,
        balance: int = 0,
        shape: str | None = None,
    ) -> DeviceSpec:
        """Host a device (created on first use). A duplicate EUI is refused."""
        key = parse_eui(eui)
        if key in self._specs:
            raise EmulatorError(f"the fleet already hosts {eui_duis(key)}")
        chosen = self.profiles[profile] if isinstance(profile, str) else profile
        if firmware is not None:
            chosen.version(firmware)  # KeyError naming the known versions
        spec_key = (chosen.name, firmware, trust, hub, partner, prepayment, balance, shape)
        spec = self._spec_cache.get(spec_key)
        if spec is None:
            spec = DeviceSpec(
                profile=chosen,
                firmware=firmware,
                trust=trust,
                hub=None if hub is None else parse_eui(hub),
                partner=None if partner is None else parse_eui(partner),
                prepayment=prepayment,
                balance=balance,
                shape=shape,
            )
            self._spec_cache[spec_key] = spec
        self._specs[key] = spec
        return spec

    def add_sandbox_devices(self, *, prepayment: bool = False, balance: int = 0) -> None:
        """The four devices of the DCC reference test data: ESME ...A0, GSME ...A1 (mirrored
        by the GPF ...A3), CHF ...A2, all on hub ...A2."""
        esme, gsme, chf, gpf = (parse_eui(e) for e, _ in SANDBOX_DEVICES)
        profiles = [p for _, p in SANDBOX_DEVICES]
        self.add(esme, profiles[0], hub=chf, prepayment=prepayment, balance=balance)
        self.add(gsme, profiles[1], hub=chf, partner=gpf, prepayment=prepayment, balance=balance)
        self.add(chf, profiles[2], partner=gpf)
        self.add(gpf, profiles[3], hub=chf, partner=gsme)

    def __contains__(self, eui: object) -> bool:
        return isinstance(eui, bytes) and eui in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def euis(self) -> Iterator[bytes]:
        return iter(self._specs)

    def spec(self, eui: bytes) -> DeviceSpec:
        try:
            return self._specs[eui]
        except KeyError:
            raise UnknownDeviceError(eui) from None

    def has_state(self, eui: bytes) -> bool:
        """Whether the device has been used (its state exists)."""
        return eui in self._devices

    @property
    def materialised(self) -> int:
        """How many devices have state (have been used)."""
        return len(self._devices)

    def device(self, eui: bytes, now: datetime | int) -> Device:
        """The device's state, created at ``now`` if this is its first use."""
        seconds = _now(now)
        if seconds > self._latest:
            self._latest = seconds
        device = self._devices.get(eui)
        if device is None:
            spec = self.spec(eui)
            cls = DEVICE_CLASSES[spec.profile.device_type]
            device = cls.create(eui, spec, seconds, device_key(self.seed, eui))
            self._devices[eui] = device
        return device

    # -- keys ------------------------------------------------------------------------------

    def private_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
        """A hosted device's private key, derived from the seed (kept in a bounded cache)."""
        cache_key = (eui, purpose)
        key = self._keys.get(cache_key)
        if key is not None:
            self._keys.move_to_end(cache_key)
            return key
        key = derive_device_key(self.seed, eui, purpose)
        self._keys[cache_key] = key
        if len(self._keys) > self._key_cache:
            self._keys.popitem(last=False)
        return key

    def public_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        """A hosted device's public key (what its certificate would carry)."""
        return self.private_key(eui, purpose).public_key()

    def context(self, device: Device) -> DeviceContext:
        """The keys and neighbours lent to ``device`` (kept for the devices used most
        recently, so their shared secrets stay at hand)."""
        return self._context_entry(device)[1]

    def _context_entry(self, device: Device) -> tuple[Trust, DeviceContext, int]:
        trust = device.trust
        eui = device.eui
        # Keyed by EUI, holding the trust it was made for (hashing a Trust costs more than
        # comparing the one usually shared by identity).
        cached = self._contexts.get(eui)
        if cached is not None and (cached[0] is trust or cached[0] == trust):
            self._contexts.move_to_end(eui)
            return cached
        keys = DeviceKeys(eui, self.private_key, self.organisations, trust.euis())
        ctx = DeviceContext(
            keys, acb=trust.acb, cache=self._secrets, peer=self._peer, hosted=self.__contains__
        )
        entry = (trust, ctx, device_key(self.seed, eui))
        self._contexts[eui] = entry
        if len(self._contexts) > self._key_cache:
            self._contexts.popitem(last=False)
        return entry

    def _peer(self, eui: bytes) -> Device | None:
        if eui not in self._specs:
            return None
        # A neighbour reached through another device may change with it (a GPF mirroring
        # its GSME), and first comes to life then.
        self._touched.add(eui)
        return self.device(eui, self._latest)

    # -- traffic ---------------------------------------------------------------------------

    def route(self, eui: bytes, frame: bytes) -> bytes:
        """The device a frame sent to ``eui`` (a device or its hub) is for: the business
        target when the fleet hosts it, else ``eui`` itself."""
        return self._route(eui, frame)[0]

    def _route(self, eui: bytes, frame: bytes) -> tuple[bytes, Message | None]:
        try:
            message: Message | None = Message.from_bytes(frame)
        except DecodeError:
            message = None
        target = eui if message is None else message.business_target
        if target in self._specs:
            return target, message
        if eui in self._specs:
            return eui, message
        raise UnknownDeviceError(target)

    def deliver(self, eui: bytes, frame: bytes, now: datetime | int) -> list[Outgoing]:
        """A frame arrives for ``eui`` (a device, or the hub the device sits behind) at
        ``now``; what comes back, each frame with its latency. The profile's quirks apply:
        a dropped command is never received (no state changes, nothing comes back); a
        corrupted frame arrives with a broken MAC or signature."""
        sender, draw, latency, frames = self._exchange(eui, frame, now, True)
        if draw is None:
            return [Outgoing(sender, f) for f in frames]
        low, high = latency
        span = high - low
        return [
            Outgoing(sender, sent, (low + span * unit_interval(mix64(draw + index + 1))) / 1000.0)
            for index, sent in enumerate(frames)
        ]

    def _seconds(self, now: datetime | int) -> int:
        if type(now) is int:
            return now
        last = self._last_moment
        if last is not None and last[0] is now:
            return last[1]
        seconds = _now(now)
        if isinstance(now, datetime):
            self._last_moment = (now, seconds)
        return seconds

    def _exchange(
        self, eui: bytes, frame: bytes, now: datetime | int, latencies: bool
    ) -> tuple[bytes, int | None, tuple[int, int], list[bytes]]:
        """What :meth:`deliver` does but the latencies: (who sends the frames, the frame's
        draw (None: a hub answers, without latency), the latency range, the frames).
        Without ``latencies`` and faults, the draw is not made (0 stands in for it)."""
        seconds = self._seconds(now)
        target, message = self._route(eui, frame)
        device = self._devices.get(target)
        if device is None or seconds > self._latest:
            device = self.device(target, seconds)
        quirks = device.profile.quirks
        _, ctx, key = self._context_entry(device)
        faults = self.faults
        if latencies or faults:
            # = _frame_draw(self.seed, target, frame), with the keyed hash state and key cached
            hasher = self._frame_hash.copy()
            hasher.update(frame)
            draw = mix64(int.from_bytes(hasher.digest(), "big") ^ key)
        else:
            draw = 0
        if faults and quirks.drop_rate and unit_interval(draw) < quirks.drop_rate:
            return target, draw, quirks.latency_ms, []
        self._touched.add(target)
        hub = self._hub_refusing(target)
        if hub is not None:
            self._touched.add(hub.eui)
            return hub.eui, None, (0, 0), hub.undeliverable(target, seconds, self.context(hub))
        frames = device.handle(frame if message is None else message, seconds, ctx)
        corrupt = quirks.corrupt_mac_rate if faults else 0.0
        if corrupt:
            for index, sent in enumerate(frames):
                if unit_interval(mix64(draw + index + 1) ^ 0xC0) < corrupt:
                    frames[index] = _corrupt(sent)
        return target, draw, quirks.latency_ms, frames

    def _hub_refusing(self, target: bytes) -> Chf | None:
        """The hub of ``target`` when it has taken ``target`` out of its device log."""
        hub_eui = self._specs[target].hub
        hub = None if hub_eui is None else self._devices.get(hub_eui)
        if isinstance(hub, Chf) and not hub.delivers_to(target):
            return hub
        return None

    def handle(self, eui: bytes, frame: bytes, now: datetime | int) -> list[bytes]:
        """Like :meth:`deliver`, without the latencies."""
        return self._exchange(eui, frame, now, False)[3]

    def advance(self, now: datetime | int) -> list[Outgoing]:
        """Let time pass for every device that has state; the alerts that raises."""
        seconds = _now(now)
        self._latest = max(self._latest, seconds)
        out = []
        for device in list(self._devices.values()):
            if not device.has_timed_work:
                continue
            alerts = device.due_alerts(seconds)
            if alerts:
                self._touched.add(device.eui)
                ctx = self.context(device)
                for message in device.seal(alerts, seconds, ctx):
                    out.append(Outgoing(device.eui, message.to_bytes()))
        return out

    def distribute_firmware(self, eui: bytes, image: bytes, now: datetime | int) -> list[bytes]:
        """The hub hands a firmware image to device ``eui`` over the HAN (SR11.1: this is not
        a remote-party message, so it has no GBCS envelope of its own). The device verifies
        it and answers with its firmware distribution receipt alert."""
        seconds = _now(now)
        device = self.device(eui, seconds)
        self._touched.add(eui)
        return [m.to_bytes() for m in device.receive_image(image, seconds, self.context(device))]

    def enter_utrn(self, eui: bytes, utrn: str, now: datetime | int) -> list[bytes]:
        """The consumer types a UTRN on the meter's keypad; the alerts that raises."""
        seconds = _now(now)
        device = self.device(eui, seconds)
        if not isinstance(device, MeterDevice):
            raise EmulatorError(f"{eui_duis(eui)} is a {device.DEVICE_TYPE}: it has no keypad")
        self._touched.add(eui)
        return [m.to_bytes() for m in device.enter_utrn(utrn, seconds, self.context(device))]

    def press_button(self, eui: bytes, now: datetime | int) -> list[bytes]:
        """The consumer presses the button on the meter (restores an armed supply)."""
        seconds = _now(now)
        device = self.device(eui, seconds)
        self._touched.add(eui)
        return [m.to_bytes() for m in device.press_button(seconds, self.context(device))]

    # -- saving state ----------------------------------------------------------------------

    def take_touched(self) -> list[bytes]:
        """The devices whose state may have changed since the last call (frames delivered,
        alerts raised, keypad, button, firmware images), and forget them: a host saves
        their :meth:`state_of` before their answers leave it."""
        touched = [eui for eui in self._touched if eui in self._devices]
        self._touched.clear()
        return touched

    def state_of(self, eui: bytes) -> dict[str, Any]:
        """A device's state as JSON (what :meth:`snapshot` holds for it); it must have state."""
        return self._devices[eui].to_json()

    def materialised_euis(self) -> list[bytes]:
        """The devices that have state."""
        return list(self._devices)

    def load_state(self, state: dict[str, Any]) -> None:
        """Put back one device's saved state (a :meth:`state_of`), replacing what it has.
        :class:`EmulatorError` when it does not fit the device the fleet hosts."""
        try:
            eui = bytes.fromhex(state["eui"])
            spec = self.spec(eui)
            if spec.profile.device_type.value != state["type"]:
                raise EmulatorError(f"{eui_duis(eui)}: state of a {state['type']}")
            device_cls = DEVICE_CLASSES[spec.profile.device_type]
            device = device_cls.create(eui, spec, int(state["created"]), device_key(self.seed, eui))
            device.restore_json(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise EmulatorError(f"damaged device state ({exc!r})") from None
        self._devices[eui] = device
        self._contexts.pop(eui, None)
        self._latest = max(self._latest, device.created, _accounted(device))

    # -- snapshot --------------------------------------------------------------------------

    def snapshot(self, path: Path) -> None:
        """Write every device's spec and every created device's state to ``path`` (JSON)."""
        data = {
            "format": SNAPSHOT_FORMAT,
            "seed": self.seed.hex(),
            "specs": [{"eui": eui.hex(), **_spec_json(spec)} for eui, spec in self._specs.items()],
            "devices": [device.to_json() for device in self._devices.values()],
        }
        _write_json(path, data)

    def hub_of(self, eui: bytes) -> bytes:
        """The hub device ``eui`` sits behind (a device without one is its own hub)."""
        hub = self.spec(eui).hub
        return eui if hub is None else hub

    @classmethod
    def restore(
        cls,
        path: Path,
        organisations: KeyLookup,
        *,
        profiles: ProfileCatalogue | None = None,
        faults: bool = True,
    ) -> Fleet:
        """A fleet from a snapshot file. JSON only (never pickle): a snapshot is data."""
        _, data = _read_snapshot(path)
        try:
            fleet = cls(
                bytes.fromhex(data["seed"]), organisations, profiles=profiles, faults=faults
            )
            for entry in data["specs"]:
                fleet.add(
                    bytes.fromhex(entry["eui"]),
                    entry["profile"],
                    firmware=entry["firmware"],
                    trust=Trust.from_json(entry["trust"]),
                    hub=None if entry["hub"] is None else bytes.fromhex(entry["hub"]),
                    partner=None if entry["partner"] is None else bytes.fromhex(entry["partner"]),
                    prepayment=bool(entry["prepayment"]),
                    balance=int(entry["balance"]),
                    shape=entry["shape"],
                )
            for state in data["devices"]:
                fleet.load_state(state)
        except EmulatorError as exc:
            raise EmulatorError(f"{path}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise EmulatorError(f"{path}: damaged fleet snapshot ({exc!r})") from None
        return fleet


def partition_of(hub: bytes, count: int) -> int:
    """The partition (of ``count``) hub ``hub`` and its devices belong to: a hash of its
    EUI, the same in every process."""
    return int.from_bytes(hashlib.blake2b(hub, digest_size=8).digest(), "big") % count


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)


def _read_snapshot(path: Path) -> tuple[Path, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmulatorError(f"cannot read fleet snapshot {path}: {exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != SNAPSHOT_FORMAT
        or not isinstance(data.get("specs"), list)
        or not isinstance(data.get("devices"), list)
    ):
        raise EmulatorError(f"{path} is not a {SNAPSHOT_FORMAT} snapshot")
    return path, data


def _accounted(device: Device) -> int:
    """How far a device's time-driven state has gone (Unix seconds)."""
    return device.meter.accounted_to if isinstance(device, MeterDevice) else 0


def _spec_json(spec: DeviceSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if isinstance(value, FirmwareProfile):
            value = value.name
        elif isinstance(value, Trust):
            value = value.to_json()
        elif isinstance(value, bytes):
            value = value.hex()
        out[f.name] = value
    return out


def _frame_draw(seed: bytes, eui: bytes, frame: bytes) -> int:
    digest = hashlib.blake2b(frame, digest_size=8, key=seed[:64]).digest()
    return mix64(int.from_bytes(digest, "big") ^ device_key(seed, eui))


def _corrupt(frame: bytes) -> bytes:
    """Flip a bit in the MAC (the last byte of a General-Ciphering frame) or, for a signed
    frame, in the signature."""
    if not frame:
        return frame
    return frame[:-1] + bytes([frame[-1] ^ 0x01])


def device_types(fleet: Fleet) -> Iterable[tuple[bytes, DeviceType]]:
    """(EUI, device type) of every hosted device."""
    for eui in fleet.euis():
        yield eui, fleet.spec(eui).profile.device_type
