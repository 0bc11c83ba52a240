"""CPU per request of fluxpush's API-server pool (`fluxpush.kube.http`) and of the kubernetes
client's urllib3 stack, against the same kubesim over TLS (decision 0001 keeps the pool while this
shows it pays for itself).

Only the sending thread's CPU time is counted (`time.thread_time`), so kubesim's own threads in this
process do not blur the figures. Each side sends the same requests with the same headers and reads
the whole answer: GETs of one ConfigMap, and server-side dry-run applies of it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from kubernetes.client import rest

from fluxpush.kube.connection import connect_sandbox
from fluxpush.kube.http import ConnectionPool
from kubesim import KubeSim, Options

REQUESTS = 1000
ROUNDS = 3
PATH = "/api/v1/namespaces/default/configmaps/bench"
APPLY = PATH + "?fieldManager=bench&dryRun=All"
TIMEOUT = (10.0, 60.0)


@dataclass(frozen=True, slots=True)
class Figure:
    """Median CPU milliseconds per request of one stack for one kind of request."""

    stack: str
    request: str
    cpu_ms: float


def _cpu_ms_per_request(send: Callable[[], object], count: int) -> float:
    rounds = []
    for _ in range(ROUNDS):
        started = time.thread_time()
        for _ in range(count):
            send()
        rounds.append((time.thread_time() - started) * 1000 / count)
    return statistics.median(rounds)


def measure(count: int = REQUESTS) -> list[Figure]:
    """Both stacks' CPU per GET and per dry-run apply against a fresh kubesim."""
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "bench", "namespace": "default"}, "data": {"k": "v"}}).encode()
    with KubeSim(Options(cluster_name="bench", controllers=False)) as sim:
        configuration = connect_sandbox(sim).configuration
        bearer = configuration.auth_settings()["BearerToken"]
        headers = {"Accept": "application/json", bearer["key"]: bearer["value"]}
        apply_headers = {**headers, "Content-Type": "application/apply-patch+yaml"}
        pool, urllib3_stack = ConnectionPool(configuration, 4), rest.RESTClientObject(configuration)
        pool.request("PATCH", PATH + "?fieldManager=bench", body, apply_headers, TIMEOUT)
        host = configuration.host.rstrip("/")
        sends: dict[tuple[str, str], Callable[[], object]] = {
            ("fluxpush.kube.http", "GET"): lambda: pool.request("GET", PATH, None, headers, TIMEOUT).data,
            ("kubernetes/urllib3", "GET"): lambda: urllib3_stack.request(
                "GET", host + PATH, headers=dict(headers), _request_timeout=TIMEOUT).read(),
            ("fluxpush.kube.http", "dry-run apply"): lambda: pool.request(
                "PATCH", APPLY, body, apply_headers, TIMEOUT).data,
            ("kubernetes/urllib3", "dry-run apply"): lambda: urllib3_stack.request(
                "PATCH", host + APPLY, headers=dict(apply_headers), body=body,
                _request_timeout=TIMEOUT).read(),
        }
        for send in sends.values():
            send()  # every connection opened and TLS set up before counting
        figures = [Figure(stack, kind, _cpu_ms_per_request(send, count))
                   for (stack, kind), send in sends.items()]
        pool.close()
    return figures


def format_figures(figures: list[Figure]) -> str:
    """A markdown table: one row per request kind, the two stacks side by side, and their ratio."""
    by = {(f.stack, f.request): f.cpu_ms for f in figures}
    lines = ["| request | fluxpush.kube.http | kubernetes/urllib3 | ratio |", "|---|---|---|---|"]
    for kind in dict.fromkeys(f.request for f in figures):
        ours, theirs = by[("fluxpush.kube.http", kind)], by[("kubernetes/urllib3", kind)]
        lines.append(f"| {kind} | {ours:.2f} ms CPU | {theirs:.2f} ms CPU | {ours / theirs:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_figures(measure()))
