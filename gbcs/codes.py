"""Enumerations and constants of the GBCS envelope: CRA flags, remote party roles, key
purposes and the DCC test EUIs. (Use cases and alert codes are in :mod:`gbcs.usecases`
and :mod:`gbcs.alerts`.)"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class CRA(IntEnum):
    """The CRA flag: the first byte of a transaction id."""

    COMMAND = 1
    RESPONSE = 2
    ALERT = 3


class RemotePartyRole(IntEnum):
    """Roles of the remote parties whose keys a device holds."""

    ROOT = 0
    RECOVERY = 1
    SUPPLIER = 2
    NETWORK_OPERATOR = 3
    ACB = 4
    TRANSITIONAL_COS = 5
    WAN_PROVIDER = 6
    ISSUING_AUTHORITY = 7


class KeyPurpose(StrEnum):
    """What a key pair is for; the value is the keystore file-name suffix."""

    DS = "ds"
    """Digital signing."""
    KA = "ka"
    """Key agreement (MACs and payload encryption)."""
    PP_KA = "pp-ka"
    """Prepayment key agreement (UTRNs; suppliers only)."""


# DCC test EUIs (as used by the DCC reference test data).
ACB = bytes.fromhex("90b3d51f30000002")
"""The Access Control Broker: it MACs every command sent to a device."""
DCC_ACCESS_CONTROL = bytes.fromhex("90b3d51f30000001")
"""The XML-signing identity of the DCC gateway."""
SUPPLIER = bytes.fromhex("90b3d51f30010000")
SUPPLIER_2 = bytes.fromhex("90b3d51f30030000")
SUPPLIER_3 = bytes.fromhex("90b3d51f30010008")
NETWORK_OPERATOR = bytes.fromhex("90b3d51f30020000")
TRANSITIONAL_COS = bytes.fromhex("90b3d51f30000004")
"""The DCC's transitional change-of-supplier party: it signs CS02b supplierByTransCoS (SR6.23)
and holds the transitional CoS trust anchor of every device."""

# Envelope tags.
TAG_GENERAL_CIPHERING = 0xDD
TAG_GENERAL_SIGNING = 0xDF
TAG_GENERAL_BLOCK_TRANSFER = 0xE0

MAC_LENGTH = 12
SIGNATURE_LENGTH = 64
DATE_TIME_LENGTH = 12
