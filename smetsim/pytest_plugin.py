"""pytest fixtures for a DCC User's integration tests: a whole sandbox per test.

Registered as the ``smetsim`` pytest11 entry point, so any test in an environment where
smetsim is installed can ask for the ``smetsim_sandbox`` fixture::

    def test_read_registers(smetsim_sandbox):
        outcome = smetsim_sandbox.send(template_bytes, fresh=True, wait=True)
        assert outcome.ok

The fixture starts the gateway and a fleet (the default home: ESME ``00-DB-12-34-56-78-90-A0``,
GSME ``...A1``, CHF ``...A2``, GPF ``...A3``, and the pre-notified ``...B0`` / ``...B1``) on a
free port with a temporary state folder, in a background thread with its own event loop - so
it serves sync and async tests alike - and stops it after the test. Options per test with the
``smetsim_sandbox`` marker: ``@pytest.mark.smetsim_sandbox(require_signatures=True,
latency=False, response_timeout=5.0, devices=0, suppliers=0)``.

Loading this plugin has no side effects beyond registering the marker: everything heavy is
imported when the fixture is first used.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import threading
from collections.abc import Generator, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from gbcs.keystore import Keystore
    from smetsim.client import DuisClient, Outcome
    from smetsim.sandbox import Sandbox

__all__ = ["SandboxHandle", "smetsim_pki", "smetsim_sandbox"]

_OPTIONS = frozenset({"require_signatures", "latency", "response_timeout", "devices", "suppliers"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "smetsim_sandbox(require_signatures=False, latency=False, response_timeout=5.0, "
        "devices=0, suppliers=0): options of the smetsim_sandbox fixture",
    )


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[Any, Any, Any]:
    """Mark an async test that takes ``smetsim_sandbox`` for pytest-asyncio, so that the
    documented async example runs as written in a project that has not set
    ``asyncio_mode = "auto"`` (pytest-asyncio itself comes with ``smetsim[pytest]``)."""
    if (
        inspect.iscoroutinefunction(obj)
        and collector.config.pluginmanager.hasplugin("asyncio")
        and "smetsim_sandbox" in inspect.signature(obj).parameters
        and not any(mark.name == "asyncio" for mark in getattr(obj, "pytestmark", []))
    ):
        # Marked before the items are made, so pytest-asyncio sees it whatever the order of
        # the two plugins' hooks.
        pytest.mark.asyncio(obj)
    result = yield
    return result


@dataclass
class SandboxHandle:
    """What the ``smetsim_sandbox`` fixture gives a test."""

    url: str
    """The gateway: ``POST {url}/api/v1/serviceS`` ..., ``GET {url}/api/v1/responses``."""
    state: Path
    keystore: Keystore
    """The sandbox's keys (users' and devices'): sign as a user, check and decrypt answers."""
    sandbox: Sandbox
    """The running sandbox itself (gateway, fleet, WAN); lives in the fixture's thread."""
    euis: dict[str, bytes] = field(default_factory=dict)
    """``esme``, ``gsme``, ``chf``, ``gpf``, ``pending_esme``, ``pending_gsme``,
    ``supplier``, ``network_operator``, ``acb``."""
    _loop: asyncio.AbstractEventLoop | None = None
    _counter: int = 0

    def client(self, *, sign_xml: bool = True, timeout: float = 30.0) -> DuisClient:
        """A new DUIS client of this sandbox (for async tests: use it in your own loop, and
        close it, e.g. ``async with handle.client() as client``)."""
        from smetsim.client import DuisClient

        return DuisClient(self.url, keys=self.keystore, sign_xml=sign_xml, timeout=timeout)

    def send(
        self,
        xml: bytes,
        *,
        fresh: bool = False,
        wait: bool = True,
        within: float = 10.0,
        sign: bool = True,
    ) -> Outcome:
        """Send one request from a sync test (critical SRs: CV4, signing, CV5 in one go) and
        by default wait for its answer. Not for use inside a running event loop: async tests
        use :meth:`client`."""

        async def go() -> Outcome:
            async with self.client(sign_xml=sign) as client:
                client._last_counter = self._counter
                outcome = await client.send(xml, fresh=fresh, wait=wait, within=within)
                self._counter = client._last_counter
                return outcome

        return asyncio.run(go())

    def fresh_counter(self) -> int:
        """A RequestID counter greater than every one this handle gave before."""
        import time

        self._counter = max(int(time.time() * 1000), self._counter + 1)
        return self._counter

    def request(self, srv: str, target: bytes, body: str, *, cv: int = 1) -> bytes:
        """A DUIS request from the default supplier, with a fresh counter."""
        from smetsim.client import build_request

        return build_request(
            service_reference_variant=srv,
            command_variant=cv,
            originator=self.euis["supplier"],
            target=target,
            counter=self.fresh_counter(),
            body=body,
        )

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine in the sandbox's own loop (to reach its objects safely)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)


