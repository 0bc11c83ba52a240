"""Invalid Flux objects, missing sources, dependency cycles, broken overlays, objects the API server
refuses, and Secrets: each fails the node it belongs to (issue 13 item 4), names it and what to fix,
and leaves the cluster exactly as it was (item 1) — or makes exactly the documented change."""

from __future__ import annotations

import pytest

from trust.harness import (
    GIT_CANARY,
    GIT_SECRET,
    LIVE_CANARY,
    NEW_CANARY,
    UNCHANGED,
    Scenario,
    World,
    append,
    cases,
    change,
    check,
    edit,
    leaked_secrets,
    remove,
    steps,
    write,
)

APPS = "clusters/dev/apps.yaml"
INFRA = "clusters/dev/infrastructure.yaml"
HR = "infrastructure/external-secrets/helmrelease.yaml"
HR_REF = "HelmRelease/external-secrets/external-secrets"
APP2_CM = "apps/app-2/configmap.yaml"
APP2_DEPLOY = "apps/app-2/deployment.yaml"
# app-2's block in apps.yaml starts at its name; edits anchored there touch app-2 only.
APP2_SPEC = "  name: app-2\n  namespace: flux-system\nspec:\n"
APP1_SPEC = "  name: app-1\n  namespace: flux-system\nspec:\n"
HR_SPEC = "spec:\n  interval: 1h\n"
# A change in app-2 that a run would apply if app-2 ran: proves a blocked/suspended node did not.
TOUCH_APP2 = edit(APP2_CM, "listen 8080;", "listen 8081;")
APP2_CM_ID = "ConfigMap/app-2/app-2-config"


HR_V3 = edit(HR, "helm.toolkit.fluxcd.io/v2", "helm.toolkit.fluxcd.io/v3")
INFRA_NEEDS_APP2 = edit(INFRA, "path: ./infrastructure\n",
                        "path: ./infrastructure\n  dependsOn:\n    - name: app-2\n")
APP2_SOURCE = "  targetNamespace: app-2\n  sourceRef:\n    kind: GitRepository\n    name: gitops-platform\n"
SELECTOR = "    matchLabels:\n      app.kubernetes.io/name: app-2"
TEMPLATE_LABELS = "      labels:\n        app.kubernetes.io/name: app-2"
NEW_SELECTOR = steps(edit(APP2_DEPLOY, SELECTOR, SELECTOR + "\n      tier: web"),
                     edit(APP2_DEPLOY, TEMPLATE_LABELS, TEMPLATE_LABELS + "\n        tier: web"))
INFRA_TYPO = edit("infrastructure/kustomization.yaml", "  - cloudwatch/", "  - cw-typo/")
APP1_TYPO = edit("apps/app-1/base/kustomization.yaml", "- service.yaml", "- svc.yaml")
DECRYPTION = "  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n"
SOPS_METADATA = """sops:
  age:
    - recipient: age1qe5lxzzlqa3ejd5kfg0p9f3ge6j2jrx2r9nj5fj6flf4g9jzv2ys5qn3de
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        YWJj
        -----END AGE ENCRYPTED FILE-----
  lastmodified: "2026-01-01T00:00:00Z"
  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
  version: 3.9.0
"""


def configmap(name: str, namespace: str = "") -> str:
    """A small ConfigMap manifest."""
    where = f"\n  namespace: {namespace}" if namespace else ""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}{where}\ndata:\n  a: b\n"


