"""The built action image, and a runner that starts it exactly as a GitHub runner starts a Docker action.

The runner's line (actions/runner ContainerActionHandler, DockerCommandManager):

    docker run --workdir /github/workspace --rm -e INPUT_CLUSTER-PATH -e ... -e HOME -e GITHUB_* ...
      -e RUNNER_TEMP -e RUNNER_OS ... -e GITHUB_ACTIONS=true -e CI=true
      -v /var/run/docker.sock:/var/run/docker.sock
      -v <_temp>/_github_home:/github/home -v <_temp>/_github_workflow:/github/workflow
      -v <_temp>/_runner_file_commands:/github/file_commands -v <repo>:/github/workspace <image>

Values travel as `-e NAME` read from the docker process's own environment; every input declared in
action.yml arrives as INPUT_<ID> with its dashes, defaults included; paths are the container's except
RUNNER_TEMP, which stays the host's and is not mounted (actions/runner#1984). podman runs the image
(`--network host`, so kubesim and the fake GitHub on the host's loopback are reachable); while the
step runs the workspace belongs to the runner's user (UID 1001), as on hosted runners.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from action.conftest import (  # the action tests' fixtures: one checkout, fake GitHub and cluster
    REPO,
    checkout,
    cluster,
    github,
    parse_outputs,
)

from .image import PROJECT_ROOT, ImageError, ensure_image, missing_tools

__all__ = ["checkout", "cluster", "github"]

RUNNER_UID = 1001  # the `runner` user of GitHub-hosted runners, owner of the workspace
WORKFLOW_TOKEN = "ghs_workflowtoken0000000000000000000000"  # what `${{ github.token }}` evaluates to
# Global podman options for a root run without systemd: cgroupfs, a file event log, runc.
PODMAN = ("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file")
# At or below the host's limits (podman's defaults can be above what a nested machine allows).
ULIMITS = ("--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768")
REQUIRE_ENV = "FLUXPUSH_REQUIRE_CONTAINER"  # set by .ci/run: CI must run these tests, never skip


def unavailable(reason: str) -> None:
    """Skip, unless CI requires the container tests, where it fails with the same reason."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"container tests required ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def image() -> str:
    """The image built from this tree's Dockerfile (built once per machine and source; file-locked)."""
    missing = missing_tools()
    if missing:
        unavailable(f"{', '.join(missing)} not installed (as root on Debian: make system-deps)")
    if os.geteuid() != 0:
        unavailable("buildah/podman run here as root only (rootless storage is not set up)")
    try:
        tag, _ = ensure_image()
    except ImageError as exc:
        pytest.fail(str(exc))
    return tag


def action_inputs(given: dict[str, str]) -> dict[str, str]:
    """Every input action.yml declares with a default, then the given ones: what the runner passes."""
    declared = yaml.safe_load((PROJECT_ROOT / "action.yml").read_text())["inputs"]
    unknown = set(given) - set(declared)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    inputs = {}
    for name, spec in declared.items():
        default = str(spec.get("default", "")).replace("${{ github.token }}", WORKFLOW_TOKEN)
        value = given.get(name, default)
        if name in given or "default" in spec:
            inputs[name] = value
    return inputs


@dataclass
class ContainerRun:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    root_owned: list[str]  # workspace paths still owned by root after the step (must be none)
    env: dict[str, str]


