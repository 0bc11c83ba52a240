"""Discovery against kubesim: cached per run, refreshed after a CRD is applied and once on a miss."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from fluxpush.errors import ClusterError
from fluxpush.kube import KubeClient, connect_sandbox
from kube.conftest import clear_log, logged

pytestmark = pytest.mark.integration

DISCOVERY_PATH = re.compile(r"/api|/apis|/api/v1|/apis/[^/]+/[^/]+")


def crd(group: str) -> dict:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


def widget(group: str, name: str) -> dict:
    return {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"size": 3},
    }


def wait_established(kube: KubeClient, name: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        live = kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name) or {}
        conditions = (live.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} was not Established within {timeout}s")


def discovery_requests(sim) -> list[str]:
    return [r.path for r in sim.requests if DISCOVERY_PATH.fullmatch(r.path)]


def unique_group() -> str:
    return f"g{uuid.uuid4().hex[:6]}.fluxpush.test"


def test_discovery_is_cached_between_calls(sim):
    with KubeClient(connect_sandbox(sim)) as kube:
        kube.list("v1", "ConfigMap", "default")
        first = discovery_requests(sim)
        assert first == ["/api", "/apis", "/api/v1"]
        clear_log(sim)
        kube.list("v1", "Secret", "default")
        kube.get("v1", "ConfigMap", "nothing", "default")
        assert discovery_requests(sim) == []
        info = kube.resource_for("apps/v1", "Deployment")
    assert (info.plural, info.namespaced, info.api_version) == ("deployments", True, "apps/v1")


def test_applying_a_crd_refreshes_discovery_for_its_resources(sim):
    group = unique_group()
    with KubeClient(connect_sandbox(sim)) as kube:
        kube.list("v1", "Namespace")  # discovery cached before the CRD exists
        kube.apply(crd(group), "fluxpush")
        clear_log(sim)
        kube.resource_for("v1", "ConfigMap")
        assert [r.path for r in logged(sim, 3)] == ["/api", "/apis", "/api/v1"], "the cache was dropped"
        wait_established(kube, f"widgets.{group}")
        applied = kube.apply(widget(group, "w1"), "fluxpush")
        assert applied["spec"] == {"size": 3}
        info = kube.resource_for(f"{group}/v1", "Widget")
    assert (info.plural, info.namespaced) == ("widgets", True)


def test_a_miss_refreshes_once_when_someone_else_installed_the_crd(sim):
    group = unique_group()
    with KubeClient(connect_sandbox(sim)) as ours, KubeClient(connect_sandbox(sim)) as theirs:
        ours.list("v1", "Namespace")
        theirs.apply(crd(group), "other-tool")
        wait_established(theirs, f"widgets.{group}")
        clear_log(sim)
        ours.apply(widget(group, "w2"), "fluxpush")
        assert discovery_requests(sim) == ["/api", "/apis", f"/apis/{group}/v1"]
        assert ours.get(f"{group}/v1", "Widget", "w2", "default")["spec"] == {"size": 3}


def test_unknown_kind_refreshes_once_then_says_which_crd_is_missing(sim):
    with KubeClient(connect_sandbox(sim)) as kube:
        kube.list("v1", "Namespace")
        clear_log(sim)
        with pytest.raises(ClusterError) as caught:
            kube.apply(widget("missing.fluxpush.test", "w"), "fluxpush")
    assert caught.value.message == 'no matches for kind "Widget" in version "missing.fluxpush.test/v1"'
    assert caught.value.is_user_error and "CustomResourceDefinition" in (caught.value.hint or "")
    assert caught.value.obj == "Widget/default/w"  # a node may hold many objects of the missing kind
    assert [r.path for r in logged(sim, 2)] == ["/api", "/apis"], "one refresh, and no PATCH was sent"
