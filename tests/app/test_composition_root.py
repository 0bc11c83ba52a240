"""The composition root (`fluxpush.app`): both faces turn their input into the same requests, and the
wiring decisions the issue found duplicated are made once — engine options, node selection, the run
URL, the Lease holder, the cluster a command opens, the environment a run reads.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fluxpush.action import modes
from fluxpush.action.config import input_variable, read_config
from fluxpush.action.events import RunContext
from fluxpush.app import usecases
from fluxpush.app.request import CheckoutRequest, Kubeconfig, RunSettings, discover_checkout, run_settings
from fluxpush.app.selection import select
from fluxpush.cli import options as cli_options
from fluxpush.cli.parser import build_parser
from fluxpush.engine.lease import LEASE_NAME, LEASE_NAMESPACE
from fluxpush.engine.run import Verdict
from fluxpush.errors import UsageError
from fluxpush.flux.model import ObjectRef
from fluxpush.planning.options import EngineOptions, PlanWay
from fluxpush.planning.result import NodeResult
from fluxpush.repository.discover import Discovery

SRC = Path(__file__).resolve().parents[2] / "src" / "fluxpush"


def inputs(**values: str) -> dict[str, str]:
    return {input_variable(name.replace("_", "-")): value for name, value in values.items()}


@pytest.fixture(scope="module")
def example_discovery(example_repo: Path) -> Discovery:
    return discover_checkout(CheckoutRequest(example_repo, "clusters/dev"), run_settings({}))


def test_the_cli_and_the_action_build_the_same_engine_options(tmp_path, monkeypatch):
    (tmp_path / "spokes").mkdir()
    (tmp_path / "spokes/a.yaml").write_text("apiVersion: v1\n")
    monkeypatch.chdir(tmp_path)  # the CLI's files are relative to the working directory
    args = build_parser().parse_args(["apply", "--no-prune", "--force", "--timeout", "2m",
                                      "--kubeconfig-for", "flux-system/spoke-a=spokes/a.yaml"])
    config = read_config(inputs(cluster_path="clusters/dev", prune="false", force="true", timeout="2m",
                                kubeconfig_for="flux-system/spoke-a=spokes/a.yaml"))

    from_cli = cli_options.engine_options(args)
    from_action = modes.engine_options(config, PlanWay.SERVER, tmp_path)  # the action's workspace

    assert from_cli == from_action == EngineOptions(
        way=PlanWay.SERVER, prune=False, force=True, timeout=120.0,
        kubeconfigs={"flux-system/spoke-a": str(tmp_path / "spokes/a.yaml")})


def test_a_missing_kubeconfig_for_file_is_refused_alike_naming_each_face_s_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["plan", "--kubeconfig-for", "flux-system/spoke-b=b.yaml"])
    config = read_config(inputs(cluster_path="clusters/dev", kubeconfig_for="flux-system/spoke-b=b.yaml"))

    with pytest.raises(UsageError) as cli_error:
        cli_options.engine_options(args)
    with pytest.raises(UsageError) as action_error:
        modes.engine_options(config, PlanWay.READ_ONLY, tmp_path)

    assert str(cli_error.value) == "--kubeconfig-for: b.yaml (for flux-system/spoke-b) is not a file"
    assert str(action_error.value) == "input `kubeconfig-for`: b.yaml (for flux-system/spoke-b) is not a file"


@pytest.mark.parametrize("name", ["app-2", "flux-system/app-2"])
def test_the_cli_and_the_action_select_the_same_node(example_discovery, name):
    cli = cli_options.node_selection(build_parser().parse_args(["reconcile", "ks", name]))
    action = modes.node_selection(read_config(inputs(cluster_path="clusters/dev", targets=name)), "reconcile")

    wanted = [ObjectRef("Kustomization", "flux-system", "app-2")]
    assert select(example_discovery, cli) == select(example_discovery, action) == wanted


def test_every_node_unless_a_verb_names_some(example_discovery):
    config = read_config(inputs(cluster_path="clusters/dev", targets="app-2"))
    assert select(example_discovery, modes.node_selection(config, "apply")) is None  # targets: reconcile only
    diff = cli_options.node_selection(build_parser().parse_args(["diff"]))
    assert select(example_discovery, diff) is None


def test_an_unknown_name_is_a_usage_error_in_both_faces(example_discovery):
    cli = cli_options.node_selection(build_parser().parse_args(["reconcile", "ks", "nope"]))
    config = read_config(inputs(cluster_path="clusters/dev", targets="nope"))
    action = modes.node_selection(config, "reconcile")
    with pytest.raises(UsageError, match=r"'nope' not found; the repository has: .*flux-system/app-2"):
        select(example_discovery, cli)
    with pytest.raises(UsageError, match="input `targets`: nope not found"):
        select(example_discovery, action)


def test_with_dependencies_adds_what_the_node_depends_on_in_apply_order(example_discovery):
    cli = cli_options.node_selection(build_parser().parse_args(
        ["reconcile", "ks", "app-2", "--with-dependencies"]))
    assert select(example_discovery, cli) == [ObjectRef("Kustomization", "flux-system", "infrastructure"),
                                              ObjectRef("Kustomization", "flux-system", "app-2")]


def test_the_run_url_has_one_formula_for_both_faces():
    env = {"GITHUB_SERVER_URL": "https://ghe.example", "GITHUB_REPOSITORY": "org/repo", "GITHUB_RUN_ID": "77"}
    context = RunContext(event_name="push", repository="org/repo", sha="abc", default_branch="main",
                         server_url="https://ghe.example", api_url="", run_id="77", workspace=Path("."))
    assert run_settings(env).run_url == context.run_url == "https://ghe.example/org/repo/actions/runs/77"
    assert run_settings({}).run_url is None  # outside Actions, notifications link no run


def test_run_settings_come_from_the_environment_given_and_never_show_it():
    settings = run_settings({"GITHUB_RUN_ID": "42", "USER": "alice", "GITHUB_REF_NAME": "main",
                             "GITHUB_HEAD_REF": "feature", "SOPS_AGE_KEY": "AGE-SECRET-KEY-1SECRET"})
    assert (settings.who, settings.ref_name) == ("github-run-42", "feature")
    assert run_settings({"USER": "alice"}).who == "alice"
    assert "AGE-SECRET-KEY" not in repr(settings)


def test_the_cli_takes_kubeconfig_from_the_environment_it_was_given():
    args = build_parser().parse_args(["diff", "--context", "dev"])
    target = cli_options.cluster_target(args, {"KUBECONFIG": "/k/one:/k/two"})
    assert target == Kubeconfig("/k/one:/k/two", "dev")
    with pytest.raises(UsageError, match="--region"):
        cli_options.cluster_target(build_parser().parse_args(["diff", "--eks-cluster", "c"]), {})


@pytest.fixture
def started_sandboxes(monkeypatch) -> Iterator[list[object]]:
    """Every kubesim started from now on (a spy on the server's start; the server is not under test)."""
    from kubesim import KubeSim

    started: list[object] = []
    original = KubeSim.__enter__

    def enter(self: KubeSim) -> KubeSim:
        started.append(self)
        return original(self)

    monkeypatch.setattr(KubeSim, "__enter__", enter)
    yield started


@pytest.mark.integration
@pytest.mark.parametrize("verb", [["get", "all"], ["get", "hr", "-o", "json"], ["diff"]])
def test_sandbox_starts_exactly_one_api_server_per_command(run_cli, example_repo, started_sandboxes, verb):
    result = run_cli(*verb, "--repo", str(example_repo), "--path", "clusters/dev", "--sandbox")
    assert result.code in (0, 1), result.err
    assert len(started_sandboxes) == 1


class _LeaseWatcher(usecases.RunHooks):
    """Reads the cluster's Lease while the run holds it (when a node finishes)."""

    def __init__(self, read: object) -> None:
        self.read = read
        self.holders: set[str] = set()

    def finished(self, result: NodeResult) -> None:
        lease = self.read()  # type: ignore[operator]
        self.holders.add(lease["spec"]["holderIdentity"])


@pytest.mark.integration
def test_deploy_holds_the_lease_as_the_face_says_not_as_the_process_environment(sandbox, tmp_path,
                                                                                monkeypatch):
    monkeypatch.setenv("GITHUB_RUN_ID", "999")  # the process's: below the faces nobody reads it
    kubeconfig = sandbox.sim.write_kubeconfig(tmp_path / "kubeconfig")
    watcher = _LeaseWatcher(lambda: sandbox.client.get("coordination.k8s.io/v1", "Lease", LEASE_NAME,
                                                       LEASE_NAMESPACE))
    request = usecases.RunRequest(
        target=Kubeconfig(str(kubeconfig)),
        checkout=CheckoutRequest(sandbox.repo, "clusters/dev"),
        options=EngineOptions(),
        settings=RunSettings(who="github-run-4242"),
        hooks=watcher,
    )

    done = usecases.deploy(request, lease_wait=0.0, notify=False)

    assert done.run.verdict is not Verdict.FAILED, [r.message for r in done.run.results if not r.ok]
    assert done.release_error is None and done.deliveries == ()
    assert len(watcher.holders) == 1 and next(iter(watcher.holders)).startswith("github-run-4242@")
    assert sandbox.client.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, LEASE_NAMESPACE) is None


