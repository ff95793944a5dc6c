"""The exceptions of the :mod:`gbcs` package.

One base, :class:`GbcsError`. A remote error (the peer sent bytes that are not GBCS) is a
:class:`DecodeError`, the only exception a decoder raises; a local error (we were asked to
build something GBCS cannot carry) is an :class:`EncodeError`; a missing key is
:class:`KeyNotFound`.
"""

from __future__ import annotations

__all__ = ["DecodeError", "EncodeError", "GbcsError", "KeyNotFound"]


class GbcsError(Exception):
    """Base of every exception raised by the :mod:`gbcs` package."""


class DecodeError(GbcsError):
    """The bytes received are not a valid GBCS message (a remote error).

    ``offset`` is where in the input the problem was found, when known.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


class EncodeError(GbcsError):
    """A value cannot be encoded as GBCS (a local error: we built something invalid)."""


class KeyNotFound(GbcsError):  # noqa: N818  # the name of the API contract
    """The keystore holds no such key."""

    def __init__(self, eui: bytes, purpose: str, *, private: bool) -> None:
        kind = "private" if private else "public"
        super().__init__(f"no {purpose.upper()} {kind} key for EUI {eui.hex()}")
        self.eui = eui
        self.purpose = purpose
        self.private = private
