"""Firmware profiles: one TOML file per manufacturer and model (``firmware_profiles/``).

A profile says what a device is (manufacturer, model, device type, SMETS version), which
firmware versions exist for it and what each one does (its ESME variant and the use cases
it supports), and how the device misbehaves (quirks: response latency, drop rate,
corrupt-MAC rate). It is validated when loaded; every error names the file and the key.
The schema is documented in ``docs/firmware-profiles.md``.

Firmware images are emulated: :func:`firmware_image` makes the same bytes for the same
(manufacturer, model, version) every time, so the gateway, a test and the device agree on
the image hash that CS06 activation carries.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from emulator.errors import ProfileError
from gbcs import content as c
from gbcs import usecases
from gbcs.devices import ESME_VARIANTS, DeviceType

SCHEMA_VERSION = 1


EMULATED_DEVICE_TYPES: tuple[DeviceType, ...] = (
    DeviceType.ESME,
    DeviceType.GSME,
    DeviceType.CHF,
    DeviceType.GPF,
    DeviceType.IHD,
    DeviceType.PPMID,
    DeviceType.HCALCS,
)
"""The device types a firmware profile can describe: the ones the emulator has models of."""

_USE_CASE = re.compile(
    r"(ECS|GCS|CCS|CS|PCS|DBCH)([0-9]{2}[A-Za-z0-9]*)(-[A-Za-z]+)?"
)  # CS02b-<mode>
_HEX = re.compile(r"[0-9A-F]+")
_TOP_KEYS = {
    "schema",
    "manufacturer",
    "manufacturer_id",
    "model",
    "model_id",
    "device_type",
    "smets_version",
    "initial_firmware",
    "quirks",
    "firmware",
    "optical",
}
_QUIRK_KEYS = {"latency_ms", "drop_rate", "corrupt_mac_rate"}
_FIRMWARE_KEYS = {"version", "esme_variant", "use_cases", "notes", "image_size", "upgrades_from"}


@dataclass(frozen=True, slots=True)
class Quirks:
    """How the device misbehaves; applied by the fleet, deterministically from the seed."""

    latency_ms: tuple[int, int] = (0, 0)
    """Each response is late by a uniform draw from this range (milliseconds)."""
    drop_rate: float = 0.0
    """Fraction of commands the device never answers (lost on the HAN or WAN)."""
    corrupt_mac_rate: float = 0.0
    """Fraction of frames sent with a corrupted MAC (the receiver must reject them)."""


@dataclass(frozen=True, slots=True)
class FirmwareVersion:
    """One firmware version of a model and what it changes."""

    version: str
    """Eight hex digits: the 4-byte version ECS52 reports (DUIS ``FirmwareVersion``)."""
    use_cases: frozenset[str]
    esme_variant: str | None = None
    notes: str = ""
    image_size: int = 4096
    upgrades_from: frozenset[str] = frozenset()
    """Versions this image may be activated on; empty = any other version of the model."""

    @property
    def version_bytes(self) -> bytes:
        return bytes.fromhex(self.version)


@dataclass(frozen=True, slots=True)
class FirmwareProfile:
    """A manufacturer's model and its firmware versions."""

    name: str
    """The file stem, e.g. ``acme-a100``: how fleets refer to the profile."""
    manufacturer: str
    manufacturer_id: str
    model: str
    model_id: str
    device_type: DeviceType
    smets_version: str
    initial_firmware: str
    firmware: Mapping[str, FirmwareVersion]
    quirks: Quirks
    source: str = ""
    optical: Mapping[str, Any] = field(default_factory=dict)
    """The ``[optical]`` table as written: how the meter's optical port (IEC 62056-21)
    identifies itself and misbehaves. Opaque here; ``smetsim.hil_adapters`` validates it."""

    def version(self, version: str) -> FirmwareVersion:
        """A firmware version by its hex string; :class:`KeyError` naming the known ones."""
        try:
            return self.firmware[version.upper()]
        except KeyError:
            known = ", ".join(self.firmware)
            raise KeyError(f"{self.name} has no firmware {version!r} (known: {known})") from None

    def image(self, version: str) -> bytes:
        return firmware_image(self, self.version(version))

    def image_hash(self, version: str) -> bytes:
        return _image_hash(self, self.version(version))

    def version_for_hash(self, image_hash: bytes) -> FirmwareVersion | None:
        """The firmware whose image has this SHA-256, if the profile knows one."""
        for candidate in self.firmware.values():
            if _image_hash(self, candidate) == image_hash:
                return candidate
        return None


_IMAGE_HASHES: dict[tuple[str, str, bytes, int], bytes] = {}
"""The hash of each emulated image made in this process: an image is made from these four
alone, and every sandbox's Central Products List asks for the same ones (making them again
was a tenth of a sandbox's start)."""


def _image_hash(profile: FirmwareProfile, firmware: FirmwareVersion) -> bytes:
    key = (profile.manufacturer_id, profile.model_id, firmware.version_bytes, firmware.image_size)
    found = _IMAGE_HASHES.get(key)
    if found is None:
        found = _IMAGE_HASHES[key] = c.image_hash(firmware_image(profile, firmware))
    return found


