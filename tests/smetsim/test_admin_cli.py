"""`smetsim gateway` and `smetsim sandbox` with the admin options (issue 22): a token generated
and shown once on the banner when listening beyond loopback, the admin listener of
``--admin-host`` (worker processes too), and bad admin options refused in one line.

The processes listen on 0.0.0.0 where the test needs a non-loopback listen address, but every
request goes to 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from smetsim.cli import main

TOKEN_LINE = re.compile(r"admin token: (\S+) \(generated for this run")


def _start(
    arguments: list[str], until: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start ``smetsim ARGUMENTS``; its output up to the first line holding ``until``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "smetsim.cli", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    for line in process.stdout:
        lines.append(line)
        if until in line or time.monotonic() > deadline:
            break
    return process, "".join(lines)


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    return out, err


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _port(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, text
    return int(found.group(1))


def test_gateway_on_a_public_address_shows_a_generated_token_once(tmp_path: Path) -> None:
    process, banner = _start(
        ["gateway", "--state", str(tmp_path / "s"), "--host", "0.0.0.0", "--port", "0"],
        until="admin token:",
    )
    try:
        found = TOKEN_LINE.search(banner)
        assert found is not None, banner
        token = found.group(1)
        assert len(token) >= 40
        assert "admin access: loopback clients; others with 'Authorization: Bearer" in banner
        port = _port(banner, r"listening on http://0\.0\.0\.0:(\d+)")
        assert _status(f"http://127.0.0.1:{port}/admin/health") == 200  # loopback: as before
    finally:
        out, err = _stop(process)
    assert token not in out
    assert token not in err  # shown on the banner only, never logged
    assert banner.count(token) == 1


def test_gateway_on_loopback_generates_no_token(tmp_path: Path) -> None:
    process, banner = _start(
        ["gateway", "--state", str(tmp_path / "s"), "--port", "0"], until="admin access"
    )
    _stop(process)
    assert "admin access: loopback clients only" in banner
    assert "admin token" not in banner


@pytest.mark.parametrize("command", ["gateway", "sandbox"])
def test_workers_serve_admin_on_the_admin_host_only(tmp_path: Path, command: str) -> None:
    process, banner = _start(
        [
            command,
            "--state",
            str(tmp_path / "s"),
            "--port",
            "0",
            "--workers",
            "2",
            "--admin-host",
            "127.0.0.1",
            "--admin-port",
            "0",
        ],
        until="admin access",
    )
    try:
        public = _port(banner, r"listening on http://127\.0\.0\.1:(\d+)")
        admin = _port(banner, r"admin: +http://127\.0\.0\.1:(\d+)/admin/")
        assert admin != public
        assert "on their own listener, not on" in banner
        # New connections each time: the kernel spreads them over both workers.
        for _ in range(6):
            assert _status(f"http://127.0.0.1:{public}/admin/health") == 404
            assert _status(f"http://127.0.0.1:{admin}/admin/health") == 200
    finally:
        _stop(process)


def test_sandbox_on_a_public_address_shows_a_generated_token(tmp_path: Path) -> None:
    process, banner = _start(
        ["sandbox", "--state", str(tmp_path / "s"), "--host", "0.0.0.0", "--port", "0"],
        until="Ctrl-C",
    )
    try:
        found = TOKEN_LINE.search(banner)
        assert found is not None, banner
        assert "admin access: loopback clients; others with 'Authorization: Bearer" in banner
    finally:
        out, err = _stop(process)
    assert found.group(1) not in out + err


def test_a_given_token_is_never_shown(tmp_path: Path) -> None:
    token = "a-token-the-user-chose-0123456789"
    env = {**os.environ, "SMETSIM_ADMIN_TOKEN": token}
    process, banner = _start(
        ["gateway", "--state", str(tmp_path / "s"), "--host", "0.0.0.0", "--port", "0"],
        until="admin access",
        env=env,
    )
    out, err = _stop(process)
    assert "others with 'Authorization: Bearer <admin token>'" in banner
    assert "admin token:" not in banner
    assert token not in banner + out + err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["gateway", "--admin-token", "hunter2"], "the admin token must be at least 16"),
        (["gateway", "--admin-port", "9000"], "--admin-port needs --admin-host"),
        (
            ["gateway", "--port", "9000", "--admin-host", "127.0.0.1", "--admin-port", "9000"],
            "--admin-port 9000 is the DUIS port",
        ),
        (["sandbox", "--admin-token", "hunter2"], "the admin token must be at least 16"),
        (["sandbox", "--admin-port", "9000"], "--admin-port needs --admin-host"),
    ],
)
def test_bad_admin_options_are_one_line_and_leave_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    message: str,
) -> None:
    work, temporary = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    temporary.mkdir()
    monkeypatch.chdir(work)  # the gateway's default state folder would be made here
    # The sandbox's temporary state folder would be made here (not in the shared /tmp, where
    # other test runs make theirs).
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with pytest.raises(SystemExit) as exc:
        main(arguments)
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("smetsim: error: ")
    assert message in err
    assert "\n" not in err
    assert "hunter2" not in err
    assert list(temporary.iterdir()) == []
    assert list(work.iterdir()) == []
