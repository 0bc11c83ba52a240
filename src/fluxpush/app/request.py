"""A run's request, face-neutral: the cluster target, the run's environment, what to discover and
how the engine runs.

    Sandbox           an embedded kubesim API server started for the run (`--sandbox`), its objects
                      loaded from and saved to a state file when one is named
    Kubeconfig        a kubeconfig file (None: `$KUBECONFIG` or `~/.kube/config`) and a context
    InlineKubeconfig  kubeconfig YAML given as text (the action's `kubeconfig` input)
    Eks               an EKS cluster, credentials from the AWS environment, optionally a role to assume

The faces read their input (argv and the process environment; `INPUT_*` and the event) and build
these values; nothing below them reads `os.environ` for the run's configuration (process-level
settings such as the binaries, build limits and the chart cache folder stay environment variables:
decision 0010).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fluxpush.errors import UsageError
from fluxpush.flux.model import ObjectLookup, ObjectRef
from fluxpush.planning.options import NODE_CONCURRENCY, EngineOptions, PlanWay
from fluxpush.report.workflow import actions_run_url
from fluxpush.repository.discover import DiscoverOptions, Discovery, discover
from fluxpush.sops.keysource import NO_KEYS, SopsKeys, run_keys

# -- the cluster a run talks to (opened by `fluxpush.app.cluster.open_cluster`) --

@dataclass(frozen=True, slots=True)
class Sandbox:
    """An embedded kubesim, optionally with its objects kept in `state` between runs."""

    state: Path | None = None


@dataclass(frozen=True, slots=True)
class Kubeconfig:
    """A kubeconfig file (None: the client's default, `~/.kube/config`) and context."""

    path: str | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class InlineKubeconfig:
    """Kubeconfig YAML given as text; written to a private temporary file while the client is open."""

    text: str


@dataclass(frozen=True, slots=True)
class Eks:
    """An EKS cluster by name and region, optionally through an IAM role."""

    cluster: str
    region: str
    role_arn: str | None = None


ClusterTarget = Sandbox | Kubeconfig | InlineKubeconfig | Eks


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What the run's environment says, read once by the face that was given it."""

    who: str  # the GitHub run or the user: the Lease's holder, readable in `kubectl get lease`
    run_url: str | None = None  # the CI run's page, linked from notifications
    ref_name: str | None = None  # the branch a detached CI checkout was made from (its revision's name)
    github_repository: str = ""  # `owner/name` of the checkout on GitHub: a GitRepository with its URL is it
    # The face's environment for the keys it may name: $SOPS_AGE_KEY(_FILE), $HOME (the sops CLI's
    # default key file) and $FLUXPUSH_PROVIDER_SECRETS (Provider Secrets the cluster lacks).
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds secrets: never shown


def run_settings(environ: Mapping[str, str]) -> RunSettings:
    """The settings an environment (the process's, or the action's runner) gives a run."""
    run_id = environ.get("GITHUB_RUN_ID")
    return RunSettings(
        who=f"github-run-{run_id}" if run_id else environ.get("USER", "fluxpush"),
        run_url=actions_run_url(environ.get("GITHUB_SERVER_URL", ""), environ.get("GITHUB_REPOSITORY", ""),
                                run_id or ""),
        ref_name=environ.get("GITHUB_HEAD_REF") or environ.get("GITHUB_REF_NAME") or None,
        github_repository=environ.get("GITHUB_REPOSITORY", ""),
        environ=dict(environ),
    )


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """What to discover: the checkout, its cluster path and how Flux's controllers would be set."""

    root: Path
    cluster_path: str
    strict_substitute: bool = True
    no_remote_bases: bool = False
    source_dirs: Mapping[ObjectRef, Path] = field(default_factory=dict)
    age_key_file: str | None = None  # --sops-age-key-file
    age_key: str | None = None  # the action's `sops-age-key` input


def discover_checkout(request: CheckoutRequest, settings: RunSettings,
                      live_lookup: ObjectLookup | None = None) -> Discovery:
    """Discovery of the checkout; substituteFrom sources also from the cluster when `live_lookup` is
    given. SOPS values are decrypted only then (a run against a cluster), as Flux's controller does;
    without a cluster they stay masked."""
    keys = NO_KEYS if live_lookup is None else SopsKeys(
        run_keys(request.age_key_file, settings.environ, age_key=request.age_key), live_lookup)
    options = DiscoverOptions(cluster_path=request.cluster_path, strict_substitute=request.strict_substitute,
                              no_remote_bases=request.no_remote_bases, source_dirs=request.source_dirs,
                              live_lookup=live_lookup, sops=keys, ref_name=settings.ref_name,
                              github_repository=settings.github_repository)
    return discover(request.root, options)


def engine_options(
    *,
    way: PlanWay = PlanWay.SERVER,
    prune: bool = True,
    force: bool = False,
    allow_destructive_prune: bool = False,
    timeout: float | None = None,
    concurrency: int = NODE_CONCURRENCY,
    kubeconfig_for: Mapping[str, str] | None = None,
    base: Path,
    named: str,
) -> EngineOptions:
    """EngineOptions, for either face. `kubeconfig_for` maps a spec.kubeConfig Secret's
    `NAMESPACE/NAME` to a kubeconfig file, relative to `base` (the working directory, the action's
    workspace); a file that does not exist is a UsageError naming the option (`named`)."""
    files = {}
    for ref, name in (kubeconfig_for or {}).items():
        path = base / name  # an absolute `name` stays itself
        if not path.is_file():
            raise UsageError(f"{named}: {name} (for {ref}) is not a file")
        files[ref] = str(path)
    return EngineOptions(way=way, prune=prune, force=force, allow_destructive_prune=allow_destructive_prune,
                         timeout=timeout, concurrency=concurrency, kubeconfigs=files)
