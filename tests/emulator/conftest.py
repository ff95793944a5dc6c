from __future__ import annotations

import pytest

from emulator.fleet import Fleet
from tests.emulator.support import HeadEnd, pki_for, sandbox_fleet


@pytest.fixture
def fleet() -> Fleet:
    return sandbox_fleet()


@pytest.fixture
def head(fleet: Fleet) -> HeadEnd:
    return HeadEnd(fleet, pki_for())
