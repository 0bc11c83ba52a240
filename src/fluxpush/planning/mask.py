"""Secret masking as Flux's diff does it (fluxcd/pkg ssa `SanitizeUnstructuredData`).

Both sides of a comparison are masked at once, so a changed value stays visible as a change
without showing either value: a key with equal values on both sides becomes `***` on both; a key
whose value differs becomes `*** (before)` on the live side and `*** (after)` on the desired side;
a key on one side only becomes `***`. `data` and `stringData` are masked alike (Flux folds
`stringData` into `data` first; `normalize_object` does too). Beyond Flux, any annotation of a
Secret that could carry its content (`kubectl.kubernetes.io/last-applied-configuration`) is masked
as well, so no value survives a caller that skipped normalization.
"""

from __future__ import annotations

from typing import Any

from fluxpush.planning.normalize import CLEANUP_ANNOTATIONS, copy_tree, is_secret

MASK = "***"
MASK_BEFORE = "*** (before)"
MASK_AFTER = "*** (after)"
_VALUE_FIELDS = ("data", "stringData")


def _mask_field(live: dict[str, Any] | None, desired: dict[str, Any] | None, field: str) -> None:
    for obj in (live, desired):
        if obj is not None and field in obj and not isinstance(obj[field], dict | None):
            obj[field] = MASK  # malformed, but never shown
    before, after = ((obj or {}).get(field) for obj in (live, desired))
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    changed = {key for key in before if key in after and before[key] != after[key]}
    for values, label in ((before, MASK_BEFORE), (after, MASK_AFTER)):
        for key in values:
            values[key] = label if key in changed else MASK


def _mask_annotations(obj: dict[str, Any] | None) -> None:
    annotations = (obj or {}).get("metadata", {}).get("annotations")
    if isinstance(annotations, dict):
        for name in CLEANUP_ANNOTATIONS:
            if name in annotations:
                annotations[name] = MASK


def mask_secrets(
    live: dict[str, Any] | None, desired: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Masked copies of a live/desired pair when either is a v1 Secret; any other pair is returned
    as it is, not copied (nothing in it is masked)."""
    if not (is_secret(live) or is_secret(desired)):
        return live, desired
    live_out, desired_out = copy_tree(live), copy_tree(desired)
    for field in _VALUE_FIELDS:
        _mask_field(live_out, desired_out, field)
    _mask_annotations(live_out)
    _mask_annotations(desired_out)
    return live_out, desired_out

