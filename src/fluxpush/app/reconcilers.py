"""The registry of every kind's reconciler, assembled above `engine` and `helm` for the faces."""

from __future__ import annotations

from fluxpush.engine.reconcile import KustomizationReconciler
from fluxpush.helm.reconcile import HelmReleaseReconciler
from fluxpush.reconciler import Reconcilers


def default_reconcilers() -> Reconcilers:
    """The reconcilers of the kinds fluxpush reconciles: Kustomization and HelmRelease."""
    return Reconcilers({"Kustomization": KustomizationReconciler(), "HelmRelease": HelmReleaseReconciler()})
