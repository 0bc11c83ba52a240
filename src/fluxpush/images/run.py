"""One image-update run: decide every policy, then plan each ImageUpdateAutomation of the checkout.

Shared by the CLI (`fluxpush image-update`, `fluxpush get images`) and the action (`mode:
image-update`); neither face decides anything here, they only commit, push and print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluxpush.errors import FluxpushError
from fluxpush.flux.model import GitRepository, Kustomization, ObjectLookup, ObjectRef
from fluxpush.images.automation import (
    AutomationPlan,
    PolicyResult,
    automations,
    evaluate_policies,
    plan_automation,
)
from fluxpush.images.repository import TagSource
from fluxpush.repository.discover import Discovery, normalize_git_url


def secret_lookup(discovery: Discovery, live: ObjectLookup | None = None) -> ObjectLookup:
    """Secrets from the rendered repository first, then (when given) the live cluster."""
    rendered = {}
    for node in discovery.nodes.values():
        for obj in node.objects:
            meta = obj.get("metadata") or {}
            if obj.get("kind") == "Secret":
                rendered[("Secret", meta.get("namespace") or "default", meta.get("name"))] = obj

    def lookup(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return rendered.get((kind, namespace, name)) or (live(kind, namespace, name) if live else None)

    return lookup


@dataclass(slots=True)
class ImageRun:
    """The run's policy decisions, automation plans, and the automations that could not be planned."""

    policies: list[PolicyResult]
    plans: list[AutomationPlan] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every automation was planned and every policy it uses decided."""
        return not self.failures and not any(p.error for p in self.policies)


def _checkout_source(discovery: Discovery) -> tuple[ObjectRef | None, str]:
    root = discovery.nodes.get(discovery.root)
    spec = root.spec if root else None
    if not isinstance(spec, Kustomization):
        return None, ""
    ref = ObjectRef(spec.source_ref.kind, spec.source_ref.namespace, spec.source_ref.name)
    repo = discovery.flux_objects.get(ref)
    return ref, normalize_git_url(repo.url) if isinstance(repo, GitRepository) else ""


def _writes_this_checkout(discovery: Discovery, obj: dict[str, Any], namespace: str) -> str | None:
    """None when the automation's sourceRef is this checkout, else why it is skipped."""
    source = (obj.get("spec") or {}).get("sourceRef") or {}
    ref = ObjectRef(source.get("kind") or "GitRepository", source.get("namespace") or namespace,
                    source.get("name", ""))
    if ref.kind != "GitRepository":
        return f"sourceRef {ref} is not a GitRepository"
    root, url = _checkout_source(discovery)
    repo = discovery.flux_objects.get(ref)
    if ref == root or (isinstance(repo, GitRepository) and url and normalize_git_url(repo.url) == url):
        return None
    return f"sourceRef {ref} is not the repository being deployed ({root or 'unknown'}): skipped"


def _source_branch(discovery: Discovery, obj: dict[str, Any], namespace: str) -> str:
    """The branch of the automation's GitRepository (`spec.ref.branch`), the controller's default
    checkout when `git.checkout` is not given."""
    source = (obj.get("spec") or {}).get("sourceRef") or {}
    ref = ObjectRef("GitRepository", source.get("namespace") or namespace, source.get("name", ""))
    repo = discovery.flux_objects.get(ref)
    branch = ((repo.raw.get("spec") or {}).get("ref") or {}).get("branch") if repo is not None else None
    return str(branch or "")


def prepare(discovery: Discovery, tags: TagSource, repo_root: Path, checkout_branch: str) -> ImageRun:
    """Decide every ImagePolicy and plan every (not suspended) ImageUpdateAutomation of this checkout."""
    run = ImageRun(evaluate_policies(discovery, tags))
    for ref, obj in automations(discovery):
        if (obj.get("spec") or {}).get("suspend"):
            continue
        skipped = _writes_this_checkout(discovery, obj, ref.namespace)
        if skipped:
            run.failures.append(f"{ref}: {skipped}")
            continue
        try:
            branch = _source_branch(discovery, obj, ref.namespace) or checkout_branch
            plan = plan_automation(ref, obj, repo_root, branch, run.policies)
        except FluxpushError as exc:
            run.failures.append(f"{ref}: {exc}" if str(ref) not in str(exc) else str(exc))
            continue
        earlier = next((p for p in run.plans if p.branch == plan.branch and p.changed), None)
        if earlier is not None and plan.changed:
            # Both would be built on the same commit: the second push would undo the first.
            run.failures.append(f"{ref}: pushes to branch {plan.branch} like {earlier.ref}; skipped "
                                "(give each ImageUpdateAutomation its own git.push.branch)")
            continue
        run.plans.append(plan)
    return run
