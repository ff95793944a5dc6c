"""Fixtures of the DUIS tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.duis.schema import DuisSchema


@pytest.fixture
def templates(conformance: Path) -> Path:
    return conformance / "duis" / "templates"


@pytest.fixture
def schema_dir(conformance: Path) -> Path:
    return conformance / "duis" / "schema"


@pytest.fixture
def duis_schema(schema_dir: Path) -> DuisSchema:
    return _load(schema_dir)


_CACHE: dict[Path, DuisSchema] = {}


def _load(folder: Path) -> DuisSchema:
    if folder not in _CACHE:
        _CACHE[folder] = DuisSchema.load(folder)
    return _CACHE[folder]