def prepare_pki(folder: Path) -> Path:
    """A state folder holding only a seed and the test PKI made from it (``seed``, ``pki/``):
    made once a session, then given to every sandbox by :func:`_link_pki`. Writing the PKI's
    thirty-odd files was most of a sandbox's start; linking them costs a tenth of that."""
    from gateway.server import load_or_create_pki

    load_or_create_pki(folder, None)
    return folder


def _link_pki(prepared: Path, state: Path) -> None:
    """Give ``state`` the prepared seed and PKI as hard links (copies where the file system
    cannot link). The keystore replaces a file it writes rather than writing into it, so a
    sandbox never changes the prepared files through its links."""
    (state / "pki").mkdir(parents=True)
    for source in [prepared / "seed", *(prepared / "pki").iterdir()]:
        target = state / source.relative_to(prepared)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)


class _Runner:
    """The sandbox in a background thread with its own event loop; with ``prepared`` (see
    :func:`prepare_pki`) its state starts with that seed and PKI."""

    def __init__(self, state: Path, options: dict[str, Any], prepared: Path | None = None) -> None:
        self.state = state
        self.options = options
        self.prepared = prepared
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="smetsim-sandbox", daemon=True)
        self.started: Future[Sandbox] = Future()
        self.stop: asyncio.Event | None = None

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _serve(self) -> None:
        from smetsim.sandbox import Sandbox, SandboxSettings

        self.stop = asyncio.Event()
        try:
            settings = SandboxSettings.create(
                state=self.state,
                port=0,
                latency=bool(self.options.get("latency", False)),
                require_signatures=bool(self.options.get("require_signatures", False)),
                response_timeout=float(self.options.get("response_timeout", 5.0)),
                devices=int(self.options.get("devices", 0)),
                suppliers=int(self.options.get("suppliers", 0)),
                durability="process",
            )
            sandbox = await Sandbox.start(settings)
        except BaseException as exc:
            self.started.set_exception(exc)
            return
        self.started.set_result(sandbox)
        try:
            await self.stop.wait()
        finally:
            await sandbox.close()

    def start(self) -> Sandbox:
        if self.prepared is not None:
            _link_pki(self.prepared, self.state)
        self.thread.start()
        return self.started.result(timeout=60)

    def close(self) -> None:
        if self.stop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def smetsim_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's seed and test PKI, which every ``smetsim_sandbox`` starts with."""
    return prepare_pki(tmp_path_factory.mktemp("smetsim-pki"))


@pytest.fixture
def smetsim_sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smetsim_pki: Path
) -> Iterator[SandboxHandle]:
    """A running sandbox (gateway + fleet) for one test; see the module docstring."""
    from gbcs.codes import ACB, NETWORK_OPERATOR, SUPPLIER
    from smetsim import sandbox as sb

    marker = request.node.get_closest_marker("smetsim_sandbox")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    unknown = set(options) - _OPTIONS
    if unknown:
        raise pytest.UsageError(
            f"smetsim_sandbox marker: unknown option(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(_OPTIONS))})"
        )
    runner = _Runner(tmp_path_factory.mktemp("smetsim-sandbox") / "state", options, smetsim_pki)
    sandbox = runner.start()
    handle = SandboxHandle(
        url=sandbox.url,
        state=sandbox.state,
        keystore=sandbox.keystore,
        sandbox=sandbox,
        euis={
            "esme": sb.ESME,
            "gsme": sb.GSME,
            "chf": sb.CHF,
            "gpf": sb.GPF,
            "pending_esme": sb.PENDING_ESME,
            "pending_gsme": sb.PENDING_GSME,
            "supplier": SUPPLIER,
            "network_operator": NETWORK_OPERATOR,
            "acb": ACB,
        },
        _loop=runner.loop,
    )
    try:
        yield handle
    finally:
        runner.close()
