"""Failure never destroys (issue 13 items 1, 2, 4, 7, 8), end to end: the `fluxpush` CLI against a
kubesim cluster (real HTTPS, kubeconfig), with every object of the cluster dumped before and after.

The rules under test are the README's "How a cluster is changed" → "Deletion and failure rules":
- deletion only from evidence: only a node that built, validated and applied successfully in this
  run prunes, and only what it no longer renders; a failed, blocked or suspended node keeps its
  inventory and every object it owns, and is reported failed, never "deleted";
- a Kustomization or HelmRelease removed from Git is garbage-collected by its parent's prune as
  kustomize-controller's `finalize` / helm-controller's `reconcileDelete` do;
- every problem fails the node it affects, and one verdict gives every verb its exit code;
- dependency readiness as kustomize-controller's `checkDependencies`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from clusterdump import SECRET, Live, inventory
from clusterdump import changed as _changed

pytestmark = pytest.mark.integration

@pytest.fixture
def live(sandbox, run_cli, tmp_path: Path) -> Live:
    kubeconfig = sandbox.sim.write_kubeconfig(tmp_path / "kubeconfig")
    result = Live(sandbox, kubeconfig, run_cli)
    result.write("apps/app-2/secret.yaml", SECRET)
    return result


RELEASE_KEYS = ("apps/v1 Deployment external-secrets/external-secrets",
                "v1 ServiceAccount external-secrets/external-secrets")


# -- 1. deletion only from evidence ---------------------------------------------------------------

def test_a_missing_resource_fails_the_parent_and_deletes_nothing_it_owns(live):
    """A typo in infrastructure/kustomization.yaml used to `helm uninstall` the HelmRelease it renders
    and exit 0. Now infrastructure fails to build, keeps its inventory, and the HelmRelease it held is
    reported not built and untouched; its dependents are blocked."""
    before = live.applied()
    live.edit("infrastructure/kustomization.yaml", "  - cloudwatch/\n", "  - cloudwatchh/\n")

    result = live.cli("apply")

    assert result.code == 1
    assert "✗ Kustomization/flux-system/infrastructure Failed" in result.out
    assert "kustomize build failed in ./infrastructure (fix: the kustomization file there" in result.out
    assert "open ./infrastructure/cloudwatchh: no such file or directory" in result.out
    scratch = re.compile(re.escape(tempfile.gettempdir()) + r"/fluxpush-")  # the build copy's folder
    assert not scratch.search(result.out), "paths are the repository's, not the build copy's"
    assert "✗ HelmRelease/external-secrets/external-secrets DependencyNotReady" in result.out
    assert "its objects and inventory are untouched" in result.out
    assert "uninstall" not in result.out and "deleted" not in result.out
    assert "✗ Kustomization/flux-system/app-1 DependencyNotReady" in result.out
    assert _changed(before, live.dump()) == set()
    for verb, code in (("diff", 2), ("plan", 1)):
        assert live.cli(verb).code == code


def test_a_broken_root_leaves_the_whole_tree_untouched_and_names_every_node_it_held(live):
    """The cluster path itself fails to build: nothing is pruned anywhere, and every node the root
    held (and the nodes those held, from their records) is reported not built, not removed."""
    before = live.applied()
    live.edit("clusters/dev/flux-system/kustomization.yaml", "  - gotk-sync.yaml\n", "  - gotk-sync.yml\n")

    result = live.cli("apply")

    assert result.code == 1
    assert "✗ Kustomization/flux-system/flux-system Failed" in result.out
    for node in ("Kustomization/flux-system/infrastructure", "Kustomization/flux-system/app-1",
                 "Kustomization/flux-system/app-2", "HelmRelease/external-secrets/external-secrets"):
        assert f"✗ {node} DependencyNotReady" in result.out, node
    assert result.out.count("its objects and inventory are untouched") >= 4
    assert _changed(before, live.dump()) == set()
    assert live.cli("diff").code == 2


def test_an_invalid_helmrelease_fails_its_parent_and_is_not_uninstalled(live):
    """`apiVersion: helm.toolkit.fluxcd.io/v3` used to be dropped with a line on stderr, the release
    uninstalled as "removed from Git" and the run ended `✔ 5 nodes, 0 not ready`. As in Flux, where the
    parent's apply would refuse the object, the parent fails and nothing is deleted."""
    before = live.applied()
    live.edit("infrastructure/external-secrets/helmrelease.yaml", "helm.toolkit.fluxcd.io/v2",
              "helm.toolkit.fluxcd.io/v3")

    diff = live.cli("diff")
    assert diff.code == 2
    result = live.cli("apply")

    assert result.code == 1
    assert "infrastructure/external-secrets/helmrelease.yaml:1: " \
           "HelmRelease/external-secrets/external-secrets" in result.out
    assert "fix: change apiVersion to helm.toolkit.fluxcd.io/v2" in result.out
    assert "✗ Kustomization/flux-system/infrastructure Failed" in result.out
    assert "0 not ready" not in result.out and "uninstall" not in result.out
    assert _changed(before, live.dump()) == set()
    for key in RELEASE_KEYS:
        assert key in live.dump()


