"""Opening the client of a cluster target (`fluxpush.app.request.ClusterTarget`): the one place
either face connects to a cluster."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fluxpush.app.request import ClusterTarget, Eks, InlineKubeconfig, Sandbox
from fluxpush.kube import KubeClient, connect_eks, connect_kubeconfig, connect_sandbox
from fluxpush.kube.stop import StopSwitch


@contextmanager
def open_cluster(target: ClusterTarget, stop: StopSwitch | None = None) -> Iterator[KubeClient]:
    """A client for `target`, closed (and a sandbox stopped, its state saved) on exit; once `stop`
    is thrown, the client refuses new writes."""
    if isinstance(target, Sandbox):
        with _sandbox(target, stop) as client:
            yield client
        return
    if isinstance(target, InlineKubeconfig):
        with _inline_kubeconfig(target.text) as path, \
                KubeClient(connect_kubeconfig(path), stop=stop) as client:
            yield client
        return
    if isinstance(target, Eks):
        connection = connect_eks(target.cluster, target.region, role_arn=target.role_arn)
    else:
        connection = connect_kubeconfig(target.path, target.context)
    with KubeClient(connection, stop=stop) as client:
        yield client


@contextmanager
def _sandbox(target: Sandbox, stop: StopSwitch | None) -> Iterator[KubeClient]:
    from kubesim import KubeSim, Options  # the sandbox is optional at run time

    sim = KubeSim(Options(cluster_name="sandbox"))
    if target.state and target.state.exists():
        sim.cluster.store.load(target.state)
    with sim, KubeClient(connect_sandbox(sim), stop=stop) as client:
        yield client
        if target.state:
            sim.cluster.store.save(target.state)


@contextmanager
def _inline_kubeconfig(text: str) -> Iterator[str]:
    # The system temporary folder: inside a Docker action $RUNNER_TEMP names the host's folder, which
    # is not mounted in the container (actions/runner#1984).
    with tempfile.TemporaryDirectory(prefix="fluxpush-kube-") as scratch:
        path = Path(scratch) / "kubeconfig"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        yield str(path)