FLUX_OBJECTS = [
    Scenario("ks-interval-not-a-duration", edit(APPS, "interval: 5m\n  path: ./apps/app-1",
                                                "interval: 5 minutes\n  path: ./apps/app-1"),
             1, r"(?s)app-1.*interval"),
    Scenario("ks-unknown-api-version", edit(APPS, "kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
                                            "metadata:\n  name: app-2",
                                            "kustomize.toolkit.fluxcd.io/v9\nkind: Kustomization\n"
                                            "metadata:\n  name: app-2"),
             1, r"(?s)app-2.*v9"),
    Scenario("ks-path-missing", edit(APPS, "path: ./apps/app-2", "path: ./apps/app-3"), 1,
             r"(?s)app-2.*apps/app-3", failed=("app-2",)),
    Scenario("ks-path-empty-folder", steps(edit(APPS, "path: ./apps/app-2", "path: ./apps/empty"),
                                           lambda repo: (repo / "apps/empty").mkdir()),
             1, r"(?s)app-2.*apps/empty", failed=("app-2",)),
    Scenario("ks-source-missing", edit(APPS, APP2_SOURCE, APP2_SOURCE.replace("gitops-", "not-there-")),
             1, r"(?s)app-2.*not-there", failed=("app-2",)),
    # An invalid child spec fails the parent that renders it (the CRD's enum refuses it there); as with
    # kustomize-controller, the live child keeps its last valid spec and its status: untouched here.
    Scenario("ks-source-kind-unknown", edit(APPS, APP2_SOURCE, APP2_SOURCE.replace("GitRepo", "Bucket")),
             1, r"(?s)flux-system.*BuildFailed.*app-2: spec.sourceRef.kind.*'Bucketsitory'.*"
                r"app-2 DependencyNotReady.*not built",
             failed=("flux-system",), still_ready=("app-2",)),
    # A valid kind whose source does not exist fails the child itself.
    Scenario("ks-source-bucket-missing",
             edit(APPS, APP2_SOURCE, APP2_SOURCE.replace("GitRepository", "Bucket")), 1,
             r"(?s)app-2.*Bucket", failed=("app-2",)),
    Scenario("ks-depends-on-missing", steps(TOUCH_APP2, edit(APPS, "- name: infrastructure\n  healthChecks",
                                                             "- name: infra-typo\n  healthChecks")),
             1, r"(?s)app-2.*infra-typo"),
    Scenario("ks-dependency-cycle", steps(TOUCH_APP2, INFRA_NEEDS_APP2),
             1, r"(?s)(infrastructure.*app-2|app-2.*infrastructure).*(cycle|circular)|"
                r"(cycle|circular).*(infrastructure.*app-2|app-2.*infrastructure)"),
    Scenario("ks-depends-on-itself", steps(TOUCH_APP2, edit(APPS, "- name: infrastructure\n  healthChecks",
                                                            "- name: app-2\n  healthChecks")),
             1, r"(?s)app-2.*(cycle|circular|itself)"),
    Scenario("ks-suspended", steps(TOUCH_APP2, edit(APPS, APP2_SPEC, APP2_SPEC + "  suspend: true\n")),
             0, r"app-2.*[Ss]uspended"),
    Scenario("ks-kubeconfig-remote-cluster", steps(TOUCH_APP2, edit(APPS, APP2_SPEC, APP2_SPEC
                                                                    + "  kubeConfig:\n    secretRef:\n"
                                                                    "      name: spoke-kubeconfig\n")),
             1, r"(?s)app-2.*kubeConfig", failed=("app-2",)),
    Scenario("ks-postbuild-variable-unset", edit(APPS, "      cluster_env: dev\n", ""), 1,
             r"(?s)app-1.*cluster_env", failed=("app-1",)),
    Scenario("ks-substitute-from-missing", edit(APPS, "name: cluster-vars", "name: cluster-vars-typo"), 1,
             r"(?s)app-1.*cluster-vars-typo", failed=("app-1",)),
    Scenario("ks-timeout-not-a-duration", edit(APPS, "timeout: 3m", "timeout: forever"), 1,
             r"(?s)app-1.*(timeout|forever)"),
    Scenario("ks-prune-not-a-boolean", edit(APPS, "path: ./apps/app-2\n  prune: true",
                                            "path: ./apps/app-2\n  prune: \"yes\""), 1, r"(?s)app-2.*prune"),
    Scenario("ks-target-namespace-invalid", steps(TOUCH_APP2, edit(APPS, "targetNamespace: app-2",
                                                                   "targetNamespace: App_2!")),
             1, r"(?s)app-2.*App_2!"),
    Scenario("ks-declared-twice", append(APPS, "---\n" + (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app-2\n"
        "  namespace: flux-system\nspec:\n  interval: 1m\n  path: ./apps/app-1\n  prune: true\n"
        "  sourceRef:\n    kind: GitRepository\n    name: gitops-platform\n")), 1, r"(?s)app-2"),
    Scenario("ks-no-source-ref", edit(APPS, APP2_SOURCE, "  targetNamespace: app-2\n"),
             1, r"(?s)app-2.*sourceRef"),
    Scenario("hr-unknown-api-version", HR_V3, 1,
             r"(?s)external-secrets.*v3"),
    Scenario("hr-chart-path-missing", edit(HR, "chart: ./charts/external-secrets", "chart: ./charts/nope"), 1,
             rf"(?s){HR_REF}.*charts/nope", failed=("external-secrets",)),
    Scenario("hr-source-missing", edit(HR, "name: gitops-platform", "name: not-there"), 1,
             rf"(?s){HR_REF}.*not-there", failed=("external-secrets",)),
    Scenario("hr-values-not-a-mapping", edit(HR, "  values:\n    serviceAccount:\n      annotations:\n"
                                             "        eks.amazonaws.com/role-arn: "
                                             "arn:aws:iam::123456789012:role/eso-role\n",
                                             "  values: just a string\n"), 1,
             r"(?s)external-secrets.*values"),
    Scenario("hr-chart-template-error", write("charts/external-secrets/templates/broken.yaml",
                                              "kind: ConfigMap\nname: {{ .Values.nope.deeper }}\n"), 1,
             rf"(?s){HR_REF}.*broken.yaml", failed=("external-secrets",)),
    Scenario("hr-chart-version-not-semver", edit("charts/external-secrets/Chart.yaml", "version: 0.9.20",
                                                 "version: not-a-version"), 1,
             rf"(?s){HR_REF}.*(version|semver)", failed=("external-secrets",)),
    Scenario("hr-values-from-missing", edit(HR, "  values:\n", "  valuesFrom:\n    - kind: ConfigMap\n"
                                            "      name: eso-values-missing\n  values:\n"), 1,
             rf"(?s){HR_REF}.*eso-values-missing", failed=("external-secrets",)),
    Scenario("hr-kubeconfig-remote-cluster", edit(HR, HR_SPEC, HR_SPEC + "  kubeConfig:\n    secretRef:\n"
                                                  "      name: spoke-kubeconfig\n"), 1,
             rf"(?s){HR_REF}.*kubeConfig", failed=("external-secrets",)),
    Scenario("hr-no-chart", edit(HR, "  chart:\n    spec:\n", "  chartz:\n    spec:\n"), 1,
             r"(?s)external-secrets.*chart"),
    Scenario("hr-suspended", steps(edit(HR, HR_SPEC, HR_SPEC + "  suspend: true\n"),
                                   edit(HR, "role/eso-role", "role/eso-role-2")), 0,
             rf"{HR_REF}.*[Ss]uspended"),
    Scenario("hr-depends-on-missing", steps(edit(HR, HR_SPEC, HR_SPEC + "  dependsOn:\n    - name: nope\n"),
                                            edit(HR, "role/eso-role", "role/eso-role-2")), 1,
             rf"(?s){HR_REF}.*nope"),
]

