"""What Git no longer declares: pruned only from evidence (issue 13 items 1 and 2), through the prune
safety guard, and never with `--no-prune`; a Lease held by another run stops everything."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kubesim import KubeSim
from trust.harness import (
    Scenario,
    World,
    cases,
    change,
    check,
    edit,
    inv,
    remove,
    steps,
)

APP2_CM = "ConfigMap/app-2/app-2-config"
REMOVE_CM = remove("apps/app-2/configmap.yaml")
APP2_FILES = ("configmap", "service", "secret")
REMOVE_THREE = steps(*(remove(f"apps/app-2/{name}.yaml") for name in APP2_FILES))
THREE_GONE = ("ConfigMap/app-2/app-2-config", "Service/app-2/app-2", "Secret/app-2/app-2-credentials")
APPS = "clusters/dev/apps.yaml"


def _drop_app2(repo: Path) -> None:
    """Delete app-2's document (the last one) from apps.yaml; its files stay in Git."""
    file = repo / APPS
    text = file.read_text()
    file.write_text(text[: text.index("---\n# app-2: plain YAML files")])


REMOVE_APP2 = _drop_app2
HR_FILE = "infrastructure/external-secrets/kustomization.yaml"
REMOVE_HR = steps(edit(HR_FILE, "  - helmrelease.yaml\n", ""),
                  remove("infrastructure/external-secrets/helmrelease.yaml"))
HR_OBJECTS = ("Deployment/external-secrets/external-secrets",
              "Service/external-secrets/external-secrets-metrics",
              "ServiceAccount/external-secrets/external-secrets",
              "Secret/external-secrets/sh.helm.release.v1.external-secrets.v1", inv("external-secrets"))


def other_run_holds_the_lease(sim: KubeSim) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sim.cluster.store.put(("coordination.k8s.io", "leases", "kube-system", "fluxpush"), {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "fluxpush", "namespace": "kube-system"},
        "spec": {"holderIdentity": "github-run-42@runner:7", "leaseDurationSeconds": 60,
                 "acquireTime": now, "renewTime": now}})


def _app2_deleted_as_a_whole(before: dict[str, object]) -> tuple[str, ...]:
    return (*(key for key in before if "/app-2/" in key or key == "Namespace/app-2"), inv("app-2"))


SCENARIOS = [
    Scenario("prune-one-object", REMOVE_CM, 0, r"ConfigMap/app-2/app-2-config deleted",
             change(updated=(inv("app-2"),), deleted=(APP2_CM,))),
    Scenario("no-prune-says-what-it-keeps", REMOVE_CM, 0,
             r"(?s)ConfigMap/app-2/app-2-config.*(not pruned|--no-prune|prune disabled)",
             extra=("--no-prune",)),
    Scenario("prune-guard-refuses-most-of-a-node", REMOVE_THREE, 1, r"(?s)app-2.*--allow-destructive-prune",
             failed=("app-2",)),
    Scenario("prune-guard-allowed", REMOVE_THREE, 0, r"Secret/app-2/app-2-credentials deleted",
             change(updated=(inv("app-2"),), deleted=THREE_GONE), extra=("--allow-destructive-prune",)),
    Scenario("diff-shows-the-prune", REMOVE_CM, 1, r"ConfigMap/app-2/app-2-config",
             verb="diff"),
    Scenario("removed-kustomization-guarded", REMOVE_APP2, 1,
             r"(?s)app-2.*(Namespace/app-2|--allow-destructive-prune)"),
    # the guard would refuse the Namespace's deletion: the preview fails as the apply would (exit 2)
    Scenario("removed-kustomization-in-diff", REMOVE_APP2, 2, r"(?s)refusing to prune.*Namespace/app-2",
             verb="diff"),
    Scenario("removed-helmrelease-uninstalled", REMOVE_HR, 0,
             r"HelmRelease/external-secrets/external-secrets",
             change(updated=(inv("infrastructure"),), deleted=HR_OBJECTS)),
    Scenario("removed-helmrelease-prune-disabled", steps(
        REMOVE_HR, edit("clusters/dev/infrastructure.yaml", "prune: true", "prune: false")), 0,
        r"HelmRelease/external-secrets/external-secrets skipped \(would be pruned \(removed from Git: "
        r"uninstall release .*not pruned: spec.prune is false",
        # as kustomize-controller (Status.Inventory = newInventory before its prune, which returns at
        # once with prune: false): the record drops what is left behind, the HelmRelease stays installed
        change(updated=(inv("infrastructure"),))),
    Scenario("removed-helmrelease-in-diff", REMOVE_HR, 1, r"(?s)external-secrets.*(delete|uninstall)",
             verb="diff"),
    Scenario("lease-held-by-another-run", REMOVE_CM, 1, r"(?s)held by github-run-42@runner:7.*--lock-wait",
             change(created=("Lease/kube-system/fluxpush",)),
             fault=other_run_holds_the_lease),
]


@pytest.mark.parametrize("scenario", cases(SCENARIOS))
def test_removal(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)


def test_removed_kustomization_is_collected_when_allowed(trust_world: World) -> None:
    """Flux's finalizer: a removed child with prune: true has its inventory deleted (here the guard is
    lifted for its Namespace), then its record."""
    REMOVE_APP2(trust_world.repo)
    gone = _app2_deleted_as_a_whole(trust_world.before.objects)
    expected = change(updated=(inv("flux-system"),), deleted=gone)
    check(trust_world, Scenario("removed-kustomization-allowed", None, 0, r"Namespace/app-2", expected,
                                extra=("--allow-destructive-prune",)))
