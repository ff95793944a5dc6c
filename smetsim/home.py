"""The DCC's default home: the devices, meter points and suppliers a fresh sandbox state holds,
so that the DCC's request templates reach a device unchanged.

The home of the DCC's reference test data: CHF ``00-DB-12-34-56-78-90-A2`` with its GPF
``...-A3``, ESME ``...-A0``, GSME ``...-A1``, PPMID ``...-A4`` and HCALCS ``...-A5``
Commissioned, with a polyphase ESME ``...-C0`` (variant C, its own MPAN) on the same hub; the
IHD ``...-A6`` in the CHF's device log; the HAN join partners the join templates name (ESME
``...-93``, GSME ``...-94``, PPMID ``...-98``, HCALCS ``...-9A``, GPF ``...-9C``); devices
only pre-notified (ESME ``...-B0``, GSME ``...-B1``) for lifecycle tests; and any number of
extra ESMEs (``00-DB-00-00-xx-xx-xx-xx``) and suppliers for load.

:func:`seed_home` writes it into the SMI (what is not there yet), :func:`sandbox_fleet` builds
the emulated devices among them, :func:`home_keys` gives every device of the home the DCC may
command its keys and certificates, :func:`sandbox_keystore` reads them back from a state
folder.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from cryptography.hazmat.primitives.serialization import Encoding

from emulator.devices.trust import DEFAULT_TRUST, Trust
from emulator.fleet import Fleet
from gateway.config import ConfigError
from gateway.duis.signature import load_certificate
from gateway.model import DevicePrenotification, DeviceStatus
from gateway.server import Gateway
from gateway.users import MeterPoints, User, UserRole
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER, KeyPurpose
from gbcs.devices import DeviceType, Fuel
from gbcs.eui import parse_eui
from gbcs.keystore import Keystore, KeystoreError

if TYPE_CHECKING:
    from smetsim.sandbox_settings import SandboxSettings

__all__ = [
    "CHF",
    "ESME",
    "GAS_MPRN",
    "GPF",
    "GSME",
    "HCALCS",
    "HOME",
    "IHD",
    "IMPORT_MPAN",
    "JOIN_PARTNERS",
    "OTHER_USER",
    "PARTNER_ESME",
    "PARTNER_GPF",
    "PARTNER_GSME",
    "PARTNER_HCALCS",
    "PARTNER_PPMID",
    "PENDING_ESME",
    "PENDING_GSME",
    "PENDING_MPAN",
    "PENDING_MPRN",
    "POLYPHASE_ESME",
    "POLYPHASE_MPAN",
    "POLYPHASE_PROFILE",
    "PPMID",
    "SECONDARY_MPAN",
    "UPRN",
    "extra_device",
    "extra_supplier",
    "gateway_profile",
    "home_devices",
    "home_keys",
    "register_suppliers",
    "sandbox_fleet",
    "sandbox_keystore",
    "seed_home",
    "supplier_of",
]

ESME: Final = parse_eui("00-DB-12-34-56-78-90-A0")
GSME: Final = parse_eui("00-DB-12-34-56-78-90-A1")
CHF: Final = parse_eui("00-DB-12-34-56-78-90-A2")
GPF: Final = parse_eui("00-DB-12-34-56-78-90-A3")
PPMID: Final = parse_eui("00-DB-12-34-56-78-90-A4")
HCALCS: Final = parse_eui("00-DB-12-34-56-78-90-A5")
IHD: Final = parse_eui("00-DB-12-34-56-78-90-A6")
PARTNER_ESME: Final = parse_eui("00-DB-12-34-56-78-90-93")
PARTNER_GSME: Final = parse_eui("00-DB-12-34-56-78-90-94")
PARTNER_PPMID: Final = parse_eui("00-DB-12-34-56-78-90-98")
PARTNER_HCALCS: Final = parse_eui("00-DB-12-34-56-78-90-9A")
PARTNER_GPF: Final = parse_eui("00-DB-12-34-56-78-90-9C")
JOIN_PARTNERS: Final = (PARTNER_ESME, PARTNER_GSME, PARTNER_PPMID, PARTNER_HCALCS, PARTNER_GPF)
"""The devices the DCC's join templates (SR8.7, CS03) name as the other device: ESME ...-93
(method A with the HCALCS and the PPMID), GSME ...-94 (method C with the PPMID), PPMID ...-98
(method C with the GSME), HCALCS ...-9A (method A with the ESME), GPF ...-9C (method B with the
GSME). Their types are those the DCC's reference commands carry as the other device's type."""
PENDING_ESME: Final = parse_eui("00-DB-12-34-56-78-90-B0")
PENDING_GSME: Final = parse_eui("00-DB-12-34-56-78-90-B1")
POLYPHASE_ESME: Final = parse_eui("00-DB-12-34-56-78-90-C0")
"""A polyphase ESME (ESME variant C) beside the home's single-phase one: the DCC's templates
name no polyphase meter, so it has an EUI of its own, out of the range they use."""

IMPORT_MPAN: Final = "1312345678111"
"""The ESME's import MPAN (the one the 8.11 template carries)."""
SECONDARY_MPAN: Final = "1312345678222"
GAS_MPRN: Final = "1234567890"
PENDING_MPAN: Final = "1312345678333"
"""Registered for the pre-notified ESME, not yet linked."""
PENDING_MPRN: Final = "1234567891"
EXTRA_PREFIX: Final = bytes.fromhex("00db0000")
SUPPLIER_PREFIX: Final = bytes.fromhex("90b3d51f3e")
OTHER_USER: Final = parse_eui("90-B3-D5-1F-3F-00-00-01")
"""The home's Other User (role OU, e.g. a consumer access device provider): the one role that
may ask for a Customer Identification Number (SR9.1); its keys derive from the seed."""
UPRN: Final = "100023336956"
POLYPHASE_MPAN: Final = "1312345678444"
"""The polyphase ESME's import MPAN, supplied by the home's supplier."""
POLYPHASE_PROFILE: Final = "northbrook-nb300"

