"""A run's results as Flux events, sent through the repository's Alerts and Providers.

One event per Kustomization/HelmRelease result, as kustomize-controller emits them: a node that
changed something sends its change set (`info`), a node that failed sends its error (`error`);
a node that was already in sync, suspended or not reconciled sends nothing, so a quiet merge
stays quiet in Slack.
"""

from __future__ import annotations

from fluxpush.engine.run import RunResult
from fluxpush.flux.model import Alert, Provider
from fluxpush.planning.result import NodeResult, Outcome
from fluxpush.report.events import Event, build_event
from fluxpush.report.notify import Delivery, SecretDataLookup, send_notifications
from fluxpush.report.terminal import APPLIED_WORD
from fluxpush.repository.discover import Discovery


def event_for_result(result: NodeResult, revision: str, run_url: str | None) -> Event | None:
    """The node's event for this run, or None when it has nothing to say."""
    if result.outcome in (Outcome.SUSPENDED, Outcome.SKIPPED):
        return None
    if result.outcome is Outcome.READY and not result.applied:
        return None
    changes = [f"{change.id} {APPLIED_WORD[change.action]}" for change in result.applied]
    error = None if result.outcome is Outcome.READY else result.message
    node = result.node
    return build_event(node.kind, node.namespace, node.name, reason=result.reason, revision=revision,
                       changes=changes, error=error, run_url=run_url)


def notify_run(run: RunResult, discovery: Discovery, lookup: SecretDataLookup, *,
               run_url: str | None = None) -> list[Delivery]:
    """Send the run's events through the Alerts and Providers the repository renders; never raises."""
    events = [e for r in run.results if (e := event_for_result(r, run.revision, run_url)) is not None]
    objects = discovery.flux_objects.values()
    alerts = [o for o in objects if isinstance(o, Alert)]
    providers = [o for o in objects if isinstance(o, Provider)]
    if not events or not alerts:
        return []
    return send_notifications(events, alerts, providers, lookup)
