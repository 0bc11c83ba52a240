"""What kustomize-controller does to each object after `kustomize build`.

In order (flux-semantics §2.2 steps 9–12): postBuild variable substitution, Flux's owner labels,
`commonMetadata` (after the owner labels, so it may override them, as in Flux). SOPS decryption
comes first, before substitution, as in kustomize-controller; a SOPS-encrypted Secret under a
Kustomization without `spec.decryption` is refused with Flux's message.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fluxpush.errors import RenderError, SubstitutionError
from fluxpush.flux.model import Kustomization, ObjectLookup
from fluxpush.render.substitute import (
    configmap_variables,
    merge_variables,
    secret_variables,
    substitute_object,
)
from fluxpush.sops.resources import decryption_disabled

OWNER_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
OWNER_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"

# A node's SOPS step: one rendered object in, the object decrypted (or masked) out.
Decrypt = Callable[[dict[str, Any]], dict[str, Any]]

# Finds a rendered ConfigMap/Secret by (kind, namespace, name); None when nothing renders it.


def resolve_variables(ks: Kustomization, lookup: ObjectLookup, *,
                      searched: str = "no Kustomization of this repository renders it") -> dict[str, str]:
    """The postBuild variables of `ks`: `substituteFrom` sources in order, then inline `substitute`.

    `searched` says where `lookup` looked, for the error when a required source is missing.
    """
    if ks.post_build is None:
        return {}
    sources = []
    for ref in ks.post_build.substitute_from:
        found = lookup(ref.kind, ks.ref.namespace, ref.name)
        if found is None:
            if ref.optional:
                continue
            raise SubstitutionError(
                f"substitute from '{ref.kind}/{ref.name}' error: {ref.kind.lower()}s \"{ref.name}\" "
                f"not found in namespace {ks.ref.namespace} ({searched}; mark it optional or add it "
                "to the repository)", node=str(ks.ref))
        sources.append(secret_variables(found) if ref.kind == "Secret" else configmap_variables(found))
    return merge_variables(sources, ks.post_build.substitute)


def is_sops_encrypted(obj: dict[str, Any]) -> bool:
    """A Secret still carrying SOPS metadata (top-level `sops:` key)."""
    return obj.get("kind") == "Secret" and isinstance(obj.get("sops"), dict)


def decryption_required(name: str, node: str) -> RenderError:
    """kustomize-controller's refusal of a SOPS Secret under a Kustomization without decryption."""
    return RenderError(f"Secret/{name} is SOPS encrypted, configuring decryption is required "
                       "for this secret to be reconciled (set spec.decryption on the Kustomization)",
                       node=node)


def _refuse_undecryptable(obj: dict[str, Any], node: str) -> None:
    if is_sops_encrypted(obj) and not decryption_disabled(obj):
        raise decryption_required(str(obj.get("metadata", {}).get("name")), node)


def _add_metadata(obj: dict[str, Any], key: str, values: dict[str, str]) -> None:
    if values:
        metadata = obj.setdefault("metadata", {})
        metadata[key] = {**(metadata.get(key) or {}), **values}


def finalize_objects(objects: list[dict[str, Any]], ks: Kustomization, variables: dict[str, str],
                     *, strict: bool, decrypt: Decrypt | None = None) -> list[dict[str, Any]]:
    """Apply Flux's post-build steps to a node's rendered objects; returns new objects.

    `decrypt` is the node's SOPS step (used when the Kustomization has `spec.decryption`).
    """
    node = str(ks.ref)
    always = ks.post_build is not None and ks.post_build.strategy == "Always"
    owner = {OWNER_NAME_LABEL: ks.ref.name, OWNER_NAMESPACE_LABEL: ks.ref.namespace}
    result = []
    for original in objects:
        obj = copy.deepcopy(original)
        if ks.decryption is None:
            _refuse_undecryptable(obj, node)
        elif decrypt is not None:
            obj = decrypt(obj)
        if ks.post_build is not None:
            obj = substitute_object(obj, variables, strict=strict, always=always, node=node)
        _add_metadata(obj, "labels", owner)
        if ks.common_metadata is not None:
            _add_metadata(obj, "labels", ks.common_metadata.labels)
            _add_metadata(obj, "annotations", ks.common_metadata.annotations)
        result.append(obj)
    return result
