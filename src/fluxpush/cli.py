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

from fluxpush import __version__, cli_help, cli_options
from fluxpush.discover import DiscoverOptions, Discovery, discover
from fluxpush.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, FluxpushError, InputError, ToolError, UsageError
from fluxpush.flux.model import ObjectRef
from fluxpush.images import cli as images_cli
from fluxpush.images.run import SecretLookup
from fluxpush.policy import find_plain_secrets
from fluxpush.redact import redacting_streams, register_environment_secrets
from fluxpush.render.postbuild import VariableSourceLookup
from fluxpush.selection import KIND_ALIASES, TARGET_KIND_WORDS, find_node, with_dependencies
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


def _tool_options() -> argparse.ArgumentParser:
    tools = argparse.ArgumentParser(add_help=False)
    tools.add_argument("--kustomize", help="kustomize or kubectl binary (also $FLUXPUSH_KUSTOMIZE)")
    tools.add_argument("--helm", help="helm binary (also $FLUXPUSH_HELM)")
    return tools


def _repo_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, parents=[_tool_options()])
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


def _decrypt_options() -> argparse.ArgumentParser:
    decrypt = argparse.ArgumentParser(add_help=False)
    decrypt.add_argument(
        "--sops-age-key-file",
        metavar="FILE",
        help="age identities to decrypt SOPS values with, besides $SOPS_AGE_KEY, $SOPS_AGE_KEY_FILE "
        "and spec.decryption.secretRef",
    )
    return decrypt


