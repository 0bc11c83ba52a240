"""Alert matching, routing and metadata rewriting, against notification-controller's rules.

Matches Flux v2.6 notification-controller (`filterAlertsForEvent`, `eventMatchesAlertSource`,
`combineEventMetadata`): an event-source name is `*` or an exact name — Flux has no partial
wildcards, so `apps-*` only matches an object literally named `apps-*`.
"""

from __future__ import annotations

import logging

import pytest

from fluxpush.report.notify.alerts import alert_matches, combine_metadata, is_routed, match_alerts

from .helpers import REVISION, make_alert, make_event

KS = {"kind": "Kustomization", "name": "*"}


def test_info_severity_takes_info_and_error_events():
    alert = make_alert("all", "slack", [KS])  # eventSeverity defaults to info
    assert alert_matches(make_event(reason="ReconciliationSucceeded"), alert)
    assert alert_matches(make_event(reason="HealthCheckFailed"), alert)


def test_error_severity_takes_only_error_events():
    alert = make_alert("errors", "slack", [KS], eventSeverity="error")
    assert not alert_matches(make_event(reason="ReconciliationSucceeded"), alert)
    assert not alert_matches(make_event(reason="Progressing"), alert)
    assert alert_matches(make_event(reason="ReconciliationFailed"), alert)


def test_kind_must_match_exactly():
    alert = make_alert("hr", "slack", [{"kind": "HelmRelease", "name": "*"}])
    assert not alert_matches(make_event(kind="Kustomization"), alert)
    assert alert_matches(make_event(kind="HelmRelease", name="podinfo"), alert)


def test_source_namespace_defaults_to_the_alerts_and_has_no_wildcard():
    alert = make_alert("local", "slack", [KS])
    assert alert_matches(make_event(namespace="flux-system"), alert)
    assert not alert_matches(make_event(namespace="apps"), alert)
    other = make_alert("cross", "slack", [{"kind": "Kustomization", "name": "*", "namespace": "apps"}])
    assert alert_matches(make_event(namespace="apps"), other)
    assert not alert_matches(make_event(namespace="flux-system"), other)
    star = make_alert("star-ns", "slack", [{"kind": "Kustomization", "name": "*", "namespace": "*"}])
    assert not alert_matches(make_event(namespace="apps"), star)


def test_name_is_star_or_exact():
    exact = make_alert("exact", "slack", [{"kind": "Kustomization", "name": "apps"}])
    assert alert_matches(make_event(name="apps"), exact)
    assert not alert_matches(make_event(name="apps-prod"), exact)
    partial = make_alert("partial", "slack", [{"kind": "Kustomization", "name": "apps-*"}])
    assert not alert_matches(make_event(name="apps-prod"), partial)  # as in Flux: no glob
    assert alert_matches(make_event(name="apps-*"), partial)


def test_any_one_source_is_enough():
    alert = make_alert("two", "slack", [{"kind": "HelmRelease", "name": "*"},
                                        {"kind": "Kustomization", "name": "infra"}])
    assert alert_matches(make_event(name="infra"), alert)
    assert not alert_matches(make_event(name="apps"), alert)


def test_match_labels_against_the_involved_objects_labels():
    alert = make_alert("labelled", "slack", [{**KS, "matchLabels": {"team": "web", "tier": "prod"}}])
    assert alert_matches(make_event(), alert, {"team": "web", "tier": "prod", "extra": "x"})
    assert not alert_matches(make_event(), alert, {"team": "web"})
    assert not alert_matches(make_event(), alert, None)
    empty = make_alert("empty", "slack", [{**KS, "matchLabels": {}}])
    assert alert_matches(make_event(), empty, {})  # an empty selector matches everything


def test_inclusion_list_requires_one_match():
    alert = make_alert("incl", "slack", [KS], inclusionList=[r"^Deployment/", r"configured$"])
    assert alert_matches(make_event(changes=["Service/apps/web configured"]), alert)
    assert alert_matches(make_event(changes=["Deployment/apps/web created"]), alert)
    assert not alert_matches(make_event(changes=["Service/apps/web created"]), alert)


