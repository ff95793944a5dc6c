"""The docs show the state tables as they are."""

from __future__ import annotations

from pathlib import Path

from emulator.supply import LOAD_SWITCH, VALVE, mermaid

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_state_diagrams_in_the_docs_match_the_tables() -> None:
    text = (DOCS / "emulator.md").read_text()
    assert mermaid(LOAD_SWITCH) in text
    assert mermaid(VALVE) in text
