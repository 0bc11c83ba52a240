"""Dispatch: matching Alerts to Providers, retries, isolation of failures, secrets kept out of text."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from fluxpush.outbound import is_retryable
from fluxpush.report.notify import Retries, send_notifications

from .helpers import FAST_RETRY, make_alert, make_event, make_provider, secrets

pytestmark = pytest.mark.integration

ALL_KS = [{"kind": "Kustomization", "name": "*"}]


def generic(name: str, address: str, **spec):
    return make_provider(name, "generic", address=address, **spec)


def test_three_results_one_failure_give_exactly_one_message_to_the_right_receiver(make_receiver):
    slack, teams = make_receiver(), make_receiver()
    providers = [make_provider("slack", "slack", secretRef={"name": "slack-url"}),
                 make_provider("teams", "msteams", secretRef={"name": "teams-url"})]
    alerts = [make_alert("on-error", "slack", ALL_KS, eventSeverity="error"),
              make_alert("releases", "teams", [{"kind": "HelmRelease", "name": "*"}])]
    lookup = secrets(**{"slack-url": {"address": f"{slack.url}/services/T/B/x"},
                        "teams-url": {"address": f"{teams.url}/workflows/1"}})
    events = [make_event("infra", changes=["Namespace/apps created"]),
              make_event("apps", reason="HealthCheckFailed", error="timeout waiting for Deployment/apps/web"),
              make_event("monitoring")]
    results = send_notifications(events, alerts, providers, lookup, policy=FAST_RETRY)
    assert [(r.involved_object, r.provider.name, r.ok) for r in results] == [
        ("Kustomization/flux-system/apps", "slack", True)]
    assert teams.requests == []
    (message,) = slack.requests
    attachment = message.json()["attachments"][0]
    assert attachment["author_name"] == "kustomization/apps.flux-system"
    assert attachment["color"] == "danger"
    assert attachment["text"].startswith("timeout waiting for Deployment/apps/web")


def test_a_failing_provider_neither_fails_the_run_nor_blocks_another(make_receiver):
    broken, healthy = make_receiver(), make_receiver()
    broken.answer("/hook", (500, b"internal error"))  # 500, then 500 ...
    providers = [generic("broken", f"{broken.url}/hook"), generic("healthy", f"{healthy.url}/hook")]
    alerts = [make_alert("a", "broken", ALL_KS), make_alert("b", "healthy", ALL_KS)]
    policy = Retries(retries=4, min_wait=0.05, max_wait=1.0)  # waits 0.05 + 0.1 + 0.2 + 0.4 s
    results = send_notifications([make_event()], alerts, providers, secrets(), policy=policy)
    by_name = {r.provider.name: r for r in results}
    assert not by_name["broken"].ok and by_name["healthy"].ok
    assert by_name["broken"].attempts == 5 and len(broken.requests) == 5
    assert "HTTP 500: internal error" in by_name["broken"].error
    assert "after 5 attempts" in by_name["broken"].error
    # The healthy Provider was served while the broken one was still being retried.
    assert healthy.requests[0].at < broken.requests[-1].at


def test_429_is_retried_honouring_retry_after(receiver):
    receiver.answer("/hook", (429, b"slow down", {"Retry-After": "0"}), (200, b"ok"))
    results = send_notifications([make_event()], [make_alert("a", "p", ALL_KS)],
                                 [generic("p", f"{receiver.url}/hook")], secrets(),
                                 policy=Retries(retries=4, min_wait=5.0, max_wait=30.0))
    assert [(r.ok, r.attempts) for r in results] == [(True, 2)]
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body


def test_final_refusals_are_not_retried(receiver):
    receiver.answer("/hook", (501, b"no"))
    results = send_notifications([make_event()], [make_alert("a", "p", ALL_KS)],
                                 [generic("p", f"{receiver.url}/hook")], secrets(), policy=FAST_RETRY)
    assert [(r.ok, r.attempts) for r in results] == [(False, 1)]
    assert [is_retryable(code) for code in (400, 404, 429, 500, 501, 502, 503)] == [
        False, False, True, True, False, True, True]


def test_retry_waits_double_and_respect_the_cap():
    policy = Retries(retries=4, min_wait=1.0, max_wait=5.0)
    assert [policy.wait(n, None) for n in range(4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.wait(0, "3") == 3.0
    assert policy.wait(0, "120") == 5.0


def test_the_provider_timeout_bounds_every_attempt(receiver):
    receiver.delay = 1.0
    started = time.monotonic()
    results = send_notifications([make_event()], [make_alert("a", "p", ALL_KS)],
                                 [generic("p", f"{receiver.url}/hook", timeout="200ms")], secrets(),
                                 policy=FAST_RETRY)
    assert time.monotonic() - started < 0.9
    assert not results[0].ok
    assert "timeout 0.2s" in results[0].error


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_secret_address_and_token_never_reach_logs_or_errors(receiver, caplog):
    secret_path = "services/T0SECRET/B0SECRET/hunter2hunter2"
    echoing = f"{receiver.url}/{secret_path}"
    receiver.answer(f"/{secret_path}", (404, f"no such hook: /{secret_path}".encode()))
    unreachable = f"http://127.0.0.1:{_closed_port()}/{secret_path}"
    providers = [make_provider("echo", "slack", secretRef={"name": "echo"}),
                 make_provider("down", "slack", secretRef={"name": "down"}),
                 make_provider("hmac", "generic-hmac", secretRef={"name": "hmac"})]
    lookup = secrets(echo={"address": echoing, "token": "xoxb-TOKEN-VALUE"},
                     down={"address": unreachable},
                     hmac={"address": f"{receiver.url}/hmac?key=hunter2hunter2"})
    alerts = [make_alert(p.ref.name, p.ref.name, ALL_KS) for p in providers]
    with caplog.at_level(logging.DEBUG):
        results = send_notifications([make_event()], alerts, providers, lookup, policy=FAST_RETRY)
    assert [r.ok for r in results] == [False, False, False]
    text = caplog.text + "\n".join(r.error for r in results) + repr(results)
    for secret in ("hunter2hunter2", "T0SECRET", "xoxb-TOKEN-VALUE", echoing, unreachable):
        assert secret not in text
    assert "***" in text  # masked, not silently dropped
    assert "HTTP 404" in text and "Connection refused" in text and "token" in text


def test_suspended_provider_and_missing_provider(receiver):
    providers = [generic("off", f"{receiver.url}/off", suspend=True)]
    alerts = [make_alert("to-off", "off", ALL_KS), make_alert("to-nowhere", "absent", ALL_KS)]
    results = send_notifications([make_event()], alerts, providers, secrets(), policy=FAST_RETRY)
    assert receiver.requests == []
    assert [(r.alert.name, r.ok) for r in results] == [("to-nowhere", False)]
    assert "Provider/flux-system/absent" in results[0].error


def test_match_labels_use_the_label_lookup(receiver):
    alert = make_alert("web", "p", [{"kind": "Kustomization", "name": "*", "matchLabels": {"team": "web"}}])
    labels = {"apps": {"team": "web"}, "infra": {"team": "platform"}}
    results = send_notifications([make_event("apps"), make_event("infra")], [alert],
                                 [generic("p", f"{receiver.url}/hook")], secrets(),
                                 labels=lambda obj: labels.get(obj.name, {}), policy=FAST_RETRY)
    assert [r.involved_object for r in results] == ["Kustomization/flux-system/apps"]
    assert [r.json()["involvedObject"]["name"] for r in receiver.requests] == ["apps"]


def test_one_providers_events_arrive_in_order(receiver):
    events = [make_event(name) for name in ("a", "b", "c", "d")]
    results = send_notifications(events, [make_alert("all", "p", ALL_KS)],
                                 [generic("p", f"{receiver.url}/hook")], secrets(), policy=FAST_RETRY)
    assert all(r.ok for r in results)
    assert [r.json()["involvedObject"]["name"] for r in receiver.requests] == ["a", "b", "c", "d"]


def test_an_alert_in_another_namespace_uses_its_own_providers(receiver):
    provider = make_provider("p", "generic", namespace="apps", address=f"{receiver.url}/hook")
    alert = make_alert("a", "p", [{"kind": "Kustomization", "name": "*", "namespace": "flux-system"}],
                       namespace="apps")
    results = send_notifications([make_event()], [alert], [provider], secrets(), policy=FAST_RETRY)
    assert [(r.provider.namespace, r.ok) for r in results] == [("apps", True)]
