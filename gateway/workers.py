"""Several gateway processes serving one port (``smetsim gateway --workers N``).

One Python process runs its Python code on one core at a time (the GIL), and every DUIS
request costs a verified and a made ECDSA signature, XML work and an HTTP exchange; a
machine with more cores serves more requests with more processes. This module is the usual
pre-fork layout of Python servers (gunicorn, uvicorn): a supervisor prepares the state
(migrations, test PKI, configured users and meter points), reserves the port, then starts N
worker processes, each a whole :class:`gateway.server.Gateway` accepting on it, all sharing
the one SQLite database.

Each worker listens on a socket of its own bound to the port with ``SO_REUSEPORT``, so the
kernel spreads new connections evenly between them (by a hash of the client's address and
port). One listening socket shared by all would hand each connection to whichever worker
wakes first - the idle one, so a burst of keep-alive connections opened at once could all
land on one worker and leave the other cores idle. The supervisor holds the port with a
bound socket that does not listen (it takes no connection).

What keeps them consistent:

- Every change happens in a SQLite transaction taken with ``BEGIN IMMEDIATE`` (one writer at
  a time across processes) and committed durably before it is acknowledged, so RequestID
  counters stay strictly increasing per user whichever worker a request reaches.
- Each worker indexes the registered certificates in memory. A certificate it does not know
  makes it reread the users (only when their version, kept by triggers, changed); and the
  transaction that applies a request confirms that the certificate which verified it is still
  the sender's registered one (``duis_certificate_replaced`` otherwise).
- Each worker keeps in memory the SMI device records it reads (``Inventory.get``) and the
  anomaly thresholds, and reads them again when their version - kept by triggers on every
  change, whichever process makes it - moved.
- The RDP flush and inbox run periodically in worker 0 only; ``POST /admin/rdp/flush`` may
  reach any worker, and every flush or inbox read holds a file lock (``state/rdp.lock``).
- A worker whose supervisor disappears (even SIGKILLed) stops within half a second; a worker
  that dies is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Final

from gateway.admin_auth import admin_port
from gateway.config import GatewaySettings
from gateway.errors import GatewayError
from gateway.server import Gateway, Listening, StartupError

logger = logging.getLogger(__name__)

START_TIMEOUT: Final = 60.0
"""Seconds a worker has to open the state and start accepting."""
PARENT_POLL: Final = 0.5
RESTART_LIMIT: Final = 5
"""Workers replaced within :data:`RESTART_WINDOW` seconds before the supervisor gives up."""
RESTART_WINDOW: Final = 60.0


def prepare_state(settings: GatewaySettings) -> None:
    """Open the state once (migrations, test PKI, default and configured identities), close it."""
    gateway = Gateway.open(settings)
    gateway.storage.close()


def reserve_port(host: str, port: int) -> socket.socket:
    """The supervisor's hold on ``host``:``port`` (0: a free port): a socket bound with
    ``SO_REUSEPORT`` that does not listen; :class:`StartupError` when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def reserve_admin_port(settings: GatewaySettings) -> tuple[GatewaySettings, socket.socket | None]:
    """With ``admin_host``: the supervisor's hold on the admin listener's port too, and the
    settings naming the port it got (workers bind it with ``SO_REUSEPORT`` themselves)."""
    if settings.admin_host is None:
        return settings, None
    sock = reserve_port(settings.admin_host, admin_port(settings))
    return replace(settings, admin_port=int(sock.getsockname()[1])), sock


