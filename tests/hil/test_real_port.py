"""Against real hardware: a meter behind an optical probe on the port in SMETSIM_HIL_PORT.

Skipped unless SMETSIM_HIL_PORT is set (see docs/hil.md, "Bench testing"). Optional:
SMETSIM_HIL_WAKE_UP=1 for battery meters, SMETSIM_HIL_PARITY=software|hardware|none|auto.
"""

from __future__ import annotations

import os

import pytest

from hil.framelog import FrameLog
from hil.iec62056_21 import ProtocolMode
from hil.link import Parity
from hil.optical import read_meter

pytestmark = pytest.mark.hil


async def test_a_real_meter_reads_out() -> None:
    port = os.environ["SMETSIM_HIL_PORT"]
    frames = FrameLog()
    readout = await read_meter(
        port,
        parity=Parity(os.environ.get("SMETSIM_HIL_PARITY", "auto")),
        wake_up=os.environ.get("SMETSIM_HIL_WAKE_UP") == "1",
        frame_log=frames,
    )
    ident = readout.identification
    assert len(ident.manufacturer) == 3
    assert readout.registers, "the meter's readout held no data sets"
    if ident.protocol_mode is ProtocolMode.C:
        assert "baud 300 ->" in frames.dump() or readout.baud == 300
