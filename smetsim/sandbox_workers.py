"""Several sandbox processes on one port: ``smetsim sandbox --workers N``.

One Python process runs its Python code on one core at a time, and a device SR costs a few
milliseconds of it (two HTTP exchanges, an XML signature checked and two made, the GBCS both
ways, two durable transactions): more processes use more cores. This is the pre-fork layout
of :mod:`gateway.workers` (a supervisor prepares the state, opens the port and starts N
worker processes accepting on it, replaces one that dies, stops them all on Ctrl-C), with a
whole :class:`smetsim.sandbox.Sandbox` in each worker:

- the SQLite state is shared as between gateway workers (``BEGIN IMMEDIATE`` writes, the
  certificate index reread when users change, the RDP work in worker 0);
- the fleet lives in worker 0 only; the others send it their commands and get the answers
  back over a :class:`smetsim.worker_mesh.WorkerMesh` (see there for why);
- the inbox is read from the database by every worker, and a worker that files a report
  tells the others, so a long poll wakes up whichever worker it reached;
- worker 0 alone POSTs again, on start, the reports never delivered to a listener, runs the
  fleet's clock ticks and writes the fleet snapshot on stop.

The supervisor deletes a temporary state folder once every worker has stopped.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection

from emulator.errors import EmulatorError
from gateway.server import Listening
from gateway.workers import (
    WorkerPool,
    accepting_socket,
    reserve_admin_port,
    reserve_port,
    run_worker,
    until_stopped,
    worker_settings,
)
from smetsim.sandbox import Sandbox, SandboxSettings, prepare_sandbox_state
from smetsim.worker_mesh import WorkerMesh

__all__ = ["serve_sandbox_workers", "worker_arguments"]

WorkerArguments = tuple[SandboxSettings, int, int, str]
"""What a sandbox worker is started with: its settings, its index, how many, the token."""


def worker_arguments(
    settings: SandboxSettings, index: int, count: int, token: str
) -> WorkerArguments:
    """Worker ``index``'s arguments: the supervisor seeded the state and owns a temporary
    folder; the periodic RDP work runs in worker 0 only."""
    return (
        replace(settings, gateway=worker_settings(settings.gateway, index), temporary=False),
        index,
        count,
        token,
    )


def _sandbox_worker_main(
    arguments: WorkerArguments,
    sock: socket.socket,
    parent: int,
    pipe: Connection,
    initializer: Callable[[], None] | None,
) -> None:
    """A worker process: a whole sandbox accepting on the shared socket."""
    run_worker(
        lambda: _serve_worker(arguments, sock, parent, pipe),
        pipe,
        initializer,
        errors=(EmulatorError,),
    )


async def _serve_worker(
    arguments: WorkerArguments, sock: socket.socket, parent: int, pipe: Connection
) -> None:
    settings, index, count, token = arguments
    sandbox = await Sandbox.start(
        settings, sock=accepting_socket(sock), mesh=WorkerMesh(token, index, count)
    )
    try:
        await until_stopped(parent, pipe)
    finally:
        await sandbox.close()


async def serve_sandbox_workers(
    settings: SandboxSettings,
    count: int,
    *,
    stop: asyncio.Event,
    on_listening: Callable[[Listening, list[int]], None],
    initializer: Callable[[], None] | None = None,
) -> None:
    """Run ``count`` sandbox worker processes on one port until ``stop`` is set.

    Raises what :meth:`Sandbox.start` raises for a bad state, and
    :class:`gateway.server.StartupError` when the port is taken or a worker cannot start."""
    try:
        await prepare_sandbox_state(settings)
        sock = reserve_port(settings.gateway.host, settings.gateway.port)
        admin: socket.socket | None = None
        try:
            gateway, admin = reserve_admin_port(settings.gateway)
            settings = replace(settings, gateway=gateway)
            token = secrets.token_hex(8)
            pool = WorkerPool(
                settings.gateway,
                sock,
                count,
                initializer,
                target=_sandbox_worker_main,
                arguments=lambda index: worker_arguments(settings, index, count, token),
                name="sandbox",
            )
            await pool.serve(settings.gateway.host, stop=stop, on_listening=on_listening)
        finally:
            sock.close()
            if admin is not None:
                admin.close()
    finally:
        if settings.temporary:
            shutil.rmtree(settings.gateway.state, ignore_errors=True)
