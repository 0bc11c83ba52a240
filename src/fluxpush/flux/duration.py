"""Go-style durations as Flux writes them (`5m`, `1h30m`, `500ms`), parsed and printed."""

from __future__ import annotations

import re

# The pattern every Flux CRD puts on its duration fields.
DURATION_PATTERN = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in a Flux duration such as `1h30m`; ValueError when it is not one."""
    if not DURATION_PATTERN.match(text):
        raise ValueError(f"expected a duration like 5m or 1h30m, got {text!r}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """Seconds as Go's `time.Duration.String()` prints them: `4m30s`, `1h0m0s`, `500ms`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms" if seconds else "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text