_PROFILES: Final = {
    DeviceType.ESME: "northbrook-nb100",
    DeviceType.GSME: "northbrook-ng20",
    DeviceType.CHF: "tellurian-ch2-chf",
    DeviceType.GPF: "tellurian-ch2-gpf",
    DeviceType.IHD: "lumen-ihd3",
    DeviceType.PPMID: "lumen-pp4-ppmid",
    DeviceType.HCALCS: "lumen-hc5-hcalcs",
}


@dataclass(frozen=True, slots=True)
class _Home:
    """A device of the default home: how to pre-notify, link and host it."""

    eui: bytes
    kind: DeviceType
    commissioned: bool
    import_mpxn: str | None = None
    secondary_mpan: str | None = None
    whitelisted: bool = False
    """In the CHF's device log without being commissioned (a type 2 device, a join partner)."""
    installed: bool = False
    """Installed Not Commissioned, in no device log (a hub's GPF waiting for its GSME)."""
    profile: str | None = None
    """The firmware profile emulating it, when not its type's usual one."""

    @property
    def emulated(self) -> bool:
        return self.kind in _PROFILES

    @property
    def profile_name(self) -> str:
        return self.profile or _PROFILES[self.kind]


HOME: Final[tuple[_Home, ...]] = (
    _Home(CHF, DeviceType.CHF, True),
    _Home(GPF, DeviceType.GPF, True),
    _Home(ESME, DeviceType.ESME, True, IMPORT_MPAN, SECONDARY_MPAN),
    _Home(POLYPHASE_ESME, DeviceType.ESME, True, POLYPHASE_MPAN, profile=POLYPHASE_PROFILE),
    _Home(GSME, DeviceType.GSME, True, GAS_MPRN),
    _Home(PPMID, DeviceType.PPMID, True),
    _Home(HCALCS, DeviceType.HCALCS, True),
    _Home(IHD, DeviceType.IHD, False, whitelisted=True),
    # The join partners: in the CHF's device log (the HAN a join happens on), not commissioned;
    # a GPF is part of a hub, never in a device log: installed.
    _Home(PARTNER_ESME, DeviceType.ESME, False, whitelisted=True),
    _Home(PARTNER_GSME, DeviceType.GSME, False, whitelisted=True),
    _Home(PARTNER_PPMID, DeviceType.PPMID, False, whitelisted=True),
    _Home(PARTNER_HCALCS, DeviceType.HCALCS, False, whitelisted=True),
    _Home(PARTNER_GPF, DeviceType.GPF, False, installed=True),
    _Home(PENDING_ESME, DeviceType.ESME, False),
    _Home(PENDING_GSME, DeviceType.GSME, False),
)


def extra_device(index: int) -> bytes:
    """The EUI of the ``index``-th extra ESME (``00-DB-00-00-00-00-00-01`` for 1)."""
    return EXTRA_PREFIX + index.to_bytes(4, "big")


def extra_mpan(index: int) -> str:
    return f"19{index:011d}"


def extra_supplier(index: int) -> bytes:
    """The EUI of the ``index``-th extra supplier (``90-B3-D5-1F-3E-00-00-01`` for 1)."""
    return SUPPLIER_PREFIX + index.to_bytes(3, "big")


def supplier_of(device_index: int, suppliers: int) -> bytes:
    """Who supplies the ``device_index``-th extra ESME when there are ``suppliers`` more."""
    k = device_index % (suppliers + 1)
    return SUPPLIER if k == 0 else extra_supplier(k)


