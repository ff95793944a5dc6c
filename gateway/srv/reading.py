"""Reading SRs (service references 4, 6.2, 6.13, 7.11, 11.2 and the other reads): registers,
logs, profile data, configuration and firmware versions. The device answers; the command only
asks - which objects (the use case's table in :mod:`gbcs.content.reads`) and, for a log, the
period of the DUIS ``ReadLogPeriod``."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from gateway.duis.xml import is_element, local_name
from gateway.errors import ServiceError
from gateway.srv.example import EMPTY, Example, ExampleError, Home, Values
from gateway.srv.fields import Fields, invalid, one, read_datetime
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command, acts_as_network_operator
from gateway.users import UserRole
from gbcs import content as gc
from gbcs.content.reads import ASN1_READS, DLMS_READS, PROTECTED_READS
from gbcs.content.reads_gbz import GBZ_READS
from gbcs.usecases import by_name

__all__ = ["ReadFirmwareVersion", "ReadImportRegisters", "ReadRequest", "RequestCin", "new_cin"]


@dataclass(frozen=True, slots=True)
class ReadImportRegisters:
    """SR4.1.1 ``ReadInstantaneousImportRegisters``: ECS17b (ESME) / GCS13a (GSME, GPF)."""


@dataclass(frozen=True, slots=True)
class ReadFirmwareVersion:
    """SR11.2 ``ReadFirmwareVersion``."""


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """The body of a read SR: the period of a log read, and which log (SR6.13)."""

    span: gc.Span | None = None
    log: str | None = None
    urp_certificate: bytes | None = None
    """4.14 / 4.17 for an Unknown Remote Party: the DER key agreement certificate the device
    encrypts its answer for (``KAPublicSecurityCredentials``); the ACB sends the command."""
    requester: bytes | None = None
    """Who asked, when the command's originator is the ACB instead (a URP read): the party
    a protected read names as the response's (supplementary) remote party."""


def _read_registers(body: etree._Element) -> ReadImportRegisters:
    Fields(body, ("ExecutionDateTime",))
    return ReadImportRegisters()


def _build_registers(cmd: Command) -> bytes:
    if cmd.use_case.name == "GCS13a":
        return gc.ReadGasRegister().encode()
    # ECS17b names the parties the response is encrypted for.
    return gc.ReadImportRegisters(cmd.counter, cmd.originator, cmd.device).encode()


def _read_firmware(body: etree._Element) -> ReadFirmwareVersion:
    Fields(body, ("ExecutionDateTime",))
    return ReadFirmwareVersion()


def _build_firmware(cmd: Command) -> bytes:
    if cmd.use_case.name == "GCS38":
        return gc.GbzRead(cmd.use_case.code).encode()
    if cmd.use_case.name == "CS08":
        return gc.AsnRead(cmd.use_case.code).encode()
    return gc.ReadFirmwareVersion(cmd.counter).encode()


def _span(period: etree._Element) -> gc.Span:
    f = Fields(period, ("StartDateTime", "EndDateTime"))
    start = read_datetime("StartDateTime", f.text("StartDateTime"))
    end = read_datetime("EndDateTime", f.text("EndDateTime"))
    if end < start:
        raise invalid("ReadLogPeriod", f"it ends ({end:%Y-%m-%dT%H:%M:%SZ}) before it starts")
    if start < gc.from_utc_seconds(0):
        raise invalid("ReadLogPeriod", "a device holds nothing before 2000")
    return gc.Span(start, end)


def _reader(
    *, period: bool = False, log: bool = False, urp: bool = False
) -> Callable[[etree._Element], ReadRequest]:
    """The body reader of a read SR: nothing, or a ``ReadLogPeriod`` (and ``LogToRead``);
    ``urp``: the read may be for an Unknown Remote Party (``KAPublicSecurityCredentials``)."""
    allowed = ("ExecutionDateTime",) + (("ReadLogPeriod",) if period else ())
    allowed += ("LogToRead",) if log else ()
    allowed += ("KAPublicSecurityCredentials",) if period else ()

    def read(body: etree._Element) -> ReadRequest:
        f = Fields(body, allowed)
        certificate = None
        if "KAPublicSecurityCredentials" in f.elements:
            if not urp:
                raise ServiceError("duis_sr_not_supported", srv="with KAPublicSecurityCredentials")
            certificate = urp_certificate(f.text("KAPublicSecurityCredentials"))
        span = _span(one(body, "ReadLogPeriod")) if period else None
        which = f.text("LogToRead") if log else None
        if log and which not in _LOGS:
            raise invalid("LogToRead", f"{which!r} is not one of {', '.join(_LOGS)}")
        return ReadRequest(span, which, certificate)

    return read


