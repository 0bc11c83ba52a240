"""HelmRelease v2beta1/v2beta2 -> v2 normalization, so the rest of fluxpush reads one shape.

Differences handled (helm-controller's API history, see the flux-semantics reference §9.6):

- `apiVersion` becomes `helm.toolkit.fluxcd.io/v2`.
- `spec.chart.spec.valuesFile` (single, removed in v2) is put first in `valuesFiles`, the order in
  which source-controller merged the two.
- `spec.postRenderers[].kustomize.patchesStrategicMerge` entries become `patches` entries without a
  target (kustomize derives it from the patch body), and `patchesJson6902` entries become
  `patches` entries whose `patch` is the operation list as YAML, keeping their `target`.
  kustomize applies strategic-merge patches before `patches` and JSON 6902 patches after them, so
  the converted entries go first and last respectively.

Unchanged on purpose: `install.crds`/`upgrade.crds` and the deprecated `install.skipCRDs` (same
fields and defaults in all three versions), `driftDetection` (v2beta2 already has v2's shape;
v2beta1 had none), `test.filters`, `chartRef`, and `maxHistory` (left unset, so v2's default of 5
applies, as it does for these objects on a current helm-controller). `status` is not converted.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from fluxpush.flux.kinds import HELM_GROUP

HELMRELEASE_V2 = f"{HELM_GROUP}/v2"


def _dump_patch(body: Any) -> str:
    text: str = yaml.safe_dump(body, sort_keys=False, default_flow_style=False)
    return text


def _convert_post_renderer(renderer: dict[str, Any]) -> dict[str, Any]:
    kustomize = renderer.get("kustomize")
    if not isinstance(kustomize, dict):
        return renderer
    strategic = [{"patch": _dump_patch(body)} for body in kustomize.pop("patchesStrategicMerge", None) or []]
    json6902 = [
        {"patch": _dump_patch(entry.get("patch", [])), "target": entry.get("target", {})}
        for entry in kustomize.pop("patchesJson6902", None) or []
    ]
    if strategic or json6902:
        kustomize["patches"] = strategic + list(kustomize.get("patches") or []) + json6902
    return renderer


def normalize_helmrelease(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a HelmRelease wire dict in v2 shape; a v2 object is returned as an equal copy."""
    result = copy.deepcopy(data)
    if result.get("apiVersion") == HELMRELEASE_V2:
        return result
    result["apiVersion"] = HELMRELEASE_V2
    spec = result.get("spec")
    if not isinstance(spec, dict):
        return result
    chart_spec = (spec.get("chart") or {}).get("spec")
    if isinstance(chart_spec, dict) and "valuesFile" in chart_spec:
        single = chart_spec.pop("valuesFile")
        chart_spec["valuesFiles"] = [single, *(chart_spec.get("valuesFiles") or [])]
    if isinstance(spec.get("postRenderers"), list):
        spec["postRenderers"] = [_convert_post_renderer(item) for item in spec["postRenderers"]]
    return result
