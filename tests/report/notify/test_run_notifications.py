"""An apply's results go out through the repository's own Alert and Provider (the example's
`infrastructure/notifications`), with the Provider's Secret read from the live cluster.

Matched behaviour: kustomize-controller emits one event per reconciliation that changed something
(info, the change set) or failed (error); an in-sync node emits nothing to chat providers.
"""

from __future__ import annotations

import base64

import pytest

from fluxpush.app.lookups import live_secret_lookup
from fluxpush.report.run_events import notify_run

pytestmark = pytest.mark.integration


def _store_webhook_secret(sandbox, address: str) -> None:
    sandbox.client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}},
                         "test-setup")
    sandbox.client.apply({"apiVersion": "v1", "kind": "Secret",
                          "metadata": {"name": "slack-webhook", "namespace": "flux-system"},
                          "data": {"address": base64.b64encode(address.encode()).decode()}}, "test-setup")


def _notify(sandbox, run):
    return notify_run(run, sandbox.discover(), live_secret_lookup(sandbox.client),
                      run_url="https://github.example/org/repo/actions/runs/7")


def test_each_changed_node_sends_one_message_and_an_in_sync_run_sends_none(sandbox, receiver):
    _store_webhook_secret(sandbox, f"{receiver.url}/hook")

    deliveries = _notify(sandbox, sandbox.run(apply=True))

    assert all(d.ok for d in deliveries), deliveries
    objects = sorted(d.involved_object for d in deliveries)
    # The example's Alert also selects the HelmRelease in external-secrets, which is installed.
    assert objects == ["HelmRelease/external-secrets/external-secrets", "Kustomization/flux-system/app-1",
                       "Kustomization/flux-system/app-2", "Kustomization/flux-system/flux-system",
                       "Kustomization/flux-system/infrastructure"]
    bodies = [r.json() for r in receiver.at("/hook")]
    assert len(bodies) == 5
    app_2 = next(b for b in bodies if "app-2" in str(b))
    assert "Deployment/app-2/app-2 created" in str(app_2)
    assert "https://github.example/org/repo/actions/runs/7" in str(app_2)

    receiver.requests.clear()
    assert _notify(sandbox, sandbox.run(apply=True)) == []
    assert receiver.requests == []


def test_an_error_alert_for_all_kustomizations_sends_exactly_the_failed_node(sandbox, receiver):
    _store_webhook_secret(sandbox, f"{receiver.url}/hook")
    sandbox.edit("infrastructure/notifications/alert.yaml", "eventSeverity: info", "eventSeverity: error")
    sandbox.edit("apps/app-2/deployment.yaml", "  name: app-2\n",
                 "  name: app-2\n  annotations:\n    kubesim.io/fail: image pull back-off\n")

    run = sandbox.run(apply=True, timeout=3.0)
    deliveries = _notify(sandbox, run)

    assert [d.involved_object for d in deliveries] == ["Kustomization/flux-system/app-2"]
    (request,) = receiver.at("/hook")
    text = str(request.json())
    assert "HealthCheckFailed" in text or "health check failed" in text
    assert "Deployment/app-2/app-2" in text