def test_an_invalid_kustomization_fails_the_node_that_renders_it_in_every_verb(live):
    """`interval: 5 minutes` used to drop the Kustomization with one line on stderr, exit 0."""
    before = live.applied()
    live.edit("clusters/dev/apps.yaml", "  interval: 5m\n  path: ./apps/app-2", "  interval: 5 minutes\n"
                                        "  path: ./apps/app-2")

    outcomes = {verb: live.cli(verb) for verb in ("diff", "plan", "apply")}

    outcomes["reconcile"] = live.cli("reconcile", "ks", "flux-system")
    codes = {verb: r.code for verb, r in outcomes.items()}
    assert codes == {"diff": 2, "plan": 1, "apply": 1, "reconcile": 1}
    applied = outcomes["apply"]
    assert "clusters/dev/apps.yaml" in applied.out and "Kustomization/flux-system/app-2" in applied.out
    assert "spec.interval" in applied.out
    assert "✗ Kustomization/flux-system/flux-system Failed" in applied.out
    assert _changed(before, live.dump()) == set()


def test_an_object_rendered_by_two_nodes_fails_both(live):
    """As Flux's server-side apply ownership would report it, both nodes fail; neither writes it."""
    before = live.applied()
    live.edit("apps/app-1/overlays/dev/kustomization.yaml", "  - ../../base\n",
              "  - ../../base\n  - ../../../app-2/namespace.yaml\n")

    result = live.cli("apply")

    assert result.code == 1
    assert "Namespace/app-2: rendered by more than one node: Kustomization/flux-system/app-1, " \
           "Kustomization/flux-system/app-2" in result.out
    assert "✗ Kustomization/flux-system/app-1 Failed" in result.out
    assert "✗ Kustomization/flux-system/app-2 Failed" in result.out
    assert "fix: keep the object in exactly one Kustomization" in result.out
    assert _changed(before, live.dump()) == set()
    assert live.cli("diff").code == 2


def test_an_empty_path_folder_absent_from_git_fails_the_node_clearly(live):
    """A folder that exists on disk but holds no file is not in Git (nor in Flux's artifact): the node
    fails naming spec.path; the run used to crash with a FileNotFoundError traceback."""
    before = live.applied()
    (live.sandbox.repo / "apps/empty").mkdir()
    live.edit("clusters/dev/apps.yaml", "path: ./apps/app-2", "path: ./apps/empty")

    result = live.cli("apply")

    assert result.code == 1
    assert "clusters/dev/apps.yaml" in result.out
    assert "Kustomization/flux-system/app-2: spec.path: kustomization path not found: ./apps/empty" \
        in result.out
    assert "an empty folder is not committed" in result.out
    assert _changed(before, live.dump()) == set(), "app-2's objects stay: it failed, it was not emptied"


# -- 2. garbage collection of removed nodes --------------------------------------------------------

def _remove_app_2(live: Live) -> None:
    text = (live.sandbox.repo / "clusters/dev/apps.yaml").read_text()
    live.write("clusters/dev/apps.yaml", text[: text.index("# app-2:")].rstrip().rstrip("-").rstrip() + "\n")


def _app_2_objects(dump: dict[str, Any]) -> set[str]:
    return {key for key in dump if key.split(" ", 2)[2].startswith("app-2/") or key == "v1 Namespace /app-2"}


