"""Future-dated commands for the emulator tests: CS02b / CS02g credential updates (SR6.15.1)
and an ECS46c switching schedule (SR6.14.2) built as the gateway builds them, and the events
that make a meter execute (or fail to execute) them when its clock passes their time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from emulator.fleet import Fleet
from gateway.srv.catalogue import entry
from gateway.srv.spec import Command
from gbcs import content as c
from gbcs.codes import SUPPLIER, SUPPLIER_2, KeyPurpose
from gbcs.eui import parse_eui
from gbcs.frames import Message
from gbcs.keystore import Keystore, generate_test_pki
from gbcs.usecases import by_name
from tests.emulator.support import CHF, ESME, GPF, GSME, SEED, HeadEnd

NEW_SUPPLIER = SUPPLIER_2
"""The supplier that takes the role over (the test PKI has its top-up key too)."""
LOAD_CONTROLLER = parse_eui("90-B3-D5-1F-3E-00-00-08")
CANCEL: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
"""GBCS's cancellation date-time (DUIS's 3000-12-31)."""
SR = "http://www.dccinterface.co.uk/ServiceUserGateway"


def setup(*, switches: bool = False) -> tuple[Fleet, HeadEnd, Keystore]:
    """The sandbox's devices (``switches``: an ESME alone, on the firmware that has the
    auxiliary load control switches and ECS46c)."""
    pki = generate_test_pki(SEED, devices=[ESME, GSME, CHF, GPF, LOAD_CONTROLLER])
    fleet = Fleet(SEED, pki, faults=False)  # signed frames vary: no random radio drops
    if switches:
        fleet.add(ESME, "northbrook-nb100", firmware="00020000")
    else:
        fleet.add_sandbox_devices()
    return fleet, HeadEnd(fleet, pki), pki


def _der(pki: Keystore, eui: bytes, purpose: KeyPurpose) -> bytes:
    cert = pki.certificate(eui, purpose)
    assert cert is not None
    return cert.public_bytes(Encoding.DER)


def update(
    head: HeadEnd, pki: Keystore, *, at: datetime | None, load_controller: bool = False
) -> c.UpdateSecurityCredentials:
    """The supplier's CS02b supplierBySupplier (its three cells, with the prepayment top-up
    one, to :data:`NEW_SUPPLIER`) or CS02g loadControllerBySupplier (the load controller's
    cells), executing at ``at`` (None: at once)."""
    root = pki.root_certificate
    assert root is not None
    certificates: tuple[tuple[c.Cell, bytes], ...]
    if load_controller:
        certificates = (
            (c.Cell(8, c.DS_USAGE), _der(pki, LOAD_CONTROLLER, KeyPurpose.DS)),
            (c.Cell(8, c.KA_USAGE), _der(pki, LOAD_CONTROLLER, KeyPurpose.KA)),
        )
    else:
        certificates = (
            (c.Cell(2, c.DS_USAGE), _der(pki, NEW_SUPPLIER, KeyPurpose.DS)),
            (c.Cell(2, c.KA_USAGE), _der(pki, NEW_SUPPLIER, KeyPurpose.KA)),
            (c.Cell(2, c.KA_USAGE, True), _der(pki, NEW_SUPPLIER, KeyPurpose.PP_KA)),
        )
    return c.UpdateSecurityCredentials(
        message_code=0x0126 if load_controller else 0x0102,
        counter=head.next_counter(),
        authorising=c.Cell(2, c.DS_USAGE),
        certificates=certificates,
        path=(root.public_bytes(Encoding.DER),),
        floor=None if load_controller else 0,
        top_up_floors=() if load_controller else ((0, 0),),
        role_floors=((8, 0, ()),) if load_controller else (),
        execute_at=at,
    )


def credentials_event(*, executed: bool, load_controller: bool = False) -> list[Message]:
    """A future-dated update falling due: 8F66; 8F67 when the supplier that sent it handed
    its role to another supplier meanwhile (it no longer holds the authorising cell)."""
    _fleet, head, pki = setup()
    at = head.now + timedelta(hours=2)
    head.send(head.command(ESME, update(head, pki, at=at, load_controller=load_controller)))
    if not executed:
        head.send(head.command(ESME, update(head, pki, at=None)))
    return head.advance(timedelta(hours=3)).alerts


_SCHEDULE = (
    "<sr:ALCSHCALCSConnectionSchedule>"
    '<sr:ActivateDeactivateSwitch index="1"><sr:ActivateSwitch/></sr:ActivateDeactivateSwitch>'
    "<sr:DaysOfWeekApplicability><sr:DayOfWeekApplicability><sr:DayOfWeekID>Monday"
    "</sr:DayOfWeekID></sr:DayOfWeekApplicability></sr:DaysOfWeekApplicability>"
    "<sr:ALCSScheduleDatesAndTime><sr:SwitchTime>07:00:00</sr:SwitchTime>"
    "<sr:StartDate>{any}</sr:StartDate><sr:EndDate>{any}</sr:EndDate>"
    "</sr:ALCSScheduleDatesAndTime></sr:ALCSHCALCSConnectionSchedule>"
    "<sr:ALCSHCALCSSpecialDays>"
    '<sr:ALCSHCALCSSpecialDay index="1">{christmas}</sr:ALCSHCALCSSpecialDay>'
    "</sr:ALCSHCALCSSpecialDays>"
    '<sr:SwitchTypeAndId index="1"><sr:ALCS/></sr:SwitchTypeAndId>'
)


def _date(year: str, month: str, day: str) -> str:
    def part(name: str, specified: str, value: str) -> str:
        inner = (
            f"<sr:{specified}>{value}</sr:{specified}>" if value else f"<sr:NonSpecified{name}/>"
        )
        return f"<sr:{name}>{inner}</sr:{name}>"

    return (
        part("Year", "SpecifiedYear", year)
        + part("Month", "SpecifiedMonth", month)
        + part("DayOfMonth", "SpecifiedDayOfMonth", day)
        + part("DayOfWeek", "SpecifiedDayOfWeek", "")
    )


def schedule(head: HeadEnd, at: datetime | None) -> c.DeviceSettings:
    """An ECS46c (switch 1 on at 07:00 on Mondays, Christmas day a special day) taking effect
    at ``at`` (None: at once), as SR6.14.2's codec builds it."""
    body = etree.fromstring(
        f'<sr:UpdateDeviceConfigurationALCScheduler xmlns:sr="{SR}">'
        + _SCHEDULE.format(any=_date("", "", ""), christmas=_date("", "12", "25"))
        + "</sr:UpdateDeviceConfigurationALCScheduler>"
    )
    codec = entry("6.14.2").codec
    assert codec is not None
    command = Command(
        codec.read(body), by_name("ECS46c"), head.next_counter(), SUPPLIER, ESME, head.now, at
    )
    content = codec.build(command)
    decoded = c.decode_command(0x0054, content)
    assert isinstance(decoded, c.DeviceSettings)
    return decoded


def schedule_event() -> list[Message]:
    """A future-dated ECS46c falling due: two 0x00CC alerts (calendar, special days)."""
    _, head, _ = setup(switches=True)
    head.send(head.command(ESME, schedule(head, head.now + timedelta(hours=2))))
    return head.advance(timedelta(hours=3)).alerts
