"""The command line's options and how they become a request: argparse types, the option groups the
verbs share, and the converters from parsed arguments to the composition root's values (checkout,
node selection, cluster target, engine options).

Kept light: building the parser, and every verb that needs no cluster (`build` above all), does not
load the cluster client.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path

from fluxpush.app.request import (
    CheckoutRequest,
    ClusterTarget,
    Eks,
    Kubeconfig,
    Sandbox,
)
from fluxpush.app.request import engine_options as build_engine_options
from fluxpush.app.selection import EVERY_NODE, KIND_ALIASES, NodeSelection
from fluxpush.errors import UsageError
from fluxpush.flux.duration import parse_duration
from fluxpush.flux.model import ObjectRef
from fluxpush.planning.options import NODE_CONCURRENCY, EngineOptions, PlanWay

# -- argparse types --


def duration(text: str) -> float:
    """An argparse type: a Flux duration (`5m`, `1h30m`) of more than 0 seconds; a bad one is a usage
    error (`0s` would otherwise silently mean "the spec's timeout")."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration of more than 0 seconds, e.g. 5m, got {text!r}")
    return value


def output_file(text: str) -> str:
    """An argparse type: a file the command will write, in an existing writable folder; checked when the
    command line is read, before anything is planned or applied."""
    folder = Path(text).parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such folder {str(folder)!r}")
    if not os.access(folder, os.W_OK | os.X_OK) or Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text}: cannot write there")
    return text


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


# -- option groups --


def tool_options() -> argparse.ArgumentParser:
    """`--kustomize` and `--helm`: every verb."""
    tools = argparse.ArgumentParser(add_help=False)
    tools.add_argument("--kustomize", help="kustomize or kubectl binary (also $FLUXPUSH_KUSTOMIZE)")
    tools.add_argument("--helm", help="helm binary (also $FLUXPUSH_HELM)")
    return tools


def repo_options() -> argparse.ArgumentParser:
    """Where the repository is and how Flux's controllers are set: every verb that reads it."""
    common = argparse.ArgumentParser(add_help=False, parents=[tool_options()])
    common.add_argument(
        "--repo", help="repository checkout (default: the git work tree around the current directory)"
    )
    common.add_argument(
        "--path",
        help="cluster path inside the repository, e.g. clusters/dev "
        "(default: the only folder under clusters/, or $FLUXPUSH_PATH)",
    )
    common.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="KIND/NAMESPACE/NAME=DIR",
        help="map a source that is not this repository to a local directory (repeatable)",
    )
    common.add_argument(
        "--no-strict-substitute",
        action="store_true",
        help="unset postBuild variables become empty instead of failing (Flux < 2.9)",
    )
    common.add_argument(
        "--no-remote-bases",
        action="store_true",
        help="refuse remote bases (URLs) in kustomizations, as kustomize-controller's flag does",
    )
    return common


def decrypt_options() -> argparse.ArgumentParser:
    """`--sops-age-key-file`: the verbs that decrypt (those against a cluster)."""
    decrypt = argparse.ArgumentParser(add_help=False)
    decrypt.add_argument(
        "--sops-age-key-file",
        metavar="FILE",
        help="age identities to decrypt SOPS values with, besides $SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE "
        "and spec.decryption.secretRef",
    )
    return decrypt


def add_target(parser: argparse.ArgumentParser, *, required: bool, kinds: tuple[str, ...]) -> None:
    """`KIND NAME` (NAME or NAMESPACE/NAME) and `-n/--namespace`, as `flux` takes them."""
    count = None if required else "?"
    parser.add_argument("kind", choices=kinds, nargs=count, metavar="KIND", help=" or ".join(kinds))
    parser.add_argument("name", nargs=count, metavar="NAME", help="NAME or NAMESPACE/NAME")
    parser.add_argument("-n", "--namespace", help="the namespace of NAME (when two namespaces use it)")


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


def add_timeout_option(parser: argparse.ArgumentParser) -> None:
    """`--timeout` of the verbs that wait for health."""
    parser.add_argument("--timeout", type=duration, metavar="DURATION",
                        help="health-check timeout per node, e.g. 5m (default: each node's spec.timeout)")


# -- from parsed arguments to a request --


