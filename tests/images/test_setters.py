"""The Setters strategy as image-automation-controller applies it (internal/update and kyaml's
setters), with one difference on purpose: only the marked scalar's characters change, every other
byte of every file stays as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

from fluxpush.images.setters import ResourceIdentifier, apply_setters, render_scalar, setter_values

SETTERS = setter_values("flux-system:app", "ghcr.io/org/app", "1.10.0", "")


def write(root: Path, name: str, text: str, newline: str = "\n") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def only_change(before: str, after: str, old: str, new: str) -> None:
    """`after` is `before` with exactly one occurrence of `old` replaced by `new`."""
    assert before.count(old) == 1
    assert after == before.replace(old, new)


DEPLOYMENT = """\
# a comment that must survive   (with trailing spaces)
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app   # the name
  namespace: apps
spec:
  template:
    spec:
      containers:
      -   name: app
          image: ghcr.io/org/app:1.2.3 # {"$imagepolicy": "flux-system:app"}
      -   name: sidecar
          image: 'ghcr.io/org/app:1.2.3'   # {"$imagepolicy": "flux-system:app"}
      -   name: untouched
          image: ghcr.io/org/app:1.2.3 # {"$imagepolicy": "flux-system:other"}
      -   name: not-a-marker
          image: ghcr.io/org/app:1.2.3 # see {"$imagepolicy": "flux-system:app"}