def sandbox_fleet(settings: SandboxSettings, keystore: Keystore, seed: bytes) -> Fleet:
    """The devices a sandbox with ``settings`` hosts (restored from ``STATE/fleet.json`` when
    there is one): the home, then the extra ESMEs. A fleet worker of ``smetsim fleet serve``
    builds the same one from the same state folder."""
    snapshot = settings.gateway.state / "fleet.json"
    if snapshot.is_file():
        fleet = Fleet.restore(snapshot, keystore, faults=settings.faults)
    else:
        fleet = Fleet(seed, keystore, faults=settings.faults)
        fleet.add_sandbox_devices()
    for home in HOME:
        if home.emulated and home.eui not in fleet:
            fleet.add(home.eui, home.profile_name, hub=CHF)
    for index in range(1, settings.devices + 1):
        eui = extra_device(index)
        if eui not in fleet:
            supplier = supplier_of(index, settings.suppliers)
            trust = DEFAULT_TRUST if supplier == SUPPLIER else Trust(supplier=supplier)
            fleet.add(eui, _PROFILES[DeviceType.ESME], hub=CHF, trust=trust)
    return fleet


def _prenotification(
    eui: bytes, kind: DeviceType, gateway: Gateway, profile_name: str | None = None
) -> DevicePrenotification:
    profile = profile_details(profile_name or _PROFILES[kind], kind)
    return DevicePrenotification(
        device_id=eui,
        manufacturer=profile[0],
        model=profile[1],
        device_type=kind,
        smets_chts_version=profile[2],
        firmware_version=profile[3],
        esme_variant=profile[4],
        associated_gpf_id=GPF if eui == CHF else None,
    )


@functools.cache
def gateway_profile(kind: DeviceType) -> tuple[str, str, str, str, str | None]:
    """(manufacturer id, model id, SMETS/CHTS version, firmware, ESME variant) of the profile
    the sandbox hosts devices of ``kind`` with. Cached: reading the profiles' TOML for each of
    5,000 extra devices took most of a sandbox's start."""
    return profile_details(_PROFILES[kind], kind)


@functools.cache
def profile_details(name: str, kind: DeviceType) -> tuple[str, str, str, str, str | None]:
    """:func:`gateway_profile` of the firmware profile ``name`` (a device of type ``kind``)."""
    from emulator.firmware import load_profiles

    profile = load_profiles()[name]
    first = profile.version(profile.initial_firmware)
    variant = first.esme_variant if kind is DeviceType.ESME else None
    return (
        profile.manufacturer_id,
        profile.model_id,
        profile.smets_version,
        profile.initial_firmware,
        variant,
    )


def register_suppliers(gateway: Gateway, seed: bytes, count: int) -> None:
    """The extra supplier users, and the home's Other User (:data:`OTHER_USER`): keys derived
    from the seed, certificates from the test root, registered as Import and Gas Supplier (the
    Other User as OU; each kept as it is when already registered)."""
    suppliers = [extra_supplier(k) for k in range(1, count + 1)]
    roles = {eui: frozenset({UserRole.IS, UserRole.GS}) for eui in suppliers}
    roles[OTHER_USER] = frozenset({UserRole.OU})
    gateway.keystore.add_derived_devices(seed, list(roles))
    for eui, user_roles in roles.items():
        user = gateway.users.get(eui)
        if user is None:
            certificate = gateway.keystore.certificate(eui, KeyPurpose.DS)
            assert certificate is not None
            pem = certificate.public_bytes(Encoding.PEM).decode("ascii")
            user = gateway.users.add_or_update(User(eui, user_roles, pem))
        if user.certificate_pem is not None:
            gateway.certificates.add(eui, load_certificate(user.certificate_pem))


def seed_home(gateway: Gateway, extra: int, suppliers: int = 0) -> None:
    """Pre-notify, link and commission the default home (what is not in the SMI yet)."""
    service = gateway.service
    points = MeterPoints(gateway.storage)
    for mpxn, fuel in (
        (IMPORT_MPAN, Fuel.ELECTRICITY),
        (SECONDARY_MPAN, Fuel.ELECTRICITY),
        (GAS_MPRN, Fuel.GAS),
        (PENDING_MPAN, Fuel.ELECTRICITY),
        (PENDING_MPRN, Fuel.GAS),
        (POLYPHASE_MPAN, Fuel.ELECTRICITY),
    ):
        if points.get(mpxn) is None:
            points.register_meter_point(mpxn, fuel, SUPPLIER, NETWORK_OPERATOR, uprn=UPRN)
    # The hub's GPF is pre-notified with its CHF (as the CHF's associated GPF).
    missing = [h for h in HOME if h.eui != GPF and service.get_device(h.eui) is None]
    if missing:
        service.prenotify_shipment(
            SUPPLIER,
            [_prenotification(h.eui, h.kind, gateway, h.profile) for h in missing],
        )
        for home in missing:
            _install(
                gateway,
                home.eui,
                home.kind,
                home.commissioned,
                home.import_mpxn,
                home.secondary_mpan,
                whitelisted=home.whitelisted,
                installed=home.installed,
            )
            if home.eui == CHF:
                _install(gateway, GPF, DeviceType.GPF, True, None, None)
    _seed_extra(gateway, extra, suppliers)


