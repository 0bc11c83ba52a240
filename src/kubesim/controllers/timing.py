"""When did an object last change in a way a controller has to catch up with?"""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Any

READY_DELAY_ANNOTATION = "kubesim.io/ready-delay"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float | None:
    """Seconds in `500ms`, `2s`, `1.5m`, `1h` or a bare number of seconds; None when malformed."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def ready_delay(obj: dict[str, Any], default: float) -> float:
    """The object's `kubesim.io/ready-delay` annotation, or the cluster default."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(READY_DELAY_ANNOTATION)
    if not isinstance(text, str):
        return default
    parsed = parse_duration(text)
    return default if parsed is None else parsed


class Timers:
    """Monotonic time of each object's last generation change (creation for kinds without one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str, str, str], tuple[str, int, float]] = {}
        self.next_due = math.inf  # monotonic time the earliest pending delay ends (see `elapsed`)

    def observe(self, group: str, plural: str, obj: dict[str, Any]) -> float:
        """Record `obj` if its uid or generation is new; return when that state began."""
        meta = obj.get("metadata") or {}
        key = (group, plural, meta.get("namespace", ""), meta.get("name", ""))
        state = (str(meta.get("uid", "")), int(meta.get("generation", 0)))
        with self._lock:
            known = self._seen.get(key)
            if known is not None and known[:2] == state:
                return known[2]
            started = time.monotonic()
            self._seen[key] = (*state, started)
            return started

    def elapsed(self, group: str, plural: str, obj: dict[str, Any], delay: float) -> bool:
        """True once `delay` seconds passed since the current generation; else remember when it will."""
        due = self.observe(group, plural, obj) + delay
        if time.monotonic() >= due:
            return True
        self.next_due = min(self.next_due, due)
        return False

    def drop(self, group: str, plural: str, obj: dict[str, Any]) -> None:
        """Forget a deleted object (a new one of the same name starts its own clock)."""
        meta = obj.get("metadata") or {}
        with self._lock:
            self._seen.pop((group, plural, meta.get("namespace", ""), meta.get("name", "")), None)
