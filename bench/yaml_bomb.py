"""`python -m bench.yaml_bomb`: how long and how much memory a YAML alias bomb takes to fail.

Builds a two-Kustomization repository (one ordinary, one whose ConfigMap is a "billion laughs"
alias bomb) with the real kustomize under fluxpush's default limits (or FLUXPUSH_BUILD_MEMORY_MIB /
FLUXPUSH_BUILD_TIMEOUT when set) and prints the wall time, the largest child's peak RSS and the
error the bomb's node got.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

BOMB_LINES = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: bomb", "  namespace: default",
              "data:", '  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
              *(f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10))]
_KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: flux-system}}
spec:
  interval: 10m
  path: ./apps/{name}
  prune: true
  sourceRef: {{kind: GitRepository, name: flux-system}}
"""


def bomb_repo(root: Path, bomb_in: str = "resource") -> None:
    """Write the repository: `clusters/dev` declares `good` and `bomb`; the bomb sits in a resource
    file (`bomb_in="resource"`, kustomize expands it) or in the kustomization file itself."""
    files = {
        "clusters/dev/kustomization.yaml": "resources: [good.yaml, bomb.yaml]\n",
        "clusters/dev/good.yaml": _KS.format(name="good"), "clusters/dev/bomb.yaml": _KS.format(name="bomb"),
        "apps/good/kustomization.yaml": "resources: [cm.yaml]\n",
        "apps/good/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good, namespace: default}\n",
    }
    bomb = "\n".join(BOMB_LINES) + "\n"
    if bomb_in == "resource":
        files |= {"apps/bomb/kustomization.yaml": "resources: [cm.yaml]\n", "apps/bomb/cm.yaml": bomb}
    else:
        files["apps/bomb/kustomization.yaml"] = "resources: [cm.yaml]\n" + bomb.replace("data:", "x:")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def main() -> int:
    """Run the measurement and print it."""
    from fluxpush.flux.model import ObjectRef
    from fluxpush.repository.discover import DiscoverOptions, discover
    from fluxpush.runner import build_timeout, memory_limit_mib

    with tempfile.TemporaryDirectory() as scratch:
        bomb_repo(Path(scratch))
        started = time.monotonic()
        discovery = discover(scratch, DiscoverOptions(cluster_path="clusters/dev"))
        elapsed = time.monotonic() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    error = discovery.nodes[ObjectRef("Kustomization", "flux-system", "bomb")].error
    print(f"limits: memory {memory_limit_mib()} MiB per process, time {build_timeout():g} s per build")
    print(f"bomb failed after {elapsed:.1f} s; largest child peak RSS {peak_mib:.0f} MiB")
    print(f"error: {error.message if error else 'none (the bomb built!)'}")
    return 0 if error else 1


if __name__ == "__main__":
    sys.exit(main())
