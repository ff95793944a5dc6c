"""hil sits beside emulator and gateway: it may use gbcs, the standard library and pyserial,
never emulator, gateway or the smetsim application layer (docs/architecture.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import hil

FORBIDDEN = ("emulator", "gateway", "smetsim")
THIRD_PARTY = {"serial", "serial_asyncio_fast"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_hil_imports_only_what_its_layer_may() -> None:
    package = Path(hil.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert len(sources) >= 8
    for source in sources:
        for module in imported_modules(source):
            top = module.split(".")[0]
            assert top not in FORBIDDEN, f"{source.name} imports {module}"
            assert (
                top in {"hil", "gbcs", "__future__"}
                or top in THIRD_PARTY
                or top in sys.stdlib_module_names
            ), f"{source.name} imports {module}, outside its layer"
