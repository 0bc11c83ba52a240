"""Refusals from kubesim become ClusterErrors with the status, reason, object, causes and a hint, of a
type per kind of refusal (NotFound, Conflict, Invalid, NotServed) that callers decide on."""

from __future__ import annotations

import uuid

import pytest

from fluxpush.errors import ClusterError, Conflict, Invalid, NotFound, NotServed
from fluxpush.kube import KubeClient, connect_sandbox

pytestmark = pytest.mark.integration


@pytest.fixture
def kube(sim):
    with KubeClient(connect_sandbox(sim)) as client:
        yield client


def refusal(call) -> ClusterError:
    with pytest.raises(ClusterError) as caught:
        call()
    return caught.value


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_invalid_object_is_a_422_with_causes(kube):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_Valid", "namespace": "default"}}
    error = refusal(lambda: kube.apply(obj, "fluxpush"))
    assert (error.status, error.reason) == (422, "Invalid")
    assert isinstance(error, Invalid) and not error.immutable
    assert error.obj == "ConfigMap/default/Not_Valid"
    assert [(c.reason, c.field) for c in error.causes] == [("FieldValueInvalid", "metadata.name")]
    assert error.is_user_error
    text = error.render()
    assert text.startswith('ConfigMap/default/Not_Valid: ConfigMap "Not_Valid" is invalid (HTTP 422 Invalid)')
    assert "\n  - metadata.name: Invalid value" in text
    assert error.as_dict()["causes"][0]["field"] == "metadata.name"


def test_field_manager_conflict_without_force(kube):
    name = unique("owned")
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"key": "from-helm"},
    }
    kube.apply(obj, "helm")
    error = refusal(lambda: kube.apply({**obj, "data": {"key": "from-fluxpush"}}, "fluxpush", force=False))
    assert (error.status, error.reason) == (409, "Conflict")
    assert [c.reason for c in error.causes] == ["FieldManagerConflict"] and isinstance(error, Conflict)
    assert error.causes[0].field == ".data.key"
    assert '"helm"' in error.message
    assert error.is_user_error and "force" in (error.hint or "")
    # with force (fluxpush's default) the ownership moves instead
    taken = kube.apply({**obj, "data": {"key": "from-fluxpush"}}, "fluxpush")
    assert taken["data"] == {"key": "from-fluxpush"}


def test_resource_version_conflict_is_told_apart(kube):
    name = unique("raced")
    kube.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}},
        "fluxpush",
    )
    stale = {"metadata": {"resourceVersion": "1"}, "data": {"k": "v"}}
    error = refusal(lambda: kube.patch_merge("v1", "ConfigMap", name, stale, "default"))
    assert (error.status, error.reason) == (409, "Conflict")
    assert error.causes == [] and isinstance(error, Conflict)
    assert error.message.startswith("resourceVersion conflict: ")
    assert not error.is_user_error and "re-read" in (error.hint or "")


def test_missing_namespace_is_a_404_with_a_hint(kube):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": unique("absent")}}
    error = refusal(lambda: kube.apply(obj, "fluxpush"))
    assert error.status == 404
    assert isinstance(error, NotFound) and error.missing == "namespaces"  # what the planner decides on
    assert "namespace" in (error.hint or "")


def test_a_missing_object_is_none_or_false_not_an_error(kube):
    assert kube.get("v1", "ConfigMap", unique("never"), "default") is None
    assert kube.delete("v1", "ConfigMap", unique("never"), "default") is False
    missing = refusal(lambda: kube.patch_merge("v1", "ConfigMap", unique("never"), {"data": {}}, "default"))
    assert isinstance(missing, NotFound) and missing.missing == "configmaps"


def test_a_kind_the_server_does_not_serve_is_not_served(kube):
    obj = {"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": "w", "namespace": "default"}}
    error = refusal(lambda: kube.apply(obj, "fluxpush"))
    assert isinstance(error, NotServed) and error.status is None and error.is_user_error
    assert "CustomResourceDefinition" in (error.hint or "")


def test_object_without_a_name_is_refused_before_sending(kube):
    before = kube.request_count
    error = refusal(lambda: kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, "fluxpush"))
    assert "metadata.name" in error.message and error.is_user_error
    assert kube.request_count == before