def test_a_removed_kustomization_is_previewed_guarded_then_garbage_collected(live):
    """kustomize-controller's finalize with deletionPolicy MirrorPrune and prune: true: the objects of
    its inventory are deleted, then the Kustomization (here: its record) is gone."""
    before = live.applied()
    owned = _app_2_objects(before)
    assert {"v1 Secret app-2/app-2-token", "v1 Namespace /app-2", "apps/v1 Deployment app-2/app-2"} <= owned
    _remove_app_2(live)

    diff = live.cli("diff")
    assert diff.code == 2, "the preview says the apply will fail: the guard refuses this prune"
    assert "failed: apply will fail: Kustomization/flux-system/flux-system: refusing to prune" in diff.out
    assert "Kustomization/flux-system/app-2 deleted (removed from Git: delete its 5 object(s) " \
           "(deletionPolicy MirrorPrune with spec.prune: true))" in diff.out
    assert "Secret/app-2/app-2-token deleted" in diff.out and "Namespace/app-2 deleted" in diff.out

    refused = live.cli("apply")
    assert refused.code == 1
    assert "PruneFailed: Kustomization/flux-system/flux-system: refusing to prune: 5 of 9 objects is more " \
           "than 50%; it would delete Namespace/app-2" in refused.out
    assert "fix: pass --allow-destructive-prune" in refused.out
    assert _changed(before, live.dump()) == set()

    assert live.cli("diff", "--allow-destructive-prune").code == 1
    after = live.applied()
    records = {f"v1 ConfigMap flux-system/fluxpush-inventory-kustomization-{name}" for name in ("app-2",
                                                                                               "flux-system")}
    assert _changed(before, after) == owned | records
    assert not _app_2_objects(after)
    assert inventory(live.sandbox, "kustomization", "app-2") is None
    assert "flux-system_app-2_kustomize.toolkit.fluxcd.io_Kustomization" not in \
        inventory(live.sandbox, "kustomization", "flux-system")["entries"]
    assert live.cli("diff").code == 0


@pytest.mark.parametrize(("spec", "prune", "deleted"), [
    ("  deletionPolicy: Orphan\n", "true", False),
    ("  deletionPolicy: Delete\n", "false", True),
    ("  deletionPolicy: WaitForTermination\n", "true", True),
    ("", "false", False),  # MirrorPrune mirrors spec.prune
    ("  suspend: true\n", "true", False),  # finalizerShouldDeleteResources: a suspended one deletes nothing
])
def test_a_removed_kustomization_honours_its_deletion_policy(live, spec, prune, deleted):
    """finalizerShouldDeleteResources in kustomize-controller: suspended → keep; MirrorPrune →
    spec.prune; Delete and WaitForTermination → delete; Orphan → keep. The record goes either way
    (the Kustomization object is deleted in Flux whatever its policy)."""
    live.applied()  # the policy is the one the node last declared: change it on a node already applied
    live.edit("clusters/dev/apps.yaml", "  prune: true\n  targetNamespace: app-2\n",
              f"  prune: {prune}\n  targetNamespace: app-2\n{spec}")
    before = live.applied()
    owned = _app_2_objects(before)
    _remove_app_2(live)

    after = live.applied()

    assert bool(owned - after.keys()) is deleted
    assert (owned <= after.keys()) is not deleted
    assert inventory(live.sandbox, "kustomization", "app-2") is None


def test_a_removed_kustomization_collects_its_own_children_first(live):
    """A child Kustomization of the removed one is garbage-collected too, before it (its entries are in
    the removed node's inventory, as in Flux where deleting the parent deletes the child object)."""
    live.write("apps/app-2/extra.yaml", """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app-2-extra
  namespace: flux-system
spec:
  interval: 5m
  path: ./apps/extra
  prune: true
  sourceRef:
    kind: GitRepository
    name: gitops-platform
    namespace: flux-system
""")
    live.write("apps/extra/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
                                            "  namespace: default\ndata:\n  a: b\n")
    # Flux Kustomizations keep their own namespace: app-2's targetNamespace would move it otherwise.
    live.edit("clusters/dev/apps.yaml", "  targetNamespace: app-2\n", "")
    live.edit("apps/app-2/configmap.yaml", "  name: app-2-config\n",
              "  name: app-2-config\n  namespace: app-2\n")
    for name in ("deployment.yaml", "service.yaml", "secret.yaml"):
        text = (live.sandbox.repo / "apps/app-2" / name).read_text()
        live.write(f"apps/app-2/{name}", text.replace("metadata:\n", "metadata:\n  namespace: app-2\n", 1))
    before = live.applied()
    assert "v1 ConfigMap default/extra" in before
    assert "flux-system_app-2-extra_kustomize.toolkit.fluxcd.io_Kustomization" in \
        inventory(live.sandbox, "kustomization", "app-2")["entries"]
    _remove_app_2(live)

    diff = live.cli("diff")
    lines = [line for line in diff.out.splitlines() if line.startswith("► ")]
    grandchild = lines.index("► ConfigMap/default/extra deleted (Kustomization/flux-system/app-2-extra "
                             "removed from Git: garbage-collected)")
    assert grandchild < next(i for i, line in enumerate(lines) if "Namespace/app-2" in line)
    after = live.applied()

    assert "v1 ConfigMap default/extra" not in after and not _app_2_objects(after)
    assert inventory(live.sandbox, "kustomization", "app-2-extra") is None
    assert inventory(live.sandbox, "kustomization", "app-2") is None


