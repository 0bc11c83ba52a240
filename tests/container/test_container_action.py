"""The built image, run the way a GitHub runner runs a Docker action, for push, pull_request (live and
fork/offline) and workflow_dispatch, against kubesim and the fake GitHub on the host's loopback.

These are the action tests of tests/action again, but through the image: the entrypoint, the inputs with
dashes, the runner's mounts and variables (RUNNER_TEMP being a host path the container cannot see), root
inside a workspace the runner's user owns. Any input the entrypoint loses fails them: each run needs
`cluster-path`, `kubeconfig`, `github-app-id` and `github-app-private-key` to do what is asserted.
"""

from __future__ import annotations

import pytest

from action.conftest import dispatch_event, pull_request_event, push_event
from fluxpush.app.reconcilers import default_reconcilers
from fluxpush.engine.run import run_nodes
from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.planning.options import EngineOptions
from fluxpush.repository.discover import DiscoverOptions, discover

from .conftest import cluster_dump

pytestmark = pytest.mark.integration

REPO = "acme/platform"
CLUSTER_PATH = "clusters/dev"
DEPLOYMENT = "apps/app-2/deployment.yaml"


def replicas(sim, namespace: str, name: str) -> int:
    with KubeClient(connect_sandbox(sim)) as client:
        live = client.get("apps/v1", "Deployment", name, namespace)
    assert live is not None
    return live["spec"]["replicas"]


def apply_base(sim, checkout) -> None:
    """The cluster as main's first commit declares it (what earlier deploys left)."""
    with KubeClient(connect_sandbox(sim)) as client:
        base = discover(checkout.root, DiscoverOptions(cluster_path=CLUSTER_PATH))
        assert run_nodes(base, client, EngineOptions(), apply=True, reconcilers=default_reconcilers()).ok


@pytest.fixture
def deploying(run_container, cluster):
    """Inputs for a run that reaches the cluster: the kubeconfig inline, as from a repository secret."""
    _, kubeconfig = cluster
    run_container.inputs["kubeconfig"] = kubeconfig.read_text()
    return run_container


def test_push_deploys_and_reports_to_the_merged_pull_request(checkout, github, cluster, deploying):
    sim, _ = cluster
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 2")
    sha = checkout.commit("Merge pull request #21 from acme/feature-21")
    github.state.add_pull(REPO, 21, merged=True, merge_commit_sha=sha)

    run = deploying("push", push_event(checkout.base_sha, sha, "Merge pull request #21"), checkout.root, sha)

    assert run.code == 0, run.log
    assert replicas(sim, "app-2", "app-2") == 2
    assert (run.outputs["changed"], run.outputs["result"]) == ("true", "success")
    assert run.outputs["plan-json"] == ".fluxpush/plan-clusters-dev.json"
    assert (checkout.root / run.outputs["plan-json"]).is_file()
    (deployment,) = github.state.deployments
    assert (deployment["ref"], deployment["environment"]) == (sha, "dev")
    assert [s["state"] for s in github.state.deployment_statuses] == ["in_progress", "success"]
    (check,) = github.state.check_runs
    assert (check["name"], check["head_sha"], check["conclusion"]) == (
        f"fluxpush deploy ({CLUSTER_PATH})", sha, "success"
    )
    (comment,) = github.state.comments
    assert comment.number == 21 and "✅ deployed:" in comment.body
    assert "| `Kustomization/flux-system/app-2` |" in run.summary
    assert f"::add-mask::{sim.token}\n" in run.log, "the inline kubeconfig's token is masked"
    assert run.root_owned == [], "the runner's user can remove everything the action left"


def test_live_pull_request_preview_comments_and_never_writes_to_the_cluster(
    checkout, github, cluster, deploying
):
    sim, _ = cluster
    apply_base(sim, checkout)
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 2")
    (checkout.root / "apps/app-2/extra.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  key: value\n"
    )
    head = checkout.commit("app-2: two replicas and a ConfigMap")
    github.state.add_pull(REPO, 10, head_sha=head)
    before = cluster_dump(sim)
    sim.requests.clear()

    run = deploying("pull_request", pull_request_event(10, head, checkout.base_sha), checkout.root, head)

    assert run.code == 0, run.log
    assert cluster_dump(sim) == before, "a preview never changes the cluster"
    seen = sim.requests.entries()
    assert seen and {r.method for r in seen} == {"GET"}, "read-only: no writes and no dry runs"
    assert "against the live cluster" in run.outputs["summary"]
    (comment,) = github.state.comments
    assert comment.number == 10
    assert "| `Kustomization/flux-system/app-2` | 1 | 1 | 0 | 📝 changes |" in comment.body
    (check,) = github.state.check_runs
    assert (check["name"], check["head_sha"]) == (f"fluxpush preview ({CLUSTER_PATH})", head)
    assert github.state.deployments == []
    assert run.root_owned == []


