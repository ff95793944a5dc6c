"""GBCS: the Great Britain Companion Specification wire format and its cryptography. No I/O."""
