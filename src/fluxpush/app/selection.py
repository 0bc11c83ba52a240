"""Which nodes a command means, and the order they apply in: the one place both faces select nodes.

A node is named as `flux` names it: a kind word (`ks`, `hr`, ...) and `NAME` or `NAMESPACE/NAME`,
optionally narrowed with `-n NAMESPACE`. A name that two namespaces share is refused, listing both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fluxpush.errors import UsageError
from fluxpush.flux.model import ObjectRef
from fluxpush.repository.discover import Discovery

KIND_ALIASES = {
    "ks": "Kustomization",
    "kustomization": "Kustomization",
    "kustomizations": "Kustomization",
    "hr": "HelmRelease",
    "helmrelease": "HelmRelease",
    "helmreleases": "HelmRelease",
}
TARGET_KIND_WORDS = ("ks", "kustomization", "hr", "helmrelease")


def _short(ref: ObjectRef) -> str:
    return f"{ref.namespace}/{ref.name}"


def find_node(discovery: Discovery, kind: str, name: str, namespace: str | None = None) -> ObjectRef:
    """The one node of `kind` named `name` or `namespace/name` (`namespace` as `-n`); UsageError when
    none or several match, listing what the repository has."""
    if "/" in name:
        given_namespace, _, name = name.partition("/")
        if namespace and namespace != given_namespace:
            raise UsageError(f"{given_namespace}/{name} contradicts --namespace {namespace}")
        namespace = given_namespace
    of_kind = sorted(ref for ref in discovery.nodes if ref.kind == kind)
    matches = [r for r in of_kind if r.name == name and namespace in (None, r.namespace)]
    if len(matches) == 1:
        return matches[0]
    shown = f"{namespace}/{name}" if namespace else name
    if not matches:
        known = ", ".join(_short(r) for r in of_kind) or "none"
        raise UsageError(f"{kind} {shown!r} not found; the repository has: {known}")
    candidates = ", ".join(_short(r) for r in matches)
    raise UsageError(f"{kind} {name!r} is in several namespaces ({candidates}); "
                     f"name one as NAMESPACE/{name} or with -n NAMESPACE")


def find_listed(discovery: Discovery, names: Iterable[str], what: str) -> list[ObjectRef]:
    """The nodes a list names (the action's `targets`): each `name` (every node so named),
    `namespace/name` or `Kind/namespace/name`; UsageError naming `what` when one matches nothing."""
    found: list[ObjectRef] = []
    unknown: list[str] = []
    for name in names:
        matches = [ref for ref in apply_order(discovery)
                   if name in (ref.name, _short(ref), str(ref))]
        found.extend(m for m in matches if m not in found)
        if not matches:
            unknown.append(name)
    if unknown:
        known = ", ".join(sorted(_short(r) for r in discovery.nodes))
        raise UsageError(f"{what}: {', '.join(unknown)} not found; the repository has: {known}")
    return found


def with_dependencies(discovery: Discovery, refs: Iterable[ObjectRef]) -> list[ObjectRef]:
    """`refs` and every node they depend on, transitively."""
    wanted, queue = set(refs), list(refs)
    while queue:
        for dep in discovery.nodes[queue.pop()].depends_on:
            if dep in discovery.nodes and dep not in wanted:
                wanted.add(dep)
                queue.append(dep)
    return [ref for ref in apply_order(discovery) if ref in wanted]


def apply_order(discovery: Discovery) -> list[ObjectRef]:
    """Every node in the order a run applies them (see `Discovery.ordered_nodes`)."""
    return [node.ref for node in discovery.ordered_nodes()]


@dataclass(frozen=True, slots=True)
class NodeSelection:
    """The nodes a command names: one node (`KIND NAME [-n NAMESPACE]`), a list (the action's
    `targets`), or neither (every node); optionally with the nodes they depend on."""

    kind: str | None = None  # the Flux kind of `name`: Kustomization or HelmRelease
    name: str | None = None  # NAME or NAMESPACE/NAME
    namespace: str | None = None
    listed: tuple[str, ...] = ()
    listed_as: str = "targets"  # what the list is called in errors, e.g. "input `targets`"
    with_dependencies: bool = False


EVERY_NODE = NodeSelection()


def select(discovery: Discovery, selection: NodeSelection) -> list[ObjectRef] | None:
    """The selected nodes in apply order, or None for every node; UsageError for a name that matches
    no node or several."""
    if selection.kind is not None and selection.name is not None:
        refs = [find_node(discovery, selection.kind, selection.name, selection.namespace)]
    elif selection.listed:
        refs = find_listed(discovery, selection.listed, selection.listed_as)
    else:
        return None
    return with_dependencies(discovery, refs) if selection.with_dependencies else refs


def selected_nodes(discovery: Discovery, selection: NodeSelection) -> list[ObjectRef]:
    """The selected nodes, or every node when the selection names none, in apply order."""
    refs = select(discovery, selection)
    return apply_order(discovery) if refs is None else refs
