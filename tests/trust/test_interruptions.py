"""Interruptions of a real `fluxpush apply` process (issue 13 item 6), and two runs at once.

Each test starts the CLI as a subprocess with its stdout piped (as a CI runner does) against a fresh
kubesim whose every request is slowed down, so the apply takes seconds. The test reads the streamed
output line by line and signals the process in the middle of the apply, once a node is done."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fluxpush.planning.inventory import INVENTORY_LABEL, decode_inventory
from fluxpush.planning.normalize import OWNER_NAME_LABEL
from fluxpush.planning.removal import is_node_entry
from kubesim import KubeSim, Options
from trust.harness import SIM_OPTIONS, Baseline, leaked_secrets, object_key, run_cli, world

FLUXPUSH = str(Path(sys.executable).parent / "fluxpush")
LATENCY_MS = 40.0
LEASE = ("coordination.k8s.io", "leases", "kube-system", "fluxpush")
INFRA_DONE = "✔ Kustomization/flux-system/infrastructure Ready"


@dataclass
class Target:
    """A fresh, slow cluster and a copy of the repository to apply to it."""

    sim: KubeSim
    kubeconfig: Path
    repo: Path

    def args(self) -> list[str]:
        return ["apply", "--repo", str(self.repo), "--path", "clusters/dev",
                "--kubeconfig", str(self.kubeconfig), "--no-notify"]

    def start(self) -> subprocess.Popen[str]:
        """`fluxpush apply` as a real process, stdout and stderr piped."""
        return subprocess.Popen([FLUXPUSH, *self.args()], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, bufsize=1)


@pytest.fixture
def target(baseline: Baseline, tmp_path: Path) -> Iterator[Target]:
    with world(baseline) as fresh, KubeSim(Options(**SIM_OPTIONS)) as sim:  # type: ignore[arg-type]
        sim.faults.latency(LATENCY_MS)
        yield Target(sim, sim.write_kubeconfig(tmp_path / "kubeconfig"), fresh.repo)


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 60.0) -> list[str]:
    """The stdout lines up to and including the first one starting with `marker` (streamed: they
    arrive while the process still runs)."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(marker):
            return lines
    raise AssertionError(f"{marker!r} never came; got:\n" + "\n".join(lines))


def consistent(sim: KubeSim) -> list[str]:
    """What is wrong between the cluster's objects and the inventories: an object a Kustomization
    applied that no inventory holds (an orphan), or an inventory entry whose object does not exist."""
    objects = sim.cluster.store.snapshot().values()
    held: set[str] = set()
    for obj in objects:
        if ((obj.get("metadata") or {}).get("labels") or {}).get(INVENTORY_LABEL) == "true":
            # child nodes (Kustomizations, HelmReleases) are inventory entries but not cluster objects
            held |= {e.id.inventory_id for e in decode_inventory(obj).entries if not is_node_entry(e.id)}
    existing = {_inventory_id(obj): object_key(obj) for obj in objects}
    problems = [f"orphan: {key}" for inventory_id, key in existing.items()
                if inventory_id not in held and _applied_by_a_kustomization(sim, key)]
    problems += [f"inventory entry without object: {entry}" for entry in sorted(held - set(existing))]
    return problems


def _inventory_id(obj: dict) -> str:
    meta = obj["metadata"]
    group = obj["apiVersion"].rpartition("/")[0]
    return f"{meta.get('namespace', '')}_{meta['name']}_{group}_{obj['kind']}"


def _applied_by_a_kustomization(sim: KubeSim, key: str) -> bool:
    return any(object_key(o) == key and OWNER_NAME_LABEL in ((o.get("metadata") or {}).get("labels") or {})
               for o in sim.cluster.store.snapshot().values())


def converges(target: Target) -> None:
    """A plain rerun finishes the job; the run after it has nothing left to write."""
    target.sim.faults.clear()
    again = run_cli(*target.args())
    assert again.code == 0, again.text
    settled = run_cli(*target.args())
    assert settled.code == 0 and "► " not in settled.out, settled.text
    assert consistent(target.sim) == []
    assert target.sim.cluster.store.get(LEASE) is None


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGINT"])
def test_signal_mid_apply_stops_writes_releases_lease_and_reports(target: Target, signum: int,
                                                                    code: int) -> None:
    process = target.start()
    streamed = read_until(process, INFRA_DONE)
    # The plan of a node is printed before its writes, and each result as soon as it is decided.
    assert streamed.index("📁 Kustomization/flux-system/infrastructure applying:") < len(streamed) - 1
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    text = "\n".join(streamed) + out + err
    name = signal.Signals(signum).name
    assert process.returncode == code, text
    assert "Traceback" not in text and not leaked_secrets(text)
    assert f"✗ interrupted by {name}: no write was started after the signal" in text, text
    assert "the Lease was released" in text
    assert "  applied: Kustomization/flux-system/infrastructure" in text
    assert "  not applied: Kustomization/flux-system/app-" in text  # the apps come after infrastructure
    assert target.sim.cluster.store.get(LEASE) is None, "the Lease is still held"
    assert consistent(target.sim) == []
    converges(target)


def test_sigkill_mid_apply_then_a_rerun_converges(target: Target) -> None:
    """A killed run cannot clean up: its Lease stays until it expires (60s after its last renewal,
    simulated here by moving renewTime back), then a rerun takes it over and converges, with every
    object the killed run wrote in an inventory (no orphan)."""
    process = target.start()
    read_until(process, INFRA_DONE)
    process.kill()
    process.communicate(timeout=30)
    lease = target.sim.cluster.store.get(LEASE)
    assert lease is not None, "a killed run's Lease stays held"
    blocked = run_cli(*target.args())
    assert blocked.code == 1 and "another run holds the cluster" in blocked.err, blocked.text
    past = (datetime.now(UTC) - timedelta(seconds=120)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lease["spec"]["renewTime"] = lease["spec"]["acquireTime"] = past
    target.sim.cluster.store.put(LEASE, lease)
    converges(target)


def test_two_runs_at_once_one_waits_for_the_other(target: Target) -> None:
    """The second run finds the first one's Lease: it fails at once naming the holder and the fix
    and writes nothing; the first run finishes; with --lock-wait the second waits and succeeds."""
    first = target.start()
    read_until(first, "📁 Kustomization/flux-system/flux-system applying:")
    second = run_cli(*target.args())
    assert second.code == 1, second.text  # a failure, not a usage error (README exit codes)
    assert "another run holds the cluster: Lease kube-system/fluxpush is held by" in second.err
    assert "--lock-wait" in second.err
    assert "📁" not in second.out and "✔" not in second.out, second.text  # it planned and wrote nothing
    waiting = subprocess.run([FLUXPUSH, *target.args(), "--lock-wait", "120"], capture_output=True,
                             text=True, timeout=180)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert waiting.returncode == 0, waiting.stdout + waiting.stderr
    assert consistent(target.sim) == [] and target.sim.cluster.store.get(LEASE) is None


def test_sigterm_during_plan_exits_143_without_a_traceback(target: Target) -> None:
    args = ["diff", *target.args()[1:-1]]
    process = subprocess.Popen([FLUXPUSH, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    read_until(process, "📁 ")  # the first node's plan is out; the others are still being planned
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, out + err
    assert "Traceback" not in out + err
    assert target.sim.cluster.store.get(LEASE) is None
    assert not [r for r in target.sim.requests.entries() if r.method in ("PUT", "POST", "DELETE")
                or (r.method == "PATCH" and r.query.get("dryRun") != "All")], "diff wrote to the cluster"