def firmware_image(profile: FirmwareProfile, firmware: FirmwareVersion) -> bytes:
    """The emulated image of ``firmware``: a header naming it, then deterministic filler."""
    header = (
        b"SMETSIM-IMAGE\x00"
        + bytes.fromhex(profile.manufacturer_id)
        + bytes.fromhex(profile.model_id)
        + firmware.version_bytes
    )
    filler = bytearray()
    block = hashlib.sha256(header).digest()
    while len(header) + len(filler) < firmware.image_size:
        filler += block
        block = hashlib.sha256(block).digest()
    return (header + bytes(filler))[: max(firmware.image_size, len(header))]


# -- loading and validation ----------------------------------------------------------------


class _Reader:
    """Typed access to a parsed TOML table, with errors that name the file and the key."""

    def __init__(self, path: str, table: Mapping[str, Any], prefix: str = "") -> None:
        self.path = path
        self.table = table
        self.prefix = prefix

    def fail(self, key: str, problem: str) -> ProfileError:
        return ProfileError(self.path, self.prefix + key, problem)

    def check_keys(self, allowed: set[str]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.fail(key, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def text(self, key: str, *, max_length: int, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        if len(value) > max_length:
            raise self.fail(key, f"at most {max_length} characters, got {len(value)}")
        return value

    def hex_id(self, key: str, *, lengths: Iterable[int]) -> str:
        value = self.text(key, max_length=30).upper()
        allowed = tuple(lengths)
        if not _HEX.fullmatch(value) or len(value) not in allowed:
            spelled = " or ".join(str(n) for n in allowed)
            raise self.fail(key, f"must be {spelled} hex digits, got {self.table[key]!r}")
        return value

    def rate(self, key: str) -> float:
        value = self.table.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise self.fail(key, f"must be a number from 0 to 1, got {value!r}")
        return float(value)


def _load_quirks(reader: _Reader) -> Quirks:
    table = reader.table.get("quirks", {})
    if not isinstance(table, dict):
        raise reader.fail("quirks", "must be a table")
    quirks = _Reader(reader.path, table, "quirks.")
    quirks.check_keys(_QUIRK_KEYS)
    latency = table.get("latency_ms", [0, 0])
    if (
        not isinstance(latency, list)
        or len(latency) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in latency)
        or not 0 <= latency[0] <= latency[1] <= 3_600_000
    ):
        raise quirks.fail(
            "latency_ms", f"must be [min, max] milliseconds, 0 <= min <= max, got {latency!r}"
        )
    return Quirks(
        latency_ms=(latency[0], latency[1]),
        drop_rate=quirks.rate("drop_rate"),
        corrupt_mac_rate=quirks.rate("corrupt_mac_rate"),
    )


def _use_case_problem(name: str, device_type: DeviceType) -> str | None:
    """Why ``name`` cannot be in a ``device_type``'s firmware (None when it can): it must be
    in the GBCS use-case table, and target that device type."""
    if _USE_CASE.fullmatch(name) is None:
        return f"{name!r} is not a GBCS use case name"
    try:
        uc = usecases.by_name(name)
    except KeyError:
        return f"{name!r} is not in the GBCS use case table"
    if uc.alert:
        return f"{name!r} is an alert, not a command"
    if device_type.value not in {d.value for d in uc.devices}:
        targets = ", ".join(d.value for d in uc.devices)
        return f"{name!r} is a use case of {targets}, not of a {device_type}"
    return None


def _load_firmware(
    reader: _Reader, index: int, table: Any, device_type: DeviceType
) -> FirmwareVersion:
    where = f"firmware[{index}]."
    if not isinstance(table, dict):
        raise reader.fail(f"firmware[{index}]", "must be a table ([[firmware]])")
    entry = _Reader(reader.path, table, where)
    entry.check_keys(_FIRMWARE_KEYS)
    version = entry.hex_id("version", lengths=(8,))
    variant: str | None = table.get("esme_variant")
    if device_type is DeviceType.ESME:
        if variant is None:
            raise entry.fail("esme_variant", "missing (every ESME firmware has an ESME variant)")
        if variant not in ESME_VARIANTS:
            raise entry.fail("esme_variant", f"{variant!r} is not a DUIS ESMEVariant")
    elif variant is not None:
        raise entry.fail("esme_variant", f"only an ESME has a variant, this is a {device_type}")
    raw_cases = table.get("use_cases")
    if not isinstance(raw_cases, list) or not all(isinstance(c, str) for c in raw_cases):
        raise entry.fail("use_cases", 'must be a list of use case names, e.g. ["ECS17b"]')
    for case in raw_cases:
        problem = _use_case_problem(case, device_type)
        if problem is not None:
            raise entry.fail("use_cases", problem)
    size = table.get("image_size", 4096)
    if isinstance(size, bool) or not isinstance(size, int) or not 64 <= size <= 16 * 1024 * 1024:
        raise entry.fail("image_size", f"must be 64 to 16777216 bytes, got {size!r}")
    upgrades = table.get("upgrades_from", [])
    if not isinstance(upgrades, list) or not all(
        isinstance(v, str) and _HEX.fullmatch(v.upper()) and len(v) == 8 for v in upgrades
    ):
        raise entry.fail("upgrades_from", "must be a list of 8-hex-digit versions")
    notes = table.get("notes", "")
    if not isinstance(notes, str):
        raise entry.fail("notes", "must be a string")
    return FirmwareVersion(
        version=version,
        use_cases=frozenset(raw_cases),
        esme_variant=variant,
        notes=notes,
        image_size=size,
        upgrades_from=frozenset(v.upper() for v in upgrades),
    )


def parse_profile(text: str, *, name: str, source: str) -> FirmwareProfile:
    """A profile from TOML text; ``source`` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, "(file)", f"not valid TOML: {exc}") from None
    reader = _Reader(source, data)
    reader.check_keys(_TOP_KEYS)
    schema = data.get("schema")
    if schema != SCHEMA_VERSION:
        raise reader.fail("schema", f"must be {SCHEMA_VERSION}, got {schema!r}")
    raw_type = reader.text("device_type", max_length=8)
    device_type = next((t for t in EMULATED_DEVICE_TYPES if t.value == raw_type), None)
    if device_type is None:
        known = ", ".join(t.value for t in EMULATED_DEVICE_TYPES)
        raise reader.fail("device_type", f"{raw_type!r} is not one of {known}")
    entries = data.get("firmware")
    if not isinstance(entries, list) or not entries:
        raise reader.fail("firmware", "at least one [[firmware]] table is needed")
    versions: dict[str, FirmwareVersion] = {}
    for index, table in enumerate(entries):
        firmware = _load_firmware(reader, index, table, device_type)
        if firmware.version in versions:
            raise reader.fail(f"firmware[{index}].version", f"{firmware.version} appears twice")
        versions[firmware.version] = firmware
    for index, firmware in enumerate(versions.values()):
        for origin in firmware.upgrades_from:
            if origin not in versions:
                raise reader.fail(
                    f"firmware[{index}].upgrades_from", f"{origin} is not a version of this model"
                )
    initial = reader.hex_id("initial_firmware", lengths=(8,))
    if initial not in versions:
        raise reader.fail("initial_firmware", f"{initial} is not one of the [[firmware]] versions")
    return FirmwareProfile(
        name=name,
        manufacturer=reader.text("manufacturer", max_length=60),
        manufacturer_id=reader.hex_id("manufacturer_id", lengths=(4,)),
        model=reader.text("model", max_length=60),
        model_id=reader.hex_id("model_id", lengths=(4, 8)),
        device_type=device_type,
        smets_version=reader.text("smets_version", max_length=20),
        initial_firmware=initial,
        firmware=versions,
        quirks=_load_quirks(reader),
        source=source,
        optical=_load_optical(reader),
    )


def _load_optical(reader: _Reader) -> Mapping[str, Any]:
    table = reader.table.get("optical", {})
    if not isinstance(table, dict):
        raise reader.fail("optical", "must be a table")
    return table


def load_profile(path: Path) -> FirmwareProfile:
    """Load and validate one profile file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(path, "(file)", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(path, "(file)", "not UTF-8 text") from None
    return parse_profile(text, name=path.stem, source=str(path))


class ProfileCatalogue(Mapping[str, FirmwareProfile]):
    """Profiles by name (file stem); also findable by manufacturer and model id."""

    def __init__(self, profiles: Iterable[FirmwareProfile]) -> None:
        self._by_name: dict[str, FirmwareProfile] = {}
        for profile in profiles:
            if profile.name in self._by_name:
                raise ProfileError(profile.source, "(file)", f"profile {profile.name!r} twice")
            self._by_name[profile.name] = profile

    def __getitem__(self, name: str) -> FirmwareProfile:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise KeyError(f"no firmware profile {name!r} (known: {known})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def by_model(self, manufacturer_id: str, model_id: str) -> FirmwareProfile | None:
        for profile in self._by_name.values():
            if (profile.manufacturer_id, profile.model_id) == (
                manufacturer_id.upper(),
                model_id.upper(),
            ):
                return profile
        return None


def load_profiles(directory: Path | None = None) -> ProfileCatalogue:
    """Every ``*.toml`` in ``directory``, or the bundled ``firmware_profiles`` package data."""
    if directory is not None:
        return ProfileCatalogue(load_profile(p) for p in sorted(directory.glob("*.toml")))
    return _bundled_profiles()


@functools.cache
def _bundled_profiles() -> ProfileCatalogue:
    # Package data does not change while the process runs, and the profiles are frozen: the
    # sandbox, its fleet and the firmware product list share one parse instead of one each.
    package = resources.files("firmware_profiles")
    profiles = []
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml") and entry.is_file():
            name = entry.name.removesuffix(".toml")
            text = entry.read_text(encoding="utf-8")
            source = f"firmware_profiles/{entry.name}"
            profiles.append(parse_profile(text, name=name, source=source))
    return ProfileCatalogue(profiles)
