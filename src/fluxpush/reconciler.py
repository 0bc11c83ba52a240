"""One reconciler per Flux kind behind one protocol, and the registry a run dispatches through.

A `Reconciler` plans a node of its kind, applies it, and removes what a node of its kind deployed
once Git no longer declares it (a Kustomization's objects, a HelmRelease's release). The engine's
run and its garbage collection only know this protocol; `engine.reconcile` provides the
Kustomization reconciler, `helm.reconcile` the HelmRelease one, and `fluxpush.app.reconcilers` puts
them in a `Reconcilers` registry for the faces to hand to the run. So `engine` and `helm` never
import each other (an import contract in pyproject.toml holds it).

This module lies below both: it imports planning, the node types and the Flux model, never
`engine`, `helm` or `discover`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from fluxpush.errors import FluxpushError, Origin
from fluxpush.flux.model import FluxObject, GitRepository, HelmRelease, Kustomization, ObjectRef
from fluxpush.kube import KubeClient
from fluxpush.nodes import AnyNode, Node
from fluxpush.planning.inventory import InventoryRecord
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.plan import NodePlan
from fluxpush.planning.removal import Declared, Removal
from fluxpush.planning.result import Announce, NodeResult
from fluxpush.repository.artifacts import ArtifactGenerator
from fluxpush.repository.source import Source

SpecT_contra = TypeVar("SpecT_contra", bound=Kustomization | HelmRelease, contravariant=True)


class Target(Protocol):
    """The cluster a node's objects go to with spec.kubeConfig or serviceAccountName (an
    `engine.remote.RemoteTarget`): its name for the plan, and a client for it."""

    @property
    def name(self) -> str: ...
    @property
    def client(self) -> KubeClient: ...


class Repository(Protocol):
    """What a reconciler reads of the discovered repository (a `discover.Discovery` is one)."""

    @property
    def revision(self) -> str:
        """Flux-style revision of the checkout, e.g. `main@sha1:<sha>`."""
        ...

    @property
    def source(self) -> Source:
        """The checkout."""
        ...

    def rendered(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """An object some node of the repository renders (a ConfigMap, a Secret…), or None."""
        ...

    def flux_object(self, ref: ObjectRef) -> FluxObject | None:
        """A Flux object (a source) the repository declares, or None."""
        ...

    def artifact_generator(self, ref: ObjectRef) -> ArtifactGenerator | None:
        """The ArtifactGenerator producing the ExternalArtifact `ref`, or None."""
        ...

    def is_checkout(self, repo: GitRepository) -> bool:
        """Whether the GitRepository is the checkout this run reads."""
        ...

    def locate(self, obj: dict[str, Any], field_path: str, near: str) -> Origin | None:
        """The file (and line of the dotted `field_path`) an object a node under folder `near`
        rendered came from, or None."""
        ...


@dataclass(frozen=True)
class NodeRun:
    """What a reconciler is given to reconcile one node in one run."""

    repository: Repository
    client: KubeClient  # the management cluster: inventory records, valuesFrom, substituteFrom
    options: EngineOptions
    record: InventoryRecord | None  # the node's stored inventory record, None before its first apply
    declared: Declared  # every object and node Git declares in this run (never garbage-collected)
    snapshot: LiveIndex  # the run's reads of the management cluster
    reconcilers: Reconcilers  # to remove the nodes a removed node rendered, each by its kind's reconciler
    target: Target | None = None  # spec.kubeConfig / serviceAccountName; None: `client` as itself
    announce: Announce | None = None  # hears an apply's changes before they are written

    @property
    def revision(self) -> str:
        """The revision this run reconciles."""
        return self.repository.revision


class Reconciler(Protocol[SpecT_contra]):
    """How one Flux kind is planned, applied, and removed from the cluster."""

    def plan(self, node: Node[SpecT_contra], run: NodeRun) -> NodePlan:
        """The node's plan, writing nothing; a failure to plan is the plan's error."""
        ...

    def apply(self, node: Node[SpecT_contra], run: NodeRun) -> NodeResult:
        """Apply the node and store its inventory record; its failures are the result's, not raised."""
        ...

    def remove(self, client: KubeClient, removal: Removal, timeout: float) -> str:
        """Delete what a node of this kind removed from Git deployed (`removal` says what; its record
        and its children are the caller's); returns a note on what is still pending, or "". Raises
        FluxpushError when the cluster refuses."""
        ...


class NoReconciler(FluxpushError):
    """A node's kind has no reconciler in the registry the run was given."""


class Reconcilers:
    """The reconciler of each kind a run can meet; asking for another kind is a `NoReconciler`."""

    def __init__(self, by_kind: Mapping[str, Reconciler[Any]]) -> None:
        self._by_kind = dict(by_kind)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds this registry reconciles, sorted."""
        return tuple(sorted(self._by_kind))

    def for_kind(self, kind: str) -> Reconciler[Any]:
        """The reconciler of `kind`; raises NoReconciler naming the kinds it has."""
        reconciler = self._by_kind.get(kind)
        if reconciler is None:
            known = ", ".join(self.kinds) or "no kind"
            raise NoReconciler(f"no reconciler for {kind} (this run reconciles {known}); build the registry "
                               "with fluxpush.app.reconcilers.default_reconcilers()")
        return reconciler

    def require(self, kinds: Iterable[str]) -> None:
        """Raise NoReconciler for the first of `kinds` (sorted) without a reconciler, before anything runs."""
        for kind in sorted(set(kinds)):
            self.for_kind(kind)

    def plan(self, node: AnyNode, run: NodeRun) -> NodePlan:
        """The node's plan, by its kind's reconciler."""
        return self.for_kind(node.ref.kind).plan(node, run)

    def apply(self, node: AnyNode, run: NodeRun) -> NodeResult:
        """Apply the node, by its kind's reconciler."""
        return self.for_kind(node.ref.kind).apply(node, run)

    def remove(self, client: KubeClient, removal: Removal, timeout: float) -> str:
        """Delete what the removed node deployed, by its kind's reconciler."""
        return self.for_kind(removal.node.kind).remove(client, removal, timeout)
