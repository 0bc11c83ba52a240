"""Values composition in helm-controller's order, `--set`-style targetPath, and masked values diffs."""

from __future__ import annotations

import base64

import pytest
import yaml

from fluxpush.errors import InputError
from fluxpush.flux import parse_flux_object
from fluxpush.helm.values import compose_values, parse_target_path, values_diff


def _hr(values_from: list[dict], values: dict | None = None):
    data = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "app", "namespace": "apps"},
            "spec": {"interval": "5m", "chart": {"spec": {"chart": "c", "sourceRef": {
                "kind": "HelmRepository", "name": "r"}}}, "valuesFrom": values_from,
                "values": values or {}}}
    return parse_flux_object(data)


def _store(*objects: dict):
    index = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objects}
    return lambda kind, namespace, name: index.get((kind, namespace, name))


def _cm(name: str, **data: str) -> dict:
    return {"kind": "ConfigMap", "metadata": {"name": name, "namespace": "apps"}, "data": data}


def _secret(name: str, **data: str) -> dict:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {"kind": "Secret", "metadata": {"name": name, "namespace": "apps"}, "data": encoded}


def test_precedence_valuesfrom_then_inline_then_target_path():
    lookup = _store(
        _cm("base", **{"values.yaml": yaml.safe_dump({"a": 1, "list": [1, 2], "nested": {"x": 1, "y": 1}})}),
        _cm("over", custom=yaml.safe_dump({"a": 2, "list": [3], "nested": {"y": 2}})),
        _cm("pinned", value="9"),
    )
    hr = _hr([{"kind": "ConfigMap", "name": "base"},
              {"kind": "ConfigMap", "name": "over", "valuesKey": "custom"},
              {"kind": "ConfigMap", "name": "pinned", "valuesKey": "value", "targetPath": "nested.z"},
              {"kind": "ConfigMap", "name": "pinned", "valuesKey": "value", "targetPath": "nested.p"}],
             {"a": 3, "nested": {"z": 0, "w": "inline"}})
    composed = compose_values(hr, lookup)
    # Later valuesFrom wins over earlier and lists replace; inline beats plain valuesFrom. As in
    # helm-controller's code (not the "targetPath beats inline" summary in flux-semantics §9.2),
    # inline values are merged once more at the end, so on the very same path inline wins (z);
    # a targetPath that inline does not set stays (p).
    assert composed.values == {"a": 3, "list": [3], "nested": {"x": 1, "y": 2, "z": 0, "p": 9, "w": "inline"}}


def test_target_path_types_and_indexes():
    lookup = _store(_cm("v", num="42", flag="true", quoted='"42"', text="hello"))
    hr = _hr([{"kind": "ConfigMap", "name": "v", "valuesKey": "num", "targetPath": "a.b"},
              {"kind": "ConfigMap", "name": "v", "valuesKey": "flag", "targetPath": "list[1].on"},
              {"kind": "ConfigMap", "name": "v", "valuesKey": "quoted", "targetPath": "s"},
              {"kind": "ConfigMap", "name": "v", "valuesKey": "num", "targetPath": "lit", "literal": True},
              {"kind": "ConfigMap", "name": "v", "valuesKey": "text", "targetPath": "dotted\\.key"}])
    assert compose_values(hr, lookup).values == {
        "a": {"b": 42}, "list": [None, {"on": True}], "s": "42", "lit": "42", "dotted.key": "hello"}
    assert parse_target_path("a.b[0][2].c\\.d") == ("a", "b", 0, 2, "c.d")


def test_optional_references_are_skipped_and_required_ones_fail():
    lookup = _store(_cm("present", other="x: 1"))
    optional = _hr([{"kind": "ConfigMap", "name": "missing", "optional": True},
                    {"kind": "ConfigMap", "name": "present", "optional": True}], {"k": 1})
    assert compose_values(optional, lookup).values == {"k": 1}
    required = _hr([{"kind": "Secret", "name": "missing"}])
    with pytest.raises(InputError, match=r"could not resolve Secret chart values reference 'apps/missing' "
                                         r"with key 'values\.yaml'"):
        compose_values(required, lookup)


def test_secret_values_are_masked_in_the_diff():
    lookup = _store(_secret("creds", **{"values.yaml": "db:\n  password: hunter2\n"}),
                    _secret("token", value="s3cret"))
    hr = _hr([{"kind": "Secret", "name": "creds"},
              {"kind": "Secret", "name": "token", "valuesKey": "value", "targetPath": "api.token"}],
             {"replicas": 2})
    composed = compose_values(hr, lookup)
    assert composed.values["db"]["password"] == "hunter2"
    lines = values_diff({"replicas": 1, "db": {"password": "old-secret"}, "gone": "old"}, composed)
    text = "\n".join(lines)
    assert "hunter2" not in text and "s3cret" not in text and "old-secret" not in text
    assert "replicas: 1 -> 2" in lines
    assert "db.password: *** -> ***" in lines
    assert "api.token: (absent) -> ***" in lines
    assert "gone: *** -> (absent)" in lines
