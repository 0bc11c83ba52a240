"""Install, upgrade, test, remediate and uninstall one release with the helm binary (flux-semantics §9.3–9.4).

`decide_action` is helm-controller's state machine in push mode: no release (or an uninstalled one)
→ install; a release whose config digest (chart, values, post-render settings; kept as a helm
release label) differs, that is failed, that fluxpush's last reconciliation failed (a failed test
leaves helm's status deployed), or that was not made by fluxpush → upgrade; otherwise nothing.
`run_release` runs the action with `helm upgrade --install`, then, on failure, the configured
remediation (`install.remediation`: uninstall; `upgrade.remediation`: rollback or uninstall) and
retries; `remediateLastFailure` decides whether the last failure is remediated too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fluxpush.errors import RenderError
from fluxpush.flux.duration import parse_duration
from fluxpush.flux.model import HelmRelease
from fluxpush.helm.drift import FIELD_MANAGER
from fluxpush.helm.session import HelmSession
from fluxpush.helm.sources import ResolvedChart
from fluxpush.helm.storage import DIGEST_LABEL, StoredRelease
from fluxpush.helm.template import crd_policy, post_render_config
from fluxpush.kube import KubeClient
from fluxpush.yamldoc import load_documents

DEFAULT_TIMEOUT = "5m"  # helm-controller's spec.timeout default
DEFAULT_MAX_HISTORY = 5  # helm-controller v2's maxHistory default
LOCKED = ("pending-install", "pending-upgrade", "pending-rollback")


class ReleaseAction(StrEnum):
    """What a reconciliation does to the release."""

    INSTALL = "install"
    UPGRADE = "upgrade"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Decision:
    """The action and why."""

    action: ReleaseAction
    reason: str


def decide_action(latest: StoredRelease | None, digest: str, *, last_failed: bool = False) -> Decision:
    """Which helm action a HelmRelease needs, given the newest stored revision, the config digest and
    whether fluxpush's last reconciliation of it failed (a failed test leaves helm's status deployed)."""
    if latest is None or latest.status == "uninstalled":
        return Decision(ReleaseAction.INSTALL, "no release installed")
    if latest.status in LOCKED:
        return Decision(ReleaseAction.UPGRADE, f"release is locked ({latest.status}); upgrading over it")
    if latest.status == "failed":
        return Decision(ReleaseAction.UPGRADE, f"last release (revision {latest.revision}) failed")
    if not latest.digest:
        return Decision(ReleaseAction.UPGRADE, "release was not made by fluxpush; adopting it")
    if latest.digest != digest:
        return Decision(ReleaseAction.UPGRADE, "chart or values changed")
    if last_failed:
        return Decision(ReleaseAction.UPGRADE, "the last reconciliation failed; retrying")
    return Decision(ReleaseAction.NONE, "chart, values and configuration unchanged")


@dataclass
class ReleaseLog:
    """The helm actions run, in order, with their outcome (for the node's message)."""

    steps: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.steps.append(text)


def _timeout(hr: HelmRelease, action: dict[str, Any]) -> str:
    return str(action.get("timeout") or hr.timeout or DEFAULT_TIMEOUT)


def _upgrade_argv(session: HelmSession, hr: HelmRelease, chart: ResolvedChart, values: dict[str, Any],
                  digest: str, action: ReleaseAction) -> list[str]:
    spec = hr.install if action is ReleaseAction.INSTALL else hr.upgrade
    history = DEFAULT_MAX_HISTORY if hr.max_history is None else hr.max_history
    argv = ["upgrade", "--install", hr.release_name, str(chart.path), "--namespace", hr.target_namespace,
            "-f", str(session.write_values(values)), "--reset-values", "--history-max", str(history),
            "--timeout", _timeout(hr, spec), "--labels", f"{DIGEST_LABEL}={digest}",
            *session.post_renderer(post_render_config(hr))]
    if not spec.get("disableWait"):
        argv.append("--wait=watcher")
        if not spec.get("disableWaitForJobs"):
            argv.append("--wait-for-jobs")
    if crd_policy(hr, action is ReleaseAction.UPGRADE) != "Create" or action is ReleaseAction.UPGRADE:
        argv.append("--skip-crds")  # Skip, or CreateReplace/upgrade-Create handled by apply_crds
    flags = {"disableHooks": "--no-hooks", "disableOpenAPIValidation": "--disable-openapi-validation",
             "cleanupOnFail": "--cleanup-on-fail", "force": "--force-replace"}
    argv += [flag for key, flag in flags.items() if spec.get(key)]
    if action is ReleaseAction.INSTALL and hr.install.get("createNamespace"):
        argv.append("--create-namespace")
    if not spec.get("disableTakeOwnership"):
        argv.append("--take-ownership")
    return argv


def apply_crds(session: HelmSession, client: KubeClient, hr: HelmRelease, chart: ResolvedChart,
               action: ReleaseAction) -> list[str]:
    """CRDs from the chart's `crds/` that fluxpush itself writes (CreateReplace; Create on upgrade)."""
    policy = crd_policy(hr, action is ReleaseAction.UPGRADE)
    if policy == "Skip" or (policy == "Create" and action is ReleaseAction.INSTALL):
        return []
    out = session.run("show", "crds", str(chart.path), node=str(hr.ref), what="helm show crds failed")
    written = []
    for doc in load_documents(out.stdout, f"CRDs of {chart.name}"):
        crd = doc.data
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            continue
        name = crd["metadata"]["name"]
        if policy == "Create" and client.get(crd["apiVersion"], crd["kind"], name) is not None:
            continue
        client.apply(crd, FIELD_MANAGER, force=True)
        written.append(name)
    if written:
        client.api_resources.invalidate()
    return written


def _attempt(session: HelmSession, hr: HelmRelease, chart: ResolvedChart, values: dict[str, Any],
             digest: str, action: ReleaseAction, log: ReleaseLog) -> str | None:
    """One helm upgrade --install (and test); the failure message, or None on success."""
    argv = _upgrade_argv(session, hr, chart, values, digest, action)
    timeout = parse_duration(_timeout(hr, hr.install if action is ReleaseAction.INSTALL else hr.upgrade)) + 60
    try:
        session.run(*argv, node=str(hr.ref), what=f"Helm {action} failed", timeout=timeout)
    except RenderError as exc:
        log.add(f"Helm {action} failed for release {hr.target_namespace}/{hr.release_name} "
                f"with chart {chart.name}@{chart.version}")
        return exc.render()
    log.add(f"Helm {action} succeeded for release {hr.target_namespace}/{hr.release_name} "
            f"with chart {chart.name}@{chart.version}")
    if hr.test.get("enable"):
        try:
            session.run("test", hr.release_name, "--namespace", hr.target_namespace,
                        "--timeout", _timeout(hr, hr.test), node=str(hr.ref), what="Helm test failed")
            log.add("Helm test succeeded")
        except RenderError as exc:
            log.add("Helm test failed")
            if not (hr.test.get("ignoreFailures") or _remediation(hr, action).get("ignoreTestFailures")):
                return exc.render()
    return None


def _remediation(hr: HelmRelease, action: ReleaseAction) -> dict[str, Any]:
    spec = hr.install if action is ReleaseAction.INSTALL else hr.upgrade
    return dict(spec.get("remediation") or {})


def _remediate(session: HelmSession, hr: HelmRelease, action: ReleaseAction, log: ReleaseLog) -> str:
    """Roll back or uninstall after a failure; returns the strategy used."""
    strategy = "uninstall" if action is ReleaseAction.INSTALL else \
        str(_remediation(hr, action).get("strategy") or "rollback")
    where = ["--namespace", hr.target_namespace]
    try:
        if strategy == "rollback":
            session.run("rollback", hr.release_name, *where, "--wait=watcher",
                        "--timeout", _timeout(hr, hr.rollback), node=str(hr.ref), what="Helm rollback failed")
        else:
            session.run("uninstall", hr.release_name, *where, "--wait=watcher", "--timeout",
                        _timeout(hr, hr.uninstall), node=str(hr.ref), what="Helm uninstall failed")
        log.add(f"Helm {strategy} succeeded (remediation)")
    except RenderError:
        log.add(f"Helm {strategy} failed (remediation)")
    return strategy


def run_release(session: HelmSession, client: KubeClient, hr: HelmRelease, chart: ResolvedChart,
                values: dict[str, Any], digest: str, decision: Decision, log: ReleaseLog) -> str | None:
    """Run `decision` with retries and remediation; the final failure message, or None on success."""
    action = decision.action
    remediation = _remediation(hr, action)
    retries = int(remediation.get("retries", 0))
    retries = max(retries, 1) if retries < 0 else retries  # "infinite": one retry per run in push mode
    last_default = action is ReleaseAction.UPGRADE and retries > 0
    remediate_last = bool(remediation.get("remediateLastFailure", last_default))
    apply_crds(session, client, hr, chart, action)
    failure: str | None = None
    for attempt in range(retries + 1):
        failure = _attempt(session, hr, chart, values, digest, action, log)
        if failure is None:
            return None
        is_last = attempt == retries
        if (not is_last or remediate_last) and _remediate(session, hr, action, log) == "uninstall":
            action = ReleaseAction.INSTALL
    label = "install" if decision.action is ReleaseAction.INSTALL else "upgrade"
    return f"{label} retries exhausted ({retries + 1} attempts): {failure}"


def uninstall_release(session: HelmSession, name: str, namespace: str, *, node: str) -> None:
    """`helm uninstall` with wait; raises RenderError when helm fails."""
    session.run("uninstall", name, "--namespace", namespace, "--wait=watcher", "--ignore-not-found",
                node=node, what="Helm uninstall failed")
