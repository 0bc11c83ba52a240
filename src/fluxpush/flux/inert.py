"""Flux kinds fluxpush knows but does not act on in push mode, and why.

A push deployer has no webhook to receive, no in-cluster source to poll and no operator loop: such
objects are listed as "not applicable in push mode" (a notice, never a build error) and are not
applied. Any other kind of a `*.toolkit.fluxcd.io` or `*.extensions.fluxcd.io` group that fluxpush
does not interpret is listed the same way, with the nearest kind it does know in case of a typo.
Flux Operator's kinds (`fluxcd.controlplane.io`) are listed too.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from fluxpush.flux.kinds import SUPPORTED, split_api_version

FLUX_OPERATOR_GROUP = "fluxcd.controlplane.io"
FLUX_GROUP_SUFFIXES = (".toolkit.fluxcd.io", ".extensions.fluxcd.io")

# kind → why it does nothing in push mode.
KNOWN_INERT = {
    "Receiver": "notification-controller's webhook receiver; CI runs on the push itself",
    "FluxInstance": "Flux Operator installs Flux in the cluster; fluxpush deploys without controllers",
    "FluxReport": "Flux Operator's status report, written by the operator",
    "ResourceSet": "Flux Operator's generator of objects from inputs; not expanded by fluxpush",
    "ResourceSetInputProvider": "Flux Operator's input source for ResourceSets; not expanded by fluxpush",
}


@dataclass(frozen=True, slots=True)
class Notice:
    """An object that is listed, not acted on; prints as `Kind/ns/name: not applicable …`."""

    object: str
    reason: str

    def __str__(self) -> str:
        return f"{self.object}: not applicable in push mode ({self.reason})"


def _interpreted(group: str, kind: str) -> bool:
    return (group, kind) in SUPPORTED


def inert_notice(obj: dict[str, Any]) -> Notice | None:
    """The notice for a Flux-family object fluxpush does not act on; None for every other object."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    group = split_api_version(api_version)[0]
    flux_family = group.endswith(FLUX_GROUP_SUFFIXES) or group == FLUX_OPERATOR_GROUP
    if not flux_family or _interpreted(group, kind):
        return None
    meta = obj.get("metadata") or {}
    name = f"{kind}/{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") \
        else f"{kind}/{meta.get('name')}"
    if kind in KNOWN_INERT:
        return Notice(name, KNOWN_INERT[kind])
    close = difflib.get_close_matches(kind, sorted({k for g, k in SUPPORTED if g == group}), n=1)
    typo = f"; did you mean {close[0]}?" if close else ""
    return Notice(name, f"{api_version} {kind} is not interpreted by fluxpush{typo}")
