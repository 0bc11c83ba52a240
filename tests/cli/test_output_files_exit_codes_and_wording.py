"""The CLI face's outputs and exit codes: output files checked before any work, `--plan-file` meaning
only the executable plan file, `get` with a cluster in apply order with namespaces, exit codes (2 for
usage only), `--timeout` above zero, and help/wording.

Matched behaviour: `flux` (cobra) rejects a bad flag value before doing anything and exits 1 on an
unreachable cluster; `flux diff` exits 1 for changes only, so a failure there stays 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.test_flux_habits import fluxpush, repo_args, two_app_2

from fluxpush.errors import UsageError

UNREACHABLE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: nobody
  user: {token: "not-a-secret"}
contexts:
- name: nowhere
  context: {cluster: nowhere, user: nobody}
current-context: nowhere
"""


@pytest.fixture
def unreachable(tmp_path: Path) -> dict[str, str]:
    """$KUBECONFIG naming an API server nothing listens on."""
    config = tmp_path / "kubeconfig"
    config.write_text(UNREACHABLE_KUBECONFIG)
    return {"KUBECONFIG": str(config)}


__all__ = ["two_app_2"]  # the fixture: the example repository with a second app-2, in team-b


# -- 1. an output file that cannot be written: a usage error before anything is planned --


@pytest.mark.parametrize("args", [
    ("plan", "--plan-file", "/nonexistent/dir/p.json"),
    ("apply", "--dry-run", "--json-file", "/nonexistent/dir/p.json"),
    ("reconcile", "ks", "app-1", "--dry-run", "--json-file", "/nonexistent/dir/p.json"),
    ("reconcile", "ks", "app-1", "--json-file", "/nonexistent/dir/p.json"),
])
def test_an_output_file_in_a_missing_folder_is_a_usage_error_before_any_planning(example_repo, args):
    result = fluxpush(*args, "--sandbox", *repo_args(example_repo))

    assert result.returncode == 2, result.stdout + result.stderr
    option = "--plan-file" if "--plan-file" in args else "--json-file"
    assert f"argument {option}: /nonexistent/dir/p.json: no such folder '/nonexistent/dir'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing was planned or applied


def test_an_output_file_that_is_a_folder_is_a_usage_error(example_repo, tmp_path):
    result = fluxpush("plan", "--plan-file", str(tmp_path), "--sandbox", *repo_args(example_repo))

    assert result.returncode == 2
    assert f"argument --plan-file: {tmp_path}: cannot write there" in result.stderr
    assert result.stdout == ""


def test_a_failed_write_is_one_line_naming_the_option_and_path(tmp_path):
    from fluxpush.cli.run import _write_output  # the write behind --plan-file and --json-file

    target = tmp_path / "gone" / "p.json"  # the folder vanished after the command line was read

    with pytest.raises(UsageError, match=rf"--json-file {target}: cannot write: No such file"):
        _write_output("--json-file", str(target), "{}")


# -- 2. --plan-file is the executable plan file only; reconcile's JSON goes to --json-file --


def test_reconcile_refuses_plan_file_and_leaves_an_executable_plan_untouched(example_repo, tmp_path):
    plan_file = tmp_path / "plan.json"
    planned = fluxpush("plan", "--plan-file", str(plan_file), "--sandbox", *repo_args(example_repo))
    assert planned.returncode == 0, planned.stderr
    written = plan_file.read_text()

    result = fluxpush("reconcile", "ks", "app-1", "--dry-run", "--plan-file", str(plan_file), "--sandbox",
                      *repo_args(example_repo))

    assert result.returncode == 2
    assert "unrecognized arguments: --plan-file" in result.stderr
    assert plan_file.read_text() == written
    assert json.loads(written)["execution"]["kind"] == "fluxpush-plan-file"


def test_reconcile_dry_run_writes_its_plan_to_json_file(example_repo, tmp_path):
    json_file = tmp_path / "plan.json"
    result = fluxpush("reconcile", "ks", "flux-system", "--dry-run", "--json-file", str(json_file),
                      "--sandbox", *repo_args(example_repo))

    assert result.returncode == 0, result.stderr
    document = json.loads(json_file.read_text())
    assert "execution" not in document  # plain JSON of the plan, not an executable plan file
    assert [c["action"] for node in document["nodes"] for c in node["changes"]] == ["create"]
    assert "Namespace/flux-system created" in result.stdout


# -- 3. get with a cluster: apply order, and a NAMESPACE column --


def test_get_ks_with_a_cluster_lists_nodes_in_apply_order_with_their_namespace(two_app_2):
    result = fluxpush("get", "ks", "--sandbox", *repo_args(two_app_2))

    assert result.returncode == 0, result.stderr
    live = result.stdout.split("\n\n")[1].splitlines()
    assert live[0].split()[:3] == ["NAME", "NAMESPACE", "READY"]
    rows = [line.split()[:2] for line in live[1:]]
    assert rows[:2] == [["flux-system", "flux-system"], ["infrastructure", "flux-system"]]
    assert ["app-2", "flux-system"] in rows and ["app-2", "team-b"] in rows


# -- 4. exit codes: 2 for usage only, 1 for a failure (2 for diff, whose 1 means changes) --


@pytest.mark.parametrize(("verb", "code"), [(("get", "ks"), 1), (("plan",), 1), (("diff",), 2),
                                            (("suspend", "ks", "app-1"), 1)])
def test_an_unreachable_cluster_is_a_failure_not_a_usage_error(example_repo, unreachable, verb, code):
    result = fluxpush(*verb, *repo_args(example_repo), env=unreachable)

    assert result.returncode == code, result.stdout + result.stderr
    assert "127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


# -- 5. --timeout above zero --


@pytest.mark.parametrize("value", ["0s", "0m", "0h0m"])
def test_a_zero_timeout_is_a_usage_error(example_repo, value):
    result = fluxpush("apply", "--timeout", value, "--sandbox", *repo_args(example_repo))

    assert result.returncode == 2
    assert f"argument --timeout: expected a duration of more than 0 seconds, e.g. 5m, got '{value}'" \
        in result.stderr
    assert result.stdout == ""


# -- 6. wording and help --


def test_one_node_is_counted_in_the_singular(example_repo):
    result = fluxpush("reconcile", "ks", "flux-system", "--sandbox", *repo_args(example_repo))

    assert "✔ 1 node, 0 not ready," in result.stdout, result.stdout + result.stderr


def test_get_help_lists_exit_code_1_and_diff_help_names_blocked_and_refused():
    get_help = fluxpush("get", "--help").stdout
    diff_help = fluxpush("diff", "--help").stdout

    assert "  1 the cluster cannot be read; `get images`: a policy cannot decide" in get_help
    assert "is blocked by a failed dependency, or a prune would be refused" in diff_help
