"""DCC Service Flags per meter point (seed 001, MP077): the two rule sets."""

from __future__ import annotations

from typing import Literal

FlagRules = Literal["dsp", "mp077"]
"""``dsp``: the DCC's current rules (default). ``mp077``: the proposers' wider rules."""
