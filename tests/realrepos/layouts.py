"""Small repositories written in the shapes real public Flux repositories use (written here, never
copied from them): a test writes one into a temporary folder with `write_tree`."""

from __future__ import annotations

from pathlib import Path


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path → text) under `root`; returns `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def kustomization(name: str, path: str, *, depends_on: tuple[str, ...] = (), extra: str = "") -> str:
    """A flux-system Kustomization from the GitRepository flux-system."""
    deps = "".join(f"    - name: {dep}\n" for dep in depends_on)
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  path: {path}\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n"
        + (f"  dependsOn:\n{deps}" if deps else "") + extra
    )


def helm_release(name: str, namespace: str, *, chart_path: str = "./charts/demo") -> str:
    """A HelmRelease whose chart is a folder of this repository."""
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        f"metadata:\n  name: {name}\n  namespace: {namespace}\n"
        "spec:\n  interval: 10m\n  chart:\n    spec:\n"
        f"      chart: {chart_path}\n      sourceRef:\n        kind: GitRepository\n"
        "        name: flux-system\n        namespace: flux-system\n"
    )


def namespace(name: str) -> str:
    """A Namespace manifest."""
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