OVERLAYS = [
    Scenario("kz-root-missing-resource", edit("infrastructure/kustomization.yaml", "  - cloudwatch/",
                                              "  - cloudwatch-typo/"), 1,
             r"(?s)infrastructure.*cloudwatch-typo", failed=("infrastructure",)),
    Scenario("kz-infra-leaf-missing-file", edit("infrastructure/cloudwatch/kustomization.yaml", "- rbac.yaml",
                                                "- rbac-typo.yaml"), 1, r"(?s)infrastructure.*rbac-typo.yaml",
             failed=("infrastructure",)),
    Scenario("kz-helmrelease-file-missing", edit("infrastructure/external-secrets/kustomization.yaml",
                                                 "- helmrelease.yaml", "- helmrelease-typo.yaml"), 1,
             r"(?s)infrastructure.*helmrelease-typo.yaml", failed=("infrastructure",)),
    Scenario("kz-base-missing-resource", edit("apps/app-1/base/kustomization.yaml", "- service.yaml",
                                              "- svc.yaml"), 1, r"(?s)app-1.*svc.yaml", failed=("app-1",)),
    Scenario("kz-overlay-base-missing", edit("apps/app-1/overlays/dev/kustomization.yaml", "../../base",
                                             "../../bases"), 1, r"(?s)app-1.*bases", failed=("app-1",)),
    Scenario("kz-overlay-patch-target-missing", edit("apps/app-1/overlays/dev/deployment-patch.yaml",
                                                     "name: app-1\n  namespace",
                                                     "name: app-one\n  namespace"),
             1, r"(?s)app-1.*app-one", failed=("app-1",)),
    Scenario("kz-overlay-patch-file-missing", remove("apps/app-1/overlays/dev/deployment-patch.yaml"), 1,
             r"(?s)app-1.*deployment-patch.yaml", failed=("app-1",)),
    Scenario("kz-base-unknown-field", append("apps/app-1/base/kustomization.yaml", "resourcez: []\n"), 1,
             r"(?s)app-1.*resourcez", failed=("app-1",)),
    Scenario("kz-duplicate-object", write("apps/app-2/configmap-copy.yaml", configmap("app-2-config")), 1,
             r"(?s)app-2.*app-2-config", failed=("app-2",)),
    Scenario("kz-generator-bad-literal", edit("apps/app-1/overlays/dev/kustomization.yaml",
                                              "- LOG_LEVEL=debug", "- LOG_LEVEL"), 1,
             r"(?s)app-1.*LOG_LEVEL", failed=("app-1",)),
    Scenario("kz-object-without-name", write("apps/app-2/nameless.yaml",
                                             "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"), 1,
             r"(?s)app-2.*(name|nameless)", failed=("app-2",)),
    Scenario("kz-overlay-resource-is-a-cycle", edit("apps/app-1/base/kustomization.yaml", "- service.yaml",
                                                    "- service.yaml\n  - ../overlays/dev"), 1,
             r"(?s)app-1.*(cycle|overlays/dev)", failed=("app-1",)),
]

