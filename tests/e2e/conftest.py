"""The end-to-end fixtures: a whole sandbox (gateway + in-process WAN + fleet) on a free port,
and a DCC User's client that signs its XML."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smetsim.client import DuisClient
from smetsim.sandbox import Sandbox, SandboxSettings
from tests.conftest import CONFORMANCE
from tests.e2e.support import SchemaCheck


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    settings = SandboxSettings.create(
        state=tmp_path / "state",
        port=0,
        latency=False,
        response_timeout=2.0,
        durability="process",
    )
    sb = await Sandbox.start(settings)
    try:
        yield sb
    finally:
        await sb.close()


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[DuisClient]:
    async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
        yield c


@pytest.fixture(scope="session")
def schema() -> SchemaCheck:
    """Checks an answer against the DUIS 5.4 schema (a no-op without ../shared/conformance)."""
    return SchemaCheck(CONFORMANCE if CONFORMANCE.is_dir() else None)
