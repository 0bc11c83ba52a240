"""The `fluxpush` command line: verbs shaped after the `flux` CLI.

Exit codes: 0 ok, 1 problems found (a build failed, validation found problems), 2 usage or
internal error.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fluxpush import __version__, cli_options
from fluxpush.discover import DiscoverOptions, Discovery, Node, discover
from fluxpush.errors import FluxpushError, InputError, ToolError, UsageError
from fluxpush.flux.model import ObjectRef
from fluxpush.images import cli as images_cli
from fluxpush.images.run import SecretLookup
from fluxpush.policy import find_plain_secrets
from fluxpush.redact import redacting_streams, register_environment_secrets
from fluxpush.render.postbuild import VariableSourceLookup
from fluxpush.sops.keysource import NO_KEYS, SopsKeys, run_keys
from fluxpush.tools import find_helm, find_kustomize, is_pinned_version, tool_version
from fluxpush.views import (
    build_json,
    dumps_json,
    flux_object_table,
    get_json,
    helmrelease_live_table,
    helmrelease_table,
    kustomization_table,
    live_status_table,
    problem_dict,
    render_build,
    render_tree,
)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
KIND_ALIASES = {
    "ks": "Kustomization",
    "kustomization": "Kustomization",
    "kustomizations": "Kustomization",
    "hr": "HelmRelease",
    "helmrelease": "HelmRelease",
    "helmreleases": "HelmRelease",
}


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
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
        "--sops-age-key-file",
        metavar="FILE",
        help="age identities to decrypt SOPS values with, besides $SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE "
        "and spec.decryption.secretRef (used by diff, plan, apply; build and get always mask)",
    )
    common.add_argument(
        "--no-remote-bases",
        action="store_true",
        help="refuse remote bases (URLs) in kustomizations, as kustomize-controller's flag does",
    )
    common.add_argument("--kustomize", help="kustomize or kubectl binary (also $FLUXPUSH_KUSTOMIZE)")
    common.add_argument("--helm", help="helm binary (also $FLUXPUSH_HELM)")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every verb."""
    common = _common_options()
    parser = argparse.ArgumentParser(prog="fluxpush", description="Push-mode GitOps for Flux repositories.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    verbs.add_parser("version", parents=[common], help="print fluxpush's and the binaries' versions")
    build = verbs.add_parser("build", parents=[common], help="print the rendered objects in apply order")
    build.add_argument("target", nargs="*", metavar="ks NAME", help="only this Kustomization")
    build.add_argument("-o", "--output", choices=["yaml", "json"], default="yaml")
    get = verbs.add_parser("get", parents=[common], help="list Kustomizations/HelmReleases of the repository")
    get.add_argument("kind", choices=["ks", "kustomizations", "hr", "helmreleases", "all", "images"])
    get.add_argument("-o", "--output", choices=["table", "json"], default="table")
    cli_options.add_connection_options(get)
    tree = verbs.add_parser("tree", parents=[common], help="show a Kustomization's objects and children")
    tree.add_argument("kind", choices=["ks", "kustomization"])
    tree.add_argument("name")
    validate = verbs.add_parser("validate", parents=[common], help="schema, graph and policy checks")
    validate.add_argument("-o", "--output", choices=["text", "json"], default="text")
    _add_cluster_verbs(verbs, common)
    image_update = images_cli.add_image_update_verb(verbs, common)
    cli_options.add_connection_options(image_update)
    return parser


def _add_cluster_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    def cluster_verb(name: str, text: str) -> argparse.ArgumentParser:
        parser = verbs.add_parser(name, parents=[common], help=text)
        cli_options.add_cluster_options(parser)
        return parser

    diff = cluster_verb("diff", "show what an apply would change (exit 0 none, 1 changes, 2 error)")
    diff.add_argument("-o", "--output", choices=["text", "json"], default="text")
    plan = cluster_verb("plan", "plan every node against the cluster; writes nothing")
    plan.add_argument("-o", "--output", choices=["text", "json"], default="text")
    plan.add_argument("--plan-file", metavar="FILE", help="also write the plan as JSON to FILE")
    for name, text in (("apply", "apply every node in dependency order, prune, wait for health"),
                       ("reconcile", "apply one Kustomization now (flux reconcile)")):
        apply = cluster_verb(name, text)
        if name == "reconcile":
            apply.add_argument("kind", choices=["ks", "kustomization"])
            apply.add_argument("name")
            apply.add_argument("--with-dependencies", action="store_true",
                               help="also apply the nodes it dependsOn, first")
        apply.add_argument("--dry-run", action="store_true", help="plan only, write nothing")
        apply.add_argument("--notify", action=argparse.BooleanOptionalAction, default=True,
                           help="send each node's result through the repository's Alerts (default: on)")
        apply.add_argument("--lock-wait", type=float, default=0.0, metavar="SECONDS",
                           help="wait this long for another run's Lease on the cluster (default: fail)")
        apply.add_argument("-o", "--output", choices=["text", "json"], default="text")
        apply.add_argument("--plan-file", metavar="FILE", help="also write the applied changes as JSON")
    for name in ("suspend", "resume"):
        flag = cluster_verb(name, f"{name} reconciliation of a Kustomization (stored in the cluster)")
        flag.add_argument("kind", choices=["ks", "kustomization"])
        flag.add_argument("name")


def _find_repo(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def _cluster_path(repo: Path, given: str | None) -> str:
    if given or os.environ.get("FLUXPUSH_PATH"):
        return given or os.environ["FLUXPUSH_PATH"]
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


def _discover(args: argparse.Namespace, live_lookup: VariableSourceLookup | None = None) -> Discovery:
    repo = Path(args.repo).resolve() if args.repo else _find_repo(Path.cwd())
    options = DiscoverOptions(
        cluster_path=_cluster_path(repo, args.path),
        strict_substitute=not args.no_strict_substitute,
        no_remote_bases=args.no_remote_bases,
        source_dirs=_source_dirs(args.source),
        live_lookup=live_lookup,
        sops=_sops_keys(args, live_lookup),
    )
    return discover(repo, options)


def _sops_keys(args: argparse.Namespace, live_lookup: VariableSourceLookup | None) -> SopsKeys:
    """Keys for SOPS decryption: only runs against a cluster decrypt (`build` masks, as Flux's does)."""
    if live_lookup is None:
        return NO_KEYS
    return SopsKeys(run_keys(args.sops_age_key_file), live_lookup)


def _report_problems(discovery: Discovery) -> None:
    for notice in discovery.notices:
        print(f"ℹ {notice}", file=sys.stderr)
    for problem in discovery.problems:
        print(f"✗ {problem}", file=sys.stderr)


def _select(discovery: Discovery, target: list[str]) -> list[Node]:
    if not target:
        return discovery.ordered_nodes()
    if len(target) != 2 or KIND_ALIASES.get(target[0]) != "Kustomization":
        raise UsageError("usage: fluxpush build [ks NAME]")
    matches = [
        n for n in discovery.ordered_nodes() if n.ref.kind == "Kustomization" and n.ref.name == target[1]
    ]
    if not matches:
        names = ", ".join(n.ref.name for n in discovery.ordered_nodes() if n.ref.kind == "Kustomization")
        raise UsageError(f"Kustomization {target[1]!r} not found; the repository has: {names}")
    return matches


def cmd_version(args: argparse.Namespace) -> int:
    print(f"fluxpush {__version__}")
    for finder in (find_kustomize, find_helm):
        try:
            tool = finder()
            version = tool_version(tool)
            note = "" if is_pinned_version(tool, version) else "  (untested version)"
            print(f"{tool.name}: {version} {' '.join(tool.argv)} (from {tool.found_by}){note}")
        except (ToolError, FluxpushError) as exc:
            print(f"✗ {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    discovery = _discover(args)
    nodes = _select(discovery, args.target)
    if args.output == "json":
        sys.stdout.write(dumps_json(build_json(discovery, nodes)))
    else:
        sys.stdout.write(render_build(discovery, nodes))
        _report_problems(discovery)
    return EXIT_PROBLEMS if any(n.error for n in nodes) or discovery.problems else EXIT_OK


@contextmanager
def _live_secrets(args: argparse.Namespace) -> Iterator[SecretLookup | None]:
    """Secrets from the cluster the options name (ImageRepository secretRef), else None."""
    if not cli_options.names_a_cluster(args):
        yield None
        return
    from fluxpush import cluster_cli  # the cluster client is slow to import: only when asked for

    with cluster_cli.open_cluster(args) as client:
        yield lambda kind, namespace, name: client.get("v1", kind, name, namespace)


def cmd_image_update(args: argparse.Namespace) -> int:
    with _live_secrets(args) as secrets:
        return images_cli.cmd_image_update(_discover(args), secrets, args.dry_run)


def cmd_get(args: argparse.Namespace) -> int:
    discovery = _discover(args)
    kind = args.kind
    if kind == "images":
        with _live_secrets(args) as secrets:
            return images_cli.cmd_get_images(discovery, secrets, args.output)
    live = None
    if cli_options.names_a_cluster(args):
        from fluxpush import cluster_cli  # the cluster client is slow to import: only when asked for
        from fluxpush.helm.status import release_status

        live = cluster_cli.live_status(args, discovery)
        if kind in ("all", "hr", "helmreleases"):
            with cluster_cli.open_cluster(args) as client:
                live.update(release_status(client, discovery))
    if args.output == "json":
        kinds = ["Kustomization", "HelmRelease"] if kind == "all" else [KIND_ALIASES[kind]]
        entries = get_json(discovery, kinds)
        for entry in entries:
            ref = ObjectRef(entry["kind"], entry["namespace"], entry["name"])
            if live is not None and ref in live:
                entry["live"] = live[ref]
        sys.stdout.write(dumps_json(entries))
        return EXIT_OK
    sections = []
    if kind in ("all", "ks", "kustomizations"):
        sections.append(kustomization_table(discovery))
        if live is not None:
            sections.append(live_status_table(
                {r: v for r, v in live.items() if r.kind == "Kustomization"}))
    if kind in ("all", "hr", "helmreleases"):
        sections.append(helmrelease_table(discovery))
        if live is not None:
            releases = {r: v for r, v in live.items() if r.kind == "HelmRelease"}
            sections.append(helmrelease_live_table(releases))
    if kind == "all":
        sections.append(flux_object_table(discovery))
    sys.stdout.write("\n".join(sections))
    _report_problems(discovery)
    return EXIT_OK


def cmd_tree(args: argparse.Namespace) -> int:
    discovery = _discover(args)
    matches = [r for r in discovery.nodes if r.kind == "Kustomization" and r.name == args.name]
    if not matches:
        raise UsageError(f"Kustomization {args.name!r} not found")
    sys.stdout.write(render_tree(discovery, matches[0]))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    discovery = _discover(args)
    problems = [*discovery.problems, *find_plain_secrets(discovery)]
    if args.output == "json":
        sys.stdout.write(
            dumps_json(
                {
                    "revision": discovery.revision,
                    "nodes": len(discovery.nodes),
                    "problems": [problem_dict(p) for p in problems],
                    "notices": [str(n) for n in discovery.notices],
                }
            )
        )
    else:
        for notice in discovery.notices:
            print(f"ℹ {notice}")
        for problem in problems:
            print(f"✗ {problem}")
        status = f"{len(problems)} problem(s) found" if problems else "✔ no problems found"
        print(f"{status} in {len(discovery.nodes)} nodes at {discovery.revision}")
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_cluster(args: argparse.Namespace) -> int:
    """diff, plan, apply, reconcile, suspend, resume (see `cluster_cli`)."""
    from fluxpush import cluster_cli  # the cluster client is slow to import: only for these verbs

    def discoverer(live_lookup: VariableSourceLookup | None) -> Discovery:
        return _discover(args, live_lookup)

    if args.verb in ("diff", "plan"):
        return cluster_cli.cmd_plan(args, discoverer, diff_exit=args.verb == "diff")
    if args.verb == "apply":
        return cluster_cli.cmd_apply(args, discoverer)
    kind = KIND_ALIASES[args.kind]
    if args.verb == "reconcile":
        return cluster_cli.cmd_reconcile(args, discoverer, kind)
    return cluster_cli.cmd_suspend(args, discoverer, kind, args.verb == "suspend")


COMMANDS = {
    "version": cmd_version,
    "build": cmd_build,
    "get": cmd_get,
    "tree": cmd_tree,
    "validate": cmd_validate,
    "image-update": cmd_image_update,
    **dict.fromkeys(("diff", "plan", "apply", "reconcile", "suspend", "resume"), cmd_cluster),
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fluxpush` console script."""
    args = build_parser().parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):  # stream line by line into pipes too (CI logs)
        sys.stdout.reconfigure(line_buffering=True)
    if args.kustomize:
        os.environ["FLUXPUSH_KUSTOMIZE"] = args.kustomize
    if args.helm:
        os.environ["FLUXPUSH_HELM"] = args.helm
    register_environment_secrets(os.environ)
    with redacting_streams():
        return _run_verb(args)


def _run_verb(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.verb](args)
    except UsageError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except FluxpushError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
