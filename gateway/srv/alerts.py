"""SR 6.22 Configure Alert Behaviour: which alerts an ESME sends, to the HAN, sounds or logs.

The body holds one of eight settings groups; each of the six electricity ones is one GBCS use
case (a Set of one behaviour object, :class:`gbcs.content.SetAlertBehaviour`):

======================================  ========  ==========================================
body element                            use case  what the settings decide
======================================  ========  ==========================================
ElectricitySupplierAlerts               ECS25a    the supplier's 0x81xx alerts sent (WAN)
ElectricitySupplierHANAlertSettings     ECS25a1   ... sent to HAN devices
ElectricitySupplierAlarmSettings        ECS25a2   ... sounding the audible alarm
ElectricitySupplierLoggingSettings      ECS25a3   ... written to the event log
ElectricityNetworkOperatorAlerts        ECS25b    the network operator's 0x80xx alerts sent
ElectricityNetworkOperatorLoggingSett.  ECS25b3   ... written to the event log
GasSupplierAlertEventSettings           GCS20     the GSME's alerts: WAN, HAN, logged, alarm
GasSupplierAlerts                       GCS20     (not built: E47, see below)
======================================  ========  ==========================================

Each alert element is named by its code (``x810D``) and holds ``Enable`` or ``Disable``.
Settings of the polyphase groups (``SupplierESMEPolyPhase``, ``NetworkOperatorESMEPolyPhase``)
apply to polyphase ESMEs only (the SMI's ESME variant ``C..``, MP125's variants): they are
sent to a polyphase meter, and left out of the command to a single-phase one, as the DCC does
(its reference command for the ECS25b template, made for a single-phase ESME, drops the
template's ``x8003``). A body holding only polyphase settings is refused for a single-phase
ESME with a sentence rather than sent empty.

To a GSME (GCS20, :class:`gbcs.content.GasEventBehaviours`), each ``x81..`` element of
``GasSupplierAlertEventSettings`` holds the four switches of the event (``WANAlert``,
``HANAlert``, ``EventLog``, ``Alarm``): they make the event's configuration byte, set by one
Set Event Configuration per distinct configuration. ``GasSupplierAlerts`` switches the WAN
alert alone, but the GSME's command sets an event's whole configuration (and GBCS gives no
"leave the rest" value), so it is refused with ``E47`` rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from lxml import etree

from gateway.duis.xml import local_name
from gateway.errors import ServiceError
from gateway.srv.example import Example, ExampleError, Values
from gateway.srv.fields import Fields, invalid
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc

__all__ = ["AlertSettings", "ConfigureAlertBehaviour"]


def _codes(text: str) -> tuple[int, ...]:
    return tuple(int(code, 16) for code in text.split())


SUPPLIER_ESME_COMMON: Final = _codes(
    "810D 810E 8119 8145 8154 8155 8161 8162 8168 8183 81A0 81A1 81A2 81A3 81A4 81A5 81A6 "
    "81A7 81A8 81A9 81AA 81AB 81AC 81AD 81AE 81AF 81B0 81B1 81B2 81B3 81B8 81B9 81BA 81BB "
    "81BC 81BD 81BE 81C0 81C1 81C4 81C5 81C6"
)
SUPPLIER_ESME_POLYPHASE: Final = _codes("81B7")
NETWORK_OPERATOR_COMMON: Final = _codes("8014 8015")
NETWORK_OPERATOR_SINGLE_PHASE: Final = _codes(
    "8002 8006 8020 8024 8028 802C 8085 8089 808D 8091 8095 8099 8010"
)
NETWORK_OPERATOR_POLYPHASE: Final = _codes(
    "8003 8004 8005 8007 8008 8009 8021 8022 8023 8025 8026 8027 8029 802A 802B 802D 802E "
    "802F 8086 8087 8088 808A 808B 808C 808E 808F 8090 8092 8093 8094 8096 8097 8098 809A "
    "809B 809C 8011 8016 8013"
)
"""The alert codes of each DUIS settings group, in the schema's order."""

_GROUPS: Final[Mapping[str, tuple[tuple[str, tuple[int, ...], bool], ...]]] = MappingProxyType(
    {
        "supplier": (
            ("SupplierESMECommon", SUPPLIER_ESME_COMMON, False),
            ("SupplierESMEPolyPhase", SUPPLIER_ESME_POLYPHASE, True),
        ),
        "network operator": (
            ("NetworkOperatorESMECommon", NETWORK_OPERATOR_COMMON, False),
            ("NetworkOperatorESMESinglePhase", NETWORK_OPERATOR_SINGLE_PHASE, False),
            ("NetworkOperatorESMEPolyPhase", NETWORK_OPERATOR_POLYPHASE, True),
        ),
    }
)
"""Each owner's groups: element name, its alert codes, whether polyphase only."""

