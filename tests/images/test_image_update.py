"""`fluxpush get images` and `fluxpush image-update` end to end: the example repository (a git
checkout) with its ImagePolicy pointed at a real registry on loopback and an ImageUpdateAutomation
added, as image-reflector-controller and image-automation-controller would handle them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

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
      messageTemplate: |-
        {{ range .Changed.Changes }}{{ .OldValue }} -> {{ .NewValue }}{{ end }}
    PUSH
  update:
    path: ./apps
    strategy: Setters
"""
IMAGE = "example-org/app-1"
DEPLOYMENT = "apps/app-1/base/deployment.yaml"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def make_checkout(tmp_path: Path, example_repo: Path, host: str, push: str) -> Path:
    """The example repository as a git checkout, its app-1 image on `host`, with an automation."""
    repo = tmp_path / "checkout"
    shutil.copytree(example_repo, repo)
    for name in ("infrastructure/image-automation/app-1.yaml", DEPLOYMENT):
        path = repo / name
        path.write_text(path.read_text().replace(f"ghcr.io/{IMAGE}", f"{host}/{IMAGE}"))
    automation = AUTOMATION.replace("PUSH", push)
    with (repo / "infrastructure/image-automation/app-1.yaml").open("a") as out:
        out.write(automation)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "initial")
    return repo


@pytest.fixture
def checkout(tmp_path, example_repo, image_registry):
    image_registry.push(IMAGE, ["1.2.3", "1.3.0", "1.10.0", "2.0.0-rc.1", "sha256-1.sig", "latest"])
    return make_checkout(tmp_path, example_repo, image_registry.host, "push:\n      branch: image-updates")


def test_get_images_explains_each_decision(checkout, image_registry, run_cli):
    result = run_cli("get", "images", "--repo", str(checkout), "--path", "clusters/dev")
    assert result.code == 0, result.err
    [header, row] = result.out.splitlines()
    assert header.split()[:4] == ["POLICY", "REPOSITORY", "POLICY", "RULE"]
    assert f"{image_registry.host}/{IMAGE}:1.10.0" in row
    assert row.endswith("newest of 3 tags matching >=1.0.0; 1 excluded by exclusionList")


def test_dry_run_prints_the_diff_and_changes_nothing(checkout, image_registry, run_cli):
    before = (checkout / DEPLOYMENT).read_bytes()
    result = run_cli("image-update", "--dry-run", "--repo", str(checkout), "--path", "clusters/dev")
    assert result.code == 0, result.err
    assert f"--- a/{DEPLOYMENT}\n+++ b/{DEPLOYMENT}\n" in result.out
    assert f"-          image: {image_registry.host}/{IMAGE}:1.2.3 #" in result.out
    assert f"+          image: {image_registry.host}/{IMAGE}:1.10.0 #" in result.out
    assert "flux-system/apps: would commit 1 file(s) to branch image-updates" in result.out
    assert (checkout / DEPLOYMENT).read_bytes() == before
    assert "image-updates" not in git(checkout, "branch")


def test_commit_goes_to_the_push_branch_with_only_the_marked_line_changed(checkout, image_registry, run_cli):
    result = run_cli("image-update", "--repo", str(checkout), "--path", "clusters/dev")
    assert result.code == 0, result.err
    assert "committed" in result.out and "on branch image-updates (not pushed)" in result.out
    diff = git(checkout, "diff", "--unified=0", "main", "image-updates")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        f'-          image: {image_registry.host}/{IMAGE}:1.2.3 # {{"$imagepolicy": "flux-system:app-1"}}',
        f'+          image: {image_registry.host}/{IMAGE}:1.10.0 # {{"$imagepolicy": "flux-system:app-1"}}',
    ]
    log = git(checkout, "log", "-1", "--format=%an <%ae>|%cn|%B", "image-updates")
    assert log.strip() == (f"fluxcdbot <fluxcdbot@users.noreply.github.com>|fluxcdbot|"
                           f"{image_registry.host}/{IMAGE}:1.2.3 -> {image_registry.host}/{IMAGE}:1.10.0")
    assert git(checkout, "rev-parse", "image-updates~1") == git(checkout, "rev-parse", "main")
    assert git(checkout, "status", "--porcelain") == ""  # the work tree (on main) is untouched
    again = run_cli("image-update", "--repo", str(checkout), "--path", "clusters/dev")
    assert again.code == 0 and "on branch image-updates" in again.out  # main still has 1.2.3


def test_without_push_branch_the_checkout_branch_gets_the_commit(tmp_path, example_repo, image_registry,
                                                                 run_cli):
    image_registry.push(IMAGE, ["1.2.3", "1.4.0"])
    repo = make_checkout(tmp_path, example_repo, image_registry.host, "")
    result = run_cli("image-update", "--repo", str(repo), "--path", "clusters/dev")
    assert result.code == 0, result.err
    assert f"{IMAGE}:1.4.0 #" in (repo / DEPLOYMENT).read_text()
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-list", "--count", "main").strip() == "2"
    second = run_cli("image-update", "--repo", str(repo), "--path", "clusters/dev")
    assert second.code == 0 and "ImageUpdateAutomation/flux-system/apps: up to date" in second.out


def test_uncommitted_changes_are_never_committed(checkout, run_cli):
    path = checkout / DEPLOYMENT
    path.write_text(path.read_text().replace("replicas: 1", "replicas: 3"))
    result = run_cli("image-update", "--repo", str(checkout), "--path", "clusters/dev")
    assert result.code == 1
    assert f"uncommitted changes in {DEPLOYMENT}" in result.err and "Traceback" not in result.err
    assert "image-updates" not in git(checkout, "branch")


