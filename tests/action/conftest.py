"""Fixtures for action runs: a git checkout of the example repository, the fake GitHub with an App,
a kubesim cluster with a kubeconfig, and a runner that sets GitHub's environment and runs the action."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fakegithub import FakeGitHub
from fluxpush.action.__main__ import main
from fluxpush.report.github_app import DEPLOY_PERMISSIONS, ClientOptions
from kubesim import KubeSim, Options

REPO = "acme/platform"
CLUSTER_PATH = "clusters/dev"
# No spacing between GitHub requests: the production default waits 0.25 s per request, 1 s per write.
FAST = ClientOptions(seconds_between_requests=None, seconds_between_writes=None, per_page=100, timeout=10)


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@dataclass
class Checkout:
    """A git work tree of the example repository; `main` holds the first commit."""

    root: Path
    base_sha: str

    def edit(self, path: str, old: str, new: str) -> None:
        file = self.root / path
        text = file.read_text()
        assert old in text, f"{old!r} not in {path}"
        file.write_text(text.replace(old, new, 1))

    def commit(self, message: str) -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)
        return git(self.root, "rev-parse", "HEAD")


@pytest.fixture
def checkout(tmp_path: Path, example_repo: Path) -> Checkout:
    root = tmp_path / "workspace"
    shutil.copytree(example_repo, root)
    git(tmp_path, "init", "-q", "-b", "main", str(root))
    for key, value in (
        ("user.name", "Test"),
        ("user.email", "test@example.com"),
        ("commit.gpgsign", "false"),
    ):
        git(root, "config", key, value)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return Checkout(root, git(root, "rev-parse", "HEAD"))


@pytest.fixture
def github(app_key) -> Iterator[FakeGitHub]:
    with FakeGitHub(app_key.public_key()) as fake:
        fake.state.install(REPO, dict(DEPLOY_PERMISSIONS))
        yield fake


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[KubeSim, Path]]:
    """A kubesim API server and a kubeconfig file for it."""
    with KubeSim(Options(cluster_name="dev", ready_delay=0.05, crd_delay=0.05)) as sim:
        yield sim, sim.write_kubeconfig(tmp_path / "kubeconfig")


def parse_outputs(text: str) -> dict[str, str]:
    """`$GITHUB_OUTPUT` in the `name<<DELIMITER` form the runner reads."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        value = []
        for item in lines:
            if item == delimiter:
                break
            value.append(item)
        outputs[name] = "\n".join(value)
    return outputs


@dataclass
class ActionRun:
    code: int
    stdout: str
    outputs: dict[str, str]
    summary: str
    env: dict[str, str]


