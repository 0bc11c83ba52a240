"""The CLI face of image automation: `fluxpush get images` and `fluxpush image-update`.

`get images` lists each ImagePolicy: repository, policy, latest image and why (exit 1 when a policy
cannot decide). `image-update --dry-run` prints the unified diff each ImageUpdateAutomation would
commit; without it the commit is made locally on the automation's push branch (never pushed).
Secrets an ImageRepository names come from the repository, then from the cluster the options name.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fluxpush.app.request import RunSettings
from fluxpush.cli.options import cluster_target, names_a_cluster
from fluxpush.cli.repository import discover_repository
from fluxpush.errors import EXIT_FAILED, EXIT_OK
from fluxpush.flux.model import ObjectLookup
from fluxpush.images.automation import PolicyResult, evaluate_policies
from fluxpush.images.diff import changes_lines, unified_diff
from fluxpush.images.git import commit_updates, current_branch
from fluxpush.images.repository import TagSource
from fluxpush.images.run import ImageRun, prepare, secret_lookup
from fluxpush.repository.discover import Discovery


def add_image_update_verb(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                          common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Register `fluxpush image-update`."""
    verb: argparse.ArgumentParser = verbs.add_parser("image-update", parents=[common],
                            help="write the images ImagePolicies choose into the marked fields "
                                 "(ImageUpdateAutomation)")
    verb.add_argument("--dry-run", action="store_true", help="print the diff, commit nothing")
    return verb


@contextmanager
def live_secrets(args: argparse.Namespace, settings: RunSettings) -> Iterator[ObjectLookup | None]:
    """Secrets from the cluster the options name (ImageRepository secretRef), else None."""
    if not names_a_cluster(args, settings.environ):
        yield None
        return
    from fluxpush.app.cluster import open_cluster  # the cluster client is slow to import: only when asked for
    from fluxpush.app.lookups import live_variable_lookup

    with open_cluster(cluster_target(args, settings.environ)) as client:
        yield live_variable_lookup(client)  # any kind: here the secretRef Secrets


def policy_rows(policies: list[PolicyResult]) -> list[dict[str, str]]:
    """One JSON-ready row per policy."""
    return [{"policy": f"{p.ref.namespace}/{p.ref.name}", "repository": f"{p.repository.namespace}/"
             f"{p.repository.name}", "image": p.image, "rule": p.policy, "latest": p.latest, "why": p.why,
             "error": p.error} for p in policies]


def _table(policies: list[PolicyResult]) -> str:
    rows = [("POLICY", "REPOSITORY", "POLICY RULE", "LATEST IMAGE", "WHY")]
    rows += [(f"{p.ref.namespace}/{p.ref.name}", f"{p.repository.namespace}/{p.repository.name}", p.policy,
              p.latest or "-", p.why or f"✗ {p.error}") for p in policies]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "".join("   ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "   " + row[4] + "\n"
                   for row in rows)


def get_images(args: argparse.Namespace, settings: RunSettings, discovery: Discovery) -> int:
    """`fluxpush get images`."""
    with live_secrets(args, settings) as live:
        policies = evaluate_policies(discovery, TagSource(secret_lookup(discovery, live)))
    if args.output == "json":
        sys.stdout.write(json.dumps(policy_rows(policies), indent=2) + "\n")
    elif policies:
        sys.stdout.write(_table(policies))
    else:
        print("no ImagePolicy in the repository")
    return EXIT_FAILED if any(p.error for p in policies) else EXIT_OK


def _report_run(run: ImageRun) -> None:
    for policy in run.policies:
        if policy.error:
            print(f"✗ {policy.ref}: {policy.error}", file=sys.stderr)
    for failure in run.failures:
        print(f"✗ {failure}", file=sys.stderr)


def _image_update(discovery: Discovery, live: ObjectLookup | None, dry_run: bool) -> int:
    root = discovery.source.root
    run = prepare(discovery, TagSource(secret_lookup(discovery, live)), root, current_branch(root))
    if not run.plans and not run.failures:
        print("no ImageUpdateAutomation in the repository: nothing to update")
    for plan in run.plans:
        for warning in plan.warnings:
            print(f"! {plan.ref}: {warning}", file=sys.stderr)
        if not plan.changed:
            print(f"{plan.ref}: up to date")
            continue
        if dry_run:
            sys.stdout.write(unified_diff(plan))
            print(f"{plan.ref}: would commit {len(plan.result.files)} file(s) to branch {plan.branch}:")
        else:
            commit = commit_updates(Path(root), plan.result.files, plan.message,
                                    (plan.author_name, plan.author_email), plan.branch, plan.checkout_branch)
            was = f"; it was at {commit.replaced[:12]}, rebuilt on HEAD" if commit.replaced else ""
            print(f"{plan.ref}: committed {commit.sha[:12]} on branch {plan.branch} (not pushed{was}):")
        for line in changes_lines(plan):
            print(f"  {line}")
    _report_run(run)
    return EXIT_OK if run.ok else EXIT_FAILED


def command(args: argparse.Namespace, settings: RunSettings) -> int:
    """`fluxpush image-update [--dry-run]`: resolve the policies and update the repository (secrets from
    the cluster, when one is named)."""
    with live_secrets(args, settings) as secrets:
        return _image_update(discover_repository(args, settings), secrets, args.dry_run)
