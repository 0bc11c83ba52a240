"""The CLI as a shell runs it (the installed `fluxpush` script in a subprocess): `flux`-style verbs and
selectors, per-verb options, help, usage errors, and apply order in every output.

Matched behaviour: the `flux` CLI takes `KIND NAME` with `-n/--namespace` (flux2 cmd/flux `build ks`,
`diff ks`, `reconcile ks|hr`, `tree ks`), and its commands exit non-zero without a stack trace on a bad
flag value (cobra/pflag parse errors).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FLUXPUSH = str(Path(sys.executable).with_name("fluxpush"))
TEAM_B_APP_2 = """
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app-2
  namespace: team-b
spec:
  interval: 5m
  path: ./apps/app-2
  prune: true
  targetNamespace: team-b-app-2
  sourceRef:
    kind: GitRepository
    name: gitops-platform
    namespace: flux-system
"""


def fluxpush(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`fluxpush ARGS…` in a subprocess, with the pinned binaries of the test environment."""
    full_env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | (env or {})
    return subprocess.run([FLUXPUSH, *args], capture_output=True, text=True, env=full_env, timeout=120,
                          check=False)


@pytest.fixture(scope="module")
def two_app_2(tmp_path_factory: pytest.TempPathFactory, example_repo: Path) -> Path:
    """The example repository with a second `app-2` Kustomization, in namespace team-b."""
    repo = tmp_path_factory.mktemp("two-app-2") / "repo"
    shutil.copytree(example_repo, repo)
    apps = repo / "clusters/dev/apps.yaml"
    apps.write_text(apps.read_text() + TEAM_B_APP_2)
    return repo


def repo_args(repo: Path) -> tuple[str, ...]:
    return ("--repo", str(repo), "--path", "clusters/dev")


def test_a_name_two_namespaces_share_is_a_usage_error_listing_both(two_app_2):
    result = fluxpush("build", "ks", "app-2", *repo_args(two_app_2))

    assert result.returncode == 2, result.stderr
    assert ("Kustomization 'app-2' is in several namespaces (flux-system/app-2, team-b/app-2); "
            "name one as NAMESPACE/app-2 or with -n NAMESPACE") in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("selector", [("team-b/app-2",), ("app-2", "-n", "team-b"),
                                      ("app-2", "--namespace", "team-b")])
def test_namespace_or_slash_selects_one_of_two_same_named_kustomizations(two_app_2, selector):
    result = fluxpush("build", "ks", *selector, *repo_args(two_app_2))

    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    assert headers == ["# Kustomization/team-b/app-2 (path ./apps/app-2; dependsOn: -)"]
    assert "namespace: team-b-app-2" in result.stdout
    assert "namespace: app-2\n" not in result.stdout


def test_a_namespace_contradicting_the_slash_form_is_a_usage_error(two_app_2):
    result = fluxpush("build", "ks", "team-b/app-2", "-n", "flux-system", *repo_args(two_app_2))

    assert result.returncode == 2
    assert "team-b/app-2 contradicts --namespace flux-system" in result.stderr


def test_build_hr_selects_a_helmrelease(example_repo):
    result = fluxpush("build", "hr", "external-secrets", *repo_args(example_repo))

    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    assert headers == ["# HelmRelease/external-secrets/external-secrets (HelmRelease; dependsOn: -)"]


def test_build_prints_each_helmrelease_after_the_kustomization_rendering_it(example_repo):
    result = fluxpush("build", *repo_args(example_repo))

    assert result.returncode == 0, result.stderr
    nodes = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("# ")]
    release = next(n for n in nodes if n.startswith("HelmRelease/"))
    assert nodes.index("Kustomization/flux-system/infrastructure") < nodes.index(release)
    assert nodes[0] == "Kustomization/flux-system/flux-system"


