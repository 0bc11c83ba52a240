"""The action's image-update mode on a schedule: the commit is pushed over git's smart HTTP to the fake
GitHub (the real `git http-backend`, with GitHub's token rules) with the App's installation token, and
one pull request per ImageUpdateAutomation is opened, then updated in place."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_server import ImageRegistry, running_registry

from .conftest import REPO, Checkout, git, repository_json

IMAGE = "example-org/app-1"
DEPLOYMENT = "apps/app-1/base/deployment.yaml"
AUTOMATION = """\
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 30m
  sourceRef:
    kind: GitRepository
    name: gitops-platform
  git:
    commit:
      author:
        name: fluxcdbot
        email: fluxcdbot@users.noreply.github.com
    push:
      branch: image-updates
  update:
    path: ./apps
"""


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ImageRegistry]:
    with running_registry(tmp_path / "registry-root") as host:
        yield ImageRegistry(host)


@pytest.fixture
def origin(tmp_path: Path, github, checkout: Checkout, registry: ImageRegistry) -> Path:
    """The checkout pointed at the registry, with an automation, and its bare `origin` on the fake."""
    for path in ("infrastructure/image-automation/app-1.yaml", DEPLOYMENT):
        checkout.edit(path, f"ghcr.io/{IMAGE}", f"{registry.host}/{IMAGE}")
    with (checkout.root / "infrastructure/image-automation/app-1.yaml").open("a") as out:
        out.write(AUTOMATION)
    checkout.commit("image automation")
    root = tmp_path / "git-root"
    bare = root / f"{REPO}.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    git(checkout.root, "push", "-q", str(bare), "main")
    github.state.git_root = root
    github.state.install(REPO, {"contents": "write", "pull_requests": "write"})
    return bare


def schedule_event() -> dict:
    return {"schedule": "17 * * * *", "repository": repository_json()}


def run_schedule(run_action, checkout: Checkout):
    return run_action("schedule", schedule_event(), checkout.root, git(checkout.root, "rev-parse", "HEAD"))


def test_schedule_pushes_the_branch_and_opens_one_pull_request(run_action, checkout, origin, registry,
                                                               github):
    registry.push(IMAGE, ["1.2.3", "1.5.0"])
    run = run_schedule(run_action, checkout)
    assert run.code == 0, run.stdout
    assert run.outputs["changed"] == "true" and run.outputs["result"] == "success"
    diff = git(origin, "diff", "--unified=0", "main", "image-updates")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        f'-          image: {registry.host}/{IMAGE}:1.2.3 # {{"$imagepolicy": "flux-system:app-1"}}',
        f'+          image: {registry.host}/{IMAGE}:1.5.0 # {{"$imagepolicy": "flux-system:app-1"}}',
    ]
    assert git(origin, "log", "-1", "--format=%an|%s", "image-updates") == (
        "fluxcdbot|Update from image update automation")  # the controller's default message
    [pull] = github.state.pulls
    assert (pull.head_ref, pull.base_ref, pull.state) == ("image-updates", "main", "open")
    assert pull.title == "Update images (flux-system/apps)"
    assert pull.body.startswith("<!-- fluxpush:image-update flux-system/apps -->")
    assert f"| `{registry.host}/{IMAGE}:1.2.3` | `{registry.host}/{IMAGE}:1.5.0` |" in pull.body
    assert "#1 created" in run.summary
    # The work tree (main) is untouched; the token never shows outside ::add-mask::.
    assert git(checkout.root, "status", "--porcelain") == ""
    shown = [line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")]
    for token in github.state.tokens:
        assert all(token not in line for line in shown)


def test_a_newer_tag_updates_the_same_pull_request(run_action, checkout, origin, registry, github):
    registry.push(IMAGE, ["1.2.3", "1.5.0"])
    assert run_schedule(run_action, checkout).code == 0
    first = git(origin, "rev-parse", "image-updates")
    registry.push(IMAGE, ["1.6.0"])
    second = run_schedule(run_action, checkout)
    assert second.code == 0, second.stdout
    assert git(origin, "rev-parse", "image-updates") != first  # rebuilt on main and force-pushed
    assert git(origin, "rev-parse", "image-updates~1") == git(origin, "rev-parse", "main")
    [pull] = github.state.pulls
    assert f"`{registry.host}/{IMAGE}:1.6.0`" in pull.body and "#1 updated" in second.summary


def test_an_automation_without_push_branch_pushes_to_the_checkout_branch(run_action, checkout, origin,
                                                                          registry, github):
    automation = "infrastructure/image-automation/app-1.yaml"
    checkout.edit(automation, "    push:\n      branch: image-updates\n", "")
    checkout.commit("push to main")
    git(checkout.root, "push", "-q", str(origin), "main")
    registry.push(IMAGE, ["1.2.3", "1.7.0"])
    run = run_schedule(run_action, checkout)
    assert run.code == 0, run.stdout
    assert f"{IMAGE}:1.7.0 #" in git(origin, "show", f"main:{DEPLOYMENT}")
    assert github.state.pulls == []


def test_dry_run_prints_the_diff_and_pushes_nothing(run_action, checkout, origin, registry, github):
    registry.push(IMAGE, ["1.2.3", "1.5.0"])
    run_action.inputs["dry-run"] = "true"
    run = run_schedule(run_action, checkout)
    assert run.code == 0
    assert f"+          image: {registry.host}/{IMAGE}:1.5.0" in run.stdout
    assert "image-updates" not in git(origin, "branch") and github.state.pulls == []


def test_a_token_without_contents_write_cannot_push(run_action, checkout, origin, registry, github):
    registry.push(IMAGE, ["1.2.3", "1.5.0"])
    github.state.add_actions_token("ghs_readonly", REPO, {"contents": "read", "pull_requests": "write"})
    for name in ("github-app-id", "github-app-private-key"):
        run_action.inputs.pop(name)
    run_action.inputs["github-token"] = "ghs_readonly"
    run = run_schedule(run_action, checkout)
    assert run.code == 1
    assert "pushing to image-updates" in run.stdout and run.outputs["result"] == "failure"
    assert "image-updates" not in git(origin, "branch") and github.state.pulls == []


def test_an_app_without_contents_write_is_a_setup_error(run_action, checkout, origin, registry, github):
    github.state.installations.clear()
    github.state.install(REPO, {"contents": "read", "pull_requests": "write"})
    run = run_schedule(run_action, checkout)
    assert run.code == 2
    assert "contents" in run.stdout and "write" in run.stdout


def test_registry_package_event_reads_the_pull_secret_from_the_cluster(run_action, checkout, origin,
                                                                       registry, github, cluster):
    """On `registry_package` (auto mode), the ImageRepository's secretRef is found in the cluster
    (not in Git) and its credentials answer the registry's bearer challenge."""
    from fluxpush.kube import KubeClient, connect_sandbox
    from registry_server import gated

    sim, kubeconfig = cluster
    registry.push(IMAGE, ["1.2.3", "1.8.0"])
    with gated(registry.host, "robot:from-the-cluster") as gate:
        path = "infrastructure/image-automation/app-1.yaml"
        checkout.edit(path, f"image: {registry.host}/{IMAGE}", f"image: {gate.host}/{IMAGE}\n  secretRef:\n"
                      "    name: regcred")
        checkout.edit(DEPLOYMENT, f"{registry.host}/{IMAGE}", f"{gate.host}/{IMAGE}")
        checkout.commit("gated registry")
        git(checkout.root, "push", "-q", str(origin), "main")
        config = {"auths": {gate.host: {"auth": base64.b64encode(b"robot:from-the-cluster").decode()}}}
        encoded = base64.b64encode(json.dumps(config).encode()).decode()
        with KubeClient(connect_sandbox(sim)) as client:
            client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}, "t")
            client.apply({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                          "metadata": {"name": "regcred", "namespace": "flux-system"},
                          "data": {".dockerconfigjson": encoded}}, "t")
        run_action.inputs["kubeconfig"] = str(kubeconfig)
        event = {"action": "published", "registry_package": {"name": "app-1"},
                 "repository": repository_json()}
        run = run_action("registry_package", event, checkout.root, git(checkout.root, "rev-parse", "HEAD"))
    assert run.code == 0, run.stdout
    assert f"{gate.host}/{IMAGE}:1.8.0 #" in git(origin, "show", f"image-updates:{DEPLOYMENT}")
    assert "from-the-cluster" not in run.stdout
    [pull] = github.state.pulls
    assert pull.head_ref == "image-updates"