ELECTRICITY: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "ElectricitySupplierAlerts": ("ECS25a", "supplier"),
        "ElectricitySupplierHANAlertSettings": ("ECS25a1", "supplier"),
        "ElectricitySupplierAlarmSettings": ("ECS25a2", "supplier"),
        "ElectricitySupplierLoggingSettings": ("ECS25a3", "supplier"),
        "ElectricityNetworkOperatorAlerts": ("ECS25b", "network operator"),
        "ElectricityNetworkOperatorLoggingSettings": ("ECS25b3", "network operator"),
    }
)
"""Body element -> (use case, owner of its groups)."""

GAS: Final = ("GasSupplierAlerts", "GasSupplierAlertEventSettings")

GAS_EVENTS: Final = _codes(
    "810D 810E 8119 8145 8154 8155 8161 8162 8168 8183 8184 81A0 81A1 81A4 81A5 81A6 81A7 "
    "81A8 81A9 81AA 81AB 81AC 81AD 81AE 81AF 81B0 81B1 81B2 81B3 81B4 81B5 81B6 81B9 81BA "
    "81BC 81BD 81BE 81BF 81C0 81C2 81C3 81C4 81C5 81C6"
)
"""The alert codes of ``GasSupplierAlertEventSettings``, in the schema's order."""
_SWITCHES: Final = ("WANAlert", "HANAlert", "EventLog", "Alarm")

_CHOICES: Final = (*ELECTRICITY, *GAS)


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """One alert's setting: ``enabled``; ``polyphase`` for the polyphase groups' alerts."""

    code: int
    enabled: bool
    polyphase: bool = False


@dataclass(frozen=True, slots=True)
class ConfigureAlertBehaviour:
    """SR6.22 ``ConfigureAlertBehaviour``: the body's settings group and its settings (an
    ESME's), or its gas events' behaviours (a GSME's)."""

    group: str
    use_case: str
    """ECS25a ... ECS25b3, or GCS20 for the gas groups."""
    settings: tuple[AlertSettings, ...]
    gas: tuple[tuple[int, gc.EventBehaviour], ...] = ()
    """GasSupplierAlertEventSettings: each event's (code, behaviour), in code order."""

    def sent(self, polyphase: bool = False) -> tuple[tuple[int, bool], ...]:
        """The (code, enabled) pairs the command to a polyphase (or single-phase) ESME
        carries, in code order (see the module's note on polyphase settings)."""
        return tuple(
            sorted((s.code, s.enabled) for s in self.settings if polyphase or not s.polyphase)
        )


def _switch(element: etree._Element) -> bool:
    value = (element.text or "").strip()
    if value not in ("Enable", "Disable"):
        raise invalid(local_name(element), f"{value!r} is neither Enable nor Disable")
    return value == "Enable"


def _read_group(
    element: etree._Element, codes: tuple[int, ...], polyphase: bool
) -> list[AlertSettings]:
    names = tuple(f"x{code:04X}" for code in codes)
    f = Fields(element, names)
    if not f.elements:
        raise invalid(f.owner, "it holds no alert setting")
    return [
        AlertSettings(code, _switch(f.elements[name]), polyphase)
        for code, name in zip(codes, names, strict=True)
        if name in f.elements
    ]


def _read(body: etree._Element) -> ConfigureAlertBehaviour:
    f = Fields(body, _CHOICES)
    if len(f.elements) != 1:
        raise invalid(f.owner, f"it must hold one of {', '.join(_CHOICES)}")
    ((name, group),) = f.elements.items()
    if name == "GasSupplierAlertEventSettings":
        return ConfigureAlertBehaviour(name, "GCS20", (), _read_gas(group))
    if name in GAS:
        raise ServiceError(
            "use_case_unavailable",
            srv="6.22",
            use_case=(
                "GCS20 from GasSupplierAlerts (it switches the WAN alerts alone; GCS20 sets each "
                "event's whole configuration: give GasSupplierAlertEventSettings)"
            ),
        )
    use_case, owner = ELECTRICITY[name]
    groups = _GROUPS[owner]
    g = Fields(group, tuple(n for n, _, _ in groups))
    if not g.elements:
        raise invalid(name, "it holds no settings group")
    phase_groups = {n for n, _, _ in groups[1:]}
    if len(phase_groups) == 2 and phase_groups <= g.elements.keys():
        raise invalid(name, "it takes single-phase or polyphase settings, not both")
    settings: list[AlertSettings] = []
    for group_name, codes, polyphase in groups:
        element = g.elements.get(group_name)
        if element is not None:
            settings.extend(_read_group(element, codes, polyphase))
    return ConfigureAlertBehaviour(name, use_case, tuple(settings))


