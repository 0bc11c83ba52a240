"""`.fluxpush/root.yaml`: a spec for the root Kustomization fluxpush synthesizes.

When neither a Kustomization nor a FluxInstance in the cluster path defines the root (the Flux
Operator is installed from a chart, the root was created by hand), the root is synthesized
(`flux-system/flux-system`, `prune: true`, the cluster path). This file, at the repository's top,
gives it the rest of its spec as the real root has it in the cluster:

    spec:
      decryption:
        provider: sops
        secretRef:
          name: sops-age
      postBuild:
        substitute:
          CLUSTER: home

`spec.path` and `spec.sourceRef` are not allowed (the cluster path is `--path`, the source is the
checkout). A root defined in the repository always wins over this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fluxpush.errors import FluxpushError, InputError, Origin
from fluxpush.yamldoc import load_documents

ROOT_CONFIG = ".fluxpush/root.yaml"
FIXED_FIELDS = ("path", "sourceRef")


def load_root_spec(checkout: Path) -> dict[str, Any]:
    """The spec fields `.fluxpush/root.yaml` gives the synthesized root; `{}` without the file."""
    file = checkout / ROOT_CONFIG
    if not file.is_file():
        return {}
    origin = Origin(ROOT_CONFIG)
    try:
        docs = load_documents(file.read_text(encoding="utf-8"), ROOT_CONFIG)
    except (OSError, FluxpushError) as exc:
        raise InputError(f"cannot read the root spec: {exc}", origin=origin) from exc
    data = docs[0].data if len(docs) == 1 else None
    if not isinstance(data, dict) or set(data) != {"spec"} or not isinstance(data["spec"], dict):
        raise InputError("expected one document with only a `spec:` mapping", origin=origin,
                         hint="write the root Kustomization's spec fields under `spec:`")
    spec: dict[str, Any] = data["spec"]
    fixed = [name for name in FIXED_FIELDS if name in spec]
    if fixed:
        raise InputError(f"spec.{fixed[0]} cannot be set here", origin=origin, field=f"spec.{fixed[0]}",
                         hint="the cluster path is --path and the source is this checkout")
    return spec