def test_exclusion_list_drops_and_beats_inclusion():
    alert = make_alert("excl", "slack", [KS], inclusionList=["configured"], exclusionList=["apps/skip"])
    assert alert_matches(make_event(changes=["Deployment/apps/web configured"]), alert)
    assert not alert_matches(make_event(changes=["Deployment/apps/skip configured"]), alert)


def test_regexes_search_anywhere_in_multiline_messages():
    alert = make_alert("excl", "slack", [KS], exclusionList=["unchanged"])
    event = make_event(changes=["Deployment/apps/web configured", "Service/apps/web unchanged"])
    assert not alert_matches(event, alert)


def test_a_bad_regex_is_logged_and_skipped(caplog):
    alert = make_alert("bad", "slack", [KS], exclusionList=["(unclosed", "skip"])
    with caplog.at_level(logging.WARNING):
        assert alert_matches(make_event(changes=["Deployment/apps/web configured"]), alert)
    assert "does not compile" in caplog.text
    assert not alert_matches(make_event(changes=["Deployment/apps/skip configured"]), alert)


def test_suspended_alerts_take_nothing_and_order_is_kept():
    alerts = [make_alert("b", "slack", [KS]), make_alert("off", "slack", [KS], suspend=True),
              make_alert("a", "teams", [KS])]
    assert [a.ref.name for a in match_alerts(make_event(), alerts)] == ["b", "a"]


@pytest.mark.parametrize("version", ["v1beta1", "v1beta2", "v1beta3"])
def test_every_alert_api_version_matches_the_same(version):
    alert = make_alert("v", "slack", [{"kind": "Kustomization", "name": "apps"}], version=version,
                       eventSeverity="error", exclusionList=["ignore me"], summary="prod cluster")
    assert alert_matches(make_event(reason="ReconciliationFailed", error="boom"), alert)
    assert not alert_matches(make_event(reason="ReconciliationFailed", error="ignore me"), alert)
    assert not alert_matches(make_event(), alert)
    assert combine_metadata(make_event(), alert).metadata["summary"] == "prod cluster"


def test_metadata_is_rewritten_with_flux_precedence(caplog):
    alert = make_alert("meta", "slack", [KS], eventMetadata={"env": "prod", "revision": "from-alert",
                                                              "summary": "from-metadata"},
                       summary="from-summary")
    event = make_event(annotations={"event.toolkit.fluxcd.io/env": "from-annotation",
                                    "event.toolkit.fluxcd.io/owner": "team-web"})
    with caplog.at_level(logging.WARNING):
        delivered = combine_metadata(event, alert)
    assert delivered.metadata == {
        "env": "prod",  # eventMetadata beats annotations
        "owner": "team-web",
        "summary": "from-summary",  # spec.summary beats eventMetadata.summary
        "revision": REVISION,  # the controller's own key beats everything
    }
    assert "conflicts" in caplog.text and "'revision'" in caplog.text
    assert event.metadata["kustomize.toolkit.fluxcd.io/revision"] == REVISION  # the original is untouched


def test_metadata_without_rewritable_keys_is_left_alone():
    alert = make_alert("plain", "slack", [KS])
    event = make_event(revision="").with_metadata({"other.example.com/x": "1"})
    assert combine_metadata(event, alert).metadata == {"other.example.com/x": "1"}


def test_routing_of_commit_status_updates_and_git_providers():
    update = make_event().with_metadata({"kustomize.toolkit.fluxcd.io/commit_status": "update"})
    assert not is_routed("slack", update)
    assert is_routed("github", update)
    progressing = make_event(reason="Progressing")
    assert is_routed("slack", progressing)
    assert not is_routed("github", progressing)  # no commit key, not an update, not an error
    assert is_routed("github", make_event(reason="HealthCheckFailed"))
    with_commit = progressing.with_metadata({"event.toolkit.fluxcd.io/commit": "abc1234"})
    assert is_routed("gitlab", with_commit)
    # fluxpush's one result event also stands for kustomize-controller's "Reconciliation finished".
    assert is_routed("github", make_event(reason="ReconciliationSucceeded"))
    assert is_routed("slack", make_event(reason="ReconciliationSucceeded"))
