"""The pytest plugin: loads without side effects, serves sync and async tests, and the
example of docs/pytest-plugin.md runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gbcs.keystore import Keystore
from smetsim.pytest_plugin import SandboxHandle

ROOT = Path(__file__).resolve().parents[2]


def _doc_examples() -> list[str]:
    text = (ROOT / "docs" / "pytest-plugin.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_documented_example(smetsim_sandbox: SandboxHandle) -> None:
    example = next(block for block in _doc_examples() if "def test_read_the_meter" in block)
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/pytest-plugin.md", "exec"), namespace)
    namespace["test_read_the_meter_then_switch_it_off_and_on"](smetsim_sandbox)


async def test_an_async_test_uses_a_client(smetsim_sandbox: SandboxHandle) -> None:
    example = next(block for block in _doc_examples() if "async def test_firmware" in block)
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/pytest-plugin.md", "exec"), namespace)
    await namespace["test_firmware_version"](smetsim_sandbox)


@pytest.mark.smetsim_sandbox(require_signatures=True, response_timeout=1.0)
def test_marker_options_reach_the_sandbox(smetsim_sandbox: SandboxHandle) -> None:
    assert smetsim_sandbox.sandbox.settings.gateway.allow_unsigned is False
    assert smetsim_sandbox.sandbox.settings.response_timeout == 1.0
    xml = smetsim_sandbox.request("11.2", smetsim_sandbox.euis["chf"], "<sr:ReadFirmwareVersion/>")
    assert smetsim_sandbox.send(xml, sign=False, wait=False).answers[0].code == "E44"
    assert smetsim_sandbox.send(xml, sign=True).ok


def test_each_sandbox_starts_with_the_sessions_pki(
    smetsim_sandbox: SandboxHandle, smetsim_pki: Path
) -> None:
    # Made once a session and linked: the sandbox loaded it rather than making its own.
    prepared = sorted((smetsim_pki / "pki").iterdir())
    assert prepared
    for path in prepared:
        assert (smetsim_sandbox.state / "pki" / path.name).samefile(path)
    assert (smetsim_sandbox.state / "seed").read_text() == (smetsim_pki / "seed").read_text()
    root = Keystore.load(smetsim_pki / "pki").root_certificate
    assert root is not None
    assert smetsim_sandbox.keystore.root_certificate == root


def test_the_plugin_is_registered_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, importlib.metadata as m;"
        "eps=[e.value for e in m.entry_points(group='pytest11') if e.name=='smetsim'];"
        "import smetsim.pytest_plugin;"
        "heavy=[n for n in ('gateway','emulator','aiohttp','lxml','smetsim.sandbox') "
        "if n in sys.modules];"
        "print(eps, heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "['smetsim.pytest_plugin'] []"
