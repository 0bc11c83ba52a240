"""The CLI face of image automation: `fluxpush get images` and `fluxpush image-update`.

`get images` lists each ImagePolicy: repository, policy, latest image and why (exit 1 when a policy
cannot decide). `image-update --dry-run` prints the unified diff each ImageUpdateAutomation would
commit; without it the commit is made locally on the automation's push branch (never pushed).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

from fluxpush.errors import EXIT_FAILED, EXIT_OK
from fluxpush.images.automation import AutomationPlan, PolicyResult, evaluate_policies
from fluxpush.images.git import commit_updates, current_branch
from fluxpush.images.repository import TagSource
from fluxpush.images.run import ImageRun, SecretLookup, prepare, secret_lookup
from fluxpush.repository.discover import Discovery

__all__ = ["SecretLookup", "add_image_update_verb", "changes_lines", "cmd_get_images", "cmd_image_update",
           "policy_rows", "unified_diff"]


def add_image_update_verb(verbs: argparse._SubParsersAction[argparse.ArgumentParser],
                          common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Register `fluxpush image-update`."""
    verb: argparse.ArgumentParser = verbs.add_parser("image-update", parents=[common],
                            help="write the images ImagePolicies choose into the marked fields "
                                 "(ImageUpdateAutomation)")
    verb.add_argument("--dry-run", action="store_true", help="print the diff, commit nothing")
    return verb


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


def cmd_get_images(discovery: Discovery, live: SecretLookup | None, output: str) -> int:
    """`fluxpush get images`."""
    policies = evaluate_policies(discovery, TagSource(secret_lookup(discovery, live)))
    if output == "json":
        sys.stdout.write(json.dumps(policy_rows(policies), indent=2) + "\n")
    elif policies:
        sys.stdout.write(_table(policies))
    else:
        print("no ImagePolicy in the repository")
    return EXIT_FAILED if any(p.error for p in policies) else EXIT_OK


def _lines(text: str) -> list[str]:
    """`text` split for a diff; a last line without a newline is marked as `git diff` does."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def unified_diff(plan: AutomationPlan) -> str:
    """The files an automation changes, as `git diff` would show them."""
    return "".join("".join(difflib.unified_diff(_lines(update.before), _lines(update.after),
                                               f"a/{update.path}", f"b/{update.path}"))
                   for update in plan.result.files)


def changes_lines(plan: AutomationPlan) -> list[str]:
    """`path: Kind/name: old → new` for each change."""
    return [f"{update.path}: {obj}: {change.old} → {change.new}"
            for update in plan.result.files for obj, change in update.changes]


def _report_run(run: ImageRun) -> None:
    for policy in run.policies:
        if policy.error:
            print(f"✗ {policy.ref}: {policy.error}", file=sys.stderr)
    for failure in run.failures:
        print(f"✗ {failure}", file=sys.stderr)


def cmd_image_update(discovery: Discovery, live: SecretLookup | None, dry_run: bool) -> int:
    """`fluxpush image-update [--dry-run]`."""
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