def urp_certificate(text: str | None) -> bytes:
    """The DER of an Unknown Remote Party's key agreement certificate, checked as the device
    will use it: X.509, a key agreement key, a valid point on P-256."""
    name = "KAPublicSecurityCredentials"
    raw = "".join((text or "").split())
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        raise invalid(name, "it is not a base64 DER X.509 certificate") from None
    try:
        key = cert.public_key()
    except ValueError as exc:  # a point not on its curve
        raise invalid(name, f"its public key is not a valid point: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise invalid(name, "its key is not on the P-256 curve GBCS uses")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise invalid(name, "it has no key usage: it must be a key agreement certificate") from None
    if not usage.key_agreement:
        raise invalid(name, "it is not a key agreement certificate (key usage)")
    return cert.public_bytes(Encoding.DER)


def _build_read(cmd: Command) -> bytes:
    """The command content of a tabled read: its kind by message code."""
    request: ReadRequest = cmd.request
    code = cmd.use_case.code
    if code in PROTECTED_READS:
        requester = request.requester or cmd.originator
        return gc.ProtectedRead(code, cmd.counter, requester, cmd.device, request.span).encode()
    if code in DLMS_READS:
        return gc.DlmsRead(code, cmd.counter, request.span).encode()
    if code in ASN1_READS:
        return gc.AsnRead(code).encode()
    # A GBZ read of fixed frames (GCS18: the whole network data log) carries no period,
    # though the body of its SR (shared with the ESME's ranged read) gives one.
    return gc.GbzRead(code, request.span if GBZ_READS[code].ranged else None).encode()


_LOGS = {
    "Event": ("ECS35a", "ECS35c", "CS10a"),
    "Security": ("ECS35b", "ECS35d", "CS10b"),
    "ALCSEvent": ("ECS35g",),
    "PowerEvent": ("ECS35e",),
    "GSMEEvent": ("CS10a",),
    "GSMESecurity": ("CS10b",),
}
"""``LogToRead`` -> the use cases reading that log, one a device type."""


def _choose_log(request: ReadRequest, names: tuple[str, ...]) -> str:
    for name in names:
        if name in _LOGS.get(request.log or "", ()):
            return name
    raise invalid("LogToRead", f"the device type has no {request.log} log to read")


def _choose_network_data(names: tuple[str, ...], esme_variant: str | None) -> str:
    """SR4.10: ECS23b (each phase's counters and profile) to a polyphase ESME (variant
    ``C..``), ECS23 to any other ESME (its variant not known: single phase); the one use
    case of another device type."""
    polyphase = (esme_variant or "").startswith("C")
    return "ECS23b" if polyphase and "ECS23b" in names else names[0]


def _choose_voltage_configuration(names: tuple[str, ...], esme_variant: str | None) -> str:
    """SR6.2.1: ECS26k (each phase's average RMS thresholds) from a polyphase ESME (variant
    ``C..``), ECS26b (phase 1's) from any other."""
    polyphase = (esme_variant or "").startswith("C")
    return "ECS26k" if polyphase and "ECS26k" in names else names[0]


def _choose_behaviours(names: tuple[str, ...], roles: frozenset[UserRole]) -> str:
    """SR6.2.10: ECS25r2 (the network operator's behaviour objects, which SR6.22 sets with
    ECS25b / ECS25b3) when the sender acts as the network operator, ECS25r1 (the
    supplier's) otherwise; the one use case of another device type."""
    if acts_as_network_operator(roles) and "ECS25r2" in names:
        return "ECS25r2"
    return names[0]


def _tabled(*names: str) -> frozenset[str]:
    """The use cases among ``names`` whose command this module builds (a table row)."""
    found = set()
    for name in names:
        uc = by_name(name)
        if uc.code not in PROTECTED_READS | DLMS_READS | GBZ_READS | ASN1_READS:
            raise ValueError(f"{name} has no row in gbcs.content.reads")
        found.add(name)
    return frozenset(found)


def _serve(
    srv: str,
    *names: str,
    period: bool = False,
    log: bool = False,
    acb: tuple[str, ...] = (),
    urp: bool = False,
    by_variant: Callable[[tuple[str, ...], str | None], str] | None = None,
    by_role: Callable[[tuple[str, ...], frozenset[UserRole]], str] | None = None,
) -> None:
    serves(
        srv,
        Codec(
            read=_reader(period=period, log=log, urp=urp),
            build=_build_read,
            builds=_tabled(*names),
            choose=_choose_log if log else None,
            choose_by_variant=by_variant,
            choose_by_role=by_role,
            acb_use_cases=frozenset(acb),
            example=_read_example(period=period, log=log, urp=urp),
        ),
    )


def _read_example(*, period: bool, log: bool, urp: bool = False) -> Example:
    """A read of the last day (a ranged read) of the first log the device keeps; ``urp``:
    for an Unknown Remote Party when ``KAPublicSecurityCredentials`` (a KA certificate, or a
    PEM / DER file of one) is given."""
    if not period and not log:
        return EMPTY
    fields: dict[str, str | None] = {}
    if period:
        fields |= {"StartDateTime": Home.YESTERDAY, "EndDateTime": Home.NOW}
    if log:
        fields["LogToRead"] = "Event"
    if urp:
        fields["KAPublicSecurityCredentials"] = None

    def write(v: Values) -> str:
        # The schema's ReadEventOrSecurityLog extends the period read: LogToRead comes after.
        body = ""
        if period:
            period_xml = v.elements("StartDateTime", "EndDateTime")
            body += f"<sr:ReadLogPeriod>{period_xml}</sr:ReadLogPeriod>"
        body += v.element("LogToRead") if log else ""
        return body + (v.element("KAPublicSecurityCredentials") if urp else "")

    urp_field = frozenset({"KAPublicSecurityCredentials"}) if urp else frozenset()
    return Example(fields, write, certificates=urp_field)


_TO_THE_HUB = (
    *("ECS26i", "ECS26n", "ECS35c", "ECS35d", "DBCH01", "DBCH02", "DBCH03"),
    *("CCS05/CCS04", "CCS06"),
)
"""Reads of the communications hub: the DCC's ACB sends them (as the DCC's reference commands
show), the user and its counter in the other-information."""


_ROLES = {
    "Root": 0,
    "Recovery": 1,
    "Supplier": 2,
    "NetworkOperator": 3,
    "ACB": 4,
    "TransCoS": 5,
    "LoadController": 8,
}
"""DUIS ``RemotePartyRole`` -> the GBCS remote party role number."""


@dataclass(frozen=True, slots=True)
class RetrieveCredentials:
    """SR6.24.1 ``RetrieveDeviceSecurityCredentialsKRP``: the roles whose credentials to list."""

    roles: tuple[str, ...]


def _read_credentials(body: etree._Element) -> RetrieveCredentials:
    roles = []
    for element in body:
        if not is_element(element):
            continue
        if local_name(element) != "RemotePartyRole":
            raise invalid(local_name(body), f"unexpected element {local_name(element)}")
        role = (element.text or "").strip()
        if role not in _ROLES:
            raise invalid("RemotePartyRole", f"{role!r} is not one of {', '.join(_ROLES)}")
        if role in roles:
            raise invalid("RemotePartyRole", f"{role} appears twice")
        roles.append(role)
    if not 1 <= len(roles) <= 7:
        raise invalid(local_name(body), f"it must name 1 to 7 RemotePartyRole, not {len(roles)}")
    return RetrieveCredentials(tuple(roles))


def _choose_credentials(request: RetrieveCredentials, names: tuple[str, ...]) -> str:
    # CS02f is the one that can list a load controller's credentials.
    if "LoadController" in request.roles and "CS02f" in names:
        return "CS02f"
    return names[0]


def _build_credentials(cmd: Command) -> bytes:
    request: RetrieveCredentials = cmd.request
    roles = tuple(_ROLES[r] for r in request.roles)
    return gc.CredentialsRead(cmd.use_case.code, roles).encode()


def _credentials_example(v: Values) -> str:
    """``RemotePartyRole`` lists the roles, comma-separated (one element each)."""
    roles = [r.strip() for r in (v.get("RemotePartyRole") or "").split(",") if r.strip()]
    unknown = [r for r in roles if r not in _ROLES]
    if unknown or not 1 <= len(roles) <= len(_ROLES) or len(set(roles)) != len(roles):
        raise ExampleError(
            f"RemotePartyRole={v.get('RemotePartyRole')!r}: list 1 to 7 different roles of "
            f"{', '.join(_ROLES)}, comma-separated"
        )
    return "".join(f"<sr:RemotePartyRole>{r}</sr:RemotePartyRole>" for r in roles)


serves(
    "6.24.1",
    Codec(
        read=_read_credentials,
        build=_build_credentials,
        builds=frozenset({"CS02a", "CS02f"}),
        choose=_choose_credentials,
        example=Example({"RemotePartyRole": "Supplier"}, _credentials_example),
        # The DCC's references send both from the ACB, the user in the other-information.
        acb_use_cases=frozenset({"CS02a", "CS02f"}),
    ),
)
serves(
    "4.1.1",
    Codec(
        read=_read_registers,
        build=_build_registers,
        builds=frozenset({"ECS17b", "GCS13a"}),
        example=EMPTY,
    ),
)
serves(
    "11.2",
    Codec(
        read=_read_firmware,
        build=_build_firmware,
        builds=frozenset({"ECS52", "GCS38", "CS08"}),
        example=EMPTY,
        # The DCC's reference CS08 comes from the ACB (a PPMID / HCALCS trusts no user).
        acb_use_cases=frozenset({"CS08"}),
    ),
)
_serve("4.1.2", "ECS17d", "GCS13c")
_serve("4.1.3", "ECS17e")
_serve("4.1.4", "GCS13b")
_serve("4.2", "ECS17a")
_serve("4.3", "ECS19", "GCS14")
_serve("4.4.2", "ECS20b", "GCS15b", period=True)
_serve("4.4.3", "ECS20c", "GCS15c", period=True)
_serve("4.4.4", "ECS20a", "GCS15d", period=True, acb=("GCS15d",))  # as the DCC sends it
_serve("4.4.5", "ECS20d", "GCS15e", period=True)
_serve("4.6.1", "ECS21a", "GCS16a", period=True)
# The DCC's reference ECS21c comes from the ACB, though a supplier asks for it.
_serve("4.6.2", "ECS21c", period=True, acb=("ECS21c",))
_serve("4.8.1", "ECS22b", "GCS17", period=True)
_serve("4.8.2", "ECS22c", period=True)
_serve("4.8.3", "ECS22a", period=True)
# The body does not say the phases: the ESME's variant as the SMI holds it does.
_serve("4.10", "ECS23", "ECS23b", "GCS18", period=True, by_variant=_choose_network_data)
_serve("4.11.1", "ECS24", "GCS21f")
_serve("4.11.2", "ECS24b")
_serve("4.12.1", "ECS18b")
_serve("4.12.2", "ECS18a")
_serve("4.13", "ECS26a", "GCS21b")
_serve("4.14", "ECS21b", "GCS16b", period=True, urp=True)
_serve("4.15", "ECS27")
_serve("4.16", "ECS17c")
_serve("4.17", "ECS66", "GCS61", period=True, urp=True)
_serve("4.18", "ECS82", "GCS60")
_serve("6.2.1", "ECS26b", "ECS26k", by_variant=_choose_voltage_configuration)
_serve("6.2.2", "ECS26c")
_serve("6.2.3", "ECS26d", "ECS26l", "GCS21k")
_serve("6.2.4", "ECS26i", "ECS26m", "GCS21e", "GCS21m", "ECS26n", acb=_TO_THE_HUB)
_serve("6.2.5", "ECS26f")
_serve("6.2.7", "ECS40", "GCS46")
_serve("6.2.8", "GCS21a")
_serve("6.2.9", "ECS26j", "GCS21j")
# The body is empty: the sender's role says whose behaviour objects are read.
_serve("6.2.10", "ECS25r1", "ECS25r2", "GCS20r", by_role=_choose_behaviours)
_serve(
    "6.13",
    *("ECS35a", "ECS35b", "ECS35e", "ECS35g", "CS10a", "CS10b", "ECS35c", "ECS35d"),
    period=True,
    log=True,
    acb=_TO_THE_HUB,
)
_serve("6.30", "DBCH03", acb=_TO_THE_HUB)
_serve("6.31", "DBCH01", acb=_TO_THE_HUB)
_serve("6.32", "DBCH02", period=True, acb=_TO_THE_HUB)
_serve("7.11", "ECS61c", period=True)
# The DCC's reference ECS61d comes from the ACB, though a supplier asks for it.
_serve("7.14", "ECS61d", acb=("ECS61d",))
_serve("7.15", "ECS61e")


def _device_log_example(v: Values) -> str:
    """``ReadSecurityDetails=yes`` asks a CHF for CCS07."""
    wanted = (v.get("ReadSecurityDetails") or "").lower()
    if wanted not in ("", "yes", "no"):
        raise ExampleError(f"ReadSecurityDetails={wanted!r}: yes or no")
    return "<sr:ReadSecurityDetails/>" if wanted == "yes" else ""


@dataclass(frozen=True, slots=True)
class ReadDeviceLog:
    """SR8.9 ``ReadDeviceLog``; ``ReadSecurityDetails`` asks a CHF for its logs with each
    device's link key (CCS07, the backup a CCS03 restore uses)."""

    security: bool = False


def _read_device_log(body: etree._Element) -> ReadDeviceLog:
    f = Fields(body, ("ReadSecurityDetails",))
    details = f.elements.get("ReadSecurityDetails")
    if details is not None:
        Fields(details, ())
    return ReadDeviceLog(details is not None)


def _choose_device_log(request: ReadDeviceLog, names: tuple[str, ...]) -> str:
    if request.security:
        if "CCS07" not in names:
            raise invalid("ReadSecurityDetails", "only a CHF's device log holds security details")
        return "CCS07"
    return names[0]


def _build_device_log(cmd: Command) -> bytes:
    if cmd.use_case.name == "CCS07":
        return gc.ReadChfSecurityLog(cmd.counter).encode()
    return _build_read(replace(cmd, request=ReadRequest()))


serves(
    "8.9",
    Codec(
        read=_read_device_log,
        build=_build_device_log,
        builds=_tabled("CS07", "CCS05/CCS04", "CCS06") | {"CCS07"},
        choose=_choose_device_log,
        # The DCC's references send the hub's log reads from the ACB, the user in the
        # other-information.
        acb_use_cases=frozenset({*_TO_THE_HUB, "CCS07"}),
        example=Example({"ReadSecurityDetails": None}, _device_log_example),
    ),
)


@dataclass(frozen=True, slots=True)
class RequestCin:
    """SR9.1 ``RequestCustomerIdentificationNumber`` (an empty body): the DCC makes up the
    Customer Identification Number, four digits, and sends it to the meter to show."""


def _read_cin(body: etree._Element) -> RequestCin:
    Fields(body, ())
    return RequestCin()


def new_cin() -> bytes:
    """A fresh CIN: unpredictable, so that only the consumer at the meter can read it out."""
    return f"{secrets.randbelow(10**gc.CIN_DIGITS):0{gc.CIN_DIGITS}d}".encode("ascii")


def _build_cin(cmd: Command) -> bytes:
    if cmd.use_case.name == "GCS36":
        return gc.SendCinToGsme(gc.issuer_id(cmd.now), new_cin()).encode()
    return gc.SendCinToEsme(cmd.counter, new_cin()).encode()


serves(
    "9.1",
    Codec(
        read=_read_cin,
        build=_build_cin,
        builds=frozenset({"ECS50", "GCS36"}),
        example=EMPTY,
        # An Other User holds no trust on a meter: GBCS has the ACB send both, the user and
        # its counter in the other-information.
        acb_use_cases=frozenset({"ECS50", "GCS36"}),
    ),
)
