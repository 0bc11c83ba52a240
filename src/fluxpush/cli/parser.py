"""The argument parser of every verb: options per verb group, help from `cli.help`."""

from __future__ import annotations

import argparse

from fluxpush.app.selection import TARGET_KIND_WORDS
from fluxpush.cli import help as cli_help
from fluxpush.cli import images as images_cli
from fluxpush.cli.options import (
    add_cluster_options,
    add_connection_options,
    add_target,
    add_timeout_option,
    decrypt_options,
    output_file,
    repo_options,
    seconds,
    tool_options,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every verb."""
    common = repo_options()
    parser = argparse.ArgumentParser(prog="fluxpush", description="Push-mode GitOps for Flux repositories.")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    cli_help.add_verb(verbs, "version", [tool_options()])
    _add_repository_verbs(verbs, common)
    _add_cluster_verbs(verbs, [common, decrypt_options()])
    image_update = images_cli.add_image_update_verb(verbs, common)
    cli_help.describe(image_update, "image-update")
    add_connection_options(image_update)
    return parser


def _add_repository_verbs(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                          common: argparse.ArgumentParser) -> None:
    """build, get, tree, validate: the repository (and, for `get`, optionally the cluster's status)."""
    build = cli_help.add_verb(verbs, "build", [common])
    add_target(build, required=False, kinds=TARGET_KIND_WORDS)
    build.add_argument("-o", "--output", choices=["yaml", "json"], default="yaml")
    get = cli_help.add_verb(verbs, "get", [common])
    get.add_argument("kind", choices=["ks", "kustomizations", "hr", "helmreleases", "all", "images"])
    get.add_argument("-o", "--output", choices=["table", "json"], default="table")
    get.add_argument("-A", "--all-namespaces", action="store_true",
                     help="accepted as flux takes it; fluxpush always lists every namespace")
    add_connection_options(get)
    tree = cli_help.add_verb(verbs, "tree", [common])
    add_target(tree, required=True, kinds=("ks", "kustomization"))
    validate = cli_help.add_verb(verbs, "validate", [common])
    validate.add_argument("-o", "--output", choices=["text", "json"], default="text")


def _add_cluster_verbs(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                       parents: list[argparse.ArgumentParser]) -> None:
    """diff, plan, apply, reconcile, suspend, resume: against a cluster."""
    def cluster_verb(name: str) -> argparse.ArgumentParser:
        parser = cli_help.add_verb(verbs, name, parents)
        add_cluster_options(parser)
        return parser

    diff = cluster_verb("diff")
    add_target(diff, required=False, kinds=TARGET_KIND_WORDS)
    diff.add_argument("-o", "--output", choices=["text", "json"], default="text")
    plan = cluster_verb("plan")
    plan.add_argument("-o", "--output", choices=["text", "json"], default="text")
    plan.add_argument("--plan-file", metavar="FILE", type=output_file,
                      help="also write the plan to FILE, for `fluxpush apply --plan-file FILE` to execute")
    for name in ("apply", "reconcile"):
        apply = cluster_verb(name)
        if name == "reconcile":
            add_target(apply, required=True, kinds=TARGET_KIND_WORDS)
            apply.add_argument("--with-dependencies", action="store_true",
                               help="also apply the nodes it dependsOn, first")
        add_timeout_option(apply)
        apply.add_argument("--dry-run", action="store_true", help="plan only, write nothing")
        apply.add_argument("--notify", action=argparse.BooleanOptionalAction, default=True,
                           help="send each node's result through the repository's Alerts (default: on)")
        apply.add_argument("--lock-wait", type=seconds, default=0.0, metavar="SECONDS",
                           help="wait this long for another run's Lease on the cluster (default: fail)")
        apply.add_argument("-o", "--output", choices=["text", "json"], default="text")
        apply.add_argument("--json-file", metavar="FILE", type=output_file,
                           help="also write the applied changes (with --dry-run: the plan) as JSON to FILE")
        if name == "apply":
            apply.add_argument("--plan-file", metavar="FILE", help=(
                "apply exactly the plan FILE that `fluxpush plan --plan-file FILE` wrote (refused when "
                "the checkout or the cluster moved in a way that invalidates it)"))
    for name in ("suspend", "resume"):
        flag = cli_help.add_verb(verbs, name, parents[:1])
        add_connection_options(flag)
        add_target(flag, required=True, kinds=("ks", "kustomization"))
