"""`python -m kubesim serve`: run a simulated API server until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

from kubesim.cluster import Options
from kubesim.server import KubeSim


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kubesim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve HTTPS on 127.0.0.1 until SIGINT/SIGTERM")
    serve.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    serve.add_argument("--kubeconfig-out", type=Path, help="where to write the kubeconfig "
                       "(default: a file in a new temporary folder)")
    serve.add_argument("--latency", type=float, default=0.0, metavar="MS", help="delay every request")
    serve.add_argument("--state", type=Path, help="load objects from FILE at start, save them at exit")
    serve.add_argument("--no-controllers", action="store_true", help="no simulated workload readiness")
    serve.add_argument("--request-log", type=Path, help="append every request as a JSON line to FILE")
    serve.add_argument("--cluster-name", default=Options().cluster_name, help="cluster/context name")
    return parser


def serve(args: argparse.Namespace) -> int:
    """Start, print the URL and kubeconfig path, block until a signal, save state, stop."""
    sim = KubeSim(Options(controllers=not args.no_controllers, cluster_name=args.cluster_name),
                  port=args.port, latency_ms=args.latency, request_log=args.request_log)
    if args.state is not None and args.state.exists():
        sim.cluster.store.load(args.state)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    with sim:
        kubeconfig = args.kubeconfig_out or Path(tempfile.mkdtemp(prefix="kubesim-")) / "kubeconfig"
        sim.write_kubeconfig(kubeconfig)
        print(f"kubesim serving {sim.url}", flush=True)
        print(f"kubeconfig: {kubeconfig}", flush=True)
        done.wait()
    if args.state is not None:
        sim.cluster.store.save(args.state)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    args = _parser().parse_args(argv)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
