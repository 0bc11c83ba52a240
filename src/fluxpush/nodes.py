"""The nodes a run reconciles: one frozen type per Flux kind (`KustomizationNode`, `HelmReleaseNode`).

A node is what discovery found for one Kustomization or HelmRelease: its spec, the node that renders
it, what its build produced and why it fails. Nodes are values: discovery makes them once, and a
reconciler receives its kind's node type, so `node.spec` needs no narrowing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeGuard, TypeVar

from fluxpush.errors import FluxpushError
from fluxpush.flux.model import HelmRelease, Kustomization, ObjectRef
from fluxpush.sops.sealed import Sealed

SpecT = TypeVar("SpecT", bound=Kustomization | HelmRelease, covariant=True)


@dataclass(frozen=True)
class Node(Generic[SpecT]):
    """A Kustomization or HelmRelease to reconcile, with what its build produced."""

    ref: ObjectRef
    spec: SpecT
    parent: ObjectRef | None
    objects: list[dict[str, Any]] = field(default_factory=list)  # rendered, not Flux objects
    children: list[ObjectRef] = field(default_factory=list)
    error: FluxpushError | None = None  # why the node fails before it is reconciled (build, rejections)
    # Problems in what the node rendered (an invalid Flux object, an object another node renders too):
    # Flux's apply of this node would fail, so the node fails (discovery folds them into `error`).
    rejected: list[FluxpushError] = field(default_factory=list)
    sealed: list[Sealed] = field(default_factory=list)  # SOPS values no key opened (masked)

    @property
    def depends_on(self) -> list[ObjectRef]:
        """Refs of the nodes this one waits for (same kind, as Flux allows)."""
        return [ObjectRef(self.ref.kind, dep.namespace, dep.name) for dep in self.spec.depends_on]


KustomizationNode = Node[Kustomization]
HelmReleaseNode = Node[HelmRelease]
AnyNode = Node[Kustomization | HelmRelease]


def is_kustomization(node: AnyNode) -> TypeGuard[KustomizationNode]:
    """Whether the node is a Kustomization's (its spec typed as such)."""
    return isinstance(node.spec, Kustomization)


def is_helm_release(node: AnyNode) -> TypeGuard[HelmReleaseNode]:
    """Whether the node is a HelmRelease's (its spec typed as such)."""
    return isinstance(node.spec, HelmRelease)