@dataclass
class Runner:
    """Sets the environment a container action sees, then runs the action."""

    monkeypatch: pytest.MonkeyPatch
    capsys: Any
    tmp_path: Path
    github: FakeGitHub
    inputs: dict[str, str] = field(default_factory=dict)
    env_overrides: dict[str, str] = field(default_factory=dict)  # e.g. a re-run keeps GITHUB_RUN_ID
    count: int = 0

    def env(self, event_name: str, payload: dict[str, Any], workspace: Path, sha: str) -> dict[str, str]:
        self.count += 1
        folder = self.tmp_path / f"run-{self.count}"
        (folder / "file_commands").mkdir(parents=True)
        event_path = folder / "event.json"
        event_path.write_text(json.dumps(payload))
        env = {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_REPOSITORY_OWNER": REPO.split("/")[0],
            "GITHUB_SHA": sha,
            "GITHUB_REF": payload.get("ref") or "refs/heads/main",
            "GITHUB_REF_NAME": "main",
            "GITHUB_SERVER_URL": self.github.web_url,
            "GITHUB_API_URL": self.github.base_url,
            "GITHUB_RUN_ID": str(9000 + self.count),
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(folder / "file_commands" / "output"),
            "GITHUB_STEP_SUMMARY": str(folder / "file_commands" / "summary"),
            "RUNNER_TEMP": str(folder),
            **{"INPUT_" + name.upper(): value for name, value in self.inputs.items()},
            **self.env_overrides,
        }
        if event_name == "pull_request":
            env["GITHUB_HEAD_REF"] = payload["pull_request"]["head"]["ref"]
            env["GITHUB_BASE_REF"] = payload["pull_request"]["base"]["ref"]
        return env

    def __call__(self, event_name: str, payload: dict[str, Any], workspace: Path, sha: str) -> ActionRun:
        """Run `main()` in-process (the way moto and in-process fakes can see it)."""
        env = self.env(event_name, payload, workspace, sha)
        for name in ("GITHUB_HEAD_REF", "GITHUB_BASE_REF"):
            self.monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        self.monkeypatch.chdir(workspace)
        code = main(client_options=FAST)
        return self._finish(code, self.capsys.readouterr().out, env)

    def subprocess(self, event_name: str, payload: dict[str, Any], workspace: Path, sha: str) -> ActionRun:
        """Run `python -m fluxpush.action` as the container's entrypoint does."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GITHUB_", "INPUT_", "RUNNER_"))
        }
        env.update(self.env(event_name, payload, workspace, sha))
        done = subprocess.run(
            [sys.executable, "-m", "fluxpush.action"],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return self._finish(done.returncode, done.stdout + done.stderr, env)

    @staticmethod
    def _finish(code: int, stdout: str, env: dict[str, str]) -> ActionRun:
        outputs_file, summary_file = Path(env["GITHUB_OUTPUT"]), Path(env["GITHUB_STEP_SUMMARY"])
        outputs = parse_outputs(outputs_file.read_text()) if outputs_file.exists() else {}
        summary = summary_file.read_text() if summary_file.exists() else ""
        return ActionRun(code, stdout, outputs, summary, env)


@pytest.fixture
def run_action(monkeypatch, capsys, tmp_path, github, app_pem) -> Runner:
    """Runs the action with the App's credentials and the cluster path as inputs."""
    runner = Runner(monkeypatch, capsys, tmp_path, github)
    runner.inputs.update(
        {
            "cluster-path": CLUSTER_PATH,
            "github-app-id": str(github.state.app.client_id),
            "github-app-private-key": app_pem,
        }
    )
    return runner


def repository_json() -> dict[str, Any]:
    owner, name = REPO.split("/")
    return {
        "full_name": REPO,
        "name": name,
        "owner": {"login": owner},
        "default_branch": "main",
        "fork": False,
    }


def pull_request_event(number: int, head_sha: str, base_sha: str, *, fork: bool = False) -> dict[str, Any]:
    """A `pull_request` (synchronize) payload with the fields GitHub sends that matter here."""
    head_repo = {"full_name": "outsider/platform", "fork": True} if fork else repository_json()
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "state": "open",
            "draft": False,
            "merged": False,
            "user": {"login": "octocat"},
            "head": {"ref": f"feature-{number}", "sha": head_sha, "repo": head_repo},
            "base": {"ref": "main", "sha": base_sha, "repo": repository_json()},
        },
        "repository": repository_json(),
        "sender": {"login": "octocat"},
    }


def push_event(before: str, after: str, message: str) -> dict[str, Any]:
    """A `push` to main payload."""
    commit = {"id": after, "message": message, "distinct": True, "added": [], "removed": [], "modified": []}
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "commits": [commit],
        "head_commit": commit,
        "pusher": {"name": "octocat"},
        "repository": repository_json(),
        "sender": {"login": "octocat"},
    }


def dispatch_event(inputs: dict[str, str]) -> dict[str, Any]:
    """A `workflow_dispatch` payload (input values arrive as strings)."""
    return {
        "inputs": inputs,
        "ref": "refs/heads/main",
        "workflow": ".github/workflows/deploy.yml",
        "repository": repository_json(),
        "sender": {"login": "octocat"},
    }
