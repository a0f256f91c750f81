"""Paths of the crafted messy files."""

from __future__ import annotations

from pathlib import Path

MESSY = Path(__file__).resolve().parent.parent / "fixtures" / "messy"
