"""HelmReleases against kubesim with the real helm: install, no-op, upgrade, version bump preview,
failed install remediation, removal from Git; `helm history` shows the revisions."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import HELMRELEASE, run_release_node, use_helm_repository
from fluxpush.flux.model import ObjectRef
from fluxpush.helm.storage import release_history
from fluxpush.planning.plan import Action
from fluxpush.tools import find_helm

pytestmark = pytest.mark.integration
HR = ObjectRef("HelmRelease", "external-secrets", "external-secrets")
NS = "external-secrets"


@pytest.fixture(autouse=True)
def chart_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FLUXPUSH_CACHE_DIR", str(tmp_path / "chart-cache"))


INFRASTRUCTURE = ObjectRef("Kustomization", "flux-system", "infrastructure")


def _result(run, ref=HR):
    return next(r for r in run.results if r.node == ref)


def _helm_history(sandbox, tmp_path) -> list[dict]:
    kubeconfig = tmp_path / "kubeconfig"
    sandbox.sim.write_kubeconfig(kubeconfig)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig),
           "HELM_CACHE_HOME": str(tmp_path / "hc"), "HELM_CONFIG_HOME": str(tmp_path / "hf")}
    out = subprocess.run([find_helm().path, "history", "external-secrets", "-n", NS, "-o", "json"],
                         capture_output=True, text=True, env=env, check=True, timeout=60)
    return json.loads(out.stdout)


def test_install_noop_upgrade_and_uninstall_on_removal(sandbox, tmp_path):
    result = _result(sandbox.run(apply=True))
    assert result.ok, result.message
    assert "Helm install succeeded" in result.message
    deployment = sandbox.client.get("apps/v1", "Deployment", "external-secrets", NS)
    assert deployment["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "external-secrets"
    sa = sandbox.client.get("v1", "ServiceAccount", "external-secrets", NS)
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith("role/eso-role")

    second = run_release_node(sandbox, HR, apply=True)
    assert second.ok and second.plan.changes[0].action is Action.UNCHANGED
    assert [h["revision"] for h in _helm_history(sandbox, tmp_path)] == [1]  # no new helm revision

    sandbox.edit(HELMRELEASE, "  values:\n", "  values:\n    logLevel: debug\n")
    preview = run_release_node(sandbox, HR, apply=False)
    release = preview.plan.changes[0]
    assert release.action is Action.UPDATE and 'values.logLevel: (absent) -> "debug"' in release.diff
    deployment_change = next(c for c in preview.plan.changes if c.id.kind == "Deployment")
    assert deployment_change.action is Action.UPDATE and "--loglevel=debug" in deployment_change.diff

    upgraded = run_release_node(sandbox, HR, apply=True)
    assert upgraded.ok and "Helm upgrade succeeded" in upgraded.message
    history = _helm_history(sandbox, tmp_path)
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "deployed")]
    args = sandbox.client.get("apps/v1", "Deployment", "external-secrets", NS)["spec"]["template"]["spec"][
        "containers"][0]["args"]
    assert "--loglevel=debug" in args

    # Removed from Git: the parent whose inventory holds it (infrastructure) uninstalls it in its prune.
    sandbox.edit("infrastructure/external-secrets/kustomization.yaml", "  - helmrelease.yaml\n", "")
    plan = sandbox.run(apply=False)
    assert all(r.node != HR for r in plan.results)
    removal = _result(plan, INFRASTRUCTURE)
    uninstall = next(c for c in removal.plan.prune if c.id.kind == "HelmRelease")
    assert uninstall.action is Action.DELETE and "uninstall release external-secrets/external-secrets" \
        in uninstall.reason
    gone = _result(sandbox.run(apply=True), INFRASTRUCTURE)
    assert gone.ok, gone.message
    assert any(c.id.kind == "HelmRelease" and c.action is Action.DELETE for c in gone.applied)
    assert release_history(sandbox.client, "external-secrets", NS) == []
    assert sandbox.client.get("apps/v1", "Deployment", "external-secrets", NS) is None


def test_version_bump_preview_and_upgrade_from_a_helm_repository(sandbox, chart_repo, example_chart):
    chart_repo.publish(example_chart, "0.9.20")
    use_helm_repository(sandbox.repo, chart_repo.url, "0.9.x")
    secret = ("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: eso-extra\n"
              "  namespace: external-secrets\nstringData:\n  values.yaml: |\n"
              "    podAnnotations:\n      token: very-secret-token\n")
    (sandbox.repo / "infrastructure/external-secrets/namespace.yaml").write_text(
        (sandbox.repo / "infrastructure/external-secrets/namespace.yaml").read_text() + secret)
    sandbox.edit(HELMRELEASE, "  values:\n", "  valuesFrom:\n    - kind: Secret\n      name: eso-extra\n"
                                             "  values:\n")
    first = _result(sandbox.run(apply=True))
    assert first.ok, first.message

    chart_repo.publish(example_chart, "0.9.21", app_version="v0.9.21")
    preview = run_release_node(sandbox, HR, apply=False)
    release = preview.plan.changes[0]
    assert release.action is Action.UPDATE
    assert "chart external-secrets@0.9.20 -> external-secrets@0.9.21" in release.reason
    text = "\n".join(c.diff for c in preview.plan.changes)
    assert "very-secret-token" not in text
    assert "external-secrets:v0.9.21" in text  # the image tag follows the new appVersion

    upgraded = run_release_node(sandbox, HR, apply=True)
    assert upgraded.ok, upgraded.message
    latest = release_history(sandbox.client, "external-secrets", NS)[-1]
    assert (latest.revision, latest.chart_version, latest.status) == (2, "0.9.21", "deployed")


def test_failed_install_is_remediated_by_uninstall_and_retried(sandbox):
    sandbox.edit(HELMRELEASE, "  values:\n", "  timeout: 20s\n  values:\n    replicaCount: -1\n")
    sandbox.edit(HELMRELEASE, "    remediation:\n      retries: 3\n", "    remediation:\n      retries: 1\n")
    result = _result(sandbox.run(apply=True))
    assert not result.ok
    assert "install retries exhausted (2 attempts)" in result.message
    assert result.message.count("Helm install failed for release") == 2
    assert "Helm uninstall succeeded (remediation)" in result.message
    history = release_history(sandbox.client, "external-secrets", NS)
    # the last failure is not remediated (install.remediation.remediateLastFailure defaults to false)
    assert [(r.revision, r.status) for r in history] == [(1, "failed")]