@pytest.mark.parametrize(("args", "message"), [
    (("apply", "--timeout", "5minutes"),
     "argument --timeout: expected a duration like 5m or 1h30m, got '5minutes'"),
    (("diff", "--concurrency", "0"),
     "argument --concurrency: expected a whole number of at least 1, got '0'"),
    (("plan", "--concurrency", "-3"), "argument --concurrency: expected a whole number of at least 1"),
    (("apply", "--lock-wait", "soon"), "argument --lock-wait: expected a number of seconds"),
    (("build", "--repo", "/nonexistent/checkout"), "--repo /nonexistent/checkout: no such directory"),
    (("build", "ks"), "ks needs a NAME, e.g. fluxpush build ks NAME"),
    (("build", "-n", "team-b"), "--namespace needs a KIND and NAME"),
    (("build", "--prune"), "unrecognized arguments: --prune"),
])
def test_bad_values_are_usage_errors_without_traceback(example_repo, args, message):
    where = ("--path", "clusters/dev") if "--repo" in args else repo_args(example_repo)
    result = fluxpush(*args, *where, env={"KUBECONFIG": "/nonexistent/kubeconfig"})

    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("verb", [("build",), ("validate",), ("diff", "--sandbox")])
def test_a_cluster_path_that_is_not_a_folder_is_a_usage_error(example_repo, verb):
    result = fluxpush(*verb, "--repo", str(example_repo), "--path", "clusters/nope")

    assert result.returncode == 2, result.stdout + result.stderr
    assert "cluster path 'clusters/nope' is not a directory" in result.stderr
    assert "pass --path" in result.stderr and "Traceback" not in result.stderr


def test_every_verb_help_has_a_description_exit_codes_and_an_example():
    verbs = ["version", "build", "get", "tree", "validate", "diff", "plan", "apply", "reconcile", "suspend",
             "resume", "image-update"]
    for verb in verbs:
        result = fluxpush(verb, "--help")
        assert result.returncode == 0, verb
        text = result.stdout
        assert f"usage: fluxpush {verb}" in text
        description = text.split("\n\n")[1]
        assert len(description) > 40 and not description.startswith(("positional", "options")), verb
        assert "exit codes:\n  0 " in text, verb
        assert "\n  2 usage error" in text, verb
        assert f"examples:\n  fluxpush {verb}" in text, verb


def test_each_verb_lists_only_the_options_that_do_something_for_it():
    build = fluxpush("build", "--help").stdout
    for absent in ("--kubeconfig", "--prune", "--timeout", "--sops-age-key-file", "--dry-run"):
        assert absent not in build
    diff = fluxpush("diff", "--help").stdout
    assert "--timeout" not in diff and "--dry-run" not in diff and "--lock-wait" not in diff
    assert "-n NAMESPACE, --namespace NAMESPACE" in diff
    version = fluxpush("version", "--help").stdout
    assert "--repo" not in version and "--kustomize" in version
    suspend = fluxpush("suspend", "--help").stdout
    assert "--prune" not in suspend and "--kubeconfig" in suspend
    apply = fluxpush("apply", "--help").stdout
    assert "--timeout DURATION" in apply


@pytest.fixture
def cluster_env(sandbox, tmp_path) -> dict[str, str]:
    """$KUBECONFIG naming a running kubesim (as a user's shell would have it)."""
    return {"KUBECONFIG": str(sandbox.sim.write_kubeconfig(tmp_path / "kubeconfig"))}


def node_lines(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.startswith("📁 ")]


def test_diff_ks_name_plans_only_that_kustomization(sandbox, cluster_env):
    result = fluxpush("diff", "ks", "infrastructure", *repo_args(sandbox.repo), env=cluster_env)

    assert result.returncode == 1, result.stderr  # changes: nothing is applied yet
    assert node_lines(result.stdout) == ["Kustomization/flux-system/infrastructure"]
    assert "► Namespace/external-secrets created" in result.stdout


def test_diff_ks_name_shows_its_changes_when_a_dependency_outside_the_run_is_not_ready(sandbox, cluster_env):
    """As `flux diff ks`: the node's changes are shown though its dependency (not in this run) was never
    applied; the node is reported blocked, since an apply would wait for it (exit 2: it would fail)."""
    result = fluxpush("diff", "ks", "app-2", *repo_args(sandbox.repo), env=cluster_env)

    assert result.returncode == 2, result.stdout + result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("📁 "))
    assert "Kustomization/flux-system/app-2" in header
    assert "blocked by dependency 'flux-system/infrastructure' is not ready (never applied)" in header
    assert "► Deployment/app-2/app-2 created" in result.stdout
    assert sandbox.writes() == []
    applied = fluxpush("reconcile", "ks", "app-2", "--no-notify", *repo_args(sandbox.repo), env=cluster_env)
    assert applied.returncode == 1, applied.stdout + applied.stderr  # the apply itself still waits
    assert not [w for w in sandbox.writes() if "/namespaces/app-2/" in w or w.endswith("/namespaces")]


