"""The dependsOn graph over Kustomizations and HelmReleases.

Flux never detects cycles (members just never become ready); fluxpush reports each cycle with its
full path and a missing dependency with the dependent's and the missing name, and leaves every
node that (transitively) depends on a broken one out of the layers, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from fluxpush.errors import DependencyError
from fluxpush.flux.model import ObjectRef


@dataclass(frozen=True, slots=True)
class Graph:
    """Layers of nodes that may run in parallel, in order; plus what could not be ordered."""

    layers: tuple[tuple[ObjectRef, ...], ...]
    problems: tuple[DependencyError, ...]
    blocked: Mapping[ObjectRef, str] = field(default_factory=dict)  # node -> why it cannot run

    def order(self) -> list[ObjectRef]:
        """Every orderable node, layer by layer."""
        return [ref for layer in self.layers for ref in layer]

    def layer_of(self, ref: ObjectRef) -> int | None:
        """Index of the layer holding `ref`, None when it is blocked."""
        return next((i for i, layer in enumerate(self.layers) if ref in layer), None)


def _short(ref: ObjectRef) -> str:
    return f"{ref.namespace}/{ref.name}"


def _find_cycles(edges: Mapping[ObjectRef, Sequence[ObjectRef]]) -> list[list[ObjectRef]]:
    """Every elementary cycle reachable by depth-first search, each reported once.

    Iterative (an explicit stack of each path member's remaining dependencies), so a dependsOn chain
    thousands deep costs memory, not Python's recursion limit."""
    cycles: list[list[ObjectRef]] = []
    seen_members: set[frozenset[ObjectRef]] = set()
    done: set[ObjectRef] = set()
    for root in sorted(edges):
        if root in done:
            continue
        path: list[ObjectRef] = [root]
        position = {root: 0}  # index on the current path of each member
        pending: list[Iterator[ObjectRef]] = [iter(edges.get(root, ()))]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                pending.pop()
                finished = path.pop()
                del position[finished]
                done.add(finished)
            elif dep in position:
                cycle = [*path[position[dep]:], dep]
                members = frozenset(cycle)
                if members not in seen_members:
                    seen_members.add(members)
                    cycles.append(cycle)
            elif dep not in done and dep in edges:
                position[dep] = len(path)
                path.append(dep)
                pending.append(iter(edges.get(dep, ())))
    return cycles


def order_nodes(depends_on: Mapping[ObjectRef, Sequence[ObjectRef]]) -> Graph:
    """Topological layers of `depends_on` (node → the nodes it depends on), deterministic by name."""
    problems: list[DependencyError] = []
    blocked: dict[ObjectRef, str] = {}
    _block_missing(depends_on, problems, blocked)
    _block_cycles(depends_on, problems, blocked)
    _block_dependents(depends_on, blocked)
    return Graph(_layers(depends_on, blocked), tuple(problems), blocked)


def _block_missing(depends_on: Mapping[ObjectRef, Sequence[ObjectRef]], problems: list[DependencyError],
                   blocked: dict[ObjectRef, str]) -> None:
    """A node depending on one the repository does not define is a problem, and cannot run."""
    for ref, deps in depends_on.items():
        for dep in deps:
            if dep not in depends_on:
                message = (f"{ref.kind} {_short(ref)} depends on {dep.kind} {_short(dep)}, which is "
                           "not defined in this repository")
                problems.append(DependencyError(message, node=str(ref)))
                blocked[ref] = f"dependency '{_short(dep)}' not found"


def _block_cycles(depends_on: Mapping[ObjectRef, Sequence[ObjectRef]], problems: list[DependencyError],
                  blocked: dict[ObjectRef, str]) -> None:
    """Each cycle is a problem naming its path; its members cannot run."""
    for cycle in _find_cycles(depends_on):
        text = " -> ".join(_short(ref) for ref in cycle)
        problems.append(DependencyError(f"dependency cycle: {text}", node=str(cycle[0]),
                                        cycle=[str(ref) for ref in cycle]))
        for ref in cycle[:-1]:
            blocked.setdefault(ref, f"dependency cycle: {text}")


def _block_dependents(depends_on: Mapping[ObjectRef, Sequence[ObjectRef]],
                      blocked: dict[ObjectRef, str]) -> None:
    """Everything that (transitively) depends on a blocked node is blocked too, saying by which."""
    dependents: dict[ObjectRef, list[ObjectRef]] = {ref: [] for ref in depends_on}
    for ref, deps in depends_on.items():
        for dep in deps:
            if dep in dependents:
                dependents[dep].append(ref)
    pending = sorted(blocked)
    while pending:
        ref = pending.pop()
        for child in dependents[ref]:
            if child not in blocked:
                blocked[child] = f"dependency '{_short(ref)}' cannot run: {blocked[ref]}"
                pending.append(child)


def _layers(depends_on: Mapping[ObjectRef, Sequence[ObjectRef]],
            blocked: Mapping[ObjectRef, str]) -> tuple[tuple[ObjectRef, ...], ...]:
    """The unblocked nodes in layers: each layer depends only on earlier ones; sorted within."""
    waits = {ref: {d for d in deps if d in depends_on} for ref, deps in depends_on.items()
             if ref not in blocked}
    dependents: dict[ObjectRef, list[ObjectRef]] = {}
    for ref, deps in waits.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(ref)
    layers: list[tuple[ObjectRef, ...]] = []
    ready = sorted(ref for ref, deps in waits.items() if not deps)
    while ready:
        layers.append(tuple(ready))
        freed = []
        for ref in ready:
            for child in dependents.get(ref, ()):
                waits[child].discard(ref)
                if not waits[child]:
                    freed.append(child)
        ready = sorted(freed)
    return tuple(layers)


def after_parents(order: Sequence[ObjectRef],
                  parents: Mapping[ObjectRef, ObjectRef | None]) -> list[ObjectRef]:
    """`order` with each node moved after its parent (the Kustomization that renders it) when the parent
    came later; nodes otherwise keep their places."""
    placed = set(order)
    emitted: list[ObjectRef] = []
    done: set[ObjectRef] = set()
    waiting: dict[ObjectRef, list[ObjectRef]] = {}  # parent → children seen before it

    def emit(ref: ObjectRef) -> None:  # the node, then the children waiting on it, depth first
        stack = [ref]
        while stack:
            current = stack.pop()
            emitted.append(current)
            done.add(current)
            stack.extend(reversed(waiting.pop(current, [])))

    for ref in order:
        parent = parents.get(ref)
        if parent is not None and parent in placed and parent not in done:
            waiting.setdefault(parent, []).append(ref)
        else:
            emit(ref)
    for parent in list(waiting):  # only a parent cycle leaves children waiting: keep them all
        for child in waiting.pop(parent, []):
            emit(child)
    return emitted
