"""`fluxpush plan --plan-file F` then `fluxpush apply --plan-file F`, end to end on a sandbox.

The plan file is executed as planned: the planned content even after a new commit, each object that
changed in the cluster since the plan re-planned and reported, and a file that no longer fits (changed
by hand, another cluster path, another cluster, a node applied meanwhile, a Secret that renders
differently) refused with exit 1 and nothing written. Terraform's `plan -out`/`apply PLAN` is the
behaviour matched (a saved plan is applied as saved, or refused as stale); no Flux tool has one.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fluxpush.kube import KubeClient, connect_sandbox

pytestmark = pytest.mark.integration

SECRET_VALUE = "plan-file-canary-7f3a9c"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin"}
CONFIGMAP = ("ConfigMap", "app-2", "app-2-config")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(example_repo: Path, tmp_path: Path) -> Path:
    """The example repository as a git checkout, with a Secret in app-2."""
    root = tmp_path / "repo"
    shutil.copytree(example_repo, root)
    (root / "apps/app-2/secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-2-token\n"
        f"stringData:\n  token: {SECRET_VALUE}\n")
    _git(root, "init", "-q", "-b", "main")
    _commit(root, "first")
    return root


@pytest.fixture
def cli(run_cli, repo: Path, tmp_path: Path):
    def run(*args: str, state: str = "sandbox.json", path: str = "clusters/dev"):
        return run_cli(*args, "--repo", str(repo), "--path", path, "--sandbox",
                       "--sandbox-state", str(tmp_path / state))
    return run


@contextmanager
def cluster(state: Path) -> Iterator[KubeClient]:
    """The saved sandbox, changed the way someone else would (saved back at exit)."""
    from kubesim import KubeSim, Options

    sim = KubeSim(Options(cluster_name="sandbox"))
    sim.cluster.store.load(state)
    with sim, KubeClient(connect_sandbox(sim)) as client:
        yield client
        sim.cluster.store.save(state)


def _configmap_data(state: Path) -> str:
    with cluster(state) as client:
        live = client.get("v1", "ConfigMap", "app-2-config", "app-2")
    assert live is not None
    return str(live["data"]["nginx.conf"])


def _edit_configmap(repo: Path, old: str, new: str) -> None:
    path = repo / "apps/app-2/configmap.yaml"
    path.write_text(path.read_text().replace(old, new))


def test_apply_executes_the_planned_content_not_a_newer_commit(cli, repo, tmp_path):
    plan_file = tmp_path / "plan.json"
    planned = cli("plan", "--plan-file", str(plan_file))
    assert planned.code == 0, planned.err
    _edit_configmap(repo, "listen 8080", "listen 9090")
    _commit(repo, "second: a newer configuration")

    applied = cli("apply", "--plan-file", str(plan_file))

    assert applied.code == 0, applied.out + applied.err
    assert "the checkout moved to main@sha1:" in applied.out
    assert "applying the content planned at" in applied.out
    assert "listen 8080" in _configmap_data(tmp_path / "sandbox.json")
    after = cli("diff")  # the newer commit is still to apply, and only that
    assert after.code == 1
    assert "Plan: 0 to create, 1 to update, 0 to delete" in after.out
    assert "listen 9090" in after.out
    with cluster(tmp_path / "sandbox.json") as client:  # the Secret came from the same revision
        secret = client.get("v1", "Secret", "app-2-token", "app-2")
    assert secret is not None
    assert base64.b64decode(secret["data"]["token"]).decode() == SECRET_VALUE


def test_the_plan_file_holds_no_secret_value(cli, repo, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0

    text = plan_file.read_text()
    assert SECRET_VALUE not in text
    assert base64.b64encode(SECRET_VALUE.encode()).decode() not in text
    execution = json.loads(text)["execution"]
    node = next(n for n in execution["nodes"] if n["node"] == "Kustomization/flux-system/app-2")
    assert list(node["by_digest"]) == ["app-2_app-2-token__Secret"]
    assert node["by_digest"]["app-2_app-2-token__Secret"].startswith("scrypt:")
    assert not [o for o in node["objects"] if o["kind"] == "Secret"]


def test_a_secret_that_renders_differently_refuses_the_plan(cli, repo, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0
    secret = repo / "apps/app-2/secret.yaml"
    secret.write_text(secret.read_text().replace(SECRET_VALUE, "rotated-value"))
    _commit(repo, "rotate the token")

    refused = cli("apply", "--plan-file", str(plan_file))

    assert refused.code == 1
    assert "Secret/app-2/app-2-token renders differently in the checkout" in refused.err
    assert "nothing was written" in refused.err
    assert "rotated-value" not in refused.out + refused.err
    assert cli("diff").code == 1  # still nothing applied
    assert "Plan: 23 to create" in cli("diff").out


def test_a_live_change_since_the_plan_is_replanned_and_reported(cli, tmp_path):
    state = tmp_path / "sandbox.json"
    assert cli("apply").code == 0
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0
    with cluster(state) as client:  # someone edits the object by hand after the plan
        client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "app-2-config", "namespace": "app-2"},
                      "data": {"nginx.conf": "edited by hand"}}, "kubectl", force=True)

    applied = cli("apply", "--plan-file", str(plan_file))

    assert applied.code == 0, applied.out + applied.err
    assert "1 planned object(s) changed in the cluster since the plan" in applied.out
    assert "ConfigMap/app-2/app-2-config changed since the plan (resourceVersion" in applied.out
    assert "re-planned, planned unchanged, applied update" in applied.out
    assert "listen 8080" in _configmap_data(state)


def test_an_unchanged_cluster_applies_as_planned(cli, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0
    applied = cli("apply", "--plan-file", str(plan_file))
    assert applied.code == 0, applied.out + applied.err
    assert "applied as planned" in applied.out
    assert "checkout moved" not in applied.out
    assert "Plan: 0 to create, 0 to update, 0 to delete" in cli("diff").out


def test_a_plan_changed_by_hand_is_refused(cli, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0
    plan_file.write_text(plan_file.read_text().replace("listen 8080", "listen 6666"))

    refused = cli("apply", "--plan-file", str(plan_file))

    assert refused.code == 1
    assert f"{plan_file} was changed after `fluxpush plan` wrote it" in refused.err
    assert "Traceback" not in refused.err
    assert "Plan: 23 to create" in cli("diff").out


@pytest.mark.parametrize("content", ["", "{\"format\": 1, \"nodes\": [", "{\"format\": 1, \"nodes\": []}"])
def test_a_truncated_or_plain_plan_json_is_refused(cli, tmp_path, content):
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(content)
    refused = cli("apply", "--plan-file", str(plan_file))
    assert refused.code == 1
    assert "not a plan file written by `fluxpush plan --plan-file`" in refused.err


def test_a_missing_plan_file_is_refused(cli, tmp_path):
    refused = cli("apply", "--plan-file", str(tmp_path / "absent.json"))
    assert refused.code == 1
    assert "cannot read the plan file" in refused.err


def test_a_plan_of_another_cluster_is_refused(cli, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file), state="a.json").code == 0
    assert cli("diff", state="b.json").code == 1  # another sandbox: another kube-system uid

    refused = cli("apply", "--plan-file", str(plan_file), state="b.json")

    assert refused.code == 1
    assert "it was planned against another cluster (kube-system uid" in refused.err
    assert "Plan: 23 to create" in cli("diff", state="b.json").out


def test_a_plan_of_another_cluster_path_is_refused(cli, repo, tmp_path):
    shutil.copytree(repo / "clusters/dev", repo / "clusters/prod")
    root = repo / "clusters/prod/flux-system/gotk-sync.yaml"
    if root.exists():
        root.write_text(root.read_text().replace("clusters/dev", "clusters/prod"))
    _commit(repo, "a prod cluster")
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0

    refused = cli("apply", "--plan-file", str(plan_file), path="clusters/prod")

    assert refused.code == 1
    assert "it was planned for --path clusters/dev, not clusters/prod" in refused.err


def test_a_node_applied_since_the_plan_refuses_it(cli, tmp_path):
    """An apply in between (or an interrupted apply of this plan) moved the nodes' records: their
    prune was planned against the old inventory, so the plan no longer holds."""
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0
    assert cli("apply").code == 0

    refused = cli("apply", "--plan-file", str(plan_file))

    assert refused.code == 1
    assert "Kustomization/flux-system/app-2 was applied since the plan" in refused.err


def test_a_node_added_or_changed_since_the_plan_refuses_it(cli, repo, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0
    apps = repo / "clusters/dev/apps.yaml"
    apps.write_text(apps.read_text().replace("interval: ", "interval: 1", 1))
    _commit(repo, "a Kustomization's spec changed")

    refused = cli("apply", "--plan-file", str(plan_file))

    assert refused.code == 1
    assert "its Flux object changed in the checkout since the plan" in refused.err


def test_dry_run_with_a_plan_file_is_a_usage_error(cli, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--plan-file", str(plan_file)).code == 0
    before = plan_file.read_text()
    result = cli("apply", "--dry-run", "--plan-file", str(plan_file))
    assert result.code == 2
    assert plan_file.read_text() == before  # the plan file is not overwritten


def test_a_plan_made_with_other_prune_options_is_refused(cli, tmp_path):
    """A plan made with --no-prune shows deletions as skips: applying it with pruning on would delete
    what the plan did not show, so the options must be the same."""
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--no-prune", "--plan-file", str(plan_file)).code == 0

    refused = cli("apply", "--plan-file", str(plan_file))

    assert refused.code == 1
    assert "it was planned with --no-prune, and this apply has --prune: give the same options" in refused.err
    assert cli("apply", "--no-prune", "--plan-file", str(plan_file)).code == 0
