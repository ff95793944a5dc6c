"""`smetsim fleet profiles | simulate | inspect`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smetsim.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def test_profiles_lists_the_bundled_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "fleet", "profiles")
    assert code == 0
    assert "northbrook-nb100: ESME" in out
    assert "00020000 (AD)" in out


def test_a_bad_profile_is_one_line_naming_file_and_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "bad.toml").write_text('schema = 1\ndevice_type = "ESME"\nfirmware = []\n')
    code, _, err = _run(capsys, "fleet", "profiles", "--dir", str(tmp_path))
    assert code == 1
    assert err.startswith("smetsim: error: ")
    assert "bad.toml: firmware:" in err
    assert len(err.strip().splitlines()) == 1


def test_simulate_then_inspect(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    snapshot = tmp_path / "fleet.json"
    code, out, _ = _run(
        capsys,
        "fleet",
        "simulate",
        "--days",
        "3",
        "--devices",
        "20",
        "--prepayment",
        "--balance",
        "2",
        "--snapshot",
        str(snapshot),
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["devices"] == 24
    assert summary["supply"]["disabled"] > 0  # GBP 2 does not last three January days
    assert any(k.startswith("0x8F0F") for k in summary["alerts"])
    esme = summary["sandbox"]["00-DB-12-34-56-78-90-A0"]
    assert esme["half_hours_recorded"] == 144

    code, out, _ = _run(capsys, "fleet", "inspect", str(snapshot), "--eui", "00DB1234567890A0")
    assert code == 0
    shown = json.loads(out)["shown"]["00-DB-12-34-56-78-90-A0"]
    assert shown["register"] == esme["register"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["fleet", "simulate", "--days", "-1"], "--days -1.0"),
        (["fleet", "simulate", "--start", "yesterday"], "--start 'yesterday'"),
        (["fleet", "inspect", "/nonexistent/fleet.json"], "/nonexistent/fleet.json"),
        (["fleet", "inspect", "x.json", "--eui", "nope"], "--eui"),
    ],
)
def test_user_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, _, err = _run(capsys, *args)
    assert code == 1
    assert err.startswith("smetsim: error: ")
    assert needle in err


def _simulate_on_a_terminal() -> tuple[str, bytes]:
    """`fleet simulate` as a process whose standard error is a terminal (a pseudo-terminal);
    its standard output and what reached the terminal."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "smetsim.cli", "fleet", "simulate", "--days", "20",
         "--devices", "20"],
        stdout=subprocess.PIPE, stderr=slave, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"},
    )  # fmt: skip
    os.close(slave)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    return out.decode(), bytes(seen)


def test_simulate_shows_progress_on_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    out, terminal = _simulate_on_a_terminal()
    assert json.loads(out)["devices"] == 24  # standard output is the summary alone
    assert b"simulating 20 day(s)" in terminal
    # not a terminal (captured): nothing but the summary
    code, out, err = _run(capsys, "fleet", "simulate", "--days", "20", "--devices", "20")
    assert code == 0
    assert json.loads(out)["devices"] == 24
    assert err == ""
