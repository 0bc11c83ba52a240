"""No secret in any output: distinct canary values in every secret source, searched in every channel.

Sources: a HelmRelease `valuesFrom` Secret (a values document and a `targetPath` value) whose chart
copies both into a ConfigMap's data and an annotation and, for one release, into a `fail` message;
a `substituteFrom` Secret; the Provider's Secret (its webhook address); the App's private key; the
inline kubeconfig's token. Channels: the action's log (all but the `::add-mask::` commands, which
are the runner's masking channel), its step outputs, the job summary, the plan file, every text sent
to the fake GitHub (comments, check runs, deployments and their statuses), the notifications the
loopback receiver got, and the CLI's stdout, stderr, `-o json` and `--plan-file`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from fluxpush.kube import KubeClient, connect_sandbox
from fluxpush.redact import REGISTRY

from .conftest import REPO, pull_request_event, push_event

pytestmark = pytest.mark.integration

HR_YAML_CANARY = "CanaryHrValuesYaml-7f31c2"
HR_TARGET_CANARY = "CanaryHrTargetPath-19ab44"
SUBST_CANARY = "CanarySubstituteFrom-5e6d90"
PROVIDER_CANARY = "CanaryProviderPath-a8c3e1"
CANARIES = (HR_YAML_CANARY, HR_TARGET_CANARY, SUBST_CANARY, PROVIDER_CANARY)

CHART_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: canary-copy
  namespace: {{ .Release.Namespace }}
  annotations:
    example.com/token: {{ .Values.token | quote }}
data:
  copied: {{ .Values.token | quote }}
  nested: {{ .Values.nested.password | quote }}
{{- if .Values.explode }}
{{ fail (printf "refusing the password %s" .Values.nested.password) }}
{{- end }}
"""
HR_VALUES_FROM = """  valuesFrom:
    - kind: Secret
      name: hr-values
      valuesKey: values.yaml
    - kind: Secret
      name: hr-token
      valuesKey: token
      targetPath: token
  values:
"""


def plant(root: Path, explode: bool = False) -> None:
    """The repository side: the chart copies its values, the HelmRelease and app-2 read Secrets."""
    (root / "charts/external-secrets/templates/canary.yaml").write_text(CHART_TEMPLATE)
    values = root / "charts/external-secrets/values.yaml"
    values.write_text(values.read_text() + f"\ntoken: none\nnested:\n  password: none\nexplode: {explode}\n")
    release = root / "infrastructure/external-secrets/helmrelease.yaml"
    release.write_text(release.read_text().replace("  values:\n", HR_VALUES_FROM, 1))
    apps = root / "clusters/dev/apps.yaml"
    apps.write_text(apps.read_text().replace(
        "  targetNamespace: app-2\n",
        "  targetNamespace: app-2\n  postBuild:\n    substituteFrom:\n      - kind: Secret\n"
        "        name: cluster-secrets\n", 1))
    config = root / "apps/app-2/configmap.yaml"
    config.write_text(config.read_text().replace("\ndata:\n", "\ndata:\n  api-key: ${SUB_TOKEN}\n", 1))


def _secret(namespace: str, name: str, data: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}}


def seed_cluster(sim, receiver_url: str) -> None:
    """The cluster side: the Secrets exist there, never in Git."""
    with KubeClient(connect_sandbox(sim)) as client:
        for namespace in ("flux-system", "external-secrets"):
            client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}, "setup")
        for secret in (
            _secret("external-secrets", "hr-values",
                    {"values.yaml": f"nested:\n  password: {HR_YAML_CANARY}\n"}),
            _secret("external-secrets", "hr-token", {"token": HR_TARGET_CANARY}),
            _secret("flux-system", "cluster-secrets", {"SUB_TOKEN": SUBST_CANARY}),
            _secret("flux-system", "slack-webhook", {"address": f"{receiver_url}/slack/{PROVIDER_CANARY}"}),
        ):
            client.apply(secret, "setup")


def github_texts(github) -> str:
    state = github.state
    parts = [comment.body for comment in state.comments]
    parts += [json.dumps(item, default=str) for item in
              (*state.check_runs, *state.deployments, *state.deployment_statuses)]
    return "\n".join(parts)


def shown(stdout: str) -> str:
    """The log as people read it: without the `::add-mask::` commands only the runner consumes."""
    return "\n".join(line for line in stdout.splitlines() if not line.startswith("::add-mask::"))


def assert_absent(values, **channels: str) -> None:
    for name, text in channels.items():
        for value in values:
            assert value not in text, f"{value!r} leaked into {name}"


