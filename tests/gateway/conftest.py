"""Fixtures of the gateway's non-device tests: a fresh state database, a settable clock,
the DCC test users, registered meter points and a RequestID factory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.inventory import MIGRATIONS
from gateway.services import NonDeviceService
from gateway.storage import Storage
from gateway.users import (
    MeterPoints,
    User,
    UserRole,
    Users,
    seed_default_identities,
)
from gbcs.devices import Fuel
from tests.gateway.smi import (
    ADDRESS,
    ELEC,
    ELEC_2,
    ELEC_EXPORT,
    ELEC_S2,
    GAS,
    GAS_S2,
    NOP,
    OTHER,
    S1,
    S2,
    UPRN,
    Clock,
    Ids,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ids() -> Ids:
    return Ids()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "gateway.db"


@pytest.fixture
def storage(db_path: Path) -> Iterator[Storage]:
    # "process" durability (synchronous=NORMAL) keeps the suite quick; test_storage checks FULL
    with Storage.open(db_path, migrations=MIGRATIONS, durability="process") as s:
        yield s


@pytest.fixture
def registered(storage: Storage) -> Storage:
    """The DCC test users, an Other User, and meter points for both suppliers."""
    seed_default_identities(storage)
    Users(storage).add_or_update(User(OTHER, frozenset({UserRole.OU})))
    points = MeterPoints(storage)
    points.register_meter_point(ELEC, Fuel.ELECTRICITY, S1, NOP, uprn=UPRN, property_filter=ADDRESS)
    points.register_meter_point(ELEC_2, Fuel.ELECTRICITY, S1, NOP, uprn=UPRN)
    points.register_meter_point(ELEC_EXPORT, Fuel.ELECTRICITY, S1, NOP, uprn=UPRN)
    points.register_meter_point(ELEC_S2, Fuel.ELECTRICITY, S2, NOP)
    points.register_meter_point(GAS, Fuel.GAS, S1, NOP, uprn=UPRN, property_filter=ADDRESS)
    points.register_meter_point(GAS_S2, Fuel.GAS, S2)
    return storage


@pytest.fixture
def service(registered: Storage, clock: Clock) -> NonDeviceService:
    return NonDeviceService(registered, clock=clock)


@pytest.fixture
def mp077(registered: Storage, clock: Clock) -> NonDeviceService:
    return NonDeviceService(registered, clock=clock, flag_rules="mp077")
