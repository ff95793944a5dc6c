"""Hardware in the loop: optical port (IEC 62056-21) and HAN dongle over serial."""
