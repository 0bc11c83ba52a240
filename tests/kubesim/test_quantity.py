"""Quantities are stored canonically, as kube-apiserver does (unit cases, then through the server)."""

from __future__ import annotations

import json

import pytest

from kubesim.quantity import canonical_quantity


@pytest.mark.parametrize(("written", "stored"), [
    ("0.5", "500m"), ("500m", "500m"), ("1000m", "1"), ("1000", "1k"), ("1500", "1500"), ("1.5k", "1500"),
    ("2.5", "2500m"), (".5", "500m"), ("0", "0"), ("-1", "-1"), ("0.0001n", "1n"),  # rounds up to nano
    ("1024Mi", "1Gi"), ("0.5Gi", "512Mi"), ("1.5Gi", "1536Mi"), ("512", "512"), ("100Ki", "100Ki"),
    ("1e3", "1e3"), ("1.5e3", "1500"), ("1E3", "1e3"), ("12e6", "12e6"), ("100M", "100M"),
])
def test_canonical_spelling(written, stored):
    assert canonical_quantity(written) == stored


@pytest.mark.parametrize("text", ["abc", "1.2.3", "1Qi", ""])
def test_not_a_quantity(text):
    assert canonical_quantity(text) is None


@pytest.mark.integration
def test_server_stores_and_compares_canonical_quantities(client, namespace):
    # A LimitRange: quantities in spec, and no simulated controller that writes to it meanwhile.
    path = f"/api/v1/namespaces/{namespace}/limitranges/q?fieldManager=deployer"
    body = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "q", "namespace": namespace},
            "spec": {"limits": [{"type": "Container", "max": {"cpu": 0.5, "memory": "1024Mi"},
                                 "min": {"cpu": "250m"}}]}}
    headers = {"Content-Type": "application/apply-patch+yaml"}
    status, _, created = client.request("PATCH", path, body=json.dumps(body), headers=headers)
    assert status == 201
    [limit] = created["spec"]["limits"]
    assert (limit["max"], limit["min"]) == ({"cpu": "500m", "memory": "1Gi"}, {"cpu": "250m"})
    _, _, again = client.request("PATCH", path, body=json.dumps(body), headers=headers)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]  # a no-op