def test_registry_down_fails_clearly_and_changes_nothing(tmp_path, example_repo, run_cli):
    repo = make_checkout(tmp_path, example_repo, "127.0.0.1:9", "push:\n      branch: image-updates")
    result = run_cli("image-update", "--repo", str(repo), "--path", "clusters/dev")
    assert result.code == 1
    assert "ImagePolicy/flux-system/app-1: 127.0.0.1:9/example-org/app-1: tags cannot be listed" in result.err
    assert "its markers are left alone" in result.err
    assert git(repo, "status", "--porcelain") == "" and "image-updates" not in git(repo, "branch")


def test_two_automations_on_one_push_branch_deliver_only_the_first(checkout, run_cli):
    second = AUTOMATION.replace("name: apps\n", "name: apps-again\n").replace(
        "PUSH", "push:\n      branch: image-updates")
    with (checkout / "infrastructure/image-automation/app-1.yaml").open("a") as out:
        out.write(second)
    git(checkout, "commit", "-qam", "second automation", "--author", "t <t@e>")
    result = run_cli("image-update", "--repo", str(checkout), "--path", "clusters/dev")
    assert result.code == 1
    assert ("ImageUpdateAutomation/flux-system/apps-again: pushes to branch image-updates like "
            "ImageUpdateAutomation/flux-system/apps; skipped") in result.err
    assert git(checkout, "rev-list", "--count", "main..image-updates").strip() == "1"


def test_rerun_replaces_the_push_branch_and_says_so(checkout, run_cli):
    assert run_cli("image-update", "--repo", str(checkout), "--path", "clusters/dev").code == 0
    first = git(checkout, "rev-parse", "image-updates").strip()
    again = run_cli("image-update", "--repo", str(checkout), "--path", "clusters/dev")
    assert again.code == 0 and f"it was at {first[:12]}, rebuilt on HEAD" in again.out
    assert git(checkout, "rev-parse", "image-updates~1") == git(checkout, "rev-parse", "main")


def test_commits_only_from_the_branch_the_automation_checks_out(checkout, run_cli):
    # No git.checkout in the automation: the GitRepository's ref.branch (main) is checked out, as in
    # image-automation-controller; a work tree on another branch is refused rather than mixed in.
    git(checkout, "checkout", "-q", "-b", "feature")
    result = run_cli("image-update", "--repo", str(checkout), "--path", "clusters/dev")
    assert result.code == 1
    assert "the automation checks out branch 'main', but this checkout is on feature" in result.err
    assert "image-updates" not in git(checkout, "branch")
    assert run_cli("image-update", "--dry-run", "--repo", str(checkout), "--path", "clusters/dev").code == 0


def test_get_images_json_and_a_policy_that_cannot_decide(tmp_path, example_repo, image_registry, run_cli):
    import json

    image_registry.push(IMAGE, ["0.1.0", "latest"])  # nothing matches >=1.0.0
    repo = make_checkout(tmp_path, example_repo, image_registry.host, "")
    result = run_cli("get", "images", "-o", "json", "--repo", str(repo), "--path", "clusters/dev")
    assert result.code == 1
    [row] = json.loads(result.out)
    assert row == {"policy": "flux-system/app-1", "repository": "flux-system/app-1",
                   "image": f"{image_registry.host}/{IMAGE}", "rule": "semver >=1.0.0", "latest": "",
                   "why": "", "error": "unable to determine latest version from provided list"}


def test_get_images_reads_the_pull_secret_from_the_cluster_it_is_given(tmp_path, example_repo, gated_registry,
                                                                      run_cli):
    """`get images --kubeconfig`: the ImageRepository's secretRef is not in Git, so it is read from the
    cluster (as image-reflector-controller reads it from its own) and answers the registry's challenge;
    without the cluster the same policy cannot list tags. The Secret's password is never printed."""
    import base64
    import json

    from fluxpush.kube import KubeClient, connect_sandbox
    from kubesim import KubeSim, Options

    registry, gate = gated_registry
    registry.push(IMAGE, ["1.2.3", "1.8.0"])
    repo = make_checkout(tmp_path, example_repo, gate.host, "push:\n      branch: image-updates")
    path = repo / "infrastructure/image-automation/app-1.yaml"
    path.write_text(path.read_text().replace(f"image: {gate.host}/{IMAGE}",
                                             f"image: {gate.host}/{IMAGE}\n  secretRef:\n    name: regcred"))
    args = ("get", "images", "--repo", str(repo), "--path", "clusters/dev")
    without = run_cli(*args)
    assert without.code == 1 and "1.8.0" not in without.out
    config = {"auths": {gate.host: {"auth": base64.b64encode(b"robot:s3cret-pass").decode()}}}
    encoded = base64.b64encode(json.dumps(config).encode()).decode()
    with KubeSim(Options(cluster_name="dev")) as sim:
        with KubeClient(connect_sandbox(sim)) as client:
            client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}, "t")
            client.apply({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                          "metadata": {"name": "regcred", "namespace": "flux-system"},
                          "data": {".dockerconfigjson": encoded}}, "t")
        result = run_cli(*args, "--kubeconfig", str(sim.write_kubeconfig(tmp_path / "kubeconfig")))
    assert result.code == 0, result.err
    assert f"{gate.host}/{IMAGE}:1.8.0" in result.out
    assert "s3cret-pass" not in result.out + result.err
