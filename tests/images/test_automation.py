"""ImageUpdateAutomation planning as image-automation-controller does it: the policies in its
namespace that `policySelector` selects, `update.path` kept inside the checkout (SecureJoin),
the Setters strategy only, the commit's author, message and branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from fluxpush.errors import InputError
from fluxpush.flux.model import ObjectRef
from fluxpush.images.automation import PolicyResult, plan_automation
from fluxpush.images.gotemplate import TemplateError

REF = ObjectRef("ImageUpdateAutomation", "flux-system", "apps")
FILE = """\
kind: Deployment
metadata: {name: web}
spec:
  a: reg.io/web:1.0.0 # {"$imagepolicy": "flux-system:web"}
  b: 1.0.0 # {"$imagepolicy": "flux-system:api:tag"}
  c: reg.io/other:1.0.0 # {"$imagepolicy": "team:other"}
  d: "" # {"$imagepolicy": "flux-system:web:digest"}
"""


def policy(namespace: str, name: str, tag: str, *, labels: dict[str, str] | None = None,
           error: str = "", digest: str = "") -> PolicyResult:
    return PolicyResult(ObjectRef("ImagePolicy", namespace, name),
                        ObjectRef("ImageRepository", namespace, name),
                        f"reg.io/{name}", "semver *", tag, digest, "why", error,
                        tuple(sorted((labels or {}).items())))


def automation(**spec) -> dict:
    base = {"sourceRef": {"kind": "GitRepository", "name": "flux-system"}, "interval": "5m",
            "git": {"commit": {"author": {"name": "bot", "email": "bot@example.com"}}},
            "update": {"path": "./apps", "strategy": "Setters"}}
    return {"spec": {**base, **spec}}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "web.yaml").write_text(FILE)
    return tmp_path


POLICIES = [policy("flux-system", "web", "2.0.0", labels={"tier": "front"}, digest="sha256:" + "1" * 64),
            policy("flux-system", "api", "3.1.0", labels={"tier": "back"}),
            policy("team", "other", "9.9.9")]


def test_only_policies_in_the_automations_namespace_apply(repo):
    plan = plan_automation(REF, automation(), repo, "main", POLICIES)
    [update] = plan.result.files
    assert update.after == FILE.replace("web:1.0.0 #", "web:2.0.0@sha256:" + "1" * 64 + " #") \
        .replace("b: 1.0.0", "b: 3.1.0").replace('d: ""', 'd: "sha256:' + "1" * 64 + '"')
    assert (plan.branch, plan.checkout_branch) == ("main", "main")
    assert plan.message == "Update from image update automation"


def test_policy_selector_match_labels_and_expressions(repo):
    by_label = automation(policySelector={"matchLabels": {"tier": "back"}})
    selected = plan_automation(REF, by_label, repo, "main", POLICIES)
    assert [c.setter for _, c in selected.result.files[0].changes] == ["flux-system:api:tag"]
    expression = {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}
    other = plan_automation(REF, automation(policySelector=expression), repo, "main", POLICIES)
    setters = {c.setter for _, c in other.result.files[0].changes}
    assert setters == {"flux-system:web", "flux-system:web:digest"}
    with pytest.raises(InputError, match="not a valid label selector operator"):
        wrong = automation(policySelector={"matchExpressions": [{"key": "a", "operator": "Is"}]})
        plan_automation(REF, wrong, repo, "main", POLICIES)


def test_a_failed_policy_leaves_its_markers_and_warns(repo):
    failing = [policy("flux-system", "web", "",
                      error="unable to determine latest version from provided list")]
    plan = plan_automation(REF, automation(), repo, "main", failing)
    assert not plan.changed
    assert plan.warnings == ["ImagePolicy/flux-system/web: unable to determine latest version from provided "
                             "list; its markers are left alone"]


def test_push_branch_author_template_values_and_unsupported_fields(repo):
    git = {"checkout": {"ref": {"branch": "release"}},
           "commit": {"author": {"name": "bot", "email": "bot@example.com"},
                      "signingKey": {"secretRef": {"name": "k"}},
                      "messageTemplate": "[{{ .Values.env }}] {{ .AutomationObject }}",
                      "messageTemplateValues": {"env": "prod"}},
           "push": {"branch": "auto/images", "refspec": "refs/heads/x:refs/heads/y"}}
    plan = plan_automation(REF, automation(git=git), repo, "main", POLICIES)
    assert (plan.branch, plan.checkout_branch) == ("auto/images", "release")
    assert (plan.author_name, plan.author_email, plan.message) == ("bot", "bot@example.com",
                                                                   "[prod] flux-system/apps")
    assert any("signingKey is not supported" in w for w in plan.warnings)
    assert any("refspec is not supported" in w for w in plan.warnings)


def test_update_path_stays_inside_the_checkout(repo, tmp_path):
    plan = plan_automation(REF, automation(update={"path": "../../apps"}), repo, "main", POLICIES)
    assert plan.result.files[0].path == "apps/web.yaml"  # `..` cannot climb out (SecureJoin)
    (repo / "escape").symlink_to(tmp_path.parent)
    with pytest.raises(InputError, match="leads outside the repository"):
        plan_automation(REF, automation(update={"path": "escape"}), repo, "main", POLICIES)
    with pytest.raises(InputError, match="does not exist"):
        plan_automation(REF, automation(update={"path": "nope"}), repo, "main", POLICIES)


def test_invalid_automations_are_input_errors(repo):
    with pytest.raises(InputError, match="unsupported update strategy: Patch"):
        plan_automation(REF, automation(update={"strategy": "Patch"}), repo, "main", POLICIES)
    no_email = {"commit": {"author": {"name": "bot"}}}
    with pytest.raises(InputError, match=r"author\.email is required"):
        plan_automation(REF, automation(git=no_email), repo, "main", POLICIES)
    bad_template = {"commit": {"author": {"email": "a@b"}, "messageTemplate": "{{ .Updated }}"}}
    with pytest.raises(TemplateError, match=r"removed '\.Updated'"):
        plan_automation(REF, automation(git=bad_template), repo, "main", POLICIES)


def test_pull_request_body_lists_changes_and_stays_under_githubs_limit(tmp_path):
    from fluxpush.action.image_update import MAX_ROWS, pull_body

    (tmp_path / "apps").mkdir()
    for n in range(MAX_ROWS + 20):
        (tmp_path / "apps" / f"d{n}.yaml").write_text(FILE)
    plan = plan_automation(REF, automation(), tmp_path, "main", POLICIES)
    body = pull_body(plan, "a" * 40)
    assert body.startswith("<!-- fluxpush:image-update flux-system/apps -->\n")
    assert "| `apps/d0.yaml` | Deployment web | `1.0.0` | `3.1.0` |" in body
    assert f"| … and {3 * (MAX_ROWS + 20) - MAX_ROWS} more changes in the commit |" in body
    assert len(body) <= 65_536
