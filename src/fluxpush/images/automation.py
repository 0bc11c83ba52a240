"""Image automation in push mode: evaluate every ImagePolicy, then apply each ImageUpdateAutomation.

`evaluate_policies` does image-reflector-controller's work for the run (tags of each ImageRepository,
each ImagePolicy's choice, its digest when `digestReflectionPolicy` asks); `plan_automation` does
image-automation-controller's for one ImageUpdateAutomation: the policies in its namespace that its
`policySelector` selects, the `Setters` strategy over `update.path`, the commit message from
`git.commit.messageTemplate` and where the commit goes (`git.push.branch`, else the checkout branch).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fluxpush.errors import FluxpushError, InputError
from fluxpush.flux.model import ImagePolicy, ImageRepository, ImageUpdateAutomation, ObjectRef
from fluxpush.images.gotemplate import render_template
from fluxpush.images.policy import PolicyFailed, PolicySpec, choose
from fluxpush.images.repository import MANIFEST_ACCEPT, TagSource
from fluxpush.images.setters import Change, ResourceIdentifier, SetterResult, apply_setters, setter_values
from fluxpush.repository.discover import Discovery

DEFAULT_MESSAGE = "Update from image update automation"  # the controller's default template


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """One ImagePolicy's outcome: the image it chose and why, or the error."""

    ref: ObjectRef
    repository: ObjectRef
    image: str
    policy: str
    tag: str = ""
    digest: str = ""
    why: str = ""
    error: str = ""
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def latest(self) -> str:
        """`image:tag[@digest]`, the value the full-image setter writes."""
        return f"{self.image}:{self.tag}" + (f"@{self.digest}" if self.digest else "") if self.tag else ""

    @property
    def setter(self) -> str:
        """The marker name `NS:NAME`."""
        return f"{self.ref.namespace}:{self.ref.name}"


def repository_of(policy: ImagePolicy) -> ObjectRef:
    """The ImageRepository an ImagePolicy refers to."""
    target = policy.image_repository_ref
    return ObjectRef("ImageRepository", target.namespace, target.name)


NamespaceLabels = Callable[[str], dict[str, str]]


def access_denied(policy: ImagePolicy, repo: ImageRepository,
                  namespace_labels: NamespaceLabels) -> str | None:
    """fluxcd/pkg's HasAccessToRef: another namespace's ImageRepository must allow the policy's
    namespace in `accessFrom.namespaceSelectors` (matchLabels on the Namespace's labels)."""
    namespace = policy.ref.namespace
    if repo.ref.namespace == namespace:
        return None
    access = repo.raw.get("spec", {}).get("accessFrom")
    where = f"'{repo.ref.namespace}/{repo.ref.name}'"
    if not isinstance(access, dict):
        return f"access denied: {where} can't be accessed due to missing ACL labels on 'accessFrom'"
    labels = namespace_labels(namespace)
    for selector in access.get("namespaceSelectors") or []:
        if all(labels.get(k) == v for k, v in ((selector or {}).get("matchLabels") or {}).items()):
            return None
    return f"access denied: {where} can't be accessed due to ACL labels mismatch on namespace '{namespace}'"


def _decide(policy: ImagePolicy, repo: ImageRepository, tags: TagSource, base: PolicyResult) -> PolicyResult:
    where = str(policy.ref)
    choice = PolicySpec.from_spec(policy.raw.get("spec", {}), policy.api_version, where)
    base = replace(base, policy=choice.describe())
    try:
        scan = tags.scan(repo)
        decision = choose(choice, list(scan.tags), where)
        digest = ""
        if choice.digest_reflection != "Never":
            digest = tags.registry(repo).digest(decision.tag, MANIFEST_ACCEPT)
    except PolicyFailed as exc:
        return replace(base, error=str(exc))
    why = decision.why + (f"; {scan.excluded} excluded by exclusionList" if scan.excluded else "")
    return replace(base, tag=decision.tag, digest=digest, why=why)