def test_reconcile_dry_run_plans_only_its_target_and_writes_nothing(sandbox, cluster_env):
    result = fluxpush("reconcile", "ks", "flux-system/infrastructure", "--dry-run", *repo_args(sandbox.repo),
                      env=cluster_env)

    assert result.returncode == 0, result.stderr
    assert node_lines(result.stdout) == ["Kustomization/flux-system/infrastructure"]
    assert sandbox.writes() == []


def test_diff_prints_nodes_in_apply_order_every_time(sandbox, cluster_env):
    runs = [fluxpush("diff", "--concurrency", "8", *repo_args(sandbox.repo), env=cluster_env)
            for _ in range(2)]

    orders = [node_lines(run.stdout) for run in runs]
    expected = [str(node.ref) for node in sandbox.discover().ordered_nodes()]
    assert orders == [expected, expected]
    assert expected.index("Kustomization/flux-system/infrastructure") < expected.index(
        "HelmRelease/external-secrets/external-secrets")


def test_get_reads_the_cluster_kubeconfig_names(sandbox, cluster_env):
    result = fluxpush("get", "ks", *repo_args(sandbox.repo), env=cluster_env)

    assert result.returncode == 0, result.stderr
    assert "infrastructure  flux-system  Unknown  NotApplied" in result.stdout  # read from the cluster
    offline = fluxpush("get", "ks", *repo_args(sandbox.repo))
    assert offline.returncode == 0 and "NotApplied" not in offline.stdout


def test_get_takes_flux_all_namespaces_flag(sandbox):
    """`flux get hr -A` habit: accepted, and the listing is the same every-namespace one."""
    plain = fluxpush("get", "hr", *repo_args(sandbox.repo))
    for flag in ("-A", "--all-namespaces"):
        result = fluxpush("get", "hr", flag, *repo_args(sandbox.repo))
        assert result.returncode == 0, result.stderr
        assert result.stdout == plain.stdout and "external-secrets" in result.stdout


def test_a_failed_health_check_quotes_the_objects_condition(sandbox, cluster_env):
    # kubesim's fail annotation makes the Deployment exceed its progress deadline, as a bad image
    # does: Progressing=False, reason ProgressDeadlineExceeded, the pull error in its message.
    sandbox.edit("apps/app-2/deployment.yaml", "  name: app-2\n",
                 "  name: app-2\n  annotations:\n    kubesim.io/fail: ImagePullBackOff\n")
    result = fluxpush("apply", "--timeout", "30s", "--no-notify", *repo_args(sandbox.repo), env=cluster_env)

    assert result.returncode == 1, result.stdout + result.stderr
    failed = next(line for line in result.stdout.splitlines()
                  if "Deployment/app-2/app-2 status: 'Failed'" in line)
    assert "Progress deadline exceeded: " in failed and "ImagePullBackOff" in failed
    assert "✔ Kustomization/flux-system/app-1 Ready" in result.stdout


def test_a_multi_line_configmap_value_diffs_line_by_line(sandbox, cluster_env):
    applied = fluxpush("apply", "--no-notify", *repo_args(sandbox.repo), env=cluster_env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    sandbox.edit("apps/app-2/configmap.yaml", "listen 8080;", "listen 9090;")

    result = fluxpush("diff", *repo_args(sandbox.repo), env=cluster_env)

    assert result.returncode == 1, result.stderr
    assert "► ConfigMap/app-2/app-2-config " in result.stdout
    changed = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith(("-  ", "+  "))]
    assert changed == ["-      listen 8080;", "+      listen 9090;"]
    assert "\\n" not in "".join(changed)
