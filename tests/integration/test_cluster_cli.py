"""The cluster verbs end to end (`fluxpush diff|plan|apply|reconcile|suspend|resume --sandbox`) and
the cluster Lease.

Exit codes follow `flux diff`: 0 no changes, 1 changes, 2 error. `reconcile` follows
`flux reconcile ks`: a dependency outside the run must already be Ready in the cluster.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from fluxpush.engine.lease import LEASE_NAME, LEASE_NAMESPACE, ClusterLease, LeaseHeldError

pytestmark = pytest.mark.integration


@pytest.fixture
def sandbox_cli(run_cli, example_repo, tmp_path):
    state = tmp_path / "sandbox.json"

    def run(*args: str):
        return run_cli(
            *args,
            "--repo",
            str(example_repo),
            "--path",
            "clusters/dev",
            "--sandbox",
            "--sandbox-state",
            str(state),
        )

    return run


def test_diff_apply_diff_exit_codes(sandbox_cli):
    before = sandbox_cli("diff")
    assert before.code == 1
    assert "Plan: 22 to create, 0 to update, 0 to delete, 0 unchanged" in before.out

    applied = sandbox_cli("apply")
    assert applied.code == 0, applied.out + applied.err
    assert "✔ Kustomization/flux-system/app-1 Ready: 5 created" in applied.out

    after = sandbox_cli("diff")
    assert after.code == 0
    assert "Plan: 0 to create, 0 to update, 0 to delete, 22 unchanged" in after.out


def test_plan_json_is_written_and_reads_back(sandbox_cli, tmp_path):
    plan_file = tmp_path / "plan.json"
    result = sandbox_cli("plan", "-o", "json", "--plan-file", str(plan_file))

    assert result.code == 0
    document = json.loads(plan_file.read_text())
    assert document.pop("execution")["kind"] == "fluxpush-plan-file"  # what `apply --plan-file` runs
    assert json.loads(result.out) == document  # the rest is the plan `-o json` prints
    assert document["totals"]["create"] == 22  # 18 objects, the release and its 3 objects
    nodes = [node["node"] for node in document["nodes"]]
    assert nodes.index("Kustomization/flux-system/infrastructure") < nodes.index(
        "Kustomization/flux-system/app-1"
    )


def test_reconcile_needs_ready_dependencies_unless_asked_to_bring_them(sandbox_cli):
    # The root first, as in a cluster Flux was bootstrapped into (it creates the flux-system namespace).
    assert sandbox_cli("reconcile", "ks", "flux-system").code == 0
    alone = sandbox_cli("reconcile", "ks", "app-1")
    assert alone.code == 1
    assert "dependency 'flux-system/infrastructure' is not ready" in alone.out

    with_deps = sandbox_cli("reconcile", "ks", "app-1", "--with-dependencies")
    assert with_deps.code == 0, with_deps.out
    assert "Kustomization/flux-system/infrastructure Ready" in with_deps.out
    assert "Kustomization/flux-system/app-1 Ready" in with_deps.out
    assert "app-2" not in with_deps.out


def test_a_suspended_node_is_skipped_and_reported_until_resumed(sandbox_cli):
    assert sandbox_cli("apply").code == 0
    assert sandbox_cli("suspend", "ks", "app-2").code == 0

    suspended = sandbox_cli("apply")
    assert suspended.code == 0
    assert "Kustomization/flux-system/app-2 Suspended" in suspended.out
    assert "suspended by fluxpush suspend" in suspended.out

    assert sandbox_cli("resume", "ks", "app-2").code == 0
    resumed = sandbox_cli("apply")
    assert "Kustomization/flux-system/app-2 Ready" in resumed.out


def test_an_unknown_kustomization_is_a_usage_error_naming_the_known_ones(sandbox_cli):
    result = sandbox_cli("reconcile", "ks", "nope")
    assert result.code == 2
    assert (
        "Kustomization 'nope' not found; the repository has: flux-system/app-1, flux-system/app-2, "
        "flux-system/flux-system, flux-system/infrastructure"
        in result.err
    )


def test_a_second_run_is_refused_with_the_holder_named(sandbox):
    with ClusterLease(sandbox.client, "run-a@ci:1"):
        second = ClusterLease(sandbox.client, "run-b@ci:2")
        assert second.try_acquire() == "run-a@ci:1"
        with pytest.raises(LeaseHeldError, match="held by run-a@ci:1"):
            second.acquire()
    assert sandbox.client.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, LEASE_NAMESPACE) is None
    with ClusterLease(sandbox.client, "run-b@ci:2"):
        lease = sandbox.client.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, LEASE_NAMESPACE)
        assert lease["spec"]["holderIdentity"] == "run-b@ci:2"


def test_an_expired_lease_is_taken_over(sandbox):
    stale = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sandbox.client.apply(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": LEASE_NAME, "namespace": LEASE_NAMESPACE},
            "spec": {
                "holderIdentity": "crashed@ci:9",
                "leaseDurationSeconds": 60,
                "acquireTime": stale,
                "renewTime": stale,
            },
        },
        "fluxpush-lease-crashed",
    )

    with ClusterLease(sandbox.client, "run-c@ci:3"):
        lease = sandbox.client.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, LEASE_NAMESPACE)
        assert lease["spec"]["holderIdentity"] == "run-c@ci:3"


def test_get_ks_shows_the_live_status_next_to_the_repository_view(sandbox_cli):
    never = json.loads(sandbox_cli("get", "ks", "-o", "json").out)
    assert {e["name"]: e["live"]["reason"] for e in never}["app-1"] == "NotApplied"

    assert sandbox_cli("apply").code == 0
    assert sandbox_cli("suspend", "ks", "app-2").code == 0
    live = {e["name"]: e["live"] for e in json.loads(sandbox_cli("get", "ks", "-o", "json").out)}
    assert live["app-1"]["ready"] == "True"
    assert live["app-1"]["reason"] == "ReconciliationSucceeded"
    assert live["app-1"]["lastAppliedRevision"].startswith("sha256:")
    assert live["app-1"]["objects"] == 5
    assert live["app-2"]["suspended"] is True

    table = sandbox_cli("get", "ks").out
    assert "READY  REASON" in table
    assert "ReconciliationSucceeded" in table


def test_get_without_a_cluster_reads_only_the_repository(run_cli, example_repo):
    result = run_cli("get", "ks", "--repo", str(example_repo), "--path", "clusters/dev", "-o", "json")
    assert result.code == 0
    assert all("live" not in entry for entry in json.loads(result.out))


def test_apply_notifies_through_a_provider_secret_given_in_the_environment(
    sandbox_cli, receiver, monkeypatch
):
    address = f"{receiver.url}/hooks/T000/B000/XXXXsecretXXXX"
    monkeypatch.setenv(
        "FLUXPUSH_PROVIDER_SECRETS", json.dumps({"flux-system/slack-webhook": {"address": address}})
    )

    result = sandbox_cli("apply")

    assert result.code == 0
    assert len(receiver.at("/hooks/T000/B000/XXXXsecretXXXX")) == 5  # four Kustomizations and the release
    assert "✉ Kustomization/flux-system/app-1 → Provider/flux-system/slack (slack)" in result.out
    assert "XXXXsecretXXXX" not in result.out + result.err