def evaluate_policy(policy: ImagePolicy, repo: ImageRepository | None, tags: TagSource,
                    namespace_labels: NamespaceLabels | None = None) -> PolicyResult:
    """One ImagePolicy decided over its repository's tags (errors are kept in the result)."""
    repo_ref = repository_of(policy)
    labels = tuple(sorted((policy.raw.get("metadata", {}).get("labels") or {}).items()))
    base = PolicyResult(policy.ref, repo_ref, repo.image if repo else "", "", labels=labels)
    if repo is None:
        return replace(base, error=f"referenced {repo_ref} does not exist")
    denied = access_denied(policy, repo, namespace_labels or _metadata_name)
    if denied:
        return replace(base, error=denied)
    try:
        return _decide(policy, repo, tags, base)
    except FluxpushError as exc:
        return replace(base, error=exc.message if isinstance(exc, InputError) else str(exc))


def _metadata_name(namespace: str) -> dict[str, str]:
    """The label the API server sets on every Namespace."""
    return {"kubernetes.io/metadata.name": namespace}


def namespace_labels_of(discovery: Discovery) -> NamespaceLabels:
    """A Namespace's labels from the rendered repository, with the API server's metadata.name label."""
    rendered: dict[str, dict[str, str]] = {}
    for node in discovery.nodes.values():
        for obj in node.objects:
            if obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1":
                meta = obj.get("metadata") or {}
                rendered[str(meta.get("name"))] = dict(meta.get("labels") or {})
    return lambda namespace: {**rendered.get(namespace, {}), **_metadata_name(namespace)}


def evaluate_policies(discovery: Discovery, tags: TagSource) -> list[PolicyResult]:
    """Every (not suspended) ImagePolicy of the repository, decided; errors are kept per policy."""
    objects = discovery.flux_objects
    labels = namespace_labels_of(discovery)
    results = []
    for _, policy in sorted(objects.items()):
        if not isinstance(policy, ImagePolicy) or policy.raw.get("spec", {}).get("suspend"):
            continue
        repo = objects.get(repository_of(policy))
        results.append(evaluate_policy(policy, repo if isinstance(repo, ImageRepository) else None, tags,
                                       labels))
    return results


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels and matchExpressions) against `labels`; None selects all."""
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values, present = expression.get("values") or [], key in labels
        ok = {"In": present and labels.get(key) in values,
              "NotIn": not present or labels.get(key) not in values,
              "Exists": present, "DoesNotExist": not present}.get(operator)
        if ok is None:
            raise InputError(f"policySelector: {operator!r} is not a valid label selector operator",
                             hint="use In, NotIn, Exists or DoesNotExist")
        if not ok:
            return False
    return True


@dataclass(frozen=True, slots=True)
class TemplateData:
    """image-automation-controller's TemplateData for the commit message template."""

    namespace: str
    name: str
    result: SetterResult
    values: dict[str, str]

    def go_string(self) -> str:
        return f"{self.namespace}/{self.name}"

    def template_fields(self) -> dict[str, Any]:
        return {"AutomationObject": _NamespacedName(self.namespace, self.name),
                "Changed": _Changed(self.result), "Values": self.values}


@dataclass(frozen=True, slots=True)
class _NamespacedName:
    namespace: str
    name: str

    def go_string(self) -> str:
        return f"{self.namespace}/{self.name}"

    def template_fields(self) -> dict[str, Any]:
        return {"Namespace": self.namespace, "Name": self.name}


@dataclass(frozen=True, slots=True)
class _Object:
    obj: ResourceIdentifier

    def __lt__(self, other: _Object) -> bool:
        return self.obj < other.obj

    def go_string(self) -> str:
        obj = self.obj
        return "{{" + f"{obj.api_version} {obj.kind}" + "} {" + f"{obj.name} {obj.namespace}" + "}}"

    def template_fields(self) -> dict[str, Any]:
        return {"APIVersion": self.obj.api_version, "Kind": self.obj.kind, "Name": self.obj.name,
                "Namespace": self.obj.namespace}


@dataclass(frozen=True, slots=True)
class _Change:
    change: Change

    def go_string(self) -> str:
        return "{" + f"{self.change.old} {self.change.new} {self.change.setter}" + "}"

    def template_fields(self) -> dict[str, Any]:
        return {"OldValue": self.change.old, "NewValue": self.change.new, "Setter": self.change.setter}


