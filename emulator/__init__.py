"""Emulated SMETS2 devices: sans-IO cores that take GBCS bytes and answer with GBCS bytes."""