def _find_repo(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def _cluster_path(repo: Path, given: str | None, environ: Mapping[str, str]) -> str:
    if given or environ.get("FLUXPUSH_PATH"):
        return given or environ["FLUXPUSH_PATH"]
    clusters = sorted(p.name for p in (repo / "clusters").glob("*") if p.is_dir())
    if len(clusters) == 1:
        return f"clusters/{clusters[0]}"
    raise UsageError(
        "--path is required: "
        + (
            f"choose one of clusters/{', clusters/'.join(clusters)}"
            if clusters
            else "no clusters/ folder to guess from"
        )
    )


def _source_dirs(mappings: list[str]) -> dict[ObjectRef, Path]:
    result = {}
    for mapping in mappings:
        ref_text, sep, directory = mapping.partition("=")
        parts = ref_text.split("/")
        if not sep or len(parts) != 3 or not directory:
            raise UsageError(f"--source {mapping!r}: expected KIND/NAMESPACE/NAME=DIR")
        result[ObjectRef(*parts)] = Path(directory).resolve()
    return result


def checkout_request(args: argparse.Namespace, environ: Mapping[str, str]) -> CheckoutRequest:
    """The checkout `--repo`/`--path`/`--source`… name (the repository around the working directory
    and its only cluster folder by default)."""
    repo = Path(args.repo).resolve() if args.repo else _find_repo(Path.cwd())
    if not repo.is_dir():
        raise UsageError(f"--repo {args.repo}: no such directory; give the repository checkout")
    return CheckoutRequest(
        root=repo,
        cluster_path=_cluster_path(repo, args.path, environ),
        strict_substitute=not args.no_strict_substitute,
        no_remote_bases=args.no_remote_bases,
        source_dirs=_source_dirs(args.source),
        age_key_file=getattr(args, "sops_age_key_file", None),
    )


def node_selection(args: argparse.Namespace) -> NodeSelection:
    """The node `KIND NAME [-n NAMESPACE]` names (`--with-dependencies`: and those it depends on), or
    every node when the verb was given none."""
    kind = getattr(args, "kind", None)
    if kind is None:
        if getattr(args, "namespace", None):
            raise UsageError(f"--namespace needs a KIND and NAME, e.g. fluxpush {args.verb} ks NAME")
        return EVERY_NODE
    if args.name is None:
        raise UsageError(f"{kind} needs a NAME, e.g. fluxpush {args.verb} {kind} NAME")
    return NodeSelection(KIND_ALIASES[kind], args.name, args.namespace,
                         with_dependencies=getattr(args, "with_dependencies", False))


def names_a_cluster(args: argparse.Namespace, environ: Mapping[str, str]) -> bool:
    """Whether the command line or $KUBECONFIG says which cluster to read (for `get`, which works
    without one)."""
    return bool(args.sandbox or args.kubeconfig or args.context or args.eks_cluster
                or environ.get("KUBECONFIG"))


def cluster_target(args: argparse.Namespace, environ: Mapping[str, str]) -> ClusterTarget:
    """The cluster `--sandbox`, `--eks-cluster`/`--region`/`--role-arn` or `--kubeconfig`/`--context`
    (else $KUBECONFIG) names."""
    if args.sandbox:
        return Sandbox(args.sandbox_state)
    if args.eks_cluster:
        region = args.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
        if not region:
            raise UsageError("--region (or $AWS_REGION) is required with --eks-cluster")
        return Eks(args.eks_cluster, region, args.role_arn)
    return Kubeconfig(args.kubeconfig or environ.get("KUBECONFIG") or None, args.context)


def kubeconfig_mappings(values: list[str]) -> dict[str, str]:
    """`--kubeconfig-for NAMESPACE/NAME=FILE` options as {"NAMESPACE/NAME": FILE}."""
    found = {}
    for value in values:
        ref, sep, path = value.partition("=")
        if not sep or ref.count("/") != 1 or not path or not all(ref.split("/")):
            raise UsageError(f"--kubeconfig-for {value!r}: expected NAMESPACE/NAME=FILE")
        found[ref] = path
    return found


def engine_options(args: argparse.Namespace) -> EngineOptions:
    """EngineOptions from the command line (`--kubeconfig-for` files relative to the working directory)."""
    return build_engine_options(
        way=PlanWay(args.plan_way),
        prune=args.prune,
        force=args.force,
        allow_destructive_prune=args.allow_destructive_prune,
        timeout=getattr(args, "timeout", None),
        concurrency=args.concurrency,
        kubeconfig_for=kubeconfig_mappings(args.kubeconfig_for),
        base=Path.cwd(),
        named="--kubeconfig-for",
    )