@dataclass(frozen=True, slots=True)
class _Changed:
    result: SetterResult

    def template_fields(self) -> dict[str, Any]:
        files: dict[str, dict[_Object, list[_Change]]] = {}
        for update in self.result.files:
            objects = files.setdefault(update.key, {})
            for obj, change in update.changes:
                objects.setdefault(_Object(obj), []).append(_Change(change))
        merged: dict[_Object, list[_Change]] = {}
        for in_file in files.values():
            for key, changes in in_file.items():
                merged.setdefault(key, []).extend(changes)
        unique = list(dict.fromkeys(c for changes in merged.values() for c in changes))
        return {"FileChanges": files, "Objects": merged, "Changes": unique}


@dataclass(slots=True)
class AutomationPlan:
    """What one ImageUpdateAutomation would commit, where, and what could not be done."""

    ref: ObjectRef
    branch: str  # where the commit goes
    checkout_branch: str
    author_name: str
    author_email: str
    message: str = ""
    result: SetterResult = field(default_factory=SetterResult)
    policies: list[PolicyResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether any file changes."""
        return bool(self.result.files)


def automations(discovery: Discovery) -> list[tuple[ObjectRef, dict[str, Any]]]:
    """Every ImageUpdateAutomation of the repository, as (ref, object)."""
    return sorted((ref, obj.raw) for ref, obj in discovery.flux_objects.items()
                  if isinstance(obj, ImageUpdateAutomation))


def update_root(repo_root: Path, path: str) -> Path:
    """`update.path` joined under the checkout, kept inside it as SecureJoin does."""
    clean = posixpath.normpath("/" + (path or "."))
    target = (repo_root / clean.lstrip("/")).resolve()
    if not target.is_relative_to(repo_root.resolve()):
        raise InputError(f"update.path {path!r} leads outside the repository (through a symlink)")
    if not target.exists():
        raise InputError(f"update.path {path!r} does not exist in the repository")
    return target


def plan_automation(ref: ObjectRef, obj: dict[str, Any], repo_root: Path, checkout_branch: str,
                    policies: list[PolicyResult]) -> AutomationPlan:
    """Apply one automation's setters to the checkout's files (in memory) and compose its commit."""
    spec = obj.get("spec") or {}
    git = spec.get("git") or {}
    commit = git.get("commit") or {}
    author = commit.get("author") or {}
    checkout = ((git.get("checkout") or {}).get("ref") or {}).get("branch") or checkout_branch
    branch = (git.get("push") or {}).get("branch") or checkout
    plan = AutomationPlan(ref, branch, checkout, str(author.get("name") or ""),
                          str(author.get("email") or ""))
    update = spec.get("update") or {"strategy": "Setters"}
    if (update.get("strategy") or "Setters") != "Setters":
        raise InputError(f"unsupported update strategy: {update.get('strategy')}", obj=str(ref),
                         field="spec.update.strategy", hint="Setters is the only strategy")
    if not plan.author_email:
        raise InputError("git.commit.author.email is required", obj=str(ref),
                         field="spec.git.commit.author.email")
    if commit.get("signingKey"):
        plan.warnings.append("git.commit.signingKey is not supported by fluxpush: the commit is not signed")
    if (git.get("push") or {}).get("refspec"):
        plan.warnings.append("git.push.refspec is not supported by fluxpush: only git.push.branch is used")
    selected = [p for p in policies if p.ref.namespace == ref.namespace
                and _selects(spec.get("policySelector"), dict(p.labels))]
    setters: dict[str, str] = {}
    for policy in selected:
        if policy.error:
            plan.warnings.append(f"{policy.ref}: {policy.error}; its markers are left alone")
            continue
        setters.update(setter_values(policy.setter, policy.image, policy.tag, policy.digest))
        plan.policies.append(policy)
    plan.result = apply_setters(repo_root, update_root(repo_root, str(update.get("path") or "")), setters)
    plan.warnings += plan.result.problems
    data = TemplateData(ref.namespace, ref.name, plan.result, dict(commit.get("messageTemplateValues") or {}))
    plan.message = render_template(str(commit.get("messageTemplate") or DEFAULT_MESSAGE), data)
    return plan
