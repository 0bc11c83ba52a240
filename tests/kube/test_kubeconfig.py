"""kubeconfig connections: path or $KUBECONFIG (several files merged), context choice, isolation."""

from __future__ import annotations

import os

import pytest
import yaml
from kubernetes.client import Configuration

from fluxpush.errors import InputError
from fluxpush.kube import KubeClient, connect_kubeconfig


def write(path, config: dict) -> str:
    path.write_text(yaml.safe_dump(config))
    return str(path)


def offline_config(context: str, server: str) -> dict:
    """A kubeconfig for an unreachable server (only loading is tested with it)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": context, "user": {"token": f"token-of-{context}"}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
    }


def test_kubeconfig_env_lists_several_files_and_the_context_picks_one(tmp_path, monkeypatch):
    first = write(tmp_path / "a.yaml", offline_config("alpha", "https://10.0.0.1:6443"))
    second = write(tmp_path / "b.yaml", offline_config("beta", "https://10.0.0.2:6443"))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([first, str(tmp_path / "absent.yaml"), second]))
    # Both files set current-context; kubectl lets the first one win (the Python client would take the last).
    current = connect_kubeconfig()
    assert (current.name, current.configuration.host) == ("kubeconfig:alpha", "https://10.0.0.1:6443")
    chosen = connect_kubeconfig(context="beta")
    assert (chosen.name, chosen.configuration.host) == ("kubeconfig:beta", "https://10.0.0.2:6443")
    assert chosen.configuration.api_key["BearerToken"] == "Bearer token-of-beta"


def test_loading_never_touches_the_global_default_configuration(tmp_path):
    before = Configuration.get_default_copy().host
    connect_kubeconfig(write(tmp_path / "k.yaml", offline_config("alpha", "https://10.0.0.9:6443")))
    assert Configuration.get_default_copy().host == before


def test_unknown_context_lists_the_known_ones(tmp_path):
    path = write(tmp_path / "k.yaml", offline_config("alpha", "https://10.0.0.1:6443"))
    with pytest.raises(InputError) as caught:
        connect_kubeconfig(path, context="gamma")
    assert "context 'gamma'" in caught.value.message
    assert caught.value.hint == "use one of: alpha"
    assert caught.value.origin.path == path


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no kubeconfig file found"):
        connect_kubeconfig(str(tmp_path / "none.yaml"))


@pytest.mark.integration
def test_kubesim_kubeconfig_connects_over_tls(sim, tmp_path):
    path = sim.write_kubeconfig(tmp_path / "kubeconfig")
    context = sim.kubeconfig()["current-context"]
    with KubeClient(connect_kubeconfig(str(path), context=context)) as kube:
        assert "default" in {n["metadata"]["name"] for n in kube.list("v1", "Namespace")}
