"""DCC Users and registration data (meter points), stored in :class:`gateway.storage.Storage`.

- :class:`Users`: the DCC Users the gateway knows, with their roles, the certificate their
  XML signatures are verified against (looked up by issuer and serial) and the URL their
  asynchronous responses go to.
- :class:`MeterPoints`: the registration data of each MPxN - fuel, registered supplier (the
  Responsible Supplier of the meters linked to it), network operator, UPRN and address - and
  its current DCC Service Flag. Registering a meter point again with another supplier is a
  change of supplier.
- :func:`advance_request_counter`: the RequestID counter rule (strictly increasing per
  originator), shared by device and non-device requests.
- :func:`seed_default_identities`: the DCC test environment's users, so the conformance
  templates work unchanged.

Bad admin/config values raise :class:`gateway.errors.AdminError` naming the value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Self

from cryptography import x509

from gateway.errors import AdminError, ServiceError
from gateway.model import PropertyFilter
from gateway.storage import Row, Storage, Transaction
from gbcs.codes import ACB
from gbcs.devices import Fuel


class UserRole(StrEnum):
    """DCC User roles, by their DUIS abbreviations."""

    IS = "IS"
    ES = "ES"
    GS = "GS"
    ED = "ED"
    GT = "GT"
    OU = "OU"
    RSA = "RSA"

    @property
    def full_name(self) -> str:
        """The role's full name ("Import Supplier")."""
        return _ROLE_TITLES[self]

    @classmethod
    def parse(cls, text: str) -> UserRole:
        """A role from its abbreviation or full name, any case; AdminError names a bad one."""
        key = re.sub(r"[\s_-]+", " ", text.strip()).casefold()
        for role in cls:
            if key in (role.value.casefold(), _ROLE_TITLES[role].casefold()):
                return role
        known = ", ".join(f"{r.value} ({_ROLE_TITLES[r]})" for r in cls)
        raise AdminError(f"unknown DCC User role {text!r}: expected one of {known}")


_ROLE_TITLES: Final = {
    UserRole.IS: "Import Supplier",
    UserRole.ES: "Export Supplier",
    UserRole.GS: "Gas Supplier",
    UserRole.ED: "Electricity Distributor",
    UserRole.GT: "Gas Transporter",
    UserRole.OU: "Other User",
    UserRole.RSA: "Registered Supplier Agent",
}

SUPPLIER_ROLES: Final = frozenset({UserRole.IS, UserRole.ES, UserRole.GS})


@dataclass(frozen=True, slots=True)
class User:
    """A DCC User: EUI (8 bytes), roles, the PEM certificate of its XML signing key, URL."""

    eui: bytes
    roles: frozenset[UserRole]
    certificate_pem: str | None = None
    response_url: str | None = None