REFUSED = [
    Scenario("obj-field-wrong-type", edit(APP2_DEPLOY, "replicas: 1", "replicas: one"), 1,
             r"(?s)Deployment/app-2/app-2.*replicas.*at apps/app-2/deployment\.yaml:8 \(spec\.replicas\)",
             failed=("app-2",)),
    Scenario("obj-unknown-kind", write("apps/app-2/widget.yaml", "apiVersion: example.com/v1\nkind: Widget\n"
                                       "metadata:\n  name: w\nspec: {}\n"), 1, r"(?s)app-2.*Widget",
             failed=("app-2",)),
    Scenario("obj-invalid-name", steps(TOUCH_APP2, edit(APP2_CM, "name: app-2-config", "name: App_2_Config")),
             1, r"(?s)App_2_Config", failed=("app-2",)),
    Scenario("obj-port-not-a-number", edit("apps/app-2/service.yaml", "port: 80", "port: eighty"), 1,
             r"(?s)Service/app-2/app-2.*port.*at apps/app-2/service\.yaml:12 \(spec\.ports\[0\]\.port\)",
             failed=("app-2",)),
    Scenario("obj-namespace-missing", steps(
        write("infrastructure/lost.yaml", configmap("lost", "does-not-exist")),
        edit("infrastructure/kustomization.yaml", "- cluster-vars.yaml",
             "- lost.yaml\n  - cluster-vars.yaml")),
        1, r"(?s)does-not-exist", failed=("infrastructure",)),
    Scenario("obj-immutable-selector", NEW_SELECTOR, 1,
             r"(?s)Deployment/app-2/app-2.*(immutable|--force)", failed=("app-2",)),
    Scenario("obj-immutable-selector-forced", NEW_SELECTOR, 0,
             r"Deployment/app-2/app-2", change(updated=("Deployment/app-2/app-2",)), extra=("--force",)),
    Scenario("obj-owned-by-two-nodes", steps(
        TOUCH_APP2, write("apps/app-1/overlays/dev/stolen.yaml", configmap("app-2-config", "app-2")),
        edit("apps/app-1/overlays/dev/kustomization.yaml", "- ../../base", "- ../../base\n  - stolen.yaml")),
        1, r"(?s)ConfigMap/app-2/app-2-config.*(app-1|app-2)", failed=("app-1", "app-2")),
    Scenario("secret-invalid-base64", append("apps/app-2/secret.yaml", f"data:\n  broken: {NEW_CANARY}!\n"),
             1, r"(?s)Secret/app-2/app-2-credentials", failed=("app-2",)),
    Scenario("secret-value-changed", write("apps/app-2/secret.yaml", GIT_SECRET % NEW_CANARY), 0,
             r"Secret/app-2/app-2-credentials", change(updated=("Secret/app-2/app-2-credentials",))),
    Scenario("secret-value-changed-diff", write("apps/app-2/secret.yaml", GIT_SECRET % NEW_CANARY), 1,
             r"Secret/app-2/app-2-credentials", verb="diff"),
    Scenario("secret-value-changed-plan-json", write("apps/app-2/secret.yaml", GIT_SECRET % NEW_CANARY), 0,
             r"app-2-credentials", verb="plan", extra=("-o", "json")),
    Scenario("secret-sops-encrypted", steps(
        edit(APPS, "  targetNamespace: app-2\n", "  targetNamespace: app-2\n" + DECRYPTION),
        write("apps/app-2/secret.yaml", GIT_SECRET % "ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]"
              + SOPS_METADATA)),
        1, r"(?s)Secret/app-2/app-2-credentials.*(SOPS|sops|decrypt)", failed=("app-2",)),
    Scenario("validate-plain-secret-in-git", None, 1, r"apps/app-2/secret.yaml", verb="validate"),
]

