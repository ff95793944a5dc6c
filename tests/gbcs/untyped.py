"""The conformance messages whose use case has no typed content codec yet.

For these the project claims only what the generic layer gives: the content decodes to the
DLMS / GBZ / ASN.1 tree (not raw) and re-encodes byte for byte. Each entry is checked to be
really untyped (the typed decoder refuses it), so the set shrinks as codecs are added.
"""

from __future__ import annotations

from gbcs import content as c
from gbcs.codes import CRA
from gbcs.frames import Message
from gbcs.payloads.gbz import GbzAlert
from gbcs.usecases import use_case

_READS_AND_SETS = [
    "CS02a",
    "CS02b-accessControlBrokerByACB",
    "CS02b-networkOperatorByNetworkOperator",
    "CS02b-supplierBySupplier",
    "CS02b-transCoSByTransCoS",
    "CS02b-wanProviderByWanProvider",
    "CS02c",
    "CS02f",
    "CS02g-loadControllerByLoadController",
    "CS02g-loadControllerBySupplier",
    "CS08",
    "CS11",
    "DBCH02",
    "DBCH03",
    "DBCH04",
    "ECS01b",
    "ECS02",
    "ECS03",
    "ECS05",
    "ECS08a",
    "ECS09",
    "ECS10",
    "ECS12",
    "ECS15c",
    "ECS16",
    "ECS17c",
    "ECS17d",
    "ECS17e",
    "ECS18a",
    "ECS18b",
    "ECS19",
    "ECS20c",
    "ECS21a",
    "ECS21b",
    "ECS22a",
    "ECS22b",
    "ECS22c",
    "ECS24",
    "ECS24b",
    "ECS25a1",
    "ECS25a2",
    "ECS25b",
    "ECS25b3",
    "ECS26a",
    "ECS26b",
    "ECS26c",
    "ECS26d",
    "ECS26f",
    "ECS26i",
    "ECS26k",
    "ECS26l",
    "ECS26n",
    "ECS27",
    "ECS28b",
    "ECS29a",
    "ECS29b",
    "ECS29c",
    "ECS29e",
    "ECS30",
    "ECS30a",
    "ECS34",
    "ECS35a",
    "ECS35b",
    "ECS35c",
    "ECS35g",
    "ECS37",
    "ECS39a",
    "ECS39b",
    "ECS40",
    "ECS46a",
    "ECS46c",
    "ECS47",
    "ECS47e",
    "ECS48",
    "ECS57",
    "ECS61c",
    "ECS61d",
    "ECS62",
    "ECS66",
    "ECS82",
    "GCS01a",
    "GCS01b",
    "GCS02",
    "GCS03",
    "GCS04",
    "GCS05",
    "GCS06",
    "GCS07",
    "GCS09",
    "GCS11",
    "GCS13c",
    "GCS14",
    "GCS15b",
    "GCS15c",
    "GCS15d",
    "GCS15e",
    "GCS16a",
    "GCS16b",
    "GCS17",
    "GCS21b",
    "GCS21e",
    "GCS21f",
    "GCS21j",
    "GCS21m",
    "GCS23",
    "GCS24",
    "GCS24a",
    "GCS25a",
    "GCS38",
    "GCS40c",
    "GCS40d",
    "GCS41",
    "GCS44",
    "GCS46",
    "GCS61",
]

UNTYPED: frozenset[tuple[str, CRA]] = frozenset(
    {(name, CRA.COMMAND) for name in _READS_AND_SETS}
    | {(name, CRA.RESPONSE) for name in _READS_AND_SETS}
    # Only the response of the contingency credential update is in the sample.
    | {("CS02b-anyByContingency", CRA.RESPONSE)}
    # ASN.1 alerts (credential, firmware-transfer and PPMID activation) and the DLMS alerts
    # whose notification body is not the 2-or-3-element form DlmsAlert reads.
    | {
        (name, CRA.ALERT)
        for name in ("CCS08", "CS09", "ECS102", "ECS68", "ECS80", "FDSC", "FDSC-LC")
    }
)
"""(use case name, direction) pairs with no typed content codec: 115 commands, 116
responses, 7 alerts."""


def untyped_key(message: Message) -> tuple[str, CRA]:
    uc = use_case(message.message_code)
    assert uc is not None, f"unknown message code 0x{message.message_code:04X}"
    return uc.name, CRA(message.cra)


def decode_typed(message: Message) -> c.Content:
    """The typed content of ``message`` by its direction; DecodeError if there is none."""
    if message.cra == CRA.COMMAND:
        return c.decode_command(message.message_code, message.content)
    if message.cra == CRA.RESPONSE:
        return c.decode_response(message.message_code, message.content)
    return c.decode_alert(message.message_code, message.content)


def typed_bytes(typed: c.Content) -> bytes:
    """The bytes a typed content encodes to (a GBZ alert is its own payload: ``to_bytes``)."""
    if isinstance(typed, GbzAlert):
        return typed.to_bytes()
    return typed.encode()