def accepting_socket(reserved: socket.socket, backlog: int = 1024) -> socket.socket:
    """A worker's own listening socket on the port ``reserved`` holds (``SO_REUSEPORT``)."""
    address = reserved.getsockname()
    sock = socket.socket(reserved.family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def worker_settings(settings: GatewaySettings, index: int) -> GatewaySettings:
    """A worker's settings: the supervisor seeded the state already (and set the config file's
    anomaly thresholds: a worker replaced later must not undo what the admin API changed since);
    periodic RDP work runs in worker 0 only."""
    periodic = index == 0
    return replace(
        settings,
        seed_defaults=False,
        users=(),
        meter_points=(),
        anomaly_thresholds=(),
        rdp_flush_interval=settings.rdp_flush_interval if periodic else 0.0,
        rdp_inbox_interval=settings.rdp_inbox_interval if periodic else 0.0,
    )


@dataclass
class _Worker:
    index: int
    process: BaseProcess
    pipe: Connection


@dataclass
class WorkerPool:
    """N worker processes accepting on ``sock``; :meth:`start`, :meth:`watch`, :meth:`stop`."""

    settings: GatewaySettings
    sock: socket.socket
    count: int
    initializer: Callable[[], None] | None = None
    """Run first in each worker (e.g. logging set-up); must be picklable."""
    target: WorkerTarget | None = None
    """What a worker process runs (default: a gateway); a module-level function (picklable)
    called with ``(arguments(index), sock, supervisor pid, pipe, initializer)``, which says
    ``ready`` on the pipe once it accepts (see :func:`run_worker`)."""
    arguments: Callable[[int], object] | None = None
    """Worker ``index``'s first argument (default: :func:`worker_settings`)."""
    name: str = "gateway"
    workers: list[_Worker] = field(default_factory=list)
    _restarts: list[float] = field(default_factory=list)
    _stopping: bool = False

    def start(self) -> None:
        """Start every worker and wait until each accepts (or raise :class:`StartupError`)."""
        try:
            # All started at once (each takes seconds to import and open the state), then
            # waited for in turn.
            for index in range(self.count):
                self.workers.append(self._launch(index))
            for worker in self.workers:
                self._wait_ready(worker)
        except BaseException:
            self.stop()
            raise

    def _spawn(self, index: int) -> _Worker:
        worker = self._launch(index)
        self._wait_ready(worker)
        return worker

    def _launch(self, index: int) -> _Worker:
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        argument = (
            worker_settings(self.settings, index)
            if self.arguments is None
            else self.arguments(index)
        )
        process = context.Process(
            target=self.target or _worker_main,
            args=(argument, self.sock, os.getpid(), sending, self.initializer),
            name=f"smetsim-{self.name}-worker-{index}",
            daemon=False,
        )
        process.start()
        sending.close()
        return _Worker(index, process, receiving)

    def _wait_ready(self, worker: _Worker) -> None:
        index, process, receiving = worker.index, worker.process, worker.pipe
        what = f"{self.name} worker {index}"
        if not receiving.poll(START_TIMEOUT):
            _terminate(process)
            raise StartupError(f"{what} did not start in {START_TIMEOUT:.0f} s")
        try:
            status, detail = receiving.recv()
        except EOFError:
            process.join(5)
            raise StartupError(
                f"{what} exited while starting (exit code {process.exitcode})"
            ) from None
        if status != "ready":
            process.join(5)
            raise StartupError(f"{what} could not start: {detail}")

    def watch(self) -> None:
        """Replace workers that died; :class:`StartupError` when they keep dying."""
        if self._stopping:
            return
        for position, worker in enumerate(self.workers):
            if worker.process.is_alive():
                continue
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW]
            if len(self._restarts) >= RESTART_LIMIT:
                raise StartupError(
                    f"{self.name} workers died {RESTART_LIMIT} times in {RESTART_WINDOW:.0f} s; "
                    f"the last, worker {worker.index}, with exit code {worker.process.exitcode}"
                )
            self._restarts.append(now)
            logger.error(
                "%s worker %d (pid %s) died with exit code %s: starting another",
                self.name,
                worker.index,
                worker.process.pid,
                worker.process.exitcode,
            )
            worker.pipe.close()
            self.workers[position] = self._spawn(worker.index)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask every worker to finish its requests and stop (SIGTERM); kill what lingers."""
        self._stopping = True
        for worker in self.workers:
            if worker.process.is_alive() and worker.process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                logger.warning("%s worker %d did not stop in time: killed", self.name, worker.index)
                _terminate(worker.process)
            worker.pipe.close()
        self.workers.clear()

    async def serve(
        self,
        host: str,
        *,
        stop: asyncio.Event,
        on_listening: Callable[[Listening, list[int]], None],
    ) -> None:
        """Start the workers, say where they listen, replace those that die until ``stop`` is
        set, then stop them (the blocking parts in the loop's default executor)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.start)
        try:
            port = int(self.sock.getsockname()[1])
            admin_host, admin_port = self.settings.admin_host, self.settings.admin_port
            admin = None if admin_host is None else Listening(admin_host, admin_port or 0)
            on_listening(Listening(host, port, admin), self.pids)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), PARENT_POLL)
                await loop.run_in_executor(None, self.watch)
        finally:
            await loop.run_in_executor(None, self.stop)

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers if w.process.pid is not None]


