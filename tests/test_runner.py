"""Processes fluxpush starts get a minimal environment, a time limit and a memory cap."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from bench.yaml_bomb import bomb_repo

from fluxpush.errors import RenderError, YAMLError
from fluxpush.flux.model import ObjectRef
from fluxpush.repository.discover import DiscoverOptions, discover
from fluxpush.runner import run_command

SECRETS = {
    "INPUT_GITHUB-TOKEN": "input-canary", "AWS_SECRET_ACCESS_KEY": "aws-canary",
    "AWS_SESSION_TOKEN": "aws-session-canary", "GITHUB_TOKEN": "gh-canary",
    "ACTIONS_RUNTIME_TOKEN": "actions-canary", "KUBECONFIG": "/tmp/kubeconfig-canary",
    "FLUXPUSH_APP_PRIVATE_KEY": "app-key-canary", "MY_SECRET_TOKEN": "ghp_canary",
}
PRINT_ENV = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]


def test_children_get_a_minimal_environment(monkeypatch, tmp_path):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    env = json.loads(run_command(PRINT_ENV, cwd=str(tmp_path)).stdout)
    assert not set(SECRETS) & set(env)
    assert env["PATH"] == os.environ["PATH"]
    assert env["HTTPS_PROXY"] == "http://proxy.example:3128"  # remote bases still reach the proxy
    # What the caller hands over explicitly is passed (helm's private kubeconfig, pip's index).
    monkeypatch.setenv("PIP_INDEX_URL", "https://registry.example/simple")
    env = json.loads(run_command(PRINT_ENV, env={"KUBECONFIG": "/private"}, inherit=("PIP_",)).stdout)
    assert env["KUBECONFIG"] == "/private" and env["PIP_INDEX_URL"] == "https://registry.example/simple"


def test_the_working_directory_is_the_one_given(tmp_path):
    out = run_command([sys.executable, "-c", "import os; print(os.getcwd())"], cwd=str(tmp_path))
    assert Path(out.stdout.strip()) == tmp_path.resolve()


def test_an_endless_process_and_its_children_stop_at_the_time_limit(monkeypatch, tmp_path):
    monkeypatch.setenv("FLUXPUSH_BUILD_TIMEOUT", "1")
    pid_file = tmp_path / "grandchild.pid"
    script = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', "
              "'import time; time.sleep(60)']); open(sys.argv[1], 'w').write(str(p.pid)); time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(RenderError, match=r"stopped after the time limit of 1s \(FLUXPUSH_BUILD_TIMEOUT\)"):
        run_command([sys.executable, "-c", script, str(pid_file)], node="Kustomization/x/y")
    assert time.monotonic() - started < 10
    grandchild = int(pid_file.read_text())
    for _ in range(50):  # the kill is asynchronous; the process group is gone within moments
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the grandchild survived the time limit")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory cap uses Linux prlimit")
def test_a_process_growing_past_the_memory_cap_fails_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("FLUXPUSH_BUILD_MEMORY_MIB", "200")
    grow = [sys.executable, "-c", "import time; time.sleep(0.2); b = bytearray(600 * 1024 * 1024)"]
    with pytest.raises(RenderError) as caught:
        run_command(grow, node="Kustomization/x/y", what="kustomize build failed")
    assert "stopped at the memory limit of 200 MiB (FLUXPUSH_BUILD_MEMORY_MIB)" in str(caught.value)
    assert caught.value.stderr == ""  # no stack dump of the dying process


@pytest.mark.integration
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory cap uses Linux prlimit")
def test_a_yaml_bomb_fails_its_own_node_in_seconds(monkeypatch, tmp_path):
    # Real kustomize expands the aliases; the cap stops it. (bench/yaml_bomb.py measures the default.)
    monkeypatch.setenv("FLUXPUSH_BUILD_MEMORY_MIB", "300")
    bomb_repo(tmp_path, "resource")
    started = time.monotonic()
    discovery = discover(tmp_path, DiscoverOptions(cluster_path="clusters/dev"))
    assert time.monotonic() - started < 30
    error = discovery.nodes[ObjectRef("Kustomization", "flux-system", "bomb")].error
    assert isinstance(error, RenderError) and "memory limit of 300 MiB" in error.message
    assert discovery.nodes[ObjectRef("Kustomization", "flux-system", "good")].objects


@pytest.mark.integration
def test_an_alias_bomb_in_a_kustomization_file_is_refused_before_kustomize_runs(tmp_path):
    bomb_repo(tmp_path, "kustomization")
    discovery = discover(tmp_path, DiscoverOptions(cluster_path="clusters/dev"))
    error = discovery.nodes[ObjectRef("Kustomization", "flux-system", "bomb")].error
    assert isinstance(error, YAMLError) and "alias bomb" in error.message
    assert error.origin.path == "apps/bomb/kustomization.yaml"
    assert discovery.nodes[ObjectRef("Kustomization", "flux-system", "good")].objects