def _add_target(parser: argparse.ArgumentParser, *, required: bool, kinds: tuple[str, ...]) -> None:
    """`KIND NAME` (NAME or NAMESPACE/NAME) and `-n/--namespace`, as `flux` takes them."""
    count = None if required else "?"
    parser.add_argument("kind", choices=kinds, nargs=count, metavar="KIND", help=" or ".join(kinds))
    parser.add_argument("name", nargs=count, metavar="NAME", help="NAME or NAMESPACE/NAME")
    parser.add_argument("-n", "--namespace", help="the namespace of NAME (when two namespaces use it)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every verb."""
    common = _repo_options()
    parser = argparse.ArgumentParser(prog="fluxpush", description="Push-mode GitOps for Flux repositories.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    cli_help.add_verb(verbs, "version", [_tool_options()])
    build = cli_help.add_verb(verbs, "build", [common])
    _add_target(build, required=False, kinds=TARGET_KIND_WORDS)
    build.add_argument("-o", "--output", choices=["yaml", "json"], default="yaml")
    get = cli_help.add_verb(verbs, "get", [common])
    get.add_argument("kind", choices=["ks", "kustomizations", "hr", "helmreleases", "all", "images"])
    get.add_argument("-o", "--output", choices=["table", "json"], default="table")
    cli_options.add_connection_options(get)
    tree = cli_help.add_verb(verbs, "tree", [common])
    _add_target(tree, required=True, kinds=("ks", "kustomization"))
    validate = cli_help.add_verb(verbs, "validate", [common])
    validate.add_argument("-o", "--output", choices=["text", "json"], default="text")
    _add_cluster_verbs(verbs, [common, _decrypt_options()])
    image_update = images_cli.add_image_update_verb(verbs, common)
    cli_help.describe(image_update, "image-update")
    cli_options.add_connection_options(image_update)
    return parser


def _add_cluster_verbs(
    verbs: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]
) -> None:
    def cluster_verb(name: str) -> argparse.ArgumentParser:
        parser = cli_help.add_verb(verbs, name, parents)
        cli_options.add_cluster_options(parser)
        return parser

    diff = cluster_verb("diff")
    _add_target(diff, required=False, kinds=TARGET_KIND_WORDS)
    diff.add_argument("-o", "--output", choices=["text", "json"], default="text")
    plan = cluster_verb("plan")
    plan.add_argument("-o", "--output", choices=["text", "json"], default="text")
    plan.add_argument("--plan-file", metavar="FILE",
                      help="also write the plan to FILE, for `fluxpush apply --plan-file FILE` to execute")
    for name in ("apply", "reconcile"):
        apply = cluster_verb(name)
        if name == "reconcile":
            _add_target(apply, required=True, kinds=TARGET_KIND_WORDS)
            apply.add_argument("--with-dependencies", action="store_true",
                               help="also apply the nodes it dependsOn, first")
        cli_options.add_timeout_option(apply)
        apply.add_argument("--dry-run", action="store_true", help="plan only, write nothing")
        apply.add_argument("--notify", action=argparse.BooleanOptionalAction, default=True,
                           help="send each node's result through the repository's Alerts (default: on)")
        apply.add_argument("--lock-wait", type=cli_options.seconds, default=0.0, metavar="SECONDS",
                           help="wait this long for another run's Lease on the cluster (default: fail)")
        apply.add_argument("-o", "--output", choices=["text", "json"], default="text")
        apply.add_argument("--plan-file", metavar="FILE", help=(
            "apply exactly the plan FILE that `fluxpush plan --plan-file FILE` wrote (refused when "
            "the checkout or the cluster moved in a way that invalidates it)" if name == "apply"
            else "also write the applied changes as JSON"))
    for name in ("suspend", "resume"):
        flag = cli_help.add_verb(verbs, name, parents[:1])
        cli_options.add_connection_options(flag)
        _add_target(flag, required=True, kinds=("ks", "kustomization"))


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
    if not repo.is_dir():
        raise UsageError(f"--repo {args.repo}: no such directory; give the repository checkout")
    options = DiscoverOptions(
        cluster_path=_cluster_path(repo, args.path),
        strict_substitute=not args.no_strict_substitute,
        no_remote_bases=args.no_remote_bases,
        source_dirs=_source_dirs(args.source),
        live_lookup=live_lookup,
        sops=_sops_keys(args, live_lookup),
        github_repository=os.environ.get("GITHUB_REPOSITORY", ""),  # a checkout in a GitHub workflow
    )
    return discover(repo, options)


def _sops_keys(args: argparse.Namespace, live_lookup: VariableSourceLookup | None) -> SopsKeys:
    """Keys for SOPS decryption: only runs against a cluster decrypt (`build` masks, as Flux's does)."""
    if live_lookup is None:
        return NO_KEYS
    return SopsKeys(run_keys(getattr(args, "sops_age_key_file", None)), live_lookup)


def _report_problems(discovery: Discovery) -> None:
    for notice in discovery.notices:
        print(f"ℹ {notice}", file=sys.stderr)
    for problem in discovery.problems:
        print(f"✗ {problem}", file=sys.stderr)


def _target(discovery: Discovery, args: argparse.Namespace) -> ObjectRef | None:
    """The node `KIND NAME [-n NAMESPACE]` names, None when the verb was given none."""
    if args.kind is None:
        if args.namespace:
            raise UsageError(f"--namespace needs a KIND and NAME, e.g. fluxpush {args.verb} ks NAME")
        return None
    if args.name is None:
        raise UsageError(f"{args.kind} needs a NAME, e.g. fluxpush {args.verb} {args.kind} NAME")
    return find_node(discovery, KIND_ALIASES[args.kind], args.name, args.namespace)


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
            return EXIT_FAILED
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    discovery = _discover(args)
    target = _target(discovery, args)
    nodes = [discovery.nodes[target]] if target else discovery.ordered_nodes()
    if args.output == "json":
        sys.stdout.write(dumps_json(build_json(discovery, nodes)))
    else:
        sys.stdout.write(render_build(discovery, nodes))
        _report_problems(discovery)
    return EXIT_FAILED if any(n.error for n in nodes) or discovery.problems else EXIT_OK


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
                live.update(release_status(client, discovery.nodes.values()))
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
    target = _target(discovery, args)
    assert target is not None  # tree's KIND and NAME are required
    sys.stdout.write(render_tree(discovery, target))
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
    return EXIT_FAILED if problems else EXIT_OK


def cmd_cluster(args: argparse.Namespace) -> int:
    """diff, plan, apply, reconcile, suspend, resume (see `cluster_cli`)."""
    from fluxpush import cluster_cli  # the cluster client is slow to import: only for these verbs

    def discoverer(live_lookup: VariableSourceLookup | None) -> Discovery:
        return _discover(args, live_lookup)

    def targets(discovery: Discovery) -> list[ObjectRef] | None:
        target = _target(discovery, args) if "kind" in args else None
        if target is None:
            return None
        if getattr(args, "with_dependencies", False):
            return with_dependencies(discovery, [target])
        return [target]

    if args.verb in ("diff", "plan"):
        return cluster_cli.cmd_plan(args, discoverer, targets, diff_exit=args.verb == "diff")
    if args.verb in ("apply", "reconcile"):
        return cluster_cli.cmd_apply(args, discoverer, targets)
    return cluster_cli.cmd_suspend(args, discoverer, targets, args.verb == "suspend")


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
        return EXIT_FAILED
    except FluxpushError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
