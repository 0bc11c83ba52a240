"""The trust suite's harness: a scenario is a repository mutation, a verb, the expected exit code,
a message regex, and the exact change the cluster must show (a full dump of every object compared).

Each scenario starts from the same baseline: the example repository (plus planted canary Secrets)
applied once per worker; its store is saved, and every scenario gets a fresh kubesim loaded with it
and a fresh copy of the repository at the same path (HelmRelease records name that path).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluxpush.app.request import run_settings
from fluxpush.cli import main
from fluxpush.engine.lease import holder_identity
from fluxpush.flux.model import ObjectRef
from fluxpush.planning.inventory import INVENTORY_LABEL, decode_inventory, inventory_name
from kubesim import KubeSim, Options

# Canary Secret values: planted in the live cluster and in Git; none may appear in any output.
LIVE_CANARY = "CANARY-live-5f0c1e"
GIT_CANARY = "CANARY-git-8d2b7a"
NEW_CANARY = "CANARY-new-3e9f44"  # a value scenarios put in Git in place of GIT_CANARY
CANARIES = (LIVE_CANARY, GIT_CANARY, NEW_CANARY)

GIT_SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: app-2-credentials
  namespace: app-2
type: Opaque
stringData:
  password: %s
"""
LIVE_SECRETS = (
    ("flux-system", "slack-webhook", {"address": f"https://hooks.slack.invalid/{LIVE_CANARY}"}),
    ("flux-system", "github-app-credentials", {"githubAppPrivateKey": LIVE_CANARY}),
    ("app-1", "live-only", {"token": LIVE_CANARY}),
)
# Volatile fields every write refreshes; they say nothing about what a run changed.
VOLATILE = frozenset({"resourceVersion", "time", "lastTransitionTime", "lastUpdateTime",
                      "lastHeartbeatTime", "renewTime", "acquireTime", "lastProbeTime"})
LEASE_KEY = "Lease/kube-system/fluxpush"
SIM_OPTIONS = {"cluster_name": "trust", "ready_delay": 0.05, "crd_delay": 0.05}

NODE_NAMES = {"flux-system": ObjectRef("Kustomization", "flux-system", "flux-system"),
              "infrastructure": ObjectRef("Kustomization", "flux-system", "infrastructure"),
              "app-1": ObjectRef("Kustomization", "flux-system", "app-1"),
              "app-2": ObjectRef("Kustomization", "flux-system", "app-2"),
              "external-secrets": ObjectRef("HelmRelease", "external-secrets", "external-secrets")}


def inv(node: str) -> str:
    """The dump id of a node's inventory record (`inv("app-2")`)."""
    ref = NODE_NAMES[node]
    return f"ConfigMap/{ref.namespace}/{inventory_name(ref)}"


# ---- repository mutations ------------------------------------------------------------------------

Mutation = Callable[[Path], None]


def edit(path: str, old: str, new: str) -> Mutation:
    """Replace the first `old` (which must be there) by `new` in a repository file."""

    def apply(repo: Path) -> None:
        file = repo / path
        text = file.read_text()
        assert old in text, f"{old!r} not in {path}"
        file.write_text(text.replace(old, new, 1))

    return apply


def write(path: str, content: str | bytes) -> Mutation:
    """Create or replace a repository file (bytes for binary content)."""

    def apply(repo: Path) -> None:
        file = repo / path
        file.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            file.write_bytes(content)
        else:
            file.write_text(content)

    return apply


def append(path: str, text: str) -> Mutation:
    """Append text to a repository file."""

    def apply(repo: Path) -> None:
        with (repo / path).open("a") as out:
            out.write(text)

    return apply


def append_bytes(path: str, data: bytes) -> Mutation:
    """Append raw bytes (invalid UTF-8, control characters) to a repository file."""

    def apply(repo: Path) -> None:
        file = repo / path
        file.write_bytes(file.read_bytes() + data)

    return apply


def remove(path: str) -> Mutation:
    """Delete a file or a folder of the repository."""

    def apply(repo: Path) -> None:
        target = repo / path
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()

    return apply


def steps(*mutations: Mutation) -> Mutation:
    """Several mutations in order."""

    def apply(repo: Path) -> None:
        for mutation in mutations:
            mutation(repo)

    return apply


