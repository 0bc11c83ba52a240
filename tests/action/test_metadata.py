"""action.yml and the container entrypoint agree with the code: the same inputs and outputs, and the
entrypoint script starts `python -m fluxpush.action` from the workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from fluxpush.action.config import INPUT_NAMES
from fluxpush.action.render import OUTPUT_NAMES

ROOT = Path(__file__).resolve().parents[2]


def test_action_yml_declares_exactly_the_inputs_and_outputs_the_code_reads_and_writes():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert list(action["inputs"]) == list(INPUT_NAMES)
    assert list(action["outputs"]) == list(OUTPUT_NAMES)
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert action["inputs"]["cluster-path"]["required"] is True
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert all(spec.get("description") for spec in action["inputs"].values())


def test_the_dockerfile_runs_the_entrypoint_as_root_as_github_requires_of_docker_actions():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert 'ENTRYPOINT ["/opt/fluxpush/entrypoint.sh"]' in lines
    assert not [line for line in lines if line.startswith("USER")], "the workspace is the runner user's"
    assert "COPY --chmod=0755 entrypoint/entrypoint.sh /opt/fluxpush/entrypoint.sh" in lines


def test_the_entrypoint_script_runs_the_action_in_the_workspace(tmp_path):
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_WORKSPACE": str(tmp_path),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [str(ROOT / "entrypoint" / "entrypoint.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "input `cluster-path` is required" in done.stdout
