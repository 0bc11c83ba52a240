"""dependsOn ordering: layers, cycles with their full path, missing dependencies, blocking."""

from fluxpush.flux.model import ObjectRef
from fluxpush.repository.graph import after_parents, order_nodes


def ks(name: str, namespace: str = "flux-system") -> ObjectRef:
    return ObjectRef("Kustomization", namespace, name)


def test_layers_follow_dependencies_and_sort_by_name():
    graph = order_nodes(
        {
            ks("flux-system"): [],
            ks("infrastructure"): [],
            ks("app-2"): [ks("infrastructure")],
            ks("app-1"): [ks("infrastructure")],
            ks("edge"): [ks("app-1"), ks("app-2")],
        }
    )
    assert graph.layers == (
        (ks("flux-system"), ks("infrastructure")),
        (ks("app-1"), ks("app-2")),
        (ks("edge"),),
    )
    assert graph.problems == ()
    assert graph.layer_of(ks("edge")) == 2


def test_cycle_reported_with_full_path_and_dependents_blocked():
    graph = order_nodes(
        {
            ks("a"): [ks("c")],
            ks("b"): [ks("a")],
            ks("c"): [ks("b")],
            ks("after"): [ks("a")],
            ks("free"): [],
        }
    )
    assert graph.layers == ((ks("free"),),)
    [problem] = graph.problems
    assert (
        problem.message
        == "dependency cycle: flux-system/a -> flux-system/c -> flux-system/b -> flux-system/a"
    )
    assert problem.cycle[0] == problem.cycle[-1] == "Kustomization/flux-system/a"
    assert set(graph.blocked) == {ks("a"), ks("b"), ks("c"), ks("after")}
    assert "cannot run" in graph.blocked[ks("after")]


def test_missing_dependency_names_dependent_and_missing_and_blocks_chain():
    graph = order_nodes(
        {
            ks("app"): [ks("infra", "infra-ns")],
            ks("web"): [ks("app")],
            ks("ok"): [],
        }
    )
    [problem] = graph.problems
    assert "Kustomization flux-system/app depends on Kustomization infra-ns/infra" in problem.message
    assert problem.node == "Kustomization/flux-system/app"
    assert graph.layers == ((ks("ok"),),)
    assert graph.blocked[ks("app")] == "dependency 'infra-ns/infra' not found"
    assert ks("web") in graph.blocked


def test_self_dependency_is_a_cycle():
    graph = order_nodes({ks("a"): [ks("a")]})
    assert [p.message for p in graph.problems] == ["dependency cycle: flux-system/a -> flux-system/a"]
    assert graph.layers == ()


def test_two_disjoint_cycles_both_reported():
    graph = order_nodes({ks("a"): [ks("b")], ks("b"): [ks("a")], ks("x"): [ks("y")], ks("y"): [ks("x")]})
    assert len(graph.problems) == 2


def _chain(depth: int) -> dict[ObjectRef, list[ObjectRef]]:
    """`n0000` depends on `n0001`, … on `n{depth-1}`, which depends on nothing."""
    refs = [ks(f"n{i:05d}") for i in range(depth)]
    return {ref: refs[i + 1:i + 2] for i, ref in enumerate(refs)}


def test_a_5000_deep_chain_orders_without_recursion():
    # the recursive search raised RecursionError from about 1,000 deep
    graph = order_nodes(_chain(5000))
    assert graph.problems == ()
    assert graph.order()[0] == ks("n04999")
    assert graph.order()[-1] == ks("n00000")
    assert len(graph.layers) == 5000


def test_a_cycle_at_the_end_of_a_5000_deep_chain_is_reported_once():
    edges = _chain(5000)
    edges[ks("n04999")] = [ks("n04997")]  # n04997 -> n04998 -> n04999 -> n04997
    graph = order_nodes(edges)
    assert [p.message for p in graph.problems] == [
        "dependency cycle: flux-system/n04997 -> flux-system/n04998 -> flux-system/n04999 -> "
        "flux-system/n04997"]
    assert graph.layers == ()  # every other node depends on the cycle
    assert graph.blocked[ks("n00000")] == "dependency 'flux-system/n00001' cannot run: " + \
        graph.blocked[ks("n00001")]


def test_after_parents_moves_a_5000_deep_parent_chain_without_recursion():
    refs = [ks(f"n{i:05d}") for i in range(5000)]
    parents = {ref: refs[i - 1] if i else None for i, ref in enumerate(refs)}
    assert after_parents(list(reversed(refs)), parents) == refs