@pytest.mark.parametrize("suspended", [False, True])
def test_a_removed_helmrelease_is_uninstalled_unless_suspended(live, suspended):
    """helm-controller's reconcileDelete: uninstall only when the HelmRelease is not suspended."""
    if suspended:
        live.edit("infrastructure/external-secrets/helmrelease.yaml", "  interval: 1h\n",
                  "  interval: 1h\n  suspend: true\n")
        live.edit("infrastructure/external-secrets/helmrelease.yaml", "  interval: 1h\n  suspend: true\n",
                  "  interval: 1h\n")
        live.applied()
        live.edit("infrastructure/external-secrets/helmrelease.yaml", "  interval: 1h\n",
                  "  interval: 1h\n  suspend: true\n")
    before = live.applied()
    assert all(key in before for key in RELEASE_KEYS)
    live.edit("infrastructure/external-secrets/kustomization.yaml", "  - helmrelease.yaml\n", "")

    plan = live.cli("plan")
    word = "objects orphaned" if suspended else "uninstall release external-secrets/external-secrets"
    assert f"HelmRelease/external-secrets/external-secrets deleted (removed from Git: {word}" in plan.out
    after = live.applied()

    assert all((key in after) is suspended for key in RELEASE_KEYS)
    assert inventory(live.sandbox, "helmrelease", "external-secrets", "external-secrets") is None
    assert live.cli("diff").code == 0


def test_no_prune_says_what_would_be_pruned_and_keeps_it_for_a_later_run(live):
    before = live.applied()
    _remove_app_2(live)

    held = live.cli("apply", "--no-prune")

    assert held.code == 0
    assert "Secret/app-2/app-2-token skipped (would be pruned (Kustomization/flux-system/app-2 removed " \
           "from Git: garbage-collected); not pruned: --no-prune (kept in the inventory for a later run))" \
           in held.out
    assert _app_2_objects(live.dump()) == _app_2_objects(before)
    assert "Kustomization/flux-system/app-2 deleted" in live.cli("diff").out  # still pending
    assert not _app_2_objects(live.applied())


def test_an_object_moved_to_another_node_is_never_deleted(live):
    """Git still declares it (now in app-1): the old owner's prune leaves it, whatever the order."""
    live.applied()
    live.write("apps/app-1/overlays/dev/app-2-config.yaml", (live.sandbox.repo / "apps/app-2/configmap.yaml")
               .read_text().replace("  name: app-2-config\n", "  name: app-2-config\n  namespace: app-2\n"))
    live.edit("apps/app-1/overlays/dev/kustomization.yaml", "  - ../../base\n",
              "  - ../../base\n  - app-2-config.yaml\n")
    (live.sandbox.repo / "apps/app-2/configmap.yaml").unlink()

    result = live.cli("apply")

    assert result.code == 0, result.out
    assert live.get("v1", "ConfigMap", "app-2-config", "app-2") is not None


# -- 8. dependency readiness -----------------------------------------------------------------------