"""


def test_every_marked_field_changes_and_nothing_else(tmp_path):
    write(tmp_path, "app.yaml", DEPLOYMENT)
    result = apply_setters(tmp_path, tmp_path, SETTERS)
    [update] = result.files
    expected = (DEPLOYMENT
                .replace('image: ghcr.io/org/app:1.2.3 # {"$imagepolicy": "flux-system:app"}',
                         'image: ghcr.io/org/app:1.10.0 # {"$imagepolicy": "flux-system:app"}')
                .replace("image: 'ghcr.io/org/app:1.2.3'", "image: 'ghcr.io/org/app:1.10.0'"))
    assert update.after == expected
    assert update.changes[0][0] == ResourceIdentifier("apps/v1", "Deployment", "app", "apps")
    assert [c.setter for _, c in update.changes] == ["flux-system:app", "flux-system:app"]
    assert (tmp_path / "app.yaml").read_text() == DEPLOYMENT  # planning writes nothing


def test_tag_name_and_digest_setters():
    values = setter_values("ns:p", "reg.io/app", "2.0.0", "sha256:" + "a" * 64)
    assert values == {"ns:p": "reg.io/app:2.0.0@sha256:" + "a" * 64, "ns:p:tag": "2.0.0",
                      "ns:p:name": "reg.io/app", "ns:p:digest": "sha256:" + "a" * 64}


def test_helm_values_tag_and_name_markers_in_a_corpus_release(tmp_path, corpus):
    # The corpus' podinfo HelmRelease keeps its redis image in values; markers are added on a copy.
    repo = tmp_path / "repo"
    shutil.copytree(corpus / "kustomize-helm-example-classic", repo)
    release = repo / "apps/base/podinfo/release.yaml"
    original = release.read_text()
    marked = (original
              .replace("repository: public.ecr.aws/docker/library/redis",
                       'repository: public.ecr.aws/docker/library/redis '
                       '# {"$imagepolicy": "apps:redis:name"}')
              .replace("tag: 7.0.6", 'tag: 7.0.6 # {"$imagepolicy": "apps:redis:tag"}'))
    release.write_text(marked)
    setters = setter_values("apps:redis", "public.ecr.aws/docker/library/redis", "7.2.4", "")
    result = apply_setters(repo, repo / "apps", setters)
    [update] = result.files
    assert update.path == "apps/base/podinfo/release.yaml" and update.key == "base/podinfo/release.yaml"
    only_change(marked, update.after, "tag: 7.0.6 #", "tag: 7.2.4 #")
    assert [(c.old, c.new) for _, c in update.changes] == [("7.0.6", "7.2.4")]  # the name was equal


def test_markers_outside_update_path_are_left_alone(tmp_path):
    write(tmp_path, "apps/app.yaml", DEPLOYMENT)
    write(tmp_path, "infra/app.yaml", DEPLOYMENT)
    result = apply_setters(tmp_path, tmp_path / "apps", SETTERS)
    assert [u.path for u in result.files] == ["apps/app.yaml"]


def test_only_yaml_files_and_kustomization_are_read(tmp_path):
    write(tmp_path, "notes.txt", DEPLOYMENT)
    write(tmp_path, "app.json", DEPLOYMENT)
    write(tmp_path, "Kustomization",
          'images:\n- name: app\n  newTag: 1.2.3 # {"$imagepolicy": "flux-system:app:tag"}\n')
    write(tmp_path, "b.yml", 'image: ghcr.io/org/app:1 # {"$imagepolicy": "flux-system:app"}\n')
    changed = apply_setters(tmp_path, tmp_path, SETTERS).files
    assert sorted(u.path for u in changed) == ["Kustomization", "b.yml"]


def test_crlf_multi_document_and_anchors_are_kept_byte_for_byte(tmp_path):
    text = ("---\nkind: ConfigMap\nmetadata: {name: first}\n---\n"
            "kind: Deployment\nmetadata:\n  name: second\n"
            "spec:\n  base: &img ghcr.io/org/app:1.2.3 # {\"$imagepolicy\": \"flux-system:app\"}\n"
            "  copy: *img\n")
    write(tmp_path, "multi.yaml", text, newline="\r\n")
    [update] = apply_setters(tmp_path, tmp_path, SETTERS).files
    before = text.replace("\n", "\r\n")
    only_change(before, update.after, "&img ghcr.io/org/app:1.2.3", "&img ghcr.io/org/app:1.10.0")
    assert update.changes[0][0].name == "second"


def test_a_value_yaml_would_read_as_a_number_is_quoted_like_kyaml(tmp_path):
    write(tmp_path, "k.yaml", 'tag: v1 # {"$imagepolicy": "ns:p:tag"}\n'
                              'other: v1 # {"$imagepolicy": "ns:q:tag"}\n')
    values = {**setter_values("ns:p", "app", "1.0", ""), **setter_values("ns:q", "app", "1.0.1", "")}
    [update] = apply_setters(tmp_path, tmp_path, values).files
    assert update.after == ('tag: "1.0" # {"$imagepolicy": "ns:p:tag"}\n'
                            'other: 1.0.1 # {"$imagepolicy": "ns:q:tag"}\n')


def test_render_scalar_styles():
    assert render_scalar("a'b", "'") == "'a''b'"
    assert render_scalar('x"y', '"') == '"x\\"y"'
    assert render_scalar("yes", None) == '"yes"'  # YAML 1.1 bool
    assert render_scalar("ghcr.io/x:1", None) == "ghcr.io/x:1"


def test_broken_files_are_reported_and_skipped(tmp_path):
    write(tmp_path, "broken.yaml", 'a: [1, 2 # {"$imagepolicy": "flux-system:app"}\n')
    write(tmp_path, "ok.yaml", 'image: x:1 # {"$imagepolicy": "flux-system:app"}\n')
    write(tmp_path, "block.yaml", 'image: |\n  x:1\n# {"$imagepolicy": "flux-system:app"}\n')
    result = apply_setters(tmp_path, tmp_path, SETTERS)
    assert [u.path for u in result.files] == ["ok.yaml"]
    assert any(p.startswith("broken.yaml: skipped, it does not parse as YAML") for p in result.problems)


def test_unchanged_value_produces_no_file(tmp_path):
    write(tmp_path, "app.yaml", 'image: ghcr.io/org/app:1.10.0 # {"$imagepolicy": "flux-system:app"}\n')
    assert apply_setters(tmp_path, tmp_path, SETTERS).files == []


def test_example_repository_marker(example_repo):
    result = apply_setters(example_repo, example_repo / "apps",
                           setter_values("flux-system:app-1", "ghcr.io/example-org/app-1", "1.4.0", ""))
    [update] = result.files
    assert update.path == "apps/app-1/base/deployment.yaml"
    only_change(update.before, update.after, "app-1:1.2.3 #", "app-1:1.4.0 #")


def test_dry_run_diff_marks_a_missing_final_newline(tmp_path):
    from fluxpush.images.automation import AutomationPlan
    from fluxpush.images.diff import unified_diff

    write(tmp_path, "app.yaml", 'image: ghcr.io/org/app:1.2.3 # {"$imagepolicy": "flux-system:app"}')
    plan = AutomationPlan(None, "main", "main", "bot", "bot@example.com")  # type: ignore[arg-type]
    plan.result = apply_setters(tmp_path, tmp_path, SETTERS)
    assert plan.result.files[0].after.endswith("}")  # still no newline at the end
    assert unified_diff(plan).splitlines()[-2:] == [
        '+image: ghcr.io/org/app:1.10.0 # {"$imagepolicy": "flux-system:app"}',
        "\\ No newline at end of file"]


def test_a_symlinked_file_is_never_written_through(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(DEPLOYMENT)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.yaml").symlink_to(outside)
    result = apply_setters(repo, repo, SETTERS)
    assert result.files == []
    assert result.problems == ["link.yaml: skipped, a marked file that is a symlink is not written"]
