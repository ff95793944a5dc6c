"""Project-wide test configuration: the `hil` marker and the leak check."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CONFORMANCE = SHARED / "conformance"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("SMETSIM_HIL_PORT"):
        return
    skip = pytest.mark.skip(reason="hil: set SMETSIM_HIL_PORT to a real serial port to run")
    for item in items:
        # the marker, not item.keywords: keywords also hold directory names, and tests/hil is one
        if item.get_closest_marker("hil") is not None:
            item.add_marker(skip)


@pytest.fixture
def conformance() -> Path:
    """The conformance data beside the project; skips the test when it is absent."""
    if not CONFORMANCE.is_dir():
        pytest.skip("../shared/conformance is absent (a fresh clone without shared/)")
    return CONFORMANCE


def _open_sockets() -> set[str]:
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return set()
    found: set[str] = set()
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def _threads() -> set[int]:
    return {t.ident for t in threading.enumerate() if t.ident is not None and t.is_alive()}


@pytest.fixture
async def _no_leaked_tasks() -> AsyncIterator[None]:
    before = set(asyncio.all_tasks())
    yield
    current = asyncio.current_task()
    leaked: set[asyncio.Task[object]] = set()
    for _ in range(20):
        await asyncio.sleep(0)
        leaked = {t for t in asyncio.all_tasks() - before if t is not current and not t.done()}
        if not leaked:
            break
    if leaked:
        for task in leaked:
            task.cancel()
        pytest.fail(f"test left {len(leaked)} asyncio task(s) running: {sorted(map(repr, leaked))}")


@pytest.fixture(autouse=True)
def _no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test that leaves asyncio tasks, threads or sockets behind."""
    if inspect.iscoroutinefunction(getattr(request.node, "function", None)):
        request.getfixturevalue("_no_leaked_tasks")
    threads_before = _threads()
    sockets_before = _open_sockets()
    yield
    deadline = time.monotonic() + 1.0
    while True:
        new_threads = [
            t for t in threading.enumerate() if t.is_alive() and t.ident not in threads_before
        ]
        new_sockets = _open_sockets() - sockets_before
        if (not new_threads and not new_sockets) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    problems = []
    if new_threads:
        problems.append(f"threads left running: {[t.name for t in new_threads]}")
    if new_sockets:
        problems.append(f"{len(new_sockets)} socket(s) left open")
    if problems:
        pytest.fail("test leaked resources: " + "; ".join(problems))


MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).is_file()), None
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    """A mosquitto broker on a loopback port, which a test may stop and start again."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.process = process
        for _ in range(500):
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.1),
            ):
                return
            if process.poll() is not None:
                pytest.fail(f"mosquitto exited with status {process.returncode}")
            time.sleep(0.02)
        pytest.fail("mosquitto did not listen")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def mqtt_broker_process(tmp_path: Path) -> Iterator[Broker]:
    """A running mosquitto broker on a free loopback port (skips without mosquitto)."""
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (.ci/run installs it)")
    broker = Broker(MOSQUITTO, tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def mqtt_broker(mqtt_broker_process: Broker) -> int:
    """The port of a running mosquitto broker (skips without mosquitto)."""
    return mqtt_broker_process.port
