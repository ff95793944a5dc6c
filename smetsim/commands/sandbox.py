"""`smetsim sandbox`: the gateway and a fleet of emulated devices on this machine."""

from __future__ import annotations

import asyncio
import functools
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from emulator.errors import EmulatorError
from gateway.admin_auth import resolve_admin, token_banner
from gateway.config import MAX_WORKERS, ConfigError, check_admin_token
from gateway.duis.schema import SchemaLoadError
from gateway.errors import GatewayError
from gateway.server import Listening
from gbcs.eui import eui_duis
from gbcs.wan import Wan
from smetsim.commands._admin_options import AdminHost, AdminPort, AdminToken
from smetsim.commands._logging import configure_logging
from smetsim.commands._signals import stop_on_signals
from smetsim.sandbox import CHF, DEFAULT_PORT, Sandbox, SandboxSettings, describe
from smetsim.sandbox_workers import serve_sandbox_workers

if TYPE_CHECKING:
    from smetsim.mqtt import Broker


def sandbox(
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="State folder (SQLite, test PKI, fleet snapshot). Default: a temporary folder.",
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help=f"Port ({DEFAULT_PORT}; 0: any free one)."),
    ] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (127.0.0.1).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file: the gateway's tables ([gateway], [[users]], [[meter_points]]) "
            "and [sandbox] (devices, suppliers, latency, faults, response_timeout, "
            "tick_interval).",
        ),
    ] = None,
    devices: Annotated[
        int | None,
        typer.Option("--devices", min=0, help="More ESMEs to host and commission (for load)."),
    ] = None,
    suppliers: Annotated[
        int | None,
        typer.Option(
            "--suppliers",
            min=0,
            help="More supplier users sharing the extra ESMEs (one RequestID counter each).",
        ),
    ] = None,
    require_signatures: Annotated[
        bool,
        typer.Option(
            "--require-signatures",
            help="Refuse unsigned and placeholder-signed requests (default: accept them).",
        ),
    ] = False,
    no_latency: Annotated[
        bool,
        typer.Option("--no-latency", help="Devices answer at once (ignore the profiles' latency)."),
    ] = False,
    wan: Annotated[
        str | None,
        typer.Option(
            "--wan",
            help="mqtt://HOST[:PORT]: reach the devices' hub through this MQTT broker, served "
            "by 'smetsim fleet serve' workers (default: the in-process fleet).",
        ),
    ] = None,
    mqtt_prefix: Annotated[
        str, typer.Option("--mqtt-prefix", help="Topic prefix on the broker (smetsim).")
    ] = "smetsim",
    mqtt_ca: Annotated[
        Path | None,
        typer.Option("--mqtt-ca", help="CA certificate (PEM) of an mqtts:// broker."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=MAX_WORKERS,
            help="Processes sharing the port and the state (1; [gateway] workers). More use "
            "more cores; the fleet lives in the first.",
        ),
    ] = None,
    admin_token: AdminToken = None,
    admin_host: AdminHost = None,
    admin_port: AdminPort = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info or warning.")
    ] = "warning",
) -> None:
    """Start the gateway (DUIS on HTTP) and a fleet of emulated meters, joined by an
    in-process WAN; Ctrl-C stops both."""
    configure_logging(log_level)
    try:
        # A bad URL is refused before a temporary state folder is made.
        broker = None if wan is None else _broker(wan, mqtt_ca)
        settings = SandboxSettings.create(
            state=state,
            host=host,
            port=port,
            config=config,
            devices=devices,
            suppliers=suppliers,
            require_signatures=require_signatures,
            latency=False if no_latency else None,
            workers=workers,
            admin_token=None if admin_token is None else check_admin_token(admin_token),
            admin_host=admin_host,
            admin_port=admin_port,
        )
        try:
            gateway, generated = resolve_admin(settings.gateway)
        except ConfigError:
            if settings.temporary:  # nothing was started in it: leave nothing behind
                shutil.rmtree(settings.gateway.state, ignore_errors=True)
            raise
        settings = replace(settings, gateway=gateway)
        token = gateway.admin_token if generated else None
        count = settings.gateway.workers
        if count > 1:
            if broker is not None:
                if settings.temporary:
                    shutil.rmtree(settings.gateway.state, ignore_errors=True)
                raise ConfigError(
                    f"--wan {wan} and {count} worker processes do not go together: the "
                    "workers reach the in-process fleet only (use --workers 1)"
                )
            asyncio.run(_serve_workers(settings, count, log_level, token))
            return
        asyncio.run(_serve(settings, broker, mqtt_prefix, token))
    except (ConfigError, SchemaLoadError, GatewayError, EmulatorError) as exc:
        typer.echo(f"smetsim: error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def _broker(url: str, ca_file: Path | None) -> Broker:
    try:
        from smetsim.mqtt import MqttError, parse_broker
    except ImportError:  # pragma: no cover - the mqtt extra is part of make's install
        typer.echo(
            "smetsim: error: --wan mqtt:// needs aiomqtt: pip install 'smetsim[mqtt]'", err=True
        )
        raise typer.Exit(1) from None
    try:
        return parse_broker(url, ca_file=ca_file)
    except MqttError as exc:
        typer.echo(f"smetsim: error: --wan: {exc}", err=True)
        raise typer.Exit(1) from None


async def _mqtt_wan(broker: Broker, prefix: str) -> Wan:
    import aiomqtt

    from smetsim.mqtt import MqttError, MqttWan

    try:
        wan = MqttWan(broker.host, broker.port, prefix=prefix, broker=broker)
        await wan.start()
    except MqttError as exc:
        raise ConfigError(str(exc)) from None
    except aiomqtt.MqttError as exc:
        raise ConfigError(f"--wan: cannot reach the MQTT broker {broker.url}: {exc}") from None
    return wan


async def _serve(
    settings: SandboxSettings, broker: Broker | None, prefix: str, token: str | None
) -> None:
    routes: dict[bytes, Wan] = {}
    if broker is not None:
        try:
            routes[CHF] = await _mqtt_wan(broker, prefix)
        except ConfigError:
            if settings.temporary:  # nothing was started in it: leave nothing behind
                shutil.rmtree(settings.gateway.state, ignore_errors=True)
            raise
    try:
        sb = await Sandbox.start(settings, wan_routes=routes)
    except BaseException:
        for route in routes.values():
            await route.close()
        raise
    stop = stop_on_signals()
    try:
        typer.echo(f"smetsim sandbox: listening on {sb.url}")
        for line in sb.describe():
            typer.echo(f"  {line}")
        _show_token(token)
        if broker is not None:
            typer.echo(
                f"  WAN:       hub {eui_duis(CHF)} (every device) through {broker.url} "
                f"(topics {prefix}/hub/...); serve its devices with: smetsim fleet serve "
                f"--broker {broker.url} --state {settings.gateway.state}"
                + (f" --devices {settings.devices}" if settings.devices else "")
                + (f" --suppliers {settings.suppliers}" if settings.suppliers else "")
                + (f" --prefix {prefix}" if prefix != "smetsim" else "")
            )
        _warn_unsigned(settings)
        typer.echo("Ctrl-C stops it.")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await sb.close()
        typer.echo("smetsim sandbox: stopped")


async def _serve_workers(
    settings: SandboxSettings, count: int, log_level: str, token: str | None
) -> None:
    stop = stop_on_signals()
    started = False

    def listening(where: Listening, pids: list[int]) -> None:
        nonlocal started
        started = True
        typer.echo(f"smetsim sandbox: listening on {where.url}")
        admin_url = None if where.admin is None else where.admin.url
        for line in describe(settings, where.url, admin_url):
            typer.echo(f"  {line}")
        _show_token(token)
        typer.echo(
            f"  workers:   {len(pids)} processes ({', '.join(map(str, pids))}); the first "
            "hosts the fleet"
        )
        _warn_unsigned(settings)
        typer.echo("Ctrl-C stops it.")
        sys.stdout.flush()

    try:
        await serve_sandbox_workers(
            settings,
            count,
            stop=stop,
            on_listening=listening,
            initializer=functools.partial(configure_logging, log_level),
        )
    finally:
        if started:
            typer.echo("smetsim sandbox: stopped")


def _show_token(token: str | None) -> None:
    """A generated admin token: shown here, on the banner, and nowhere else."""
    if token is not None:
        typer.echo(f"  {token_banner(token)}")


def _warn_unsigned(settings: SandboxSettings) -> None:
    if settings.gateway.allow_unsigned:
        typer.echo(
            "smetsim sandbox: warning: unsigned and placeholder-signed requests are "
            "accepted (start with --require-signatures to refuse them)",
            err=True,
        )


def register(app: typer.Typer) -> None:
    app.command("sandbox")(sandbox)
