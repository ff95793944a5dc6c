"""The DUIS schema at run time: loaded from a folder, fast validation, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.duis.schema import DuisSchema, SchemaLoadError
from gateway.duis.xml import parse_document
from gateway.errors import ServiceError


def test_every_template_validates(templates: Path, duis_schema: DuisSchema) -> None:
    for path in sorted(templates.glob("*.XML")):
        root = parse_document(path.read_bytes())
        assert duis_schema.errors(root) == [], path.name
        duis_schema.validate(root)


def test_a_bad_value_names_the_element(templates: Path, duis_schema: DuisSchema) -> None:
    data = (templates / "8.2_READ_INVENTORY_REQUEST_DUIS.XML").read_bytes()
    root = parse_document(data.replace(b"00-DB-12-34-56-78-90-A2", b"00-DB-12"))
    with pytest.raises(ServiceError) as exc:
        duis_schema.validate(root)
    assert exc.value.rule == "duis_schema_invalid"
    assert exc.value.code == "E42"
    assert "DeviceID" in exc.value.sentence
    assert "00-DB-12" in exc.value.sentence


def test_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SchemaLoadError, match="does not exist"):
        DuisSchema.load(tmp_path / "nope")


def test_a_folder_without_the_schema(tmp_path: Path) -> None:
    with pytest.raises(SchemaLoadError, match="DUIS Schema V5"):
        DuisSchema.load(tmp_path)


def test_a_folder_missing_an_imported_schema(schema_dir: Path, tmp_path: Path) -> None:
    shutil.copy(schema_dir / "DUIS Schema V5.4.xsd", tmp_path)
    with pytest.raises(SchemaLoadError, match="cannot load"):
        DuisSchema.load(tmp_path)


def test_imports_are_only_read_from_the_folder(schema_dir: Path, tmp_path: Path) -> None:
    # An import pointing outside the folder resolves to nothing (here: the compile fails).
    for path in schema_dir.iterdir():
        shutil.copy(path, tmp_path)
    main = tmp_path / "DUIS Schema V5.4.xsd"
    outside = tmp_path.parent / "elsewhere.xsd"
    shutil.copy(schema_dir / "MMC Schema V5.4.xsd", outside)
    main.write_bytes(main.read_bytes().replace(b'"MMC Schema V5.4.xsd"', b'"../elsewhere.xsd"'))
    with pytest.raises(SchemaLoadError):
        DuisSchema.load(tmp_path)
