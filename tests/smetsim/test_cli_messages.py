"""Messages that must not mislead (issue 18 item 9): a malformed --url is named as such, a
gateway that cannot listen leaves no state folder, the sandbox names its own options."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smetsim.cli import main
from smetsim.sandbox import Sandbox, SandboxSettings


@pytest.mark.parametrize("url", ["notaurl", "http://", "ftp://host", "http://host:port"])
def test_send_names_a_malformed_url_and_reads_nothing(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The request file does not exist: the URL is refused before anything is read or sent.
    with pytest.raises(SystemExit) as exc:
        main(["send", "--url", url, str(tmp_path / "missing.xml")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{url!r} is a malformed URL" in err
    assert "missing.xml" not in err


def test_send_takes_a_well_formed_url_past_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["send", "--url", "http://127.0.0.1:9", str(tmp_path / "missing.xml")])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "malformed" not in err
    assert "missing.xml" in err


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]])
def test_gateway_on_a_port_in_use_leaves_no_state_folder(
    workers: list[str], taken_port: int, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    result = subprocess.run(
        [sys.executable, "-m", "smetsim.cli", "gateway", "--state", str(state),
         "--port", str(taken_port), *workers],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{taken_port}" in result.stderr
    assert not state.exists()


def test_gateway_on_a_port_in_use_keeps_an_existing_state_folder(
    taken_port: int, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "mine.txt").write_text("kept")
    with pytest.raises(SystemExit) as exc:
        main(["gateway", "--state", str(state), "--port", str(taken_port)])
    assert exc.value.code == 1
    assert (state / "mine.txt").read_text() == "kept"


async def test_the_sandbox_warning_names_its_own_option(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    sandbox = await Sandbox.start(SandboxSettings.create(state=tmp_path / "state", port=0))
    await sandbox.close()
    warnings = [r.getMessage() for r in caplog.records if "unsigned" in r.getMessage()]
    assert warnings, caplog.records
    assert all("--require-signatures" in w for w in warnings), warnings
    assert not any(w.startswith("--allow-unsigned") for w in warnings), warnings
