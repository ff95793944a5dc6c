"""The lazy namespace of :mod:`gbcs.content`: one family module imports alone, and the
package's names (every family's, the registry lookups) load all of them on first use."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import gbcs.content

ROOT = Path(__file__).resolve().parents[2]


def _families() -> list[ModuleType]:
    """The family modules the package's namespace is made of."""
    from gbcs.content import _package

    return [
        value
        for value in vars(_package).values()
        if isinstance(value, ModuleType) and value.__name__.startswith("gbcs.content.")
    ]


@pytest.mark.parametrize("family", _families(), ids=lambda m: m.__name__)
def test_every_family_name_is_a_package_name(family: ModuleType) -> None:
    for name in family.__all__:
        assert getattr(gbcs.content, name) is getattr(family, name), f"{family.__name__}.{name}"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchContent'"):
        _ = gbcs.content.NoSuchContent  # type: ignore[attr-defined]


def _fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout.strip()


def test_one_family_imports_alone() -> None:
    out = _fresh(
        "import sys, gbcs.content.alerts\n"
        "print(sorted(m for m in sys.modules if m.startswith('gbcs.content.tariff')))"
    )
    assert out == "[]"


def test_the_registry_is_whole_after_one_family_alone() -> None:
    # A caller that imported one family first still finds every family's decoders.
    out = _fresh(
        "import gbcs.content.alerts, gbcs.content as c\n"
        "print(len(c.SUPPORTED_COMMANDS), 0x0001 in c.SUPPORTED_COMMANDS)"
    )
    assert out == f"{len(gbcs.content.SUPPORTED_COMMANDS)} True"


def _star_imported(path: Path) -> set[str]:
    return set(re.findall(r"from gbcs\.content\.(\w+) import \*", path.read_text()))


def test_mypy_reads_the_families_the_package_loads() -> None:
    # The TYPE_CHECKING block of __init__ and _package list the families twice (mypy does not
    # follow a star import through the package's own import cycle): the lists must agree.
    content = ROOT / "gbcs" / "content"
    assert _star_imported(content / "__init__.py") == _star_imported(content / "_package.py")
