"""What a sandbox is started with: :class:`SandboxSettings` (the ``smetsim sandbox`` options)
and the config file that gives them (the gateway's TOML plus a ``[sandbox]`` table)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from gateway.config import (
    ConfigError,
    GatewaySettings,
    config_table,
    read_toml,
    settings_from_mapping,
)

__all__ = ["DEFAULT_PORT", "MAX_SUPPLIERS", "SandboxSettings", "load_sandbox_config"]

DEFAULT_PORT: Final = 8079
MAX_SUPPLIERS: Final = 4096
_SANDBOX_KEYS: Final = frozenset(
    {"devices", "suppliers", "latency", "faults", "response_timeout", "tick_interval"}
)


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """What :meth:`Sandbox.start` needs (``smetsim sandbox`` options, ``[sandbox]`` table)."""

    gateway: GatewaySettings
    devices: int = 0
    """ESMEs hosted and commissioned on top of the default home (for load)."""
    suppliers: int = 0
    """More supplier users (``90-B3-D5-1F-3E-00-00-01``...) with keys derived from the seed;
    the extra ESMEs are shared round-robin between them and the default supplier (so
    concurrent clients each have their own RequestID counter)."""
    latency: bool = True
    """Answers arrive after the response latency the device's firmware profile gives."""
    faults: bool = False
    """Apply the profiles' drop and corrupt-MAC quirks."""
    response_timeout: float = 30.0
    """Seconds a device has to answer before its request fails (DCC alert)."""
    tick_interval: float = 60.0
    """Seconds between lets-time-pass ticks of the fleet (time-driven alerts); 0: never."""
    temporary: bool = False
    """The state folder is a temporary one, deleted on close."""

    @classmethod
    def create(
        cls,
        *,
        state: Path | None = None,
        host: str | None = None,
        port: int | None = None,
        config: Path | None = None,
        devices: int | None = None,
        suppliers: int | None = None,
        require_signatures: bool = False,
        latency: bool | None = None,
        response_timeout: float | None = None,
        durability: str | None = None,
        workers: int | None = None,
        admin_token: str | None = None,
        admin_host: str | None = None,
        admin_port: int | None = None,
    ) -> SandboxSettings:
        """Settings from an optional config file overlaid by options (``None``: not given).

        Raises :class:`gateway.config.ConfigError` naming a bad file, key or value."""
        if devices is not None and devices < 0:
            raise ConfigError(f"--devices must be 0 or more, not {devices}")
        if suppliers is not None and not 0 <= suppliers <= MAX_SUPPLIERS:
            raise ConfigError(f"--suppliers must be 0 to {MAX_SUPPLIERS}, not {suppliers}")
        base = load_sandbox_config(config) if config is not None else cls(GatewaySettings())
        temporary = False
        if state is None and (config is None or base.gateway.state == GatewaySettings().state):
            state = Path(tempfile.mkdtemp(prefix="smetsim-sandbox-"))
            temporary = True
            if durability is None and config is None:
                # The folder is deleted on stop: an fsync per commit would protect nothing
                # a power cut would not take anyway. A killed process still loses nothing.
                durability = "process"
        gw = base.gateway.with_overrides(
            state=state,
            host=host,
            port=DEFAULT_PORT if port is None and config is None else port,
            allow_unsigned=not require_signatures,
            durability=durability,
            workers=workers,
            admin_token=admin_token,
            admin_host=admin_host,
            admin_port=admin_port,
        )
        if gw.rdp_outbox is None:
            gw = replace(gw, rdp_outbox=gw.state / "rdp-outbox")
        return replace(
            base,
            gateway=gw,
            devices=base.devices if devices is None else devices,
            suppliers=base.suppliers if suppliers is None else suppliers,
            latency=base.latency if latency is None else latency,
            response_timeout=base.response_timeout
            if response_timeout is None
            else response_timeout,
            temporary=temporary,
        )


def load_sandbox_config(path: Path) -> SandboxSettings:
    """A sandbox config file: the gateway's TOML (``[gateway]``, ``[[users]]``,
    ``[[meter_points]]``, see ``docs/gateway.md``) plus an optional ``[sandbox]`` table
    (``devices``, ``suppliers``, ``latency``, ``faults``, ``response_timeout``,
    ``tick_interval``)."""
    data = read_toml(path)
    section = config_table(str(path), "sandbox", data.pop("sandbox", {}), _SANDBOX_KEYS)
    gateway = settings_from_mapping(data, base=path.parent, source=str(path))

    def value(key: str, kind: type, default: Any) -> Any:
        found = section.get(key, default)
        if kind is float and isinstance(found, int) and not isinstance(found, bool):
            found = float(found)
        if not isinstance(found, kind) or (kind is int and isinstance(found, bool)):
            raise ConfigError(f"{path}: [sandbox] {key} must be a {kind.__name__}, not {found!r}")
        return found

    devices = value("devices", int, 0)
    if devices < 0:
        raise ConfigError(f"{path}: [sandbox] devices must be 0 or more, not {devices}")
    suppliers = value("suppliers", int, 0)
    if not 0 <= suppliers <= MAX_SUPPLIERS:
        raise ConfigError(
            f"{path}: [sandbox] suppliers must be 0 to {MAX_SUPPLIERS}, not {suppliers}"
        )
    return SandboxSettings(
        gateway=gateway,
        devices=devices,
        suppliers=suppliers,
        latency=value("latency", bool, True),
        faults=value("faults", bool, False),
        response_timeout=value("response_timeout", float, 30.0),
        tick_interval=value("tick_interval", float, 60.0),
    )
