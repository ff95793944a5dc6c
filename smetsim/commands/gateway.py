"""`smetsim gateway`: the DCC User Gateway mock (DUIS over HTTP, the SMI, service flags)."""

from __future__ import annotations

import asyncio
import functools
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from gateway.admin_auth import admin_access, resolve_admin, token_banner
from gateway.config import (
    MAX_WORKERS,
    ConfigError,
    GatewaySettings,
    check_admin_token,
    load_settings,
)
from gateway.duis.schema import SchemaLoadError
from gateway.errors import GatewayError
from gateway.server import Gateway, Listening
from gateway.workers import serve_workers
from smetsim.commands._admin_options import AdminHost, AdminPort, AdminToken
from smetsim.commands._logging import configure_logging
from smetsim.commands._signals import stop_on_signals


def gateway(
    state: Annotated[
        Path | None,
        typer.Option(
            "--state", help="State folder (database, test PKI). Default: ./gateway-state."
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=0, max=65535, help="Port to listen on (8079; 0 picks a free one)."
        ),
    ] = None,
    allow_unsigned: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned",
            help="Accept unsigned and placeholder-signed requests (a sandbox convenience).",
        ),
    ] = False,
    duis_schema: Annotated[
        Path | None,
        typer.Option(
            "--duis-schema",
            help="Folder holding 'DUIS Schema V5.x.xsd' and its imports: validate every request.",
        ),
    ] = None,
    rdp_outbox: Annotated[
        Path | None,
        typer.Option(
            "--rdp-outbox", help="Folder the E45 / D0350 service-flag files are written to."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="TOML file: [gateway] settings, [[users]], [[meter_points]]."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=MAX_WORKERS,
            help="Worker processes sharing the port and the state (1). More use more cores.",
        ),
    ] = None,
    admin_token: AdminToken = None,
    admin_host: AdminHost = None,
    admin_port: AdminPort = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info or warning.")] = "info",
) -> None:
    """Serve DUIS on POST /api/v1/serviceD|serviceS|serviceT and the admin API on one port."""
    configure_logging(log_level)
    made_state: Path | None = None
    try:
        settings = load_settings(config) if config is not None else GatewaySettings()
        settings = settings.with_overrides(
            state=state,
            host=host,
            port=port,
            duis_schema=duis_schema,
            rdp_outbox=rdp_outbox,
            allow_unsigned=True if allow_unsigned else None,
            workers=workers,
            admin_token=None if admin_token is None else check_admin_token(admin_token),
            admin_host=admin_host,
            admin_port=admin_port,
        )
        made_state = None if settings.state.exists() else settings.state

        def started() -> None:
            nonlocal made_state
            made_state = None  # it holds a gateway's work now: never removed

        settings, generated = resolve_admin(settings)
        banner = _admin_banner(settings, generated)
        if settings.workers > 1:
            asyncio.run(_serve_workers(settings, log_level, banner, started))
        else:
            asyncio.run(_serve(settings, banner, started))
    except (ConfigError, SchemaLoadError, GatewayError) as exc:
        if made_state is not None:
            # A gateway that never started (port in use, bad schema) leaves no state behind.
            shutil.rmtree(made_state, ignore_errors=True)
        typer.echo(f"smetsim: error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def _admin_banner(settings: GatewaySettings, generated: bool) -> Callable[[Listening], None]:
    """What the banner says of the admin paths once listening at a place: where and who may
    use them, and a generated token (shown there only)."""

    def say(where: Listening) -> None:
        if where.admin is not None:
            typer.echo(f"  admin:        {where.admin.url}/admin/...")
        typer.echo(f"  {admin_access(settings, where.url)}")
        if generated and settings.admin_token is not None:
            typer.echo(f"  {token_banner(settings.admin_token)}")

    return say


async def _serve(
    settings: GatewaySettings, banner: Callable[[Listening], None], started: Callable[[], None]
) -> None:
    gw = Gateway.open(settings)
    try:
        listening = await gw.start()
    except BaseException:
        await gw.close()
        raise
    started()
    stop = stop_on_signals()
    typer.echo(
        f"smetsim gateway: listening on {listening.url} (state {settings.state}"
        f"{', unsigned requests allowed' if settings.allow_unsigned else ''})"
    )
    banner(listening)
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await gw.close()
        typer.echo("smetsim gateway: stopped")


async def _serve_workers(
    settings: GatewaySettings,
    log_level: str,
    banner: Callable[[Listening], None],
    on_started: Callable[[], None],
) -> None:
    stop = stop_on_signals()
    started = False

    def listening(where: Listening, pids: list[int]) -> None:
        nonlocal started
        started = True
        on_started()
        typer.echo(
            f"smetsim gateway: listening on {where.url} (state {settings.state}, "
            f"{len(pids)} worker processes: {', '.join(map(str, pids))}"
            f"{', unsigned requests allowed' if settings.allow_unsigned else ''})"
        )
        banner(where)
        sys.stdout.flush()

    try:
        await serve_workers(
            settings,
            stop=stop,
            on_listening=listening,
            initializer=functools.partial(configure_logging, log_level),
        )
    finally:
        if started:
            typer.echo("smetsim gateway: stopped")


def register(app: typer.Typer) -> None:
    app.command("gateway")(gateway)