def _check_eui(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != 8:
        raise AdminError(f"{what} must be an EUI-64 (8 bytes), got {value!r}")
    return value


def _eui(value: bytes) -> str:
    return "-".join(f"{b:02X}" for b in value)


def normalise_issuer(issuer: str) -> str:
    """An issuer distinguished name in one comparable form (RFC 4514, as ``cryptography`` prints).

    ``"CN=U1, OU=07"`` and ``"CN=U1,OU=07"`` compare equal; an unparsable name is compared as
    written, whitespace around the separators removed.
    """
    compact = re.sub(r"\s*([,=+])\s*", r"\1", issuer.strip())
    try:
        return x509.Name.from_rfc4514_string(compact).rfc4514_string()
    except ValueError:
        return compact


def _certificate_identity(pem: str, eui: bytes) -> tuple[str, str]:
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise AdminError(
            f"the certificate of user {_eui(eui)} is not a PEM X.509 certificate: {exc}"
        ) from exc
    return normalise_issuer(cert.issuer.rfc4514_string()), str(cert.serial_number)


@functools.lru_cache(maxsize=128)
def _roles(text: str) -> frozenset[UserRole]:
    return frozenset(UserRole(r) for r in text.split(",") if r)


def _user(row: Row) -> User:
    return User(
        bytes(row["eui"]), _roles(row["roles"]), row["certificate_pem"], row["response_url"]
    )


class Users:
    """The registry of DCC Users."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def add_or_update(self, user: User) -> User:
        """Register ``user`` or replace its roles, certificate and URL; AdminError if bad."""
        _check_eui(user.eui, "the user EUI")
        if not user.roles:
            raise AdminError(f"user {_eui(user.eui)} needs at least one role")
        for role in user.roles:
            if not isinstance(role, UserRole):
                raise AdminError(f"user {_eui(user.eui)} has an unknown role {role!r}")
        issuer = serial = None
        if user.certificate_pem is not None:
            issuer, serial = _certificate_identity(user.certificate_pem, user.eui)
        url = user.response_url
        if url is not None and not re.match(r"^https?://[^\s/]+", url):
            raise AdminError(
                f"the response URL of user {_eui(user.eui)} is not an http(s) URL: {url!r}"
            )
        roles = ",".join(sorted(r.value for r in user.roles))
        with self.storage.transaction() as tx:
            tx.execute(
                "INSERT INTO users (eui, roles, certificate_pem, response_url, issuer, serial) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (eui) DO UPDATE SET roles = excluded.roles, "
                "certificate_pem = excluded.certificate_pem, response_url = excluded.response_url, "
                "issuer = excluded.issuer, serial = excluded.serial",
                (user.eui, roles, user.certificate_pem, url, issuer, serial),
            )
        return user

    def get(self, eui: bytes) -> User | None:
        with self.storage.transaction() as tx:
            return get_user(tx, eui)

    def all(self) -> list[User]:
        with self.storage.transaction() as tx:
            return [_user(r) for r in tx.all("SELECT * FROM users ORDER BY eui")]

    def all_with_counters(self) -> list[tuple[User, int | None]]:
        """Every user with its last accepted RequestID counter (None: none yet)."""
        with self.storage.transaction() as tx:
            rows = tx.all(
                "SELECT u.*, c.counter AS last_counter FROM users u "
                "LEFT JOIN request_counters c ON c.originator = u.eui ORDER BY u.eui"
            )
        return [
            (
                _user(r),
                None if r["last_counter"] is None else int.from_bytes(r["last_counter"], "big"),
            )
            for r in rows
        ]

    def find_by_issuer_serial(self, issuer: str, serial: int | str) -> User | None:
        """The user whose registered certificate has this issuer and serial number, or None."""
        wanted = normalise_issuer(issuer)
        with self.storage.transaction() as tx:
            rows = tx.all("SELECT * FROM users WHERE serial = ?", (str(int(serial)),))
        for row in rows:
            if row["issuer"] == wanted:
                return _user(row)
        return None


def users_version(tx: Transaction) -> int:
    """A number that changes whenever a user is added, changed or removed (by any process
    sharing the database: triggers keep it), so a worker knows when to reread the users."""
    row = tx.one("SELECT value FROM gateway_meta WHERE key = 'users_version'")
    return 0 if row is None else int(row["value"])


def get_user(tx: Transaction, eui: bytes) -> User | None:
    row = tx.one("SELECT * FROM users WHERE eui = ?", (eui,))
    return None if row is None else _user(row)


# --- RequestID counters ---------------------------------------------------------------------

COUNTER_MAX: Final = 2**64 - 1


def advance_request_counter(tx: Transaction, originator: bytes, counter: int) -> None:
    """Accept ``counter`` for ``originator`` if strictly greater than the last one accepted.

    Raises ServiceError ``counter_out_of_range`` or ``request_id_replayed``. The new value is
    written in ``tx``, so a request refused later in the same transaction does not consume it.
    """
    accept_counter(tx, originator, counter, last_request_counter(tx, originator))


def accept_counter(tx: Transaction, originator: bytes, counter: int, last: int | None) -> None:
    """:func:`advance_request_counter` when the caller has read ``last`` already (None: none)."""
    check_counter(originator, counter, last)
    write_counter(tx, originator, counter)


def check_counter(originator: bytes, counter: int, last: int | None) -> None:
    """The rules of :func:`accept_counter` without the write: a caller that goes on checking
    other rules writes the counter (:func:`write_counter`) once they all passed."""
    if not 0 <= counter <= COUNTER_MAX:
        raise ServiceError("counter_out_of_range", counter=counter)
    if last is not None and counter <= last:
        raise ServiceError("request_id_replayed", counter=counter, originator=originator, last=last)


def write_counter(tx: Transaction, originator: bytes, counter: int) -> None:
    """Record ``counter`` as ``originator``'s last accepted one (checked by
    :func:`check_counter`)."""
    tx.execute(
        "INSERT INTO request_counters (originator, counter) VALUES (?, ?) "
        "ON CONFLICT (originator) DO UPDATE SET counter = excluded.counter",
        (originator, counter.to_bytes(8, "big")),
    )


def get_user_and_counter(tx: Transaction, eui: bytes) -> tuple[User | None, int | None]:
    """The user and its last accepted RequestID counter, in one query (the hot path)."""
    row = tx.one(
        "SELECT u.*, c.counter AS last_counter FROM users u "
        "LEFT JOIN request_counters c ON c.originator = u.eui WHERE u.eui = ?",
        (eui,),
    )
    if row is None:
        return None, None
    last = row["last_counter"]
    return _user(row), None if last is None else int.from_bytes(last, "big")


def check_sender(tx: Transaction, sender: bytes, originator: bytes) -> tuple[User, int | None]:
    """The first RequestID rules of every SR, device or not: ``sender`` (whose signature was
    verified) is a registered DCC User and the RequestID's ``originator``. The user and its
    last accepted counter (``None``: none yet), read in one query; ServiceError otherwise.
    The counter is then accepted with :func:`accept_counter`."""
    user, last = get_user_and_counter(tx, sender)
    if user is None:
        if sender == ACB:
            raise ServiceError("sender_is_acb", sender=sender)
        raise ServiceError("unknown_user", sender=sender)
    if originator != sender:
        raise ServiceError("originator_not_sender", originator=originator, sender=sender)
    return user, last


def last_request_counter(tx: Transaction, originator: bytes) -> int | None:
    row = tx.one("SELECT counter FROM request_counters WHERE originator = ?", (originator,))
    return None if row is None else int.from_bytes(row["counter"], "big")


# --- meter points ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterPoint:
    """Registration data of one MPxN, and its current DCC Service Flag (None: never set)."""

    mpxn: str
    fuel: Fuel
    supplier: bytes
    network_operator: bytes | None = None
    uprn: str | None = None
    property_filter: PropertyFilter | None = None
    service_flag: str | None = None
    flag_date: str | None = None


def check_mpxn(mpxn: str, fuel: Fuel) -> str:
    """An MPAN is 13 digits; an MPRN 1 to 10 digits (as in registration flows)."""
    if not isinstance(mpxn, str) or not mpxn.isascii() or not mpxn.isdigit():
        raise AdminError(f"meter point {mpxn!r} is not a string of digits")
    if fuel is Fuel.ELECTRICITY and len(mpxn) != 13:
        raise AdminError(f"electricity meter point {mpxn!r} is not an MPAN of 13 digits")
    if fuel is Fuel.GAS and not 1 <= len(mpxn) <= 10:
        raise AdminError(f"gas meter point {mpxn!r} is not an MPRN of 1 to 10 digits")
    return mpxn


def check_uprn(uprn: str | int) -> str:
    """A UPRN is a positive integer of up to 12 digits (the schema's type); leading zeros go."""
    text = str(uprn).strip()
    if not text.isascii() or not text.isdigit() or int(text) == 0 or len(str(int(text))) > 12:
        raise AdminError(f"UPRN {uprn!r} is not a positive integer of up to 12 digits")
    return str(int(text))


def _meter_point(row: Row) -> MeterPoint:
    postcode = row["postcode"]
    return MeterPoint(
        mpxn=row["mpxn"],
        fuel=Fuel(row["fuel"]),
        supplier=bytes(row["supplier"]),
        network_operator=None
        if row["network_operator"] is None
        else bytes(row["network_operator"]),
        uprn=row["uprn"],
        property_filter=None
        if postcode is None
        else PropertyFilter(postcode, row["address_identifier"]),
        service_flag=row["service_flag"],
        flag_date=row["flag_date"],
    )


def get_meter_point(tx: Transaction, mpxn: str) -> MeterPoint | None:
    row = tx.one("SELECT * FROM meter_points WHERE mpxn = ?", (mpxn,))
    return None if row is None else _meter_point(row)


def meter_point_supplier(tx: Transaction, mpxn: str) -> bytes | None:
    """``get_meter_point(tx, mpxn).supplier`` (None: no such meter point), reading only it."""
    row = tx.one("SELECT supplier FROM meter_points WHERE mpxn = ?", (mpxn,))
    return None if row is None else bytes(row[0])


class MeterPoints:
    """Registration data: which supplier serves which meter point."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def register_meter_point(
        self,
        mpxn: str,
        fuel: Fuel | str,
        supplier: bytes,
        network_operator: bytes | None = None,
        uprn: str | int | None = None,
        property_filter: PropertyFilter | None = None,
    ) -> MeterPoint:
        """Register ``mpxn`` (or update it: another supplier is a change of supplier).

        Its service flag is kept. (The fuel cannot change: an MPAN has 13 digits, an MPRN at
        most 10.)
        """
        try:
            fuel = Fuel(fuel)
        except ValueError:
            raise AdminError(f"fuel {fuel!r} is neither 'electricity' nor 'gas'") from None
        check_mpxn(mpxn, fuel)
        _check_eui(supplier, f"the supplier of meter point {mpxn}")
        if network_operator is not None:
            _check_eui(network_operator, f"the network operator of meter point {mpxn}")
        uprn_text = None if uprn is None else check_uprn(uprn)
        if property_filter is not None:
            pc = property_filter.postcode
            if not 6 <= len(pc) <= 8 or len(property_filter.address_identifier) > 30:
                raise AdminError(
                    f"address of meter point {mpxn}: postcode {pc!r} must be 6 to 8 characters "
                    "and the address identifier at most 30"
                )
        with self.storage.transaction() as tx:
            users = {
                _eui(u): get_user(tx, u) for u in (supplier, network_operator) if u is not None
            }
            for text, user in users.items():
                if user is None:
                    raise AdminError(f"{text} is not a registered DCC User: register it first")
            supplier_user = users[_eui(supplier)]
            assert supplier_user is not None
            needed = UserRole.IS if fuel is Fuel.ELECTRICITY else UserRole.GS
            if needed not in supplier_user.roles:
                raise AdminError(
                    f"{_eui(supplier)} cannot supply {fuel.value} meter point {mpxn}: "
                    f"it lacks the {needed.value} ({needed.full_name}) role"
                )
            if network_operator is not None:
                nop = users[_eui(network_operator)]
                assert nop is not None
                wanted = UserRole.ED if fuel is Fuel.ELECTRICITY else UserRole.GT
                if wanted not in nop.roles:
                    raise AdminError(
                        f"{_eui(network_operator)} cannot be the network operator of {fuel.value} "
                        f"meter point {mpxn}: it lacks the {wanted.value} ({wanted.full_name}) role"
                    )
            tx.execute(
                "INSERT INTO meter_points (mpxn, fuel, supplier, network_operator, uprn, postcode, "
                "address_identifier) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mpxn) DO UPDATE SET "
                "supplier = excluded.supplier, network_operator = excluded.network_operator, "
                "uprn = excluded.uprn, postcode = excluded.postcode, "
                "address_identifier = excluded.address_identifier",
                (
                    mpxn,
                    fuel.value,
                    supplier,
                    network_operator,
                    uprn_text,
                    None if property_filter is None else property_filter.postcode,
                    None if property_filter is None else property_filter.address_identifier,
                ),
            )
            registered = get_meter_point(tx, mpxn)
        assert registered is not None
        return registered

    def get(self, mpxn: str) -> MeterPoint | None:
        with self.storage.transaction() as tx:
            return get_meter_point(tx, mpxn)

    def list_meter_points(self) -> list[MeterPoint]:
        with self.storage.transaction() as tx:
            return [_meter_point(r) for r in tx.all("SELECT * FROM meter_points ORDER BY mpxn")]


# --- the DCC test environment's identities --------------------------------------------------

DEFAULT_SUPPLIER: Final = bytes.fromhex("90b3d51f30010000")
DEFAULT_SUPPLIER_2: Final = bytes.fromhex("90b3d51f30030000")
DEFAULT_SUPPLIER_3: Final = bytes.fromhex("90b3d51f30010008")
DEFAULT_NETWORK_OPERATOR: Final = bytes.fromhex("90b3d51f30020000")


@dataclass(frozen=True, slots=True)
class DefaultIdentities:
    """What :func:`seed_default_identities` registers."""

    users: tuple[User, ...]

    @classmethod
    def dcc_test_environment(cls) -> Self:
        return cls(
            (
                User(DEFAULT_SUPPLIER, frozenset({UserRole.IS, UserRole.GS, UserRole.ES})),
                User(DEFAULT_SUPPLIER_2, frozenset({UserRole.IS, UserRole.GS})),
                User(DEFAULT_SUPPLIER_3, frozenset({UserRole.IS, UserRole.GS})),
                User(DEFAULT_NETWORK_OPERATOR, frozenset({UserRole.ED, UserRole.GT})),
            )
        )


def seed_default_identities(
    storage: Storage,
    *,
    certificates: dict[bytes, str] | None = None,
    response_urls: dict[bytes, str] | None = None,
    only_missing: bool = True,
) -> list[User]:
    """Register the DCC test environment's users (supplier 90-B3-D5-1F-30-01-00-00 as Import, Export
    and Gas Supplier, second and third suppliers 90-B3-D5-1F-30-03-00-00 and
    90-B3-D5-1F-30-01-00-08, network operator 90-B3-D5-1F-30-02-00-00 as Electricity
    Distributor and Gas Transporter).

    ``certificates`` / ``response_urls`` (by EUI) fill those fields. With ``only_missing``
    (default) a user already registered is left as it is (a config file or the admin API may
    have changed it). Returns the users written.
    """
    users = Users(storage)
    written: list[User] = []
    for user in DefaultIdentities.dcc_test_environment().users:
        if only_missing and users.get(user.eui) is not None:
            continue
        full = User(
            user.eui,
            user.roles,
            (certificates or {}).get(user.eui),
            (response_urls or {}).get(user.eui),
        )
        written.append(users.add_or_update(full))
    return written


def roles_text(roles: Iterable[UserRole]) -> str:
    return "/".join(sorted(r.value for r in roles)) or "none"