def _install(
    gateway: Gateway,
    eui: bytes,
    kind: DeviceType,
    commissioned: bool,
    import_mpxn: str | None,
    secondary: str | None,
    *,
    whitelisted: bool = False,
    installed: bool = False,
) -> None:
    service = gateway.service
    if whitelisted:
        service.on_whitelisted(eui, CHF)
    if installed:
        service.on_installed_not_commissioned(eui)
    if not commissioned:
        return
    if kind in (DeviceType.CHF, DeviceType.GPF):
        service.on_installed_not_commissioned(eui)
    else:
        service.on_whitelisted(eui, CHF, import_mpxn=import_mpxn, secondary_import_mpan=secondary)
    record = service.on_commissioned(eui)
    assert record.status is DeviceStatus.COMMISSIONED


def _seed_extra(gateway: Gateway, extra: int, suppliers: int) -> None:
    service = gateway.service
    todo = [i for i in range(1, extra + 1) if service.get_device(extra_device(i)) is None]
    if not todo:
        return
    # Imported here: rich is loaded only when there are devices to seed.
    from smetsim.progress import progress

    points = MeterPoints(gateway.storage)
    with (
        gateway.storage.transaction(),
        progress(f"seeding {len(todo)} devices", 3 * len(todo)) as advance,
    ):
        for i in todo:
            points.register_meter_point(
                extra_mpan(i), Fuel.ELECTRICITY, supplier_of(i, suppliers), NETWORK_OPERATOR
            )
            advance(1)
        service.prenotify_shipment(
            SUPPLIER, [_prenotification(extra_device(i), DeviceType.ESME, gateway) for i in todo]
        )
        advance(len(todo))
        for i in todo:
            _install(gateway, extra_device(i), DeviceType.ESME, True, extra_mpan(i), None)
            advance(1)


def home_keys(keystore: Keystore, seed: bytes, fleet: Fleet) -> None:
    """Keys and certificates, derived from ``seed``, for every device the fleet hosts and
    every device of the home: the DCC MACs commands for a PPMID or HCALCS and carries a join
    partner's key agreement certificate in a method C join, emulated or not."""
    euis = list(fleet.euis())
    hosted = set(euis)
    euis += [eui for eui in home_devices() if eui not in hosted]
    keystore.add_derived_devices(seed, euis)


def home_devices() -> Iterable[bytes]:
    """Every EUI of the default home."""
    return (h.eui for h in HOME)


def sandbox_keystore(state: Path) -> Keystore:
    """The keys of a sandbox's state folder: its test PKI (``pki/``) and the keys of every
    device in its SMI, derived from its seed - what ``smetsim pki export`` writes and
    ``smetsim send --state`` signs and checks with. :class:`ConfigError` names what is
    missing."""
    pki = state / "pki"
    seed_file = state / "seed"
    if not pki.is_dir() or not seed_file.is_file():
        raise ConfigError(
            f"{str(state)!r} is not a sandbox state folder (no pki/ or seed): start "
            "'smetsim sandbox --state DIR' once first"
        )
    try:
        keystore = Keystore.load(pki)
        seed = bytes.fromhex(seed_file.read_text().strip())
    except (OSError, ValueError, KeystoreError) as exc:
        raise ConfigError(f"cannot read the sandbox keys in {str(state)!r}: {exc}") from None
    keystore.add_derived_devices(seed, _smi_devices(state / "gateway.db"))
    keystore.add_derived_devices(
        seed,
        [
            u
            for u in _users(state / "gateway.db")
            if u.startswith(SUPPLIER_PREFIX) or u == OTHER_USER
        ],
    )
    return keystore


def _smi_devices(database: Path) -> list[bytes]:
    return _column(database, "SELECT device_id FROM devices") or list(home_devices())


def _users(database: Path) -> list[bytes]:
    return _column(database, "SELECT eui FROM users")


def _column(database: Path, sql: str) -> list[bytes]:
    if not database.is_file():
        return []
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute(sql).fetchall()
    except sqlite3.Error:
        return []
    finally:
        connection.close()
    return [bytes(row[0]) for row in rows]
