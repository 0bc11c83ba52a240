"""A hostile pull request through the whole action: what it makes the builds read is confined.

The issue's reproduction (a configMapGenerator reading `/proc/self/environ` through a `..` chain)
and a remote base with the `no-remote-bases` input: each fails its own Kustomization with an error
naming the kustomization file, the field and the path, the environment never appears anywhere, and
the rest of the repository is still previewed, as kustomize-controller's secure build would have it.
"""

from __future__ import annotations

import pytest

from fluxpush.action.config import read_config

from .conftest import REPO, pull_request_event

pytestmark = pytest.mark.integration

ENV_CANARY = "ghp_EnvironmentCanary0451"
LEAK = "configMapGenerator:\n- name: env-leak\n  files:\n  - environ=" + "../" * 12 + "proc/self/environ\n"


def test_the_no_remote_bases_input_is_read():
    base = {"INPUT_CLUSTER-PATH": "clusters/dev"}
    assert read_config({**base, "INPUT_NO-REMOTE-BASES": "true"}).no_remote_bases
    assert not read_config(base).no_remote_bases


def test_a_hostile_pull_request_fails_only_its_own_nodes(checkout, github, run_action, monkeypatch):
    monkeypatch.setenv("MY_SECRET_TOKEN", ENV_CANARY)
    overlay = checkout.root / "apps/app-1/overlays/dev/kustomization.yaml"
    overlay.write_text(overlay.read_text() + LEAK)
    (checkout.root / "apps/app-2/kustomization.yaml").write_text(
        "resources:\n- https://github.com/example/remote//base?ref=v1\n")
    run_action.inputs["no-remote-bases"] = "true"
    head = checkout.commit("hostile")
    github.state.add_pull(REPO, 3, head_sha=head)

    run = run_action("pull_request", pull_request_event(3, head, checkout.base_sha), checkout.root, head)

    assert run.code == 1
    (comment,) = github.state.comments
    texts = [run.stdout, run.summary, comment.body, str(github.state.check_runs)]
    assert all(ENV_CANARY not in text for text in texts), "the process environment never leaks"
    assert "apps/app-1/overlays/dev/kustomization.yaml: Kustomization/flux-system/app-1: " \
           "configMapGenerator[0].files[0]: '" in comment.body
    assert "proc/self/environ' leaves the source root" in comment.body
    assert "apps/app-2/kustomization.yaml: Kustomization/flux-system/app-2: resources[0]: " \
           "'https://github.com/example/remote//base?ref=v1' remote bases are disabled" in comment.body
    assert "`Kustomization/flux-system/infrastructure`" in comment.body, "the rest is still previewed"
