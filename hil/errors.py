"""Errors of the hil package: one base, remote errors (the peer sent garbage) apart from local ones.

Every message names the bad value, so that a CLI can print it as its one-line error.
"""

from __future__ import annotations


class HilError(Exception):
    """Base of every error raised by :mod:`hil`."""


class Iec62056Error(HilError):
    """An IEC 62056-21 message could not be built or understood."""


class Iec62056DecodeError(Iec62056Error):
    """The peer sent bytes that are not a well-formed IEC 62056-21 message (a remote error)."""


class BccError(Iec62056DecodeError):
    """A message arrived whole but its block check character is wrong."""

    def __init__(self, message: str, *, received: int, computed: int) -> None:
        super().__init__(message)
        self.received = received
        self.computed = computed


class Iec62056EncodeError(Iec62056Error):
    """We were asked to build a message the standard does not allow (a local error)."""


class SessionError(HilError):
    """A session with a device over a port failed (see the subclasses).

    ``frame_log`` holds the dump of recent frames (text, one frame a line) when one was kept.
    """

    frame_log: str = ""


class PortError(SessionError):
    """The port could not be opened or used: missing, permission denied, busy, gone."""


class NoAnswer(SessionError):  # noqa: N818 - the domain's words: the meter gave no answer
    """The device did not answer within the reaction time, after every retry."""


class ProtocolViolation(SessionError):  # noqa: N818 - names what the peer did
    """The device answered, but with a message the session cannot continue from."""


class LinkTimeout(SessionError):  # noqa: N818 - reads as what happened, like TimeoutError
    """A dongle frame was not acknowledged after every retransmission."""


class DongleDecodeError(HilError):
    """A dongle frame is malformed or its CRC is wrong (a remote error)."""