# Modules that may read the process environment, and why: the faces (they read it and pass it on),
# and process-level settings that are not a run's configuration.
ENVIRONMENT_READERS = {
    "cli/__init__.py": "the CLI face: run_settings(os.environ)",
    "cli/stream.py": "the CLI face: $CI turns off the live progress line",
    "action/__main__.py": "the action face: its environ, default os.environ",
    "tools.py": "process-level: $FLUXPUSH_KUSTOMIZE/$FLUXPUSH_HELM/$FLUXPUSH_TOOLS_DIR binary overrides",
    "runner.py": "process-level: subprocess limits and the environment children inherit",
    "render/kustomize.py": "process-level: whether the user tuned Go's GC for kustomize",
    "kube/kubeconfig.py": "client convention: $KUBECONFIG when no path is given (the CLI passes it)",
    "report/workflow.py": "runner protocol: $GITHUB_OUTPUT/$GITHUB_STEP_SUMMARY when no file is given",
    "discover.py": "GITHUB_REPOSITORY: lifted by the reconcilers change (issue 16)",
    "helm/sources.py": "GITHUB_REPOSITORY and the chart cache folder: lifted by the reconcilers change",
}


def _reads_environment(tree: ast.AST) -> bool:
    return any(isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
               and isinstance(node.value, ast.Name) and node.value.id == "os" for node in ast.walk(tree))