# ---- the cluster's state -------------------------------------------------------------------------


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def object_key(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name`, or `Kind/name` for a cluster-scoped object."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{obj['kind']}/{namespace}/{meta['name']}" if namespace else f"{obj['kind']}/{meta['name']}"


def normalize(obj: dict[str, Any]) -> Any:
    """An object without volatile fields and status; an inventory as what it records (entries, suspend)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if labels.get(INVENTORY_LABEL) == "true":
        record = decode_inventory(obj)
        return {"inventory": sorted(e.id.inventory_id for e in record.entries), "suspend": record.suspended}
    # `status` is what kubesim's simulated controllers write (rollouts progress on their own
    # clock); fluxpush never writes it, and a spec change shows in the spec and generation.
    # The same goes for their managedFields entries of the status subresource.
    meta = dict(obj.get("metadata") or {})
    meta["managedFields"] = [entry for entry in meta.get("managedFields") or []
                             if entry.get("subresource") != "status"]
    return _strip({**{key: value for key, value in obj.items() if key != "status"}, "metadata": meta})


@dataclass(frozen=True)
class ClusterState:
    """Every object of the cluster, normalized, by `object_key`; and each node's stored Ready status."""

    objects: dict[str, Any]
    ready: dict[str, str]

    @classmethod
    def of(cls, sim: KubeSim) -> ClusterState:
        objects: dict[str, Any] = {}
        ready: dict[str, str] = {}
        for obj in sim.cluster.store.snapshot().values():
            objects[object_key(obj)] = normalize(obj)
            if ((obj.get("metadata") or {}).get("labels") or {}).get(INVENTORY_LABEL) == "true":
                record = decode_inventory(obj)
                condition = record.condition("Ready")
                ready[record.node.name] = condition.status if condition else "Unknown"
        return cls(objects, ready)

    def changes_to(self, after: ClusterState) -> Change:
        """What differs from `self` to `after`."""
        before_keys, after_keys = set(self.objects), set(after.objects)
        updated = {k for k in before_keys & after_keys if self.objects[k] != after.objects[k]}
        return Change(frozenset(after_keys - before_keys), frozenset(updated),
                      frozenset(before_keys - after_keys))


@dataclass(frozen=True)
class Change:
    """Object keys created, updated and deleted by a run."""

    created: frozenset[str] = frozenset()
    updated: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"created={sorted(self.created)} updated={sorted(self.updated)} deleted={sorted(self.deleted)}"


UNCHANGED = Change()


def change(created: tuple[str, ...] = (), updated: tuple[str, ...] = (),
           deleted: tuple[str, ...] = ()) -> Change:
    """A documented change."""
    return Change(frozenset(created), frozenset(updated), frozenset(deleted))


# ---- running the CLI -----------------------------------------------------------------------------


@dataclass
class Outcome:
    """A CLI run's exit code and output."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(*args: str) -> Outcome:
    """`fluxpush ARGS…` in this process (real kustomize/helm, real HTTPS to kubesim)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Outcome(code, out.getvalue(), err.getvalue())


def leaked_secrets(text: str) -> list[str]:
    """The canary values (plain or base64) found in `text`."""
    forms = {value: (value, base64.b64encode(value.encode()).decode()) for value in CANARIES}
    return [value for value, variants in forms.items() if any(v in text for v in variants)]


# ---- the world a scenario runs in ----------------------------------------------------------------


@dataclass
class World:
    """A fresh kubesim loaded with the baseline, its kubeconfig, and a fresh copy of the repository."""

    sim: KubeSim
    kubeconfig: Path
    repo: Path
    before: ClusterState = field(init=False)

    def __post_init__(self) -> None:
        self.before = ClusterState.of(self.sim)

    def cluster_args(self) -> list[str]:
        return ["--repo", str(self.repo), "--path", "clusters/dev", "--kubeconfig", str(self.kubeconfig)]

    def run(self, verb: str, *extra: str) -> Outcome:
        """`fluxpush VERB` against this world's repository (and cluster, for the cluster verbs)."""
        words = verb.split()
        args = [*words, *self.cluster_args(), *extra]
        if words[0] in ("build", "validate", "get", "tree"):
            args = [*words, "--repo", str(self.repo), "--path", "clusters/dev", *extra]
        if words[0] in ("apply", "reconcile"):
            args.append("--no-notify")
        return run_cli(*args)

    def state(self) -> ClusterState:
        return ClusterState.of(self.sim)


@dataclass(frozen=True)
class Baseline:
    """The worker's baseline: the repository copy and the applied cluster's saved store."""

    repo: Path
    store: Path
    workdir: Path


def build_baseline(example: Path, workdir: Path) -> Baseline:
    """Copy the example (with a canary Secret in Git), plant live canaries, apply, save the store."""
    repo = workdir / "baseline-repo"
    shutil.copytree(example, repo)
    write("apps/app-2/secret.yaml", GIT_SECRET % GIT_CANARY)(repo)
    with KubeSim(Options(**SIM_OPTIONS)) as sim:  # type: ignore[arg-type]
        kubeconfig = sim.write_kubeconfig(workdir / "baseline-kubeconfig")
        for namespace in {ns for ns, _, _ in LIVE_SECRETS}:
            sim.cluster.store.put(("", "namespaces", "", namespace), {
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace},
                "status": {"phase": "Active"}})
        for namespace, name, data in LIVE_SECRETS:
            sim.cluster.store.put(("", "secrets", namespace, name), {
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": namespace},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}})
        applied = run_cli("apply", "--repo", str(repo), "--path", "clusters/dev", "--kubeconfig",
                          str(kubeconfig), "--no-notify")
        assert applied.code == 0, applied.text
        settle(sim)
        store = workdir / "baseline-store.json"
        sim.cluster.store.save(store)
    return Baseline(repo, store, workdir)


def settle(sim: KubeSim, quiet: float = 1.0, limit: float = 20.0) -> None:
    """Wait until the simulated controllers stop writing (status updates after an apply), so the
    baseline is a resting state and no scenario sees them finish its work."""
    deadline = time.monotonic() + limit
    version = sim.cluster.store.resource_version
    while time.monotonic() < deadline:
        time.sleep(quiet)
        latest = sim.cluster.store.resource_version
        if latest == version:
            return
        version = latest
    raise AssertionError("kubesim's controllers never settled after the baseline apply")


@contextlib.contextmanager
def world(baseline: Baseline) -> Iterator[World]:
    """A fresh kubesim with the baseline's objects and a fresh repository copy at the worker's path."""
    repo = baseline.workdir / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    shutil.copytree(baseline.repo, repo)
    sim = KubeSim(Options(**SIM_OPTIONS))  # type: ignore[arg-type]
    sim.cluster.store.load(baseline.store)
    with sim:
        kubeconfig = sim.write_kubeconfig(baseline.workdir / "kubeconfig")
        yield World(sim, kubeconfig, repo)


# ---- scenarios -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One named case: mutate the repository (and the cluster), run a verb, check everything."""

    id: str
    mutate: Mutation | None
    exit: int
    message: str  # a regex the output must match (names the file/line or Flux object, and the fix)
    change: Change = UNCHANGED
    verb: str = "apply"
    failed: tuple[str, ...] = ()  # nodes whose stored Ready must end not True
    still_ready: tuple[str, ...] = ()  # nodes whose stored Ready must stay True (status untouched)
    extra: tuple[str, ...] = ()  # more CLI arguments
    fault: Callable[[KubeSim], None] | None = None  # injected once the repository is mutated
    rerun: Change | None = None  # with the fault cleared, a second apply exits 0 with this total change


def check(world: World, scenario: Scenario) -> Outcome:
    """Run a scenario in `world` and assert exit code, message, the cluster's full change, no leak."""
    if scenario.mutate is not None:
        scenario.mutate(world.repo)
    if scenario.fault is not None:
        scenario.fault(world.sim)
    outcome = world.run(scenario.verb, *scenario.extra)
    world.sim.faults.clear()
    after = world.state()
    assert not leaked_secrets(outcome.text), f"secret value printed:\n{outcome.text}"
    assert "Traceback" not in outcome.text, outcome.text
    assert outcome.code == scenario.exit, f"exit {outcome.code}, expected {scenario.exit}:\n{outcome.text}"
    assert re.search(scenario.message, outcome.text, re.MULTILINE), \
        f"no match for {scenario.message!r} in:\n{outcome.text}"
    actual = world.before.changes_to(after)
    assert actual == scenario.change, f"cluster change: {actual}\nexpected: {scenario.change}\n{outcome.text}"
    lease = (after.objects.get(LEASE_KEY) or {}).get("spec") or {}
    holder = holder_identity(run_settings(os.environ).who)
    assert lease.get("holderIdentity") != holder, "the run did not release its Lease"
    for node in scenario.failed:
        assert after.ready.get(node) != "True", f"{node} is recorded Ready after failing:\n{outcome.text}"
    for node in scenario.still_ready:
        assert after.ready.get(node) == "True", f"{node}'s stored Ready changed:\n{outcome.text}"
    if scenario.rerun is not None:
        again = world.run("apply")
        assert again.code == 0 and not leaked_secrets(again.text), again.text
        converged = world.before.changes_to(world.state())
        assert converged == scenario.rerun, f"after the rerun: {converged}\nexpected: {scenario.rerun}"
    return outcome


def cases(scenarios: list[Scenario]) -> list[Any]:
    """pytest params, each named after its scenario; `xfail` ones marked strict."""
    import pytest

    ids = [s.id for s in scenarios]
    assert len(ids) == len(set(ids)), "scenario ids must be unique"
    return [pytest.param(s, id=s.id, marks=known_gap(s.id)) for s in scenarios]


def known_gap(name: str) -> list[Any]:
    """A strict xfail for a scenario whose fix has not landed (see `known_gaps.py`), else nothing."""
    import pytest

    from trust.known_gaps import KNOWN_GAPS

    reason = KNOWN_GAPS.get(name)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def inventory_of(sim: KubeSim, node: str) -> set[str]:
    """The inventory ids the node's record holds (empty when it has none)."""
    ref = NODE_NAMES[node]
    obj = sim.cluster.store.get(("", "configmaps", ref.namespace, inventory_name(ref)))
    return set() if obj is None else {e.id.inventory_id for e in decode_inventory(obj).entries}


def dump_json(state: ClusterState) -> str:
    """The state as sorted JSON (for failure messages)."""
    return json.dumps(state.objects, sort_keys=True, indent=1)
