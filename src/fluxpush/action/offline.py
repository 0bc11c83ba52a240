"""The offline preview: render the base branch and the pull request, and diff desired against desired.

No cluster is involved, so it works for fork pull requests (no secrets) and never needs cluster
access. The base commit is checked out with `git worktree add --detach` beside the workspace
(fetched first when the checkout is shallow) and removed afterwards. Both sides are discovered
from the same cluster path; each object's diff is normalized and Secret-masked like a live diff.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fluxpush.errors import FluxpushError, RenderError, SourceError
from fluxpush.flux.model import Kustomization
from fluxpush.helm.reconcile import render_offline
from fluxpush.nodes import AnyNode as Node
from fluxpush.nodes import is_helm_release
from fluxpush.planning.apply_order import sort_for_apply
from fluxpush.planning.diff import diff_objects
from fluxpush.planning.normalize import object_id
from fluxpush.planning.plan import Action, NodePlan, ObjectChange, Plan
from fluxpush.repository.discover import Discovery
from fluxpush.runner import run_command

# Base commits of a shallow checkout are fetched with this depth (one commit is enough to render).
FETCH_DEPTH = 1


def _git(workspace: Path, *args: str, what: str) -> str:
    return run_command(["git", "-C", str(workspace), *args], what=what, timeout=120).stdout


def has_commit(workspace: Path, sha: str) -> bool:
    """Whether the checkout has commit `sha`."""
    try:
        _git(workspace, "cat-file", "-e", f"{sha}^{{commit}}", what="looking for the base commit")
    except RenderError:
        return False
    return True


@contextmanager
def base_worktree(workspace: Path, sha: str) -> Iterator[Path]:
    """A detached worktree of commit `sha` (fetched if missing), removed when the block ends."""
    if not has_commit(workspace, sha):
        try:
            _git(
                workspace,
                "fetch",
                "--no-tags",
                f"--depth={FETCH_DEPTH}",
                "origin",
                sha,
                what="fetching the base commit",
            )
        except RenderError as exc:
            raise SourceError(
                f"the base commit {sha[:12]} is not in the checkout and could not be fetched ({exc.message})",
                hint="check out with `fetch-depth: 0` in actions/checkout",
            ) from None
    with tempfile.TemporaryDirectory(prefix="fluxpush-base-") as scratch:
        target = Path(scratch) / "base"
        _git(workspace, "worktree", "add", "--detach", str(target), sha, what="checking out the base commit")
        try:
            yield target
        finally:
            _git(workspace, "worktree", "remove", "--force", str(target), what="removing the base worktree")


def _change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> ObjectChange:
    diff = diff_objects(before, after, desired_label="pull request")
    text = diff.text.replace("--- live ", "--- base ", 1)  # the left side is the base branch here
    source = after if after is not None else before
    assert source is not None
    if after is None:
        action = Action.DELETE
    elif before is None:
        action = Action.CREATE
    else:
        action = Action.UPDATE if diff.has_changes else Action.UNCHANGED
    return ObjectChange(object_id(source), action, diff=text, changed_paths=tuple(map(str, diff.changes)))


def _rendered(node: Node | None, discovery: Discovery | None) -> list[dict[str, Any]]:
    """What a node puts in the cluster: its objects; for a HelmRelease the release object (its
    values and version changes show there) and its chart rendered offline. Raises FluxpushError
    when the chart cannot be fetched or rendered."""
    if node is None or node.error is not None or discovery is None:
        return []
    if is_helm_release(node):
        _, objects = render_offline(node, discovery)
        return [node.spec.raw, *sort_for_apply(objects)]
    return sort_for_apply(node.objects)


def compare_node(
    base: Node | None, head: Node | None, revision: str, *,
    base_discovery: Discovery | None = None, head_discovery: Discovery | None = None,
) -> NodePlan:
    """One node's changes from base to head; objects only in base are deletions.

    A HelmRelease whose chart the head cannot render fails its node with the reason; when only the
    base side cannot be rendered, its release object alone stands for it.
    """
    name = (head or base).ref  # type: ignore[union-attr]
    if head is not None and head.error is not None:
        return NodePlan(name, revision, error=str(head.error))
    try:
        after = _rendered(head, head_discovery)
    except FluxpushError as exc:
        return NodePlan(name, revision, error=f"chart not rendered offline: {exc}")
    try:
        before_objects = _rendered(base, base_discovery)
    except FluxpushError:
        before_objects = [base.spec.raw] if base is not None else []
    before = {object_id(obj): obj for obj in before_objects}
    changes = [_change(before.pop(object_id(obj), None), obj) for obj in after]
    prunes = head is None or not isinstance(head.spec, Kustomization) or head.spec.prune
    deleted = tuple(_change(obj, None) for _, obj in sorted(before.items())) if prunes else ()
    return NodePlan(name, revision, tuple(changes), deleted)


def compare_discoveries(base: Discovery | None, head: Discovery) -> Plan:
    """Every node's changes between the base branch's rendering and the pull request's."""
    base_nodes = base.nodes if base is not None else {}
    sides = {"base_discovery": base, "head_discovery": head}
    nodes = [compare_node(base_nodes.get(node.ref), node, head.revision, **sides)
             for node in head.ordered_nodes()]
    nodes += [compare_node(node, None, head.revision, **sides)
              for ref, node in sorted(base_nodes.items()) if ref not in head.nodes]
    return Plan(tuple(nodes))
