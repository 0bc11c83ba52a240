"""Command-line options of the verbs that talk to a cluster: where it is and how a run goes.

Kept apart from `cluster_cli` so that building the parser (and every verb that needs no cluster,
`build` above all) does not load the cluster client.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fluxpush.engine.options import NODE_CONCURRENCY, EngineOptions, PlanWay
from fluxpush.errors import UsageError
from fluxpush.flux.duration import parse_duration


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
    run.add_argument("--timeout", help="health-check timeout per node, e.g. 5m (default: each node's)")
    run.add_argument("--concurrency", type=int, default=NODE_CONCURRENCY,
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
        timeout=parse_duration(args.timeout) if args.timeout else None,
        concurrency=args.concurrency,
        kubeconfigs=kubeconfig_mappings(args.kubeconfig_for),
    )


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
    """Whether the command line says which cluster to read (for `get`, which works without one)."""
    return bool(args.sandbox or args.kubeconfig or args.context or args.eks_cluster)
