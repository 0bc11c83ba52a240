"""Print the action image's size and cold start: `podman run` to the first request kubesim serves.

    .venv/bin/python tests/container/measure.py [--runs 5]

Each run is the runner's docker line (tests/container/conftest.py) for a push to main that deploys the
example repository to a fresh kubesim, reporting to the fake GitHub. Printed per run: seconds from
starting `podman run` to kubesim's first request (the container starting, Python importing fluxpush,
the inputs and event read, the GitHub App token fetched), and to the container's exit (the whole
deploy). Then the medians, and the image's size as local storage counts it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: fakegithub, action, container

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from action.conftest import REPO, Checkout, git, push_event
from container.conftest import ContainerRunner
from container.image import PROJECT_ROOT, ensure_image
from fakegithub import FakeGitHub
from fluxpush.report.github_app import DEPLOY_PERMISSIONS
from kubesim import KubeSim, Options


def first_request_after(sim: KubeSim, started: float, stop: threading.Event, seen: list[float]) -> None:
    while not stop.is_set():
        if len(sim.requests):
            seen.append(time.monotonic() - started)
            return
        time.sleep(0.002)


def make_checkout(folder: Path) -> Checkout:
    root = folder / "workspace"
    shutil.copytree(PROJECT_ROOT / "examples" / "gitops-platform", root)
    git(folder, "init", "-q", "-b", "main", str(root))
    for key, value in (("user.name", "m"), ("user.email", "m@example.com"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return Checkout(root, git(root, "rev-parse", "HEAD"))


def one_run(image: str, key: rsa.RSAPrivateKey, pem: str) -> tuple[float, float]:
    with (
        tempfile.TemporaryDirectory(prefix="fluxpush-measure-") as scratch,
        FakeGitHub(key.public_key()) as github,
        KubeSim(Options(cluster_name="dev", ready_delay=0.05, crd_delay=0.05)) as sim,
    ):
        github.state.install(REPO, dict(DEPLOY_PERMISSIONS))
        checkout = make_checkout(Path(scratch))
        runner = ContainerRunner(image, Path(scratch), github)
        runner.inputs.update({
            "cluster-path": "clusters/dev",
            "github-app-id": str(github.state.app.client_id),
            "github-app-private-key": pem,
            "kubeconfig": sim.write_kubeconfig(Path(scratch) / "kubeconfig").read_text(),
        })
        stop, seen = threading.Event(), []
        started = time.monotonic()
        watcher = threading.Thread(target=first_request_after, args=(sim, started, stop, seen))
        watcher.start()
        run = runner("push", push_event(checkout.base_sha, checkout.base_sha, "base"), checkout.root,
                     checkout.base_sha)
        total = time.monotonic() - started
        stop.set()
        watcher.join()
        if run.code != 0 or not seen:
            raise SystemExit(f"the run failed (exit {run.code}):\n{run.log[-3000:]}")
        return seen[0], total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    image, timings = ensure_image()
    print(f"image {image} ({timings})")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    firsts, totals = [], []
    for number in range(1, args.runs + 1):
        first, total = one_run(image, key, pem)
        firsts.append(first)
        totals.append(total)
        print(f"run {number}: first cluster request after {first:.2f} s, exit after {total:.2f} s")
    print(f"median: first cluster request {statistics.median(firsts):.2f} s, "
          f"whole push deploy {statistics.median(totals):.2f} s")
    size = subprocess.run(["podman", "image", "inspect", "--format", "{{.Size}}", image],
                          capture_output=True, text=True, check=True).stdout.strip()
    print(f"image size: {int(size) / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
