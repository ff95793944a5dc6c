"""smetsim: the application layer that composes gbcs, emulator, gateway and hil."""

__version__ = "0.1.0"
