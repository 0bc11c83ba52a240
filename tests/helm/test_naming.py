"""Release names: `[targetNamespace-]name`, shortened past 53 characters as helm-controller does."""

from __future__ import annotations

import hashlib

import pytest

from fluxpush.flux import parse_flux_object


def _hr(name: str, **spec: object) -> object:
    data = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": name, "namespace": "apps"},
            "spec": {"interval": "5m", "chart": {"spec": {"chart": "c", "sourceRef": {
                "kind": "HelmRepository", "name": "r"}}}, **spec}}
    return parse_flux_object(data)


LONG = "a" * 30 + "-" + "b" * 30  # 61 characters
PLACED = "n" * 30 + "-" + "b" * 30  # targetNamespace-name, 61 characters


def _short(name: str) -> str:
    """helm-controller's documented rule: first 40 characters, '-', 12 hex of the name's SHA-256."""
    return f"{name[:40]}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


@pytest.mark.parametrize(
    ("name", "spec", "expected"),
    [
        ("podinfo", {}, "podinfo"),
        ("podinfo", {"targetNamespace": "web"}, "web-podinfo"),
        ("podinfo", {"releaseName": "custom"}, "custom"),
        ("x" * 53, {}, "x" * 53),  # exactly 53: unchanged
        (LONG, {}, _short(LONG)),
        ("b" * 30, {"targetNamespace": "n" * 30}, _short(PLACED)),
    ],
)
def test_release_name(name, spec, expected):
    hr = _hr(name, **spec)
    assert hr.release_name == expected
    assert len(hr.release_name) <= 53
