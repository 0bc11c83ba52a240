"""Scenarios whose documented behaviour has not landed on main yet: each runs as a strict xfail
naming the item, so it turns into a failure (to remove from here) once the fix lands. Empty today."""

from __future__ import annotations

KNOWN_GAPS: dict[str, str] = {}
