"""The gateway's settings: a TOML file (``--config FILE``) overlaid by command-line options.

The format is documented in ``docs/gateway.md``. Every bad value raises :class:`ConfigError`
naming the file, the key and the value; nothing is started or written before the whole file
is read.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Set
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from gateway.anomaly import Threshold, threshold_from_json
from gateway.duis.signature import SignatureEngine
from gateway.errors import AdminError, GatewayError
from gateway.flags import FlagRules
from gateway.model import PropertyFilter
from gbcs.codes import ACB
from gbcs.devices import Fuel
from gbcs.eui import parse_eui

DEFAULT_PORT: Final = 8079
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_STATE: Final = Path("gateway-state")
DEFAULT_MAX_BODY_BYTES: Final = 2 * 1024 * 1024
DEFAULT_RDP_INTERVAL: Final = 60.0
MAX_WORKERS: Final = 64
MIN_ADMIN_TOKEN: Final = 16


class ConfigError(GatewayError):
    """A bad setting: the message names where it is and what is wrong."""


@dataclass(frozen=True, slots=True)
class UserConfig:
    """A ``[[users]]`` entry: registered (or updated) at every start."""

    eui: bytes
    roles: tuple[str, ...]
    certificate_pem: str | None = None
    response_url: str | None = None


@dataclass(frozen=True, slots=True)
class MeterPointConfig:
    """A ``[[meter_points]]`` entry: registered (or updated) at every start."""

    mpxn: str
    fuel: Fuel
    supplier: bytes
    network_operator: bytes | None = None
    uprn: str | None = None
    property_filter: PropertyFilter | None = None


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """Everything ``smetsim gateway`` needs to start."""

    state: Path = DEFAULT_STATE
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allow_unsigned: bool = False
    duis_schema: Path | None = None
    rdp_outbox: Path | None = None
    rdp_inbox: Path | None = None
    rdp_flush_interval: float = DEFAULT_RDP_INTERVAL
    rdp_inbox_interval: float = DEFAULT_RDP_INTERVAL
    n_export: frozenset[Fuel] = frozenset(Fuel)
    flag_rules: FlagRules = "dsp"
    durability: str = "full"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    seed: bytes | None = None
    signing_eui: bytes = ACB
    seed_defaults: bool = True
    signature_engine: SignatureEngine = "fast"
    workers: int = 1
    """Worker processes serving the port (1: the gateway runs in one process)."""
    admin_token: str | None = field(default=None, repr=False)
    """The bearer token clients off this machine need for the admin paths (None: loopback
    clients only); kept out of ``repr`` so that it is never logged."""
    admin_host: str | None = None
    """Serve the admin paths on a listener of their own on this address (None: on the DUIS
    listener)."""
    admin_port: int | None = None
    """That listener's port (None: the DUIS port + 1; 0: any free port)."""
    users: tuple[UserConfig, ...] = ()
    meter_points: tuple[MeterPointConfig, ...] = field(default=())
    anomaly_thresholds: tuple[Threshold, ...] = ()
    """``[[anomaly.threshold]]``: set (or replaced) at every start (docs/anomaly-detection.md)."""

    @property
    def inbox(self) -> Path | None:
        """Where E46 answers are read from: ``rdp_inbox``, else ``<rdp_outbox>/inbox``."""
        if self.rdp_inbox is not None:
            return self.rdp_inbox
        return None if self.rdp_outbox is None else self.rdp_outbox / "inbox"

    def with_overrides(self, **overrides: Any) -> GatewaySettings:
        """These settings with the command-line values that were given (``None`` = not given)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given)


_GATEWAY_KEYS: Final = frozenset(
    {
        "state",
        "host",
        "port",
        "allow_unsigned",
        "duis_schema",
        "rdp_outbox",
        "rdp_inbox",
        "rdp_flush_interval",
        "rdp_inbox_interval",
        "n_export",
        "flag_rules",
        "durability",
        "max_body_bytes",
        "seed",
        "signing_eui",
        "seed_defaults",
        "signature_engine",
        "workers",
        "admin_token",
        "admin_host",
        "admin_port",
    }
)


def check_admin_token(token: str) -> str:
    """``token`` if it can serve as the admin bearer token, else :class:`ConfigError` saying
    why (without repeating it: it is a secret)."""
    if len(token) < MIN_ADMIN_TOKEN:
        raise ConfigError(
            f"the admin token must be at least {MIN_ADMIN_TOKEN} characters long (it has "
            f"{len(token)}); make one with: python3 -c 'import secrets; "
            "print(secrets.token_urlsafe())'"
        )
    if not all(33 <= ord(c) < 127 for c in token):
        raise ConfigError(
            "the admin token must be printable ASCII without spaces (it travels in an HTTP header)"
        )
    return token


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML config file's tables, or :class:`ConfigError` saying why it cannot be read."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None


def config_table(source: str, name: str, value: object, known: Set[str]) -> dict[str, Any]:
    """The TOML table ``[name]`` (``value``), refused unless it is a table of ``known`` keys."""
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    bad = set(value) - known
    if bad:
        raise ConfigError(
            f"{source}: unknown key(s) in [{name}]: {', '.join(sorted(bad))} "
            f"(known: {', '.join(sorted(known))})"
        )
    return value


def load_settings(path: Path) -> GatewaySettings:
    """Read a TOML config file (relative paths in it are relative to the file)."""
    return settings_from_mapping(read_toml(path), base=path.parent, source=str(path))


def settings_from_mapping(
    data: Mapping[str, Any], *, base: Path = Path("."), source: str = "config"
) -> GatewaySettings:
    """Settings from parsed TOML (``[gateway]``, ``[[users]]``, ``[[meter_points]]``)."""
    unknown = set(data) - {"gateway", "users", "meter_points", "anomaly"}
    if unknown:
        raise ConfigError(f"{source}: unknown table(s) {', '.join(sorted(unknown))}")
    section = config_table(source, "gateway", data.get("gateway", {}), _GATEWAY_KEYS)
    reader = _Reader(source, "gateway", section, base)
    settings = GatewaySettings(
        state=reader.path("state") or DEFAULT_STATE,
        host=reader.string("host") or DEFAULT_HOST,
        port=reader.integer("port", DEFAULT_PORT, 0, 65535),
        allow_unsigned=reader.boolean("allow_unsigned", False),
        duis_schema=reader.path("duis_schema"),
        rdp_outbox=reader.path("rdp_outbox"),
        rdp_inbox=reader.path("rdp_inbox"),
        rdp_flush_interval=reader.number("rdp_flush_interval", DEFAULT_RDP_INTERVAL),
        rdp_inbox_interval=reader.number("rdp_inbox_interval", DEFAULT_RDP_INTERVAL),
        n_export=reader.fuels("n_export"),
        flag_rules=reader.flag_rules("flag_rules"),
        durability=reader.choice("durability", ("full", "process"), "full"),
        max_body_bytes=reader.integer("max_body_bytes", DEFAULT_MAX_BODY_BYTES, 1024, 1 << 30),
        seed=reader.seed("seed"),
        signing_eui=reader.eui("signing_eui") or ACB,
        seed_defaults=reader.boolean("seed_defaults", True),
        signature_engine=reader.signature_engine("signature_engine"),
        workers=reader.integer("workers", 1, 1, MAX_WORKERS),
        admin_token=reader.admin_token("admin_token"),
        admin_host=reader.string("admin_host"),
        admin_port=reader.optional_integer("admin_port", 0, 65535),
    )
    users = tuple(_user(source, i, e, base) for i, e in enumerate(_tables(data, "users", source)))
    points = tuple(
        _meter_point(source, i, e) for i, e in enumerate(_tables(data, "meter_points", source))
    )
    thresholds = _anomaly_thresholds(data.get("anomaly", {}), source)
    return replace(settings, users=users, meter_points=points, anomaly_thresholds=thresholds)


def _anomaly_thresholds(section: Any, source: str) -> tuple[Threshold, ...]:
    if not isinstance(section, dict) or set(section) - {"threshold"}:
        raise ConfigError(f"{source}: [anomaly] holds only [[anomaly.threshold]] tables")
    entries = _tables(section, "threshold", source)
    out: list[Threshold] = []
    for index, entry in enumerate(entries):
        try:
            out.append(threshold_from_json(entry, f"[[anomaly.threshold]] #{index + 1}"))
        except AdminError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return tuple(out)


def _tables(data: Mapping[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{source}: {key} must be an array of tables ([[{key}]])")
    return value


class _Reader:
    """Typed access to one table, each error naming the source, the table and the key."""

    def __init__(self, source: str, table: str, values: Mapping[str, Any], base: Path) -> None:
        self.source = source
        self.table = table
        self.values = values
        self.base = base

    def fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(
            f"{self.source}: [{self.table}] {key} = {self.values.get(key)!r} is invalid: {why}"
        )

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def string(self, key: str) -> str | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(key, "expected a non-empty string")
        return value

    def path(self, key: str) -> Path | None:
        text = self.string(key)
        if text is None:
            return None
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base / path

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, "expected true or false")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"expected an integer from {low} to {high}")
        return value

    def optional_integer(self, key: str, low: int, high: int) -> int | None:
        return None if self.get(key) is None else self.integer(key, 0, low, high)

    def admin_token(self, key: str) -> str | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, "expected a string")
        try:
            return check_admin_token(value)
        except ConfigError as exc:
            # Not self.fail: that would print the (secret) value.
            raise ConfigError(f"{self.source}: [{self.table}] {key}: {exc}") from None

    def number(self, key: str, default: float) -> float:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.fail(key, "expected a number of seconds, 0 or more (0 turns it off)")
        return float(value)

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.get(key)
        if value is None:
            return default
        if value not in allowed:
            raise self.fail(key, f"expected one of {', '.join(allowed)}")
        return str(value)

    def flag_rules(self, key: str) -> FlagRules:
        value = self.choice(key, ("dsp", "mp077"), "dsp")
        return "mp077" if value == "mp077" else "dsp"

    def signature_engine(self, key: str) -> SignatureEngine:
        value = self.choice(key, ("fast", "signxml"), "fast")
        return "signxml" if value == "signxml" else "fast"

    def fuels(self, key: str) -> frozenset[Fuel]:
        value = self.get(key)
        if value is None:
            return frozenset(Fuel)
        if not isinstance(value, list):
            raise self.fail(key, 'expected a list such as ["gas", "electricity"]')
        try:
            return frozenset(Fuel(v) for v in value)
        except ValueError:
            raise self.fail(key, 'each entry must be "gas" or "electricity"') from None

    def seed(self, key: str) -> bytes | None:
        text = self.string(key)
        return None if text is None else text.encode("utf-8")

    def eui(self, key: str) -> bytes | None:
        text = self.string(key)
        if text is None:
            return None
        try:
            return parse_eui(text)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None


def _user(source: str, index: int, entry: dict[str, Any], base: Path) -> UserConfig:
    reader = _Reader(source, f"users #{index + 1}", entry, base)
    bad = set(entry) - {"eui", "roles", "certificate", "certificate_file", "response_url"}
    if bad:
        raise ConfigError(
            f"{source}: [[users]] #{index + 1}: unknown key(s) {', '.join(sorted(bad))}"
        )
    eui = reader.eui("eui")
    if eui is None:
        raise reader.fail("eui", "every user needs an eui")
    roles = entry.get("roles")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise reader.fail("roles", 'expected a non-empty list of role names such as ["IS", "GS"]')
    pem = reader.string("certificate")
    certificate_file = reader.path("certificate_file")
    if pem is not None and certificate_file is not None:
        raise reader.fail("certificate_file", "give certificate or certificate_file, not both")
    if certificate_file is not None:
        try:
            pem = certificate_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise reader.fail("certificate_file", f"cannot read it: {exc}") from None
    return UserConfig(eui, tuple(roles), pem, reader.string("response_url"))


def _meter_point(source: str, index: int, entry: dict[str, Any]) -> MeterPointConfig:
    reader = _Reader(source, f"meter_points #{index + 1}", entry, Path("."))
    allowed = {
        "mpxn",
        "fuel",
        "supplier",
        "network_operator",
        "uprn",
        "postcode",
        "address_identifier",
    }
    bad = set(entry) - allowed
    if bad:
        raise ConfigError(
            f"{source}: [[meter_points]] #{index + 1}: unknown key(s) {', '.join(sorted(bad))}"
        )
    mpxn = entry.get("mpxn")
    if isinstance(mpxn, int) and not isinstance(mpxn, bool):
        mpxn = str(mpxn)
    if not isinstance(mpxn, str) or not mpxn:
        raise reader.fail("mpxn", "expected the MPAN or MPRN as a string of digits")
    fuel_text = reader.choice("fuel", ("electricity", "gas"), "")
    if not fuel_text:
        raise reader.fail("fuel", 'expected "electricity" or "gas"')
    supplier = reader.eui("supplier")
    if supplier is None:
        raise reader.fail("supplier", "every meter point needs its supplier's EUI")
    uprn = entry.get("uprn")
    postcode = reader.string("postcode")
    address = reader.string("address_identifier")
    if (postcode is None) != (address is None):
        raise reader.fail("postcode", "give both postcode and address_identifier, or neither")
    return MeterPointConfig(
        mpxn=mpxn,
        fuel=Fuel(fuel_text),
        supplier=supplier,
        network_operator=reader.eui("network_operator"),
        uprn=None if uprn is None else str(uprn),
        property_filter=None
        if postcode is None or address is None
        else PropertyFilter(postcode, address),
    )
