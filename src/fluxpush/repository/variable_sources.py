"""Where a Kustomization's `postBuild.substituteFrom` ConfigMaps and Secrets are found.

kustomize-controller reads them in the cluster. fluxpush stands in for the cluster with, in order:
what the repository's finished builds rendered (applied before this node in a run), what this very
build renders (in the cluster since the node's previous apply: the home-lab layout where the root
Kustomization substitutes from the `cluster-settings`/`cluster-secrets` of its own `vars/` folder),
then the live cluster when one is given.

A Secret whose SOPS values no key opened is masked; variables taken from it are masks too, so the
node is recorded as sealed: planned and printed, never applied. In other objects such a variable
reads `SOPS_MASKED` (`**SOPS**` unquoted is not valid YAML, so the build would fail where Flux's,
with the real value, succeeds).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

from fluxpush.flux.model import ObjectLookup, ObjectRef
from fluxpush.sops.sealed import DOCKER_MASK_B64, SOPS_MASK, SOPS_MASK_B64, Sealed, is_sealed, object_name

Decrypt = Callable[[dict[str, Any]], dict[str, Any]]
SUBSTITUTED_MASK = "SOPS_MASKED"  # what a variable from a masked Secret value becomes


def plain_masks(secret: dict[str, Any]) -> dict[str, Any]:
    """A copy of a masked Secret whose masked values read `SUBSTITUTED_MASK` (valid in any YAML)."""
    plain = dict(secret)
    encoded = base64.b64encode(SUBSTITUTED_MASK.encode()).decode()
    for field, masks, mask in (("data", (SOPS_MASK_B64, DOCKER_MASK_B64), encoded),
                               ("stringData", (SOPS_MASK,), SUBSTITUTED_MASK)):
        values = secret.get(field)
        if isinstance(values, dict):
            plain[field] = {k: mask if v in masks else v for k, v in values.items()}
    return plain


def rendered_ref(obj: dict[str, Any]) -> ObjectRef:
    """The reference (kind, namespace, name) substituteFrom names a rendered object by."""
    meta = obj.get("metadata") or {}
    return ObjectRef(str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))


class VariableSources:
    """One node's lookup for `resolve_variables`; `sealed` lists the masked Secrets it handed out."""

    def __init__(self, rendered: ObjectLookup, own_output: list[dict[str, Any]],
                 live: ObjectLookup | None, decrypt: Decrypt | None, node: str) -> None:
        self._rendered = rendered
        self._own = {rendered_ref(obj): obj for obj in own_output}
        self._live = live
        self._decrypt = decrypt  # the node's SOPS step, for the Secrets its own build renders
        self._node = node
        self.sealed: list[Sealed] = []

    def __call__(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        found = self._rendered(kind, namespace, name)
        if found is None:
            found = self._from_own_output(ObjectRef(kind, namespace, name))
        if found is None and self._live is not None:
            found = self._live(kind, namespace, name)
        if found is None or not is_sealed(found):
            return found
        self.sealed.append(Sealed(object_name(found), f"{self._node} substitutes postBuild variables from "
                                  f"it, so they are masked too ({SUBSTITUTED_MASK})"))
        return plain_masks(found)

    def _from_own_output(self, key: ObjectRef) -> dict[str, Any] | None:
        own = self._own.get(key)
        if own is None or self._decrypt is None:
            return own
        return self._decrypt(copy.deepcopy(own))
