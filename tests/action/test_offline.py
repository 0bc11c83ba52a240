"""The offline preview's comparison (base rendering against the PR's) and how its result reads in the
comment: deletions first and called out, Secret values masked, HelmRelease values changes shown."""

from __future__ import annotations

import shutil

import pytest

from fluxpush.action.events import RunContext
from fluxpush.action.modes import from_plan
from fluxpush.action.offline import compare_discoveries
from fluxpush.action.render import render_markdown, result_word, status_line
from fluxpush.planning.plan import Action
from fluxpush.repository.discover import DiscoverOptions, discover

from .conftest import CLUSTER_PATH, REPO

SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\n"
    "stringData:\n  password: hunter2-do-not-show\n"
)


@pytest.fixture(scope="module")
def base(example_repo):
    return discover(example_repo, DiscoverOptions(cluster_path=CLUSTER_PATH))


@pytest.fixture
def head_repo(tmp_path, example_repo):
    root = tmp_path / "head"
    shutil.copytree(example_repo, root)
    return root


def context(tmp_path) -> RunContext:
    return RunContext(
        "pull_request", REPO, "f" * 40, "main", "https://github.com", "https://api.github.com", "1", tmp_path
    )


def test_identical_trees_have_no_changes(base, example_repo):
    plan = compare_discoveries(base, discover(example_repo, DiscoverOptions(cluster_path=CLUSTER_PATH)))
    assert not plan.has_changes and not any(n.error or n.blocked_by for n in plan.nodes)
    assert plan.totals.unchanged > 10


def test_a_removed_object_is_a_loud_deletion_listed_first(base, head_repo, tmp_path):
    (head_repo / "apps/app-2/service.yaml").unlink()
    (head_repo / "apps/app-2/secret.yaml").write_text(SECRET)
    head = discover(head_repo, DiscoverOptions(cluster_path=CLUSTER_PATH))

    plan = compare_discoveries(base, head)
    (node,) = [n for n in plan.nodes if str(n.node) == "Kustomization/flux-system/app-2"]
    assert [(str(c.id), c.action) for c in node.prune] == [("Service/app-2/app-2", Action.DELETE)]
    assert [str(c.id) for c in node.changes if c.action is Action.CREATE] == ["Secret/app-2/db"]

    result = from_plan(plan, head, "main")
    assert result_word(result) == "success" and status_line(result).startswith("📝 preview: 1 to create")
    body = render_markdown(result, context(tmp_path), CLUSTER_PATH, limit=65_536, full_plan="the job summary")
    assert "> [!WARNING]\n> Objects will be deleted or replaced in `Kustomization/flux-system/app-2`" in body
    assert "<details open><summary><b>🗑️ Kustomization/flux-system/app-2</b>" in body
    assert body.index("🗑️ delete Service/app-2/app-2") < body.index("➕ create Secret/app-2/db")
    assert "hunter2" not in body and "***" in body, "Secret values never reach the comment"


def test_a_helmrelease_values_change_shows_on_the_release_and_its_rendered_chart(base, head_repo):
    path = head_repo / "infrastructure/external-secrets/helmrelease.yaml"
    path.write_text(path.read_text().replace("role/eso-role", "role/eso-role-v2"))
    plan = compare_discoveries(base, discover(head_repo, DiscoverOptions(cluster_path=CLUSTER_PATH)))
    (node,) = [n for n in plan.nodes if n.node.kind == "HelmRelease"]
    updated = {str(c.id): c for c in node.changes if c.action is Action.UPDATE}
    release = updated.pop("HelmRelease/external-secrets/external-secrets")
    assert "+        eks.amazonaws.com/role-arn: " in release.diff and "eso-role-v2" in release.diff
    # The chart (charts/external-secrets in the repository) is rendered offline on both sides: the
    # annotation reaches the ServiceAccount the chart templates, and nothing else changes.
    (account,) = updated.values()
    assert account.id.kind == "ServiceAccount" and "eso-role-v2" in account.diff
    assert all(c.action is Action.UNCHANGED for c in node.changes if str(c.id) not in
               ("HelmRelease/external-secrets/external-secrets", str(account.id)))


def test_a_cluster_path_new_in_the_pull_request_creates_everything(base):
    plan = compare_discoveries(None, base)
    assert plan.totals.create > 10 and plan.totals.update == plan.totals.delete == 0