def key_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


@pytest.fixture
def planted(checkout, github, cluster, receiver):
    seed_cluster(cluster[0], receiver.url)
    plant(checkout.root)
    return checkout


def test_no_canary_reaches_any_action_channel(planted, github, run_action, cluster, receiver, app_pem):
    sim, kubeconfig = cluster
    run_action.inputs["kubeconfig"] = kubeconfig.read_text()  # inline: its token is a secret too
    secrets = (*CANARIES, sim.token, *key_lines(app_pem))
    # A live preview of a pull request, then the deploy of its merge (apply, notify).
    head = planted.commit("canaries")
    github.state.add_pull(REPO, 5, head_sha=head)
    preview = run_action("pull_request", pull_request_event(5, head, planted.base_sha), planted.root, head)
    github.state.add_pull(REPO, 6, merged=True, merge_commit_sha=head)
    merged = push_event(planted.base_sha, head, "Merge pull request #6")
    deploy = run_action("push", merged, planted.root, head)

    assert preview.code == 0 and deploy.code == 0, preview.stdout + deploy.stdout
    for run in (preview, deploy):
        plan_file = (planted.root / run.outputs["plan-json"]).read_text()
        assert_absent(secrets, log=shown(run.stdout), outputs=json.dumps(run.outputs), summary=run.summary,
                      plan_file=plan_file)
        for canary in CANARIES[:3]:  # each value was read, and announced to the runner
            assert f"::add-mask::{canary}" in run.stdout
    assert_absent(secrets, github=github_texts(github), notifications=json.dumps(
        [message.json() for message in receiver.at(f"/slack/{PROVIDER_CANARY}")]))
    assert receiver.at(f"/slack/{PROVIDER_CANARY}"), "the notification was sent"
    assert "example.com/token" in github_texts(github), "the copied objects are in the preview"
    with KubeClient(connect_sandbox(sim)) as client:  # the chart did copy them: masking hid them
        copied = client.get("v1", "ConfigMap", "canary-copy", "external-secrets")
        config = client.get("v1", "ConfigMap", "app-2-config", "app-2")
    assert copied["data"] == {"copied": HR_TARGET_CANARY, "nested": HR_YAML_CANARY}
    assert config["data"]["api-key"] == SUBST_CANARY


def test_a_secret_in_an_error_message_is_masked(checkout, github, run_action, cluster, receiver):
    sim, kubeconfig = cluster
    seed_cluster(sim, receiver.url)
    plant(checkout.root, explode=True)
    run_action.inputs["kubeconfig"] = str(kubeconfig)
    head = checkout.commit("canaries, and a chart that fails quoting one")
    github.state.add_pull(REPO, 8, head_sha=head)
    run = run_action("pull_request", pull_request_event(8, head, checkout.base_sha), checkout.root, head)

    assert run.code == 1
    assert "refusing the password ***" in github_texts(github)
    assert_absent(CANARIES, log=shown(run.stdout), summary=run.summary, github=github_texts(github))


def test_no_canary_reaches_the_cli(planted, cluster, run_cli, tmp_path, receiver):
    sim, kubeconfig = cluster
    secrets = (*CANARIES, sim.token)
    common = ["--repo", str(planted.root), "--path", "clusters/dev", "--kubeconfig", str(kubeconfig)]
    applied = run_cli("apply", *common)
    # The chart now copies the value once more: the diff shows the new line (each command is a new
    # process in real use, so the registry starts empty each time).
    template = planted.root / "charts/external-secrets/templates/canary.yaml"
    again = "\ndata:\n  again: {{ .Values.token | quote }}\n"
    template.write_text(template.read_text().replace("\ndata:\n", again))
    REGISTRY.clear()
    diff = run_cli("diff", *common)
    REGISTRY.clear()
    plan_file = tmp_path / "plan.json"
    plan = run_cli("plan", *common, "-o", "json", "--plan-file", str(plan_file))

    assert applied.code == 0, applied.err
    assert receiver.at(f"/slack/{PROVIDER_CANARY}"), "apply notified through the Provider"
    for verb, result in {"apply": applied, "diff": diff, "plan -o json": plan}.items():
        assert_absent(secrets, **{f"{verb} stdout": result.out, f"{verb} stderr": result.err})
    assert_absent(secrets, plan_file=plan_file.read_text())
    assert "+  again: ***\n" in diff.out, diff.out
    assert "again" in json.dumps(json.loads(plan.out))  # masking keeps the document valid JSON
