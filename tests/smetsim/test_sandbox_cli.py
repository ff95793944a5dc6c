"""`smetsim sandbox`: starts, says where everything is, stops cleanly on Ctrl-C; bad options
and config files get one line naming the value."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gateway.config import ConfigError
from smetsim.cli import main
from smetsim.sandbox import SandboxSettings, load_sandbox_config


def test_starts_prints_where_everything_is_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process = subprocess.Popen(
        [sys.executable, "-m", "smetsim.cli", "sandbox", "--state", str(state), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C" in line or time.monotonic() > deadline:
                break
        text = "".join(lines)
        assert "listening on http://127.0.0.1:" in text
        assert "/api/v1/responses?requestId=" in text
        assert "00-DB-12-34-56-78-90-A0" in text
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "smetsim sandbox: stopped" in out
    assert "unsigned and placeholder-signed requests are accepted" in err
    assert "Traceback" not in err
    assert (state / "gateway.db").is_file()
    assert (state / "fleet.json").is_file()  # the fleet's state, for the next start


def test_a_bad_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "sandbox.toml"
    config.write_text("[sandbox]\ndevices = -3\n")
    with pytest.raises(SystemExit) as exc:
        main(["sandbox", "--config", str(config), "--state", str(tmp_path / "s")])
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err == f"smetsim: error: {config}: [sandbox] devices must be 0 or more, not -3"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--suppliers", "5000"], "--suppliers must be 0 to 4096, not 5000"),
        (["--wan", "ftp://host"], "--wan: broker 'ftp://host'"),
    ],
)
def test_a_refused_option_leaves_no_temporary_folder(
    capsys: pytest.CaptureFixture[str], option: list[str], message: str
) -> None:
    before = set(Path(tempfile.gettempdir()).glob("smetsim-sandbox-*"))
    with pytest.raises(SystemExit) as exc:
        main(["sandbox", *option])
    assert exc.value.code == 1
    assert message in capsys.readouterr().err
    assert set(Path(tempfile.gettempdir()).glob("smetsim-sandbox-*")) == before


def test_config_file_and_options(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.toml"
    config.write_text(
        '[gateway]\nport = 18888\ndurability = "process"\n'
        "[sandbox]\ndevices = 5\nsuppliers = 2\nlatency = false\nresponse_timeout = 7\n"
    )
    loaded = load_sandbox_config(config)
    assert (loaded.devices, loaded.suppliers, loaded.latency) == (5, 2, False)
    settings = SandboxSettings.create(config=config, devices=9, state=tmp_path / "s")
    assert settings.devices == 9
    assert settings.gateway.port == 18888
    assert settings.response_timeout == 7.0
    assert settings.gateway.allow_unsigned
    assert not settings.temporary
    strict = SandboxSettings.create(require_signatures=True, state=tmp_path / "t")
    assert strict.gateway.allow_unsigned is False
    config.write_text("[sandbox]\nfleet = 1\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in \[sandbox\]: fleet"):
        load_sandbox_config(config)


def test_a_temporary_state_skips_the_fsync_a_given_one_keeps_it(tmp_path: Path) -> None:
    temporary = SandboxSettings.create()
    try:
        assert temporary.temporary
        assert temporary.gateway.durability == "process"
    finally:
        shutil.rmtree(temporary.gateway.state, ignore_errors=True)
    kept = SandboxSettings.create(state=tmp_path / "kept")
    assert (kept.temporary, kept.gateway.durability) == (False, "full")
    asked = SandboxSettings.create(durability="full")
    try:
        assert asked.gateway.durability == "full"
    finally:
        shutil.rmtree(asked.gateway.state, ignore_errors=True)