@dataclass
class ContainerRunner:
    """Starts the image for one event, with the runner's folders, variables and mounts."""

    image: str
    tmp_path: Path
    github: Any
    inputs: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def _folders(self) -> tuple[Path, dict[str, Path]]:
        self.count += 1
        temp = self.tmp_path / f"runner-{self.count}" / "_work" / "_temp"
        folders = {
            "/github/home": temp / "_github_home",
            "/github/workflow": temp / "_github_workflow",
            "/github/file_commands": temp / "_runner_file_commands",
        }
        for folder in folders.values():
            folder.mkdir(parents=True)
        return temp, folders

    def _environment(self, event_name: str, payload: dict[str, Any], sha: str, temp: Path) -> dict[str, str]:
        commands = {kind: f"/github/file_commands/{kind}_{uuid.uuid4()}" for kind in
                    ("set_output", "step_summary", "set_env", "add_path", "save_state")}
        env = {
            "HOME": "/github/home",
            "GITHUB_JOB": "deploy",
            "GITHUB_REF": payload.get("ref") or "refs/heads/main",
            "GITHUB_REF_NAME": "main",
            "GITHUB_REF_TYPE": "branch",
            "GITHUB_SHA": sha,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_REPOSITORY_OWNER": REPO.split("/")[0],
            "GITHUB_RUN_ID": str(7000 + self.count),
            "GITHUB_RUN_NUMBER": str(self.count),
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_ACTOR": "octocat",
            "GITHUB_WORKFLOW": "deploy",
            "GITHUB_ACTION": "__acme_fluxpush",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": "/github/workflow/event.json",
            "GITHUB_WORKSPACE": "/github/workspace",
            "GITHUB_SERVER_URL": self.github.web_url,
            "GITHUB_API_URL": self.github.base_url,
            "GITHUB_OUTPUT": commands["set_output"],
            "GITHUB_STEP_SUMMARY": commands["step_summary"],
            "GITHUB_ENV": commands["set_env"],
            "GITHUB_PATH": commands["add_path"],
            "GITHUB_STATE": commands["save_state"],
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_NAME": "GitHub Actions 2",
            "RUNNER_ENVIRONMENT": "github-hosted",
            "RUNNER_TEMP": str(temp),  # the host's path: not mounted in the container
            "RUNNER_WORKSPACE": str(temp.parent / "platform"),
            "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
            "GITHUB_ACTIONS": "true",
            "CI": "true",
        }
        if event_name == "pull_request":
            env["GITHUB_HEAD_REF"] = payload["pull_request"]["head"]["ref"]
            env["GITHUB_BASE_REF"] = payload["pull_request"]["base"]["ref"]
            env["GITHUB_REF"] = f"refs/pull/{payload['number']}/merge"
            env["GITHUB_REF_NAME"] = f"{payload['number']}/merge"
        env.update({f"INPUT_{name.upper()}": value for name, value in action_inputs(self.inputs).items()})
        return env

    def argv(self, env: dict[str, str], workspace: Path, folders: dict[str, Path]) -> list[str]:
        """The podman command line: the runner's docker line, names only for the variables."""
        argv = [*PODMAN, "run", "--workdir", "/github/workspace", "--rm", "--network", "host", *ULIMITS]
        argv += [arg for name in env for arg in ("-e", name)]
        if Path("/var/run/docker.sock").exists():
            argv += ["-v", "/var/run/docker.sock:/var/run/docker.sock"]
        for inside, outside in folders.items():
            argv += ["-v", f"{outside}:{inside}"]
        argv += ["-v", f"{workspace}:/github/workspace", self.image]
        return argv

    def __call__(self, event_name: str, payload: dict[str, Any], workspace: Path, sha: str) -> ContainerRun:
        temp, folders = self._folders()
        (folders["/github/workflow"] / "event.json").write_text(json.dumps(payload))
        env = self._environment(event_name, payload, sha, temp)
        host_commands = folders["/github/file_commands"]
        for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE"):
            (host_commands / Path(env[name]).name).touch()  # the runner creates them before the step
        process_env = {key: os.environ[key] for key in ("PATH", "LANG") if key in os.environ}
        subprocess.run(["chown", "-R", f"{RUNNER_UID}:{RUNNER_UID}", str(workspace)], check=True)
        try:
            done = subprocess.run(
                self.argv(env, workspace, folders), env={**process_env, **env},
                capture_output=True, text=True, timeout=300,
            )
            root_owned = [
                str(path.relative_to(workspace)) for path in workspace.rglob("*") if path.lstat().st_uid == 0
            ]
        finally:
            subprocess.run(["chown", "-R", "0:0", str(workspace)], check=True)  # the host test's git is root
        outputs = (host_commands / Path(env["GITHUB_OUTPUT"]).name).read_text()
        summary = (host_commands / Path(env["GITHUB_STEP_SUMMARY"]).name).read_text()
        return ContainerRun(done.returncode, done.stdout + done.stderr, parse_outputs(outputs), summary,
                            root_owned, env)


@pytest.fixture
def run_container(image, tmp_path, github, app_pem) -> ContainerRunner:
    """Runs the image with the App's credentials and the cluster path as inputs."""
    runner = ContainerRunner(image, tmp_path, github)
    runner.inputs.update(
        {
            "cluster-path": "clusters/dev",
            "github-app-id": str(github.state.app.client_id),
            "github-app-private-key": app_pem,
        }
    )
    return runner


def cluster_dump(sim: Any) -> str:
    """Every object kubesim stores, as sorted JSON: equal dumps mean nothing was written."""
    objects = sim.cluster.store.snapshot()
    by_key = {"/".join(map(str, key)): obj for key, obj in objects.items()}
    return json.dumps(by_key, sort_keys=True, default=str)
