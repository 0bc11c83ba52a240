"""The `--help` text of each verb: what it does, its exit codes and an example, as `flux` prints them."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

USAGE_EXIT = ("2 usage error (bad option or value, unknown or ambiguous name, an output file that cannot be "
              "written)")


@dataclass(frozen=True)
class VerbHelp:
    """One verb's one-line summary, description, exit codes and examples."""

    summary: str
    description: str
    exits: tuple[str, ...]
    examples: tuple[str, ...]

    def epilog(self) -> str:
        """Exit codes and examples, for the end of `--help`."""
        exits = "\n".join(f"  {line}" for line in (*self.exits, USAGE_EXIT))
        examples = "\n".join(f"  {line}" for line in self.examples)
        return f"exit codes:\n{exits}\n\nexamples:\n{examples}\n"


VERBS: dict[str, VerbHelp] = {
    "version": VerbHelp(
        "print fluxpush's and the binaries' versions",
        "Print the version of fluxpush and of the kustomize and helm binaries it would run.",
        ("0 both binaries found", "1 a binary is missing or does not run"),
        ("fluxpush version",)),
    "build": VerbHelp(
        "print the rendered objects in apply order",
        "Render every node (or one Kustomization/HelmRelease) as Flux would, with the real kustomize "
        "and helm, and print the objects in apply order. Secrets stay masked; no cluster is read.",
        ("0 everything rendered", "1 a node failed to render or the repository has problems"),
        ("fluxpush build ks apps", "fluxpush build ks team-b/app-2 -o json",
         "fluxpush build hr -n web podinfo")),
    "get": VerbHelp(
        "list Kustomizations/HelmReleases of the repository",
        "List the repository's Kustomizations, HelmReleases or image policies; with a cluster "
        "(--kubeconfig, $KUBECONFIG, --context, --eks-cluster, --sandbox) also their stored status.",
        ("0 listed", "1 the cluster cannot be read; `get images`: a policy cannot decide"),
        ("fluxpush get ks", "fluxpush get all -o json", "KUBECONFIG=~/.kube/dev fluxpush get hr")),
    "tree": VerbHelp(
        "show a Kustomization's objects and children",
        "Print a Kustomization's rendered objects and the Kustomizations/HelmReleases it creates, as a tree.",
        ("0 printed",),
        ("fluxpush tree ks flux-system", "fluxpush tree ks -n team-b app-2")),
    "validate": VerbHelp(
        "schema, graph and policy checks",
        "Check every Flux object against its schema, the dependsOn graph, and look for plain Secrets.",
        ("0 no problems", "1 problems found (listed)"),
        ("fluxpush validate", "fluxpush validate -o json")),
    "diff": VerbHelp(
        "show what an apply would change (exit 0 none, 1 changes, 2 error)",
        "Plan every node (or one Kustomization/HelmRelease) against the cluster and print the "
        "objects that would be created, configured or deleted, with their diffs. Writes nothing.",
        ("0 no changes", "1 changes",
         "2 the apply would fail: a node failed to plan, is blocked by a failed dependency, or a prune "
         "would be refused"),
        ("fluxpush diff --sandbox", "fluxpush diff ks apps --kubeconfig ~/.kube/dev",
         "fluxpush diff hr team-b/podinfo -o json")),
    "plan": VerbHelp(
        "plan every node against the cluster; writes nothing",
        "Plan every node against the cluster, as `diff`, and optionally save the plan to a plan file "
        "that `fluxpush apply --plan-file` executes.",
        ("0 planned (with or without changes)", "1 a node failed to plan"),
        ("fluxpush plan --plan-file plan.json",)),
    "apply": VerbHelp(
        "apply every node in dependency order, prune, wait for health",
        "Apply every node with server-side apply in dependsOn order holding the cluster's Lease, "
        "prune what Git no longer declares, wait for health and notify the repository's Alerts.",
        ("0 every node ready", "1 a node failed (its reason and message are printed)"),
        ("fluxpush apply --kubeconfig ~/.kube/dev", "fluxpush apply --dry-run --json-file plan.json",
         "fluxpush apply --plan-file plan.json")),
    "reconcile": VerbHelp(
        "apply one Kustomization or HelmRelease now (flux reconcile)",
        "Apply one node now, as `flux reconcile`, optionally after the nodes it depends on. With "
        "--dry-run, plan only that node (and its dependencies).",
        ("0 ready", "1 it failed (its reason and message are printed)"),
        ("fluxpush reconcile ks apps", "fluxpush reconcile ks team-b/app-2 --with-dependencies",
         "fluxpush reconcile hr -n web podinfo --dry-run --json-file plan.json")),
    "suspend": VerbHelp(
        "suspend reconciliation of a Kustomization (stored in the cluster)",
        "Mark a Kustomization suspended in its stored inventory: apply skips it until resumed.",
        ("0 suspended", "1 the cluster cannot be read or written"),
        ("fluxpush suspend ks apps --kubeconfig ~/.kube/dev",)),
    "resume": VerbHelp(
        "resume reconciliation of a Kustomization (stored in the cluster)",
        "Clear a Kustomization's suspended mark so that apply reconciles it again.",
        ("0 resumed", "1 the cluster cannot be read or written"),
        ("fluxpush resume ks team-b/app-2 --kubeconfig ~/.kube/dev",)),
    "image-update": VerbHelp(
        "write the images ImagePolicies choose into the marked fields (ImageUpdateAutomation)",
        "Resolve each ImagePolicy and write the chosen images into the fields marked with "
        "`# {\"$imagepolicy\": ...}` comments, then commit as the ImageUpdateAutomation says.",
        ("0 updated or nothing to update", "1 a policy or repository failed"),
        ("fluxpush image-update --dry-run",)),
}


def add_verb(verbs: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
             parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register verb `name` with its summary, description, exit codes and examples."""
    return describe(verbs.add_parser(name, parents=parents, help=VERBS[name].summary), name)


def describe(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """Give a verb's parser its description, exit codes and examples."""
    text = VERBS[name]
    parser.description, parser.epilog = text.description, text.epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser
