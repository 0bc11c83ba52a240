"""The container's entrypoint script, run itself (through its own #! line) the way the image runs it.

The runner passes inputs as `INPUT_CLUSTER-PATH`, `INPUT_DRY-RUN`, ...: names with dashes, which dash
(/bin/sh on Debian) drops from the environment. With a `#!/bin/sh` entrypoint every such input was lost
and each run stopped at "input `cluster-path` is required". Also what the action does on exit, as root
in a workspace another user owns: hand what it created there back to that user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fluxpush.action.handback import hand_back

ENTRYPOINT = Path(__file__).resolve().parents[2] / "entrypoint" / "entrypoint.sh"


def run_entrypoint(workspace: Path, inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_WORKSPACE": str(workspace),
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
    }
    return subprocess.run([str(ENTRYPOINT)], env=env, capture_output=True, text=True, timeout=60)


def test_inputs_with_dashes_reach_the_action(tmp_path):
    done = run_entrypoint(
        tmp_path, {"cluster-path": "clusters/dev", "dry-run": "maybe", "github-app-id": "Iv1.abc"}
    )

    assert done.returncode == 2, done.stdout + done.stderr
    assert "cluster-path` is required" not in done.stdout
    # Each of these errors names an input whose variable has a dash, so the variable arrived.
    assert "input `dry-run`: 'maybe'" in done.stdout
    assert "input `github-app-id` needs `github-app-private-key` too" in done.stdout


def test_hand_back_is_a_no_op_unless_root_owns_what_the_owner_does_not(tmp_path):
    (tmp_path / "plan.json").write_text("{}")

    changed = hand_back(tmp_path)

    # As root in a root-owned temp folder, or as a user: nothing to hand back either way.
    assert changed == 0
    assert (tmp_path / "plan.json").stat().st_uid == os.geteuid()


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to another user needs root (as in a container)")
def test_as_root_what_the_action_created_goes_to_the_workspace_owner(tmp_path):
    runner_uid = 1001  # the runner's user on GitHub-hosted runners
    workspace = tmp_path / "workspace"
    (workspace / "kept").mkdir(parents=True)
    (workspace / "kept" / "theirs.yaml").write_text("a: 1")
    os.chown(workspace, runner_uid, runner_uid)
    os.chown(workspace / "kept" / "theirs.yaml", 4242, 4242)
    (workspace / ".fluxpush").mkdir()
    (workspace / ".fluxpush" / "plan-clusters-dev.json").write_text("{}")
    (workspace / ".fluxpush" / "link").symlink_to("/etc/passwd")

    changed = hand_back(workspace)

    assert changed == 4  # kept/, .fluxpush/, the plan file, the link (not its target)
    for path in (workspace / ".fluxpush", workspace / ".fluxpush" / "plan-clusters-dev.json"):
        assert (path.stat().st_uid, path.stat().st_gid) == (runner_uid, runner_uid)
    assert (workspace / ".fluxpush" / "link").lstat().st_uid == runner_uid
    assert Path("/etc/passwd").stat().st_uid == 0
    assert (workspace / "kept" / "theirs.yaml").stat().st_uid == 4242  # not root's: left alone
