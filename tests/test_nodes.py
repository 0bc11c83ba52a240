"""Discovery's nodes are frozen values of their kind's type (`fluxpush.nodes`), and so is the discovery:
a run, a plan file or a face reads them and never changes them behind discovery's back."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from fluxpush.flux.model import HelmRelease, Kustomization, ObjectRef
from fluxpush.nodes import is_helm_release, is_kustomization
from fluxpush.repository.discover import DiscoverOptions, discover

APP_1 = ObjectRef("Kustomization", "flux-system", "app-1")
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")


def test_nodes_and_the_discovery_are_frozen_values_typed_by_kind(example_repo):
    discovery = discover(example_repo, DiscoverOptions(cluster_path="clusters/dev"))
    app, release = discovery.nodes[APP_1], discovery.nodes[HR]
    with pytest.raises(FrozenInstanceError):
        app.parent = None  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        discovery.nodes = {}  # type: ignore[misc]
    assert is_kustomization(app) and isinstance(app.spec, Kustomization) and not is_helm_release(app)
    assert is_helm_release(release) and isinstance(release.spec, HelmRelease)
    assert not is_kustomization(release)

    changed = replace(app, objects=[])  # a changed node is a new value; discovery's stays as it was
    assert changed.objects == [] and discovery.nodes[APP_1].objects == app.objects != []