def test_nothing_below_the_faces_reads_the_process_environment():
    readers = {str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
               if _reads_environment(ast.parse(path.read_text(encoding="utf-8")))}
    assert readers <= set(ENVIRONMENT_READERS), sorted(readers - set(ENVIRONMENT_READERS))
    assert "engine/lease.py" not in readers and "source.py" not in readers  # the check does see reads
    assert _reads_environment(ast.parse("import os\nos.environ.get('X')"))


def test_kustomize_flag_is_passed_on_without_writing_the_environment(tmp_path):
    """`python -m fluxpush version --kustomize K` uses K, says so, and leaves os.environ as it was (a
    fresh interpreter: the choice is process-wide)."""
    from fluxpush.tools import find_kustomize

    kustomize = find_kustomize().path  # the pinned binary: a real one to name
    probe = ("import os, runpy, sys\n"
             f"sys.argv = ['fluxpush', 'version', '--kustomize', {kustomize!r}]\n"
             "try:\n    runpy.run_module('fluxpush', run_name='__main__')\n"
             "except SystemExit as exit:\n    code = exit.code\n"
             "assert 'FLUXPUSH_KUSTOMIZE' not in os.environ, 'the flag was written into the environment'\n"
             "sys.exit(code)\n")
    env = {k: v for k, v in os.environ.items() if k != "FLUXPUSH_KUSTOMIZE"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{kustomize}" in done.stdout and "(from --kustomize)" in done.stdout


@pytest.mark.integration
def test_a_malformed_provider_secrets_variable_stops_apply_before_any_write(run_cli, sandbox, tmp_path,
                                                                            monkeypatch):
    kubeconfig = sandbox.sim.write_kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("FLUXPUSH_PROVIDER_SECRETS", "{not json: https://hooks.example/XXXXsecretXXXX")
    args = ("apply", "--repo", str(sandbox.repo), "--path", "clusters/dev", "--kubeconfig", str(kubeconfig))
    sandbox.sim.requests.clear()

    refused = run_cli(*args)

    assert refused.code == 2, refused.err
    assert "$FLUXPUSH_PROVIDER_SECRETS must be a JSON object" in refused.err
    assert "XXXXsecretXXXX" not in refused.out + refused.err
    assert sandbox.writes() == [], "nothing is written, not even the Lease"
    applied = run_cli(*args, "--no-notify")  # no notifications: the variable is not read
    assert applied.code == 0, applied.err
    assert sandbox.writes()
