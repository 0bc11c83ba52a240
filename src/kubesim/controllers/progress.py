"""Where a simulated rollout stands: still waiting, done, or failing on purpose."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

FAIL_ANNOTATION = "kubesim.io/fail"
# The alphabet Kubernetes uses for generated hashes (no vowels, no look-alike digits).
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True, slots=True)
class Progress:
    """`elapsed`: the ready delay has passed since the last generation change.

    `failure`: the `kubesim.io/fail` reason text, when the object is told to fail.
    """

    elapsed: bool
    failure: str | None

    @property
    def ready(self) -> bool:
        """The object has become ready: the delay passed and it is not told to fail."""
        return self.elapsed and self.failure is None

    @property
    def failed(self) -> bool:
        """The object has failed: the delay passed and it is told to fail."""
        return self.elapsed and self.failure is not None


def failure_of(obj: dict[str, Any]) -> str | None:
    """The `kubesim.io/fail` reason, or None; an empty value still fails, with a generic reason."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if FAIL_ANNOTATION not in annotations:
        return None
    return str(annotations[FAIL_ANNOTATION] or "simulated failure")


def with_reason(message: str, reason: str) -> str:
    """A real controller message with the simulated failure reason appended."""
    return f"{message.rstrip('.')}: {reason}"


def template_hash(template: Any) -> str:
    """A stable 10-character hash of a pod template, spelled like `pod-template-hash`."""
    digest = int.from_bytes(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()[:8])
    chars = []
    for _ in range(10):
        digest, index = divmod(digest, len(HASH_ALPHABET))
        chars.append(HASH_ALPHABET[index])
    return "".join(chars)


def nonzero(**counts: int) -> dict[str, int]:
    """Counters without the zero ones (the API types mark them omitempty)."""
    return {k: v for k, v in counts.items() if v}