# Item 4: the same failure rule in every verb.
VERBS = [
    Scenario("diff-build-error", INFRA_TYPO, 2, r"(?s)infrastructure.*cw-typo", verb="diff"),
    Scenario("plan-build-error", INFRA_TYPO, 1, r"(?s)infrastructure.*cw-typo", verb="plan"),
    Scenario("plan-json-build-error", APP1_TYPO, 1, r"svc.yaml", verb="plan", extra=("-o", "json")),
    Scenario("reconcile-build-error", APP1_TYPO, 1, r"(?s)app-1.*svc.yaml", verb="reconcile ks app-1",
             failed=("app-1",)),
    Scenario("diff-invalid-helmrelease", HR_V3, 2, r"(?s)external-secrets.*v3", verb="diff"),
    Scenario("diff-invalid-kustomization", edit(APPS, "interval: 5m\n  path: ./apps/app-1",
                                                "interval: 5 minutes\n  path: ./apps/app-1"), 2,
             r"(?s)app-1.*interval", verb="diff"),
    Scenario("apply-dry-run-build-error", APP1_TYPO, 1, r"svc.yaml", extra=("--dry-run",)),
    Scenario("build-binary-file", write("apps/app-2/service.yaml", b"\x00\x01\xff\xfe"), 1,
             r"(?s)(app-2|service.yaml)", verb="build"),
    Scenario("validate-dependency-cycle", INFRA_NEEDS_APP2, 1, r"(cycle|circular)", verb="validate"),
    Scenario("validate-invalid-kustomization", edit(APPS, "interval: 5m\n  path: ./apps/app-1",
                                                    "interval: 5 minutes\n  path: ./apps/app-1"), 1,
             r"(?s)app-1.*interval", verb="validate"),
]


@pytest.mark.parametrize("scenario", cases(FLUX_OBJECTS))
def test_invalid_flux_object(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)


@pytest.mark.parametrize("scenario", cases(OVERLAYS))
def test_broken_overlay(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)


@pytest.mark.parametrize("scenario", cases(REFUSED))
def test_refused_object(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)


@pytest.mark.parametrize("scenario", cases(VERBS))
def test_every_verb_fails_alike(trust_world: World, scenario: Scenario) -> None:
    check(trust_world, scenario)


def test_canary_secret_is_in_the_baseline(trust_world: World) -> None:
    """The canaries the suite looks for are really there, so "no leak" means something."""
    secret = trust_world.sim.cluster.store.get(("", "secrets", "app-2", "app-2-credentials"))
    assert secret is not None and leaked_secrets(str(secret)) == [GIT_CANARY]
    live = trust_world.sim.cluster.store.get(("", "secrets", "app-1", "live-only"))
    assert live is not None and leaked_secrets(str(live)) == [LIVE_CANARY]
    assert trust_world.before.changes_to(trust_world.state()) == UNCHANGED
