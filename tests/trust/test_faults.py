"""API server faults in the middle of an apply (kubesim's fault injection): transient ones are
retried and the apply converges; persistent ones fail the node they hit, naming the object and the
HTTP status, leave the cluster as the writes that succeeded made it, and a rerun converges.

A fault hits requests by Kubernetes verb and path: the dry run and then the write of app-2's
ConfigMap (app-2 runs after flux-system and infrastructure, so the run is well under way)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from kubesim import KubeSim
from trust.harness import (
    LEASE_KEY,
    UNCHANGED,
    Scenario,
    World,
    cases,
    change,
    check,
    edit,
    inv,
    leaked_secrets,
    steps,
)

APP2_CM = "ConfigMap/app-2/app-2-config"
APP1_DEPLOY = "Deployment/app-1/app-1"
TOUCH = steps(edit("apps/app-2/configmap.yaml", "listen 8080;", "listen 8081;"),
              edit("apps/app-1/base/deployment.yaml", "value: json", "value: text"))
TOUCHED = change(updated=(APP2_CM, APP1_DEPLOY))
CM_PATH = "configmaps/app-2-config"


def fault(action: str, count: int = 1, verb: str | None = "patch", path: str | None = CM_PATH
          ) -> Callable[[KubeSim], None]:
    """Answer the next `count` matching requests with `action` (Retry-After 0 keeps the suite fast)."""
    return lambda sim: sim.faults.inject(action, count, verb, path, retry_after=0)


def latency(ms: float) -> Callable[[KubeSim], None]:
    return lambda sim: sim.faults.latency(ms, jitter_ms=ms / 2)


def expire_tokens(sim: KubeSim) -> None:
    sim.faults.expire_tokens()


TRANSIENT = [Scenario(f"transient-{action}-x{count}", TOUCH, 0, r"ConfigMap/app-2/app-2-config configured",
                      TOUCHED, fault=fault(action, count))
             for action in ("429", "500", "503", "504", "drop") for count in (1, 3)]

PERSISTENT = [Scenario(f"persistent-{action}", TOUCH, 1, rf"(?s){APP2_CM}.*{status}",
                       change(updated=(APP1_DEPLOY,)), failed=("app-2",), fault=fault(action, 50),
                       rerun=TOUCHED)
              for action, status in (("429", "429"), ("500", "500"), ("503", "503"), ("504", "504"),
                                     ("drop", "no answer"))]

OTHERS = [
    Scenario("latency-50ms", TOUCH, 0, r"ConfigMap/app-2/app-2-config configured", TOUCHED,
             fault=latency(50)),
    Scenario("token-expired-before-the-run", TOUCH, 1, r"(?s)401.*(fix|token|credentials)", UNCHANGED,
             fault=expire_tokens),
    Scenario("inventory-write-fails", TOUCH, 1, rf"(?s)app-2.*(inventory|{inv('app-2').split('/')[-1]})",
             change(updated=(APP2_CM, APP1_DEPLOY)), failed=(),
             fault=fault("500", 50, path=inv("app-2").split("/")[-1])),
    Scenario("list-fails-while-planning", TOUCH, 1, r"(?s)(500|Internal)", change(updated=(APP2_CM,)),
             fault=fault("500", 50, verb="get", path="deployments/app-1"), rerun=TOUCHED),
    Scenario("discovery-flaky", TOUCH, 0, r"ConfigMap/app-2/app-2-config configured", TOUCHED,
             fault=fault("503", 2, verb=None, path="/apis")),
]


@pytest.mark.parametrize("scenario", cases(TRANSIENT))
def test_transient_fault_is_retried(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)


@pytest.mark.parametrize("scenario", cases(PERSISTENT))
def test_persistent_fault_fails_the_node_then_converges(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)


@pytest.mark.parametrize("scenario", cases(OTHERS))
def test_other_faults(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)


def test_token_expiry_mid_apply(trust_world: World) -> None:
    """The static token is revoked right after app-2's ConfigMap is written: the run fails saying 401
    and what to do; what was written stays; nothing else changed; a run with fresh credentials converges."""
    sim = trust_world.sim
    fired: list[str] = []

    def revoke_after_first_write(rtype: Any, event: str, obj: dict[str, Any]) -> None:
        if (obj.get("metadata") or {}).get("name") == "app-2-config" and not fired:
            fired.append(event)
            sim.faults.expire_tokens()

    sim.cluster.write_hooks.append(revoke_after_first_write)
    TOUCH(trust_world.repo)
    outcome = trust_world.run("apply")
    sim.cluster.write_hooks.remove(revoke_after_first_write)
    assert outcome.code != 0 and "Traceback" not in outcome.text, outcome.text
    assert "401" in outcome.text and "refresh the kubeconfig's credentials" in outcome.text, outcome.text
    assert "Lease/kube-system/fluxpush: not released" in outcome.text, outcome.text  # and says it expires
    assert re.search(r"(?m)^✗ 5 nodes, [12] not ready", outcome.text), outcome.text  # the result still shows
    assert not leaked_secrets(outcome.text)
    changed = trust_world.before.changes_to(trust_world.state())
    # app-2's ConfigMap was written; app-1, running at the same time, may or may not have been
    assert changed.created == {LEASE_KEY} and APP2_CM in changed.updated and not changed.deleted, changed
    assert changed.updated <= {APP2_CM, APP1_DEPLOY}, changed
    sim.write_kubeconfig(trust_world.kubeconfig)  # fresh credentials
    again = trust_world.run("apply")
    assert again.code == 0, again.text
    assert trust_world.before.changes_to(trust_world.state()) == TOUCHED