def _terminate(process: BaseProcess) -> None:
    process.kill()
    process.join(5)


WorkerTarget = Callable[[Any, socket.socket, int, Connection, Callable[[], None] | None], None]
"""A worker process's entry point (see :attr:`WorkerPool.target`)."""


def run_worker(
    serve: Callable[[], Coroutine[Any, Any, None]],
    pipe: Connection,
    initializer: Callable[[], None] | None,
    errors: tuple[type[BaseException], ...] = (),
) -> None:
    """The body of a worker process: ``serve()`` on a new event loop. A :class:`GatewayError`,
    an :class:`OSError` or one of ``errors`` is told to the supervisor (``error``) and exits 1.
    ``serve`` says ``ready`` itself (:func:`until_stopped`)."""
    # Ctrl-C reaches the whole process group: the supervisor alone decides, and sends SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer()
    caught: tuple[type[BaseException], ...] = (GatewayError, OSError, *errors)
    try:
        asyncio.run(serve())
    except caught as exc:
        with contextlib.suppress(OSError):
            pipe.send(("error", str(exc)))
        raise SystemExit(1) from None
    finally:
        pipe.close()


async def until_stopped(parent: int, pipe: Connection) -> None:
    """Say ``ready`` to the supervisor, then return on SIGTERM or once the supervisor (pid
    ``parent``) is gone."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    pipe.send(("ready", os.getpid()))
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PARENT_POLL)
        if os.getppid() != parent:
            logger.warning("the supervisor is gone: worker %d stops", os.getpid())
            break


def _worker_main(
    settings: GatewaySettings,
    sock: socket.socket,
    parent: int,
    pipe: Connection,
    initializer: Callable[[], None] | None,
) -> None:
    """A worker process: one whole gateway accepting on the shared socket."""
    run_worker(lambda: _serve_worker(settings, sock, parent, pipe), pipe, initializer)


async def _serve_worker(
    settings: GatewaySettings, sock: socket.socket, parent: int, pipe: Connection
) -> None:
    gateway = Gateway.open(settings)
    try:
        await gateway.start(sock=accepting_socket(sock))
    except BaseException:
        await gateway.close()
        raise
    try:
        await until_stopped(parent, pipe)
    finally:
        await gateway.close()


async def serve_workers(
    settings: GatewaySettings,
    *,
    stop: asyncio.Event,
    on_listening: Callable[[Listening, list[int]], None],
    initializer: Callable[[], None] | None = None,
) -> None:
    """Run ``settings.workers`` worker processes on one port until ``stop`` is set."""
    prepare_state(settings)
    sock = reserve_port(settings.host, settings.port)
    admin: socket.socket | None = None
    try:
        settings, admin = reserve_admin_port(settings)
        pool = WorkerPool(settings, sock, settings.workers, initializer)
        await pool.serve(settings.host, stop=stop, on_listening=on_listening)
    finally:
        sock.close()
        if admin is not None:
            admin.close()


__all__ = [
    "WorkerPool",
    "WorkerTarget",
    "accepting_socket",
    "prepare_state",
    "reserve_admin_port",
    "reserve_port",
    "run_worker",
    "serve_workers",
    "until_stopped",
    "worker_settings",
]
