"""DCC Users, their certificates, meter points and change of supplier, the default identities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.errors import AdminError
from gateway.model import PropertyFilter
from gateway.storage import Storage
from gateway.users import (
    MeterPoints,
    User,
    UserRole,
    Users,
    normalise_issuer,
    seed_default_identities,
)
from gbcs.devices import Fuel
from tests.gateway.smi import ELEC, GAS, NOP, OTHER, S1, S2, snapshot


def _certificate(serial: int, issuer: str = "U1", unit: str = "07") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    # DER order OU, CN: written "CN=U1, OU=07" in RFC 4514 (last RDN first), as in DUIS
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, issuer),
        ]
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_default_identities_mirror_the_dcc_test_environment(storage: Storage) -> None:
    written = seed_default_identities(storage)
    users = {u.eui: u.roles for u in Users(storage).all()}
    assert users == {
        S1: {UserRole.IS, UserRole.GS, UserRole.ES},
        S2: {UserRole.IS, UserRole.GS},
        bytes.fromhex("90b3d51f30010008"): {UserRole.IS, UserRole.GS},
        NOP: {UserRole.ED, UserRole.GT},
    }
    assert len(written) == 4
    assert seed_default_identities(storage) == []  # already there: left alone


def test_seeding_keeps_a_user_changed_by_config(storage: Storage) -> None:
    Users(storage).add_or_update(User(S1, frozenset({UserRole.OU}), response_url="http://x/cb"))
    seed_default_identities(storage)
    user = Users(storage).get(S1)
    assert user is not None
    assert user.roles == {UserRole.OU}


def test_find_user_by_certificate_issuer_and_serial(storage: Storage) -> None:
    users = Users(storage)
    users.add_or_update(User(S1, frozenset({UserRole.IS}), _certificate(1234567890)))
    users.add_or_update(User(S2, frozenset({UserRole.IS}), _certificate(1234567890, issuer="U2")))
    found = users.find_by_issuer_serial("CN=U1, OU=07", 1234567890)
    assert found is not None
    assert found.eui == S1
    assert users.find_by_issuer_serial("CN=U1,OU=07", "1234567890") == found
    assert users.find_by_issuer_serial("CN=U2, OU=07", 1234567890) is not None
    assert users.find_by_issuer_serial("CN=U1, OU=07", 1) is None
    assert users.find_by_issuer_serial("CN=U3, OU=07", 1234567890) is None


def test_updating_a_user_replaces_its_certificate(storage: Storage) -> None:
    users = Users(storage)
    users.add_or_update(User(S1, frozenset({UserRole.IS}), _certificate(1)))
    users.add_or_update(
        User(S1, frozenset({UserRole.IS, UserRole.GS}), _certificate(2), "https://s1/cb")
    )
    assert users.find_by_issuer_serial("CN=U1, OU=07", 1) is None
    user = users.find_by_issuer_serial("CN=U1, OU=07", 2)
    assert user is not None
    assert user.response_url == "https://s1/cb"
    assert len(users.all()) == 1


@pytest.mark.parametrize(
    ("user", "words"),
    [
        (User(S1, frozenset()), "at least one role"),
        (User(b"\x01", frozenset({UserRole.IS})), "EUI-64"),
        (User(S1, frozenset({UserRole.IS}), "-----BEGIN CERTIFICATE-----\nnope\n"), "not a PEM"),
        (User(S1, frozenset({UserRole.IS}), None, "ftp://x"), "not an http(s) URL"),
    ],
)
def test_bad_users_are_refused_naming_the_value(storage: Storage, user: User, words: str) -> None:
    before = snapshot(storage)
    with pytest.raises(AdminError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Users(storage).add_or_update(user)
    assert snapshot(storage) == before


def test_roles_parse_from_abbreviations_and_names() -> None:
    assert UserRole.parse("gs") is UserRole.GS
    assert UserRole.parse("Import Supplier") is UserRole.IS
    assert UserRole.parse("registered_supplier-agent") is UserRole.RSA
    assert UserRole.ED.full_name == "Electricity Distributor"
    with pytest.raises(AdminError, match="'Meter Operator'"):
        UserRole.parse("Meter Operator")


def test_issuer_names_normalise() -> None:
    assert normalise_issuer("CN=U1, OU=07") == normalise_issuer("CN=U1,OU=07")
    assert normalise_issuer("not = a , name") == "not=a,name"
    assert normalise_issuer(" CN = U1 ,OU=07") == "CN=U1,OU=07"


# --- meter points -------------------------------------------------------------------------------


@pytest.fixture
def points(storage: Storage) -> MeterPoints:
    seed_default_identities(storage)
    Users(storage).add_or_update(User(OTHER, frozenset({UserRole.OU})))
    return MeterPoints(storage)


def test_register_and_change_of_supplier(points: MeterPoints) -> None:
    first = points.register_meter_point(
        ELEC, "electricity", S1, NOP, uprn="0012", property_filter=PropertyFilter("AB1 2CD", "1")
    )
    assert first.fuel is Fuel.ELECTRICITY
    assert first.uprn == "12"
    assert first.service_flag is None
    second = points.register_meter_point(ELEC, Fuel.ELECTRICITY, S2)
    assert second.supplier == S2
    assert [p.mpxn for p in points.list_meter_points()] == [ELEC]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((ELEC, "water", S1), "neither 'electricity' nor 'gas'"),
        (("123", "electricity", S1), "not an MPAN of 13 digits"),
        (("12345678901", "gas", S1), "not an MPRN of 1 to 10 digits"),
        (("12A", "gas", S1), "not a string of digits"),
        ((GAS, "gas", OTHER), "lacks the GS (Gas Supplier) role"),
        ((GAS, "gas", bytes.fromhex("90b3d51f30990000")), "not a registered DCC User"),
        ((GAS, "gas", S1, S2), "lacks the GT (Gas Transporter) role"),
        ((ELEC, "electricity", S1, None, "0"), "UPRN '0'"),
        ((ELEC, "electricity", S1, None, "1234567890123"), "up to 12 digits"),
    ],
)
def test_bad_meter_points_are_refused(
    points: MeterPoints, args: tuple[object, ...], words: str
) -> None:
    before = snapshot(points.storage)
    with pytest.raises(AdminError, match=words.replace("(", r"\(").replace(")", r"\)")):
        points.register_meter_point(*args)  # type: ignore[arg-type]
    assert snapshot(points.storage) == before
