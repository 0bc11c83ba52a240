"""Prune selection in Flux's order with its guards, and the destructive-prune safety check."""

from __future__ import annotations

import pytest

from fluxpush.planning.inventory import InventoryEntry
from fluxpush.planning.normalize import PRUNE_KEY, RECONCILE_KEY, SSA_KEY, ObjectId
from fluxpush.planning.prune import (
    ALLOW_ANNOTATION,
    ALLOW_FLAG,
    PruneSelection,
    PruneSkip,
    check_prune_safety,
    kustomization_owner_labels,
    prune_order,
    select_prune,
    stale_entries,
)

OWNER = kustomization_owner_labels("apps", "flux-system")
NODE = "Kustomization/flux-system/apps"


def entry(group, kind, namespace, name, version="v1"):
    return InventoryEntry(ObjectId(group, kind, namespace, name), version)


def live(item, labels=None, annotations=None):
    meta = {"name": item.id.name, "labels": OWNER if labels is None else labels}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": item.api_version, "kind": item.id.kind, "metadata": meta}


NAMESPACE = entry("", "Namespace", "", "apps")
CRD = entry("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com")
WEBHOOK = entry("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "", "hook")
WIDGET = entry("example.com", "Widget", "apps", "w")
DEPLOY = entry("apps", "Deployment", "apps", "web")
SERVICE = entry("", "Service", "apps", "web")
CONFIG = entry("", "ConfigMap", "apps", "cfg")
ROLE = entry("rbac.authorization.k8s.io", "ClusterRole", "", "viewer")


def test_prune_order_is_the_apply_order_reversed():
    shuffled = [SERVICE, NAMESPACE, DEPLOY, CRD, WIDGET, CONFIG, WEBHOOK, ROLE]
    assert prune_order(shuffled) == [WEBHOOK, WIDGET, DEPLOY, SERVICE, CONFIG, ROLE, NAMESPACE, CRD]


def test_stale_ignores_versions_for_identity():
    stored = [entry("autoscaling", "HorizontalPodAutoscaler", "apps", "web", "v2beta2"), SERVICE]
    desired = [ObjectId("autoscaling", "HorizontalPodAutoscaler", "apps", "web")]
    assert stale_entries(stored, desired) == (SERVICE,)


def test_select_deletes_owned_stale_objects_in_order_and_counts_missing_as_gone():
    stored = [NAMESPACE, SERVICE, DEPLOY, CONFIG]
    selection = select_prune(stored, [CONFIG.id], {NAMESPACE.id: live(NAMESPACE), SERVICE.id: None,
                                                   DEPLOY.id: live(DEPLOY)}, OWNER)
    assert selection == PruneSelection(delete=(DEPLOY, NAMESPACE), skipped=(), gone=(SERVICE,))


@pytest.mark.parametrize(("labels", "annotations", "reason"), [
    (kustomization_owner_labels("other", "flux-system"), None,
     "owned by another node (kustomize.toolkit.fluxcd.io/name=other, "
     "kustomize.toolkit.fluxcd.io/namespace=flux-system)"),
    ({}, None, "not labelled as this node's (kustomize.toolkit.fluxcd.io/name=apps, "
               "kustomize.toolkit.fluxcd.io/namespace=flux-system)"),
    (None, {PRUNE_KEY: "Disabled"}, "prune: disabled"),
    (None, {RECONCILE_KEY: "disabled"}, "reconcile: disabled"),
    ({**OWNER, SSA_KEY: "Ignore"}, None, "ssa: Ignore"),
])
def test_select_leaves_objects_it_must_not_delete(labels, annotations, reason):
    selection = select_prune([DEPLOY], [], {DEPLOY.id: live(DEPLOY, labels, annotations)}, OWNER)
    assert selection == PruneSelection(skipped=(PruneSkip(DEPLOY.id, reason),))


def test_select_needs_the_live_state_of_every_stale_object():
    with pytest.raises(ValueError, match="Deployment/apps/web"):
        select_prune([DEPLOY, SERVICE], [], {SERVICE.id: None}, OWNER)


def _deleting(*entries):
    return PruneSelection(delete=entries)


def test_more_than_half_of_a_node_is_refused_with_everything_listed():
    error = check_prune_safety(NODE, _deleting(DEPLOY, SERVICE, CONFIG), 4)
    assert error is not None
    assert error.objects == (DEPLOY.id, SERVICE.id, CONFIG.id)
    text = str(error)
    assert text.startswith(f"{NODE}: refusing to prune: 3 of 4 objects is more than 50%")
    assert "would delete 3: Deployment/apps/web, Service/apps/web, ConfigMap/apps/cfg" in text
    assert ALLOW_FLAG in text and f'{ALLOW_ANNOTATION}: "true"' in text and f"{PRUNE_KEY}: disabled" in text


def test_half_or_less_passes_and_small_nodes_have_no_share_rule():
    assert check_prune_safety(NODE, _deleting(DEPLOY, SERVICE), 4) is None
    assert check_prune_safety(NODE, _deleting(DEPLOY, SERVICE, CONFIG), 3) is None  # fewer than 4 objects
    assert check_prune_safety(NODE, _deleting(DEPLOY, SERVICE), 10, threshold=0.1) is not None


@pytest.mark.parametrize("protected", [NAMESPACE, CRD, entry("", "PersistentVolumeClaim", "apps", "data")])
def test_namespaces_crds_and_pvcs_are_always_refused(protected):
    error = check_prune_safety(NODE, _deleting(protected), 100)
    assert error is not None and error.reasons == (f"it would delete {protected.id}",)


def test_an_explicit_allow_and_an_empty_prune_pass():
    assert check_prune_safety(NODE, _deleting(NAMESPACE, DEPLOY, SERVICE), 4, allow=True) is None
    assert check_prune_safety(NODE, PruneSelection(gone=(NAMESPACE,)), 1) is None