def _read_gas(element: etree._Element) -> tuple[tuple[int, gc.EventBehaviour], ...]:
    names = tuple(f"x{code:04X}" for code in GAS_EVENTS)
    f = Fields(element, names)
    if not f.elements:
        raise invalid(f.owner, "it holds no alert setting")
    found = []
    for code, name in zip(GAS_EVENTS, names, strict=True):
        event = f.elements.get(name)
        if event is None:
            continue
        switches = Fields(event, _SWITCHES)
        missing = [s for s in _SWITCHES if s not in switches.elements]
        if missing:
            every = ", ".join(_SWITCHES)
            raise invalid(name, f"{', '.join(missing)} missing (it takes all of {every})")
        wan, han, log, alarm = (_switch(switches.elements[s]) for s in _SWITCHES)
        found.append((code, gc.EventBehaviour(wan=wan, han=han, log=log, alarm=alarm)))
    return tuple(found)


def _choose(request: ConfigureAlertBehaviour, names: tuple[str, ...]) -> str:
    if request.use_case not in names:
        target = "a GSME" if request.use_case == "GCS20" else "an ESME"
        raise invalid(request.group, f"these settings are for {target}, not this device")
    return request.use_case


def _build(cmd: Command) -> bytes:
    request: ConfigureAlertBehaviour = cmd.request
    if cmd.use_case.name == "GCS20":
        return gc.GasEventBehaviours.of(gc.issuer_id(cmd.now), request.gas).encode()
    code = gc.BEHAVIOUR_BY_NAME[cmd.use_case.name]
    settings = request.sent(cmd.polyphase)
    if not settings:
        variant = cmd.esme_variant or "not known"
        raise invalid(
            request.group,
            f"it holds only polyphase settings, and ESME {cmd.device.hex('-').upper()} is "
            f"single phase (ESME variant {variant}); give common or single-phase settings",
        )
    return gc.SetAlertBehaviour(code, cmd.counter, settings).encode()


# =========================================================================== example


def _example(v: Values) -> str:
    """Enable / disable alerts of the supplier's WAN alerts group (ECS25a) by default;
    ``Group=`` one of the six electricity body elements picks another, or
    ``GasSupplierAlertEventSettings`` a GSME's (each event's four switches all Enable or all
    Disable)."""
    group = v.get("Group") or "ElectricitySupplierAlerts"
    switches = {"Enable": v.get("Enable") or "", "Disable": v.get("Disable") or ""}
    if group == "GasSupplierAlertEventSettings":
        inner, codes = group, GAS_EVENTS
    elif group in ELECTRICITY:
        _, owner = ELECTRICITY[group]
        inner, codes, _ = _GROUPS[owner][0]
    else:
        known = ", ".join((*ELECTRICITY, "GasSupplierAlertEventSettings"))
        raise ExampleError(f"Group={group!r}: give one of {known}")
    parts = []
    for code in codes:
        for value, given in switches.items():
            if f"{code:04X}" in given.upper().replace("X", "").split(","):
                setting = value
                if inner == group:  # a gas event: its four switches
                    setting = "".join(f"<sr:{s}>{value}</sr:{s}>" for s in _SWITCHES)
                parts.append(f"<sr:x{code:04X}>{setting}</sr:x{code:04X}>")
    if not parts:
        raise ExampleError(f"give Enable= or Disable= with alert codes of {inner}, e.g. 810D")
    if inner == group:
        return f"<sr:{group}>{''.join(parts)}</sr:{group}>"
    return f"<sr:{group}><sr:{inner}>{''.join(parts)}</sr:{inner}></sr:{group}>"


_EXAMPLE = Example({"Group": None, "Enable": "810D", "Disable": "8119,8168"}, _example)


serves(
    "6.22",
    Codec(
        read=_read,
        build=_build,
        builds=frozenset({*(u for u, _ in ELECTRICITY.values()), "GCS20"}),
        choose=_choose,
        example=_EXAMPLE,
    ),
)
