"""The examples of docs/pytest-plugin.md run as written, in a pytest run of their own that has
no ``asyncio_mode`` set (pytest-asyncio's strict default); a failing Outcome shows its code
and reason in pytest's report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_docs_examples_pass_as_written(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "pytest-plugin.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def test_" in b]
    assert len(blocks) >= 2
    assert any("async def test_" in b for b in blocks)
    for index, block in enumerate(blocks):
        (tmp_path / f"test_doc_example_{index}.py").write_text(block, encoding="utf-8")
    # An empty ini file makes tmp_path the rootdir: none of this project's settings apply.
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(blocks)} passed" in result.stdout, result.stdout
    assert "not natively supported" not in result.stdout


def test_a_failing_outcome_shows_its_code_and_reason(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_unsigned.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.smetsim_sandbox(require_signatures=True)\n"
        "def test_unsigned(smetsim_sandbox):\n"
        "    xml = smetsim_sandbox.request(\n"
        "        '11.2', smetsim_sandbox.euis['chf'], '<sr:ReadFirmwareVersion/>')\n"
        "    outcome = smetsim_sandbox.send(xml, sign=False, wait=False)\n"
        "    assert outcome.ok, outcome\n",
        encoding="utf-8",
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(
        (ln for ln in result.stdout.splitlines() if ln.startswith("E ") and "Outcome(" in ln),
        None,
    )
    assert line is not None, result.stdout
    assert "answered E44: " in line
    assert re.search(r"E44: \w", line), line  # the reason, not an empty one


@pytest.mark.parametrize("marked", [False, True])
def test_an_async_test_without_the_fixture_is_left_alone(tmp_path: Path, marked: bool) -> None:
    # The plugin marks only tests that take smetsim_sandbox: others keep strict mode's rules.
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    mark = "@pytest.mark.asyncio\n" if marked else ""
    (tmp_path / "test_other.py").write_text(
        f"import pytest\n\n{mark}async def test_other():\n    pass\n", encoding="utf-8"
    )
    result = run_pytest(tmp_path)
    if marked:
        assert result.returncode == 0, result.stdout
    else:
        assert "not natively supported" in result.stdout, result.stdout
