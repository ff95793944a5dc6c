"""The CLI contract: --help lists commands, --version prints it, usage errors are one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from smetsim import __version__
from smetsim.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smetsim.cli", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"smetsim {__version__}"


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "sandbox" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["no-such-command"], "no-such-command"),
        (["--no-such-option"], "--no-such-option"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("smetsim: error:")
    assert needle in err


def test_console_entry_point_runs_as_a_process() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout
