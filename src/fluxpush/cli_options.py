"""Command-line options of the verbs that talk to a cluster: where it is and how a run goes.

Kept apart from `cluster_cli` so that building the parser (and every verb that needs no cluster,
`build` above all) does not load the cluster client.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from fluxpush.errors import UsageError
from fluxpush.flux.duration import parse_duration
from fluxpush.planning.options import NODE_CONCURRENCY, EngineOptions, PlanWay


def duration(text: str) -> float:
    """An argparse type: a Flux duration (`5m`, `1h30m`) in seconds; a bad one is a usage error."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """An argparse type: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds (0 or more), got {text!r}")
    return value


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """Where the cluster is: kubeconfig, EKS or the sandbox."""
    where = parser.add_argument_group("cluster")
    where.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    where.add_argument("--context", help="kubeconfig context (default: the current one)")
    where.add_argument("--eks-cluster", help="EKS cluster name (credentials from the AWS environment)")
    where.add_argument("--region", help="AWS region of the EKS cluster (default: $AWS_REGION)")
    where.add_argument("--role-arn", help="IAM role to assume before talking to EKS")
    where.add_argument("--sandbox", action="store_true", help="use an embedded kubesim API server")
    where.add_argument(
        "--sandbox-state", type=Path, help="load the sandbox's objects from FILE, save at exit"
    )


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every verb that plans or applies."""
    add_connection_options(parser)
    run = parser.add_argument_group("run")
    run.add_argument(
        "--plan-way",
        choices=[w.value for w in PlanWay],
        default=PlanWay.SERVER.value,
        help="server: dry-run apply per object (exact, needs write access); client: compare "
        "locally with listed live objects (read-only), dry-run only what it cannot decide",
    )
    run.add_argument(
        "--prune",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="delete objects removed from Git (default: as each Kustomization's spec.prune)",
    )
    run.add_argument("--force", action="store_true", help="recreate objects whose immutable fields changed")
    run.add_argument(
        "--allow-destructive-prune",
        action="store_true",
        help="allow a prune of most of a node's objects, or of Namespaces, CRDs, PVCs",
    )
    run.add_argument("--concurrency", type=positive_int, default=NODE_CONCURRENCY,
                     help=f"nodes reconciled at once (default {NODE_CONCURRENCY})")
    run.add_argument("--kubeconfig-for", action="append", default=[], metavar="NAMESPACE/NAME=FILE",
                     help="the kubeconfig of the cluster a spec.kubeConfig Secret NAMESPACE/NAME describes, "
                     "when that Secret is not in the current cluster (repeatable)")


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """EngineOptions from the command line."""
    return EngineOptions(
        way=PlanWay(args.plan_way),
        prune=args.prune,
        force=args.force,
        allow_destructive_prune=args.allow_destructive_prune,
        timeout=getattr(args, "timeout", None),
        concurrency=args.concurrency,
        kubeconfigs=kubeconfig_mappings(args.kubeconfig_for),
    )


def add_timeout_option(parser: argparse.ArgumentParser) -> None:
    """`--timeout` of the verbs that wait for health."""
    parser.add_argument("--timeout", type=duration, metavar="DURATION",
                        help="health-check timeout per node, e.g. 5m (default: each node's spec.timeout)")


def kubeconfig_mappings(values: list[str]) -> dict[str, str]:
    """`--kubeconfig-for NAMESPACE/NAME=FILE` options as {"NAMESPACE/NAME": FILE}."""
    found = {}
    for value in values:
        ref, sep, path = value.partition("=")
        if not sep or ref.count("/") != 1 or not path or not all(ref.split("/")):
            raise UsageError(f"--kubeconfig-for {value!r}: expected NAMESPACE/NAME=FILE")
        if not Path(path).is_file():
            raise UsageError(f"--kubeconfig-for {value!r}: {path} is not a file")
        found[ref] = path
    return found


def names_a_cluster(args: argparse.Namespace) -> bool:
    """Whether the command line or $KUBECONFIG says which cluster to read (for `get`, which works
    without one)."""
    return bool(args.sandbox or args.kubeconfig or args.context or args.eks_cluster
                or os.environ.get("KUBECONFIG"))
