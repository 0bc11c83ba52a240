"""diff and apply agree on a HelmRelease (issue 13 item 7), end to end: the CLI against kubesim with
the chart served by a loopback HTTP HelmRepository."""

from __future__ import annotations

from pathlib import Path

import pytest

from clusterdump import Live
from conftest import use_helm_repository

pytestmark = pytest.mark.integration


@pytest.fixture
def live(sandbox, run_cli, tmp_path: Path) -> Live:
    return Live(sandbox, sandbox.sim.write_kubeconfig(tmp_path / "kubeconfig"), run_cli)


def _plan_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Plan: "))


def test_after_an_apply_diff_is_clean_and_counts_agree(live, chart_repo, example_chart):
    """One planning rule for Kustomizations and HelmReleases: the release's objects are planned on
    every run (helm would not be run again, so a drifted object is reported as a skip unless
    driftDetection is enabled), so apply, a second apply and diff count the same objects."""
    chart_repo.publish(example_chart, "0.9.20")
    use_helm_repository(live.sandbox.repo, chart_repo.url, "0.9.x")
    first = live.cli("apply")
    assert first.code == 0, first.out

    diff = live.cli("diff")
    second = live.cli("apply")

    assert diff.code == 0, diff.out
    assert _plan_line(diff.out) == _plan_line(second.out) == \
        "Plan: 0 to create, 0 to update, 0 to delete, 22 unchanged"
    deployment = live.get("apps/v1", "Deployment", "external-secrets", "external-secrets")
    deployment["spec"]["replicas"] = 3
    live.sandbox.client.apply({k: deployment[k] for k in ("apiVersion", "kind", "spec")} | {
        "metadata": {"name": "external-secrets", "namespace": "external-secrets"}}, "kubectl", force=True)
    drifted = live.cli("diff")
    assert drifted.code == 0, "helm-controller does not correct drift unless driftDetection is enabled"
    assert "not corrected: driftDetection.mode is disabled" in drifted.out