def test_fork_pull_request_previews_offline_without_touching_the_cluster(
    checkout, github, cluster, deploying
):
    sim, _ = cluster
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 3")
    head = checkout.commit("app-2: three replicas")
    github.state.add_pull(REPO, 9, head_sha=head)
    before = cluster_dump(sim)
    sim.requests.clear()

    payload = pull_request_event(9, head, checkout.base_sha, fork=True)
    run = deploying("pull_request", payload, checkout.root, head)

    assert run.code == 0, run.log
    assert sim.requests.entries() == [] and cluster_dump(sim) == before
    assert "offline" in run.outputs["summary"] and run.outputs["changed"] == "true"
    (comment,) = github.state.comments
    assert "-  replicas: 1\n+  replicas: 3" in comment.body
    assert run.root_owned == [], "the base worktree's git metadata went back to the runner's user"


def test_dispatch_reconciles_only_its_targets(checkout, github, cluster, deploying):
    sim, _ = cluster
    apply_base(sim, checkout)
    checkout.edit(DEPLOYMENT, "replicas: 1", "replicas: 3")
    checkout.edit("apps/app-1/overlays/dev/deployment-patch.yaml", "${replicas}", "5")
    sha = checkout.commit("two edits")
    # app-2 depends on infrastructure (same source): as kustomize-controller's dependency check,
    # infrastructure must have applied this revision, so it is a target too.
    deploying.inputs["targets"] = "infrastructure, app-2"

    event = dispatch_event({"targets": "infrastructure, app-2"})
    run = deploying("workflow_dispatch", event, checkout.root, sha)

    assert run.code == 0, run.log
    assert replicas(sim, "app-2", "app-2") == 3
    assert replicas(sim, "app-1", "app-1") == 2, "app-1 was not a target"
    assert [line for line in run.log.splitlines() if line.startswith("::group::")] == [
        "::group::Kustomization/flux-system/infrastructure: ✅ in sync",
        "::group::Kustomization/flux-system/app-2: ✅ applied (1 writes)",
    ]
    assert github.state.deployments[-1]["ref"] == sha
    assert github.state.check_runs[-1]["name"] == f"fluxpush reconcile ({CLUSTER_PATH})"
    assert github.state.comments == []


def test_dispatch_dry_run_writes_nothing(checkout, github, cluster, deploying):
    sim, _ = cluster
    before = cluster_dump(sim)
    deploying.inputs["dry-run"] = "true"

    run = deploying("workflow_dispatch", dispatch_event({}), checkout.root, checkout.base_sha)

    assert run.code == 0, run.log
    assert run.outputs["changed"] == "true" and "dry run" in run.outputs["summary"]
    assert cluster_dump(sim) == before
    assert github.state.deployments == []


def test_every_input_with_a_dash_reaches_the_action(checkout, github, run_container):
    # Contradictory inputs: the action names each one it saw in its error, and stops before any work.
    run_container.inputs.update(
        {"eks-cluster-name": "prod", "kubeconfig": "kubeconfig.yaml", "role-arn": "not-an-arn",
         "dry-run": "maybe", "comment": "sometimes"}
    )
    del run_container.inputs["github-app-private-key"]

    run = run_container("workflow_dispatch", dispatch_event({}), checkout.root, checkout.base_sha)

    assert run.code == 2, run.log
    assert "cluster-path` is required" not in run.log
    for message in (
        "inputs `eks-cluster-name` and `kubeconfig` exclude each other",
        "input `role-arn`: 'not-an-arn' is not an IAM role ARN",
        "input `dry-run`: 'maybe'",
        "input `comment`: 'sometimes' is not one of",
        "input `github-app-id` needs `github-app-private-key` too",
    ):
        assert message in run.log
    assert github.state.check_runs == [] and github.state.deployments == []
