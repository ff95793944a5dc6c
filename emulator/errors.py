"""The exceptions of the :mod:`emulator` package.

One base, :class:`EmulatorError`. :class:`ProfileError` is a bad firmware profile file (it
names the file and the key); :class:`TransitionError` is an event a state machine does not
accept in its current state (the device turns it into an error response, never a crash);
:class:`CommandError` is a command a device refuses, carrying the GBCS alert code it
raises (errors with wire codes).
"""

from __future__ import annotations

from pathlib import Path


class EmulatorError(Exception):
    """Base of every exception raised by the :mod:`emulator` package."""


class ProfileError(EmulatorError):
    """A firmware profile TOML file is invalid; the message names the file and the key."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")
        self.path = str(path)
        self.key = key
        self.problem = problem


class TransitionError(EmulatorError):
    """A state machine was given an event it does not accept in its current state."""

    def __init__(self, machine: str, state: str, event: str) -> None:
        super().__init__(f"{machine}: event {event!r} is not allowed in state {state!r}")
        self.machine = machine
        self.state = state
        self.event = event


class CommandError(EmulatorError):
    """A device refuses a command. ``alert_code`` is the GBCS alert it raises (0 = none)."""

    def __init__(self, reason: str, *, alert_code: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.alert_code = alert_code


class UnknownDeviceError(EmulatorError):
    """The fleet hosts no device with this EUI."""

    def __init__(self, eui: bytes) -> None:
        super().__init__(f"the fleet hosts no device {eui.hex('-').upper()}")
        self.eui = eui