def test_dependency_readiness_follows_kustomize_controllers_check(live):
    """kustomize-controller's checkDependencies: a dependency is ready when its Ready condition is
    True for its current generation and, for one from the same source, its lastAppliedRevision is the
    source's revision. So a suspended dependency keeps its dependents going only while its last
    applied revision is current; a failed one, or one never applied, blocks them."""
    never_applied = live.cli("reconcile", "ks", "app-1")
    assert never_applied.code == 1
    assert "dependency 'flux-system/infrastructure' is not ready (never applied)" in never_applied.out
    live.applied()
    live.edit("clusters/dev/infrastructure.yaml", "  wait: true\n", "  wait: true\n  suspend: true\n")

    same_revision_apply = live.cli("apply")  # a new revision: infrastructure's last applied is older
    assert same_revision_apply.code == 1
    assert "Kustomization/flux-system/infrastructure Suspended" in same_revision_apply.out
    assert "dependency 'flux-system/infrastructure' revision is not up to date" in same_revision_apply.out

    live.edit("clusters/dev/infrastructure.yaml", "  suspend: true\n", "")
    assert live.cli("apply").code == 0
    assert live.cli("suspend", "ks", "infrastructure").code == 0
    suspended_current = live.cli("apply")  # same revision: the suspended dependency's status is current
    assert suspended_current.code == 0, suspended_current.out
    assert "Kustomization/flux-system/app-1 Ready" in suspended_current.out


def test_a_child_is_not_applied_before_its_parent_applied_it(live):
    """In Flux a child Kustomization exists only once its parent applied it: when the parent fails on
    the first run, the never-applied child is blocked, not applied from the repository."""
    live.write("clusters/dev/flux-system/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                        "  name: broken\n  namespace: nowhere-ns\n")
    text = (live.sandbox.repo / "clusters/dev/flux-system/kustomization.yaml").read_text()
    live.write("clusters/dev/flux-system/kustomization.yaml", text + "  - broken.yaml\n")
    before = live.dump()

    result = live.cli("apply")

    assert result.code == 1
    assert "its parent Kustomization/flux-system/flux-system did not apply it" in result.out
    assert "apps/v1 Deployment app-1/app-1" not in live.dump()
    # The root's first stage (its Namespace) was applied before the second failed, as the output says.
    assert "already applied: cluster definitions" in result.out
    assert _changed(before, live.dump()) == {
        "v1 ConfigMap flux-system/fluxpush-inventory-kustomization-flux-system", "v1 Namespace /flux-system"}


def test_a_removed_kustomization_its_parent_may_not_prune_is_kept_and_reported(live):
    """`kustomize.toolkit.fluxcd.io/prune: disabled` on the Kustomization: its parent's prune leaves
    it (as Flux leaves the object), so it and its objects stay; every later run reports it orphaned,
    with what to do, since no prune will ever collect it."""
    live.edit("clusters/dev/apps.yaml", "  name: app-2\n  namespace: flux-system\n",
              "  name: app-2\n  namespace: flux-system\n  annotations:\n"
              "    kustomize.toolkit.fluxcd.io/prune: disabled\n")
    before = live.applied()
    _remove_app_2(live)

    result = live.cli("apply")

    assert result.code == 0, result.out
    assert "Kustomization/flux-system/app-2 skipped (removed from Git: kept (kustomize.toolkit.fluxcd.io/" \
           "prune: disabled on the Kustomization: its parent does not prune it))" in result.out
    assert _app_2_objects(live.dump()) == _app_2_objects(before)
    assert inventory(live.sandbox, "kustomization", "app-2") is not None
    again = live.cli("apply")
    assert "✔ Kustomization/flux-system/app-2 Skipped" in again.out
    assert "removed from Git, but no inventory holds it, so no prune collects it" in again.out
    assert "ConfigMap flux-system/fluxpush-inventory-kustomization-app-2" in again.out


def test_an_unresolvable_chart_source_fails_the_helmrelease_and_keeps_its_release(live):
    """A HelmRelease whose chart source does not exist fails (exit 1 in apply, 2 in diff); its
    release, objects and record stay as they were; its parent is fine, and the dependents of its
    parent (which wait for the HelmReleases it renders) are blocked."""
    before = live.applied()
    live.edit("infrastructure/external-secrets/helmrelease.yaml", "        name: gitops-platform\n",
              "        name: no-such-repository\n")

    diff = live.cli("diff")
    result = live.cli("apply")

    assert (diff.code, result.code) == (2, 1)
    assert "✗ HelmRelease/external-secrets/external-secrets Failed" in result.out
    assert "no-such-repository" in result.out
    assert "✔ Kustomization/flux-system/infrastructure Ready" in result.out
    assert "dependency 'external-secrets/external-secrets' is not ready (Failed)" in result.out
    assert _changed(before, live.dump()) == set()
