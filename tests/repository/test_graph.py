"""dependsOn ordering: layers, cycles with their full path, missing dependencies, blocking."""

from fluxpush.flux.model import ObjectRef
from fluxpush.repository.graph import order_nodes


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
