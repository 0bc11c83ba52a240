"""Source loading: source-controller's exclusions, path resolution, copying and revisions."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from fluxpush.errors import SourceError
from fluxpush.repository.source import DEFAULT_EXCLUSIONS, git_revision, load_source

CORPUS_BUILD = Path("/work/shared/corpus/flux2-cli/cmd/flux/testdata/build-kustomization")


def make_tree(root: Path, files: dict[str, str]) -> Path:
    """Create `files` (relpath -> text) below `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` with a fixed identity; return its stdout."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(autouse=True)
def no_github_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI runs inside GitHub Actions: its ref variables must not leak into revision tests."""
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository on branch `main` with one commit."""
    root = make_tree(tmp_path / "repo", {"apps/app.yaml": "kind: ConfigMap\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


# --- exclusions -------------------------------------------------------------------------------


def test_default_exclusions_list_is_source_controllers() -> None:
    assert DEFAULT_EXCLUSIONS[:4] == (".git/", ".gitignore", ".gitmodules", ".gitattributes")
    expected = {"*.png", ".github/", "**/.sops.yaml", "**/.flux.yaml", "cloudbuild.yaml"}
    assert expected <= set(DEFAULT_EXCLUSIONS)
    assert len(DEFAULT_EXCLUSIONS) == 24


def test_default_exclusions_applied(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {
        "apps/app.yaml": "", ".github/workflows/x.yaml": "", "a.png": "", "apps/logo.PNG.png": "",
        ".sops.yaml": "", "clusters/dev/.sops.yaml": "", ".gitignore": "", "cloudbuild.yaml": "",
        "charts/c.tar.gz": "", ".git/config": "", "README.md": "",
    })
    source = load_source(root)
    assert source.walk_files() == ["README.md", "apps/app.yaml"]
    assert source.ignore.is_ignored(".github", True)
    assert source.ignore.is_ignored(".github/workflows/x.yaml", False)
    assert not source.ignore.is_ignored("apps", True)


def test_nested_sourceignore_anchoring_and_reinclude(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {
        ".sourceignore": "*.txt\n# a comment\n\ndrafts/\n",
        "notes.txt": "", "apps/readme.txt": "", "drafts/a.yaml": "",
        "apps/.sourceignore": "/local.yaml\n!keep.txt\n",
        "apps/local.yaml": "", "apps/deep/local.yaml": "", "local.yaml": "",
        "apps/keep.txt": "", "keep.txt": "", "apps/deep/keep.txt": "",
    })
    files = load_source(root).walk_files()
    # /local.yaml is anchored at apps/: only apps/local.yaml goes
    assert "apps/local.yaml" not in files
    assert {"local.yaml", "apps/deep/local.yaml"} <= set(files)
    # !keep.txt re-includes below apps/ only, where that .sourceignore applies
    assert {"apps/keep.txt", "apps/deep/keep.txt"} <= set(files)
    assert not {"keep.txt", "notes.txt", "apps/readme.txt", "drafts/a.yaml"} & set(files)


def test_sourceignore_patterns_replace_defaults_except_vcs(tmp_path: Path) -> None:
    # source-controller's SourceIgnoreFilter keeps only the VCS defaults once any pattern exists
    root = make_tree(tmp_path, {".sourceignore": "*.md\n", "a.png": "", ".sops.yaml": "",
                                "README.md": "", ".gitignore": "", "x.yaml": ""})
    assert load_source(root).walk_files() == [".sops.yaml", ".sourceignore", "a.png", "x.yaml"]


def test_comment_only_sourceignore_keeps_defaults(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {".sourceignore": "# nothing\n\n", "a.png": "", "x.yaml": ""})
    assert load_source(root).walk_files() == [".sourceignore", "x.yaml"]


def test_spec_ignore_replaces_defaults(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {".github/workflows/x.yaml": "", "a.png": "", "README.md": "",
                                ".gitignore": "", "deploy/app.yaml": ""})
    assert load_source(root).walk_files() == ["README.md", "deploy/app.yaml"]
    assert load_source(root, spec_ignore="# none\n").walk_files() == ["README.md", "deploy/app.yaml"]
    assert load_source(root, spec_ignore="*.md\n").walk_files() == [
        ".github/workflows/x.yaml", "a.png", "deploy/app.yaml"]


def test_spec_ignore_doc_example_and_priority_over_sourceignore(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {".sourceignore": "secret.yaml\n", "deploy/secret.yaml": "",
                                "deploy/app.yaml": "", "deploy/x/notes.md": "", "other/o.yaml": ""})
    spec = "# exclude all\n/*\n# include deploy dir\n!/deploy\n/deploy/**/*.md\n!secret.yaml\n"
    assert load_source(root, spec_ignore=spec).walk_files() == ["deploy/app.yaml", "deploy/secret.yaml"]


def test_reinclude_below_excluded_directory_follows_the_controller(tmp_path: Path) -> None:
    # go-git's matcher decides per path (last match wins); git would keep foo/keep.yaml out
    root = make_tree(tmp_path, {".sourceignore": "foo/\n!foo/keep.yaml\n",
                                "foo/keep.yaml": "", "foo/other.yaml": ""})
    source = load_source(root)
    assert source.walk_files() == [".sourceignore", "foo/keep.yaml"]
    assert source.ignore.is_ignored("foo/other.yaml", False)
    assert not source.ignore.is_ignored("foo/keep.yaml", False)


def test_git_directory_always_skipped(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {".git/config": "", "sub/.git/HEAD": "", "x.yaml": ""})
    assert load_source(root, spec_ignore="!.git/\n!config\n!HEAD\n").walk_files() == ["x.yaml"]


def test_symlinks_followed_only_inside_root(tmp_path: Path) -> None:
    outside = make_tree(tmp_path / "outside", {"secret.yaml": "", "d/s.yaml": ""})
    root = make_tree(tmp_path / "root", {"base/app.yaml": "", "real/x.yaml": ""})
    (root / "linked-file.yaml").symlink_to(root / "base/app.yaml")
    (root / "linked-dir").symlink_to(root / "real")
    (root / "escape.yaml").symlink_to(outside / "secret.yaml")
    (root / "escape-dir").symlink_to(outside / "d")
    (root / "real/loop").symlink_to(root / "real")
    assert load_source(root).walk_files() == [
        "base/app.yaml", "linked-dir/x.yaml", "linked-file.yaml", "real/x.yaml"]


def test_walk_files_from_start(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"apps/a/x.yaml": "", "apps/a/i.png": "", "apps/b/y.yaml": ""})
    source = load_source(root)
    assert source.walk_files("./apps/a") == ["apps/a/x.yaml"]
    assert source.walk_files("missing") == []
    with pytest.raises(SourceError):
        source.walk_files("../")


# --- paths --------------------------------------------------------------------------------------


def test_resolve_path_forms(tmp_path: Path) -> None:
    source = load_source(make_tree(tmp_path, {"apps/x/k.yaml": ""}))
    expected = source.root / "apps/x"
    for spec_path in ("./apps/x", "apps/x", "/apps/x", "apps/y/../x/"):
        assert source.resolve_path(spec_path) == expected
    assert source.resolve_path("") == source.root
    assert source.resolve_path("./") == source.root


def test_resolve_path_refuses_dotdot_escape(tmp_path: Path) -> None:
    source = load_source(make_tree(tmp_path / "root", {"apps/k.yaml": ""}))
    (tmp_path / "sibling").mkdir()
    with pytest.raises(SourceError) as info:
        source.resolve_path("./apps/../../sibling", obj="Kustomization/flux-system/apps")
    err = info.value
    assert err.obj == "Kustomization/flux-system/apps"
    assert "./apps/../../sibling" in err.message and "escapes" in err.message
    assert err.hint


def test_resolve_path_refuses_symlink_escape(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    root = make_tree(tmp_path / "root", {"apps/k.yaml": ""})
    (root / "apps/out").symlink_to(tmp_path / "outside")
    source = load_source(root)
    with pytest.raises(SourceError) as info:
        source.resolve_path("apps/out", obj="Kustomization/ns/x")
    assert info.value.obj == "Kustomization/ns/x"
    assert "apps/out" in info.value.message and "symlink" in info.value.message


def test_resolve_path_missing_uses_flux_wording(tmp_path: Path) -> None:
    source = load_source(make_tree(tmp_path, {"apps/k.yaml": ""}))
    with pytest.raises(SourceError) as info:
        source.resolve_path("./apps/nope", obj="Kustomization/ns/x")
    assert info.value.message == "kustomization path not found: ./apps/nope"
    assert str(info.value).startswith("Kustomization/ns/x: spec.path: kustomization path not found")


def test_resolve_path_to_excluded_directory_is_not_found(tmp_path: Path) -> None:
    source = load_source(make_tree(tmp_path, {".github/k/x.yaml": ""}))
    with pytest.raises(SourceError) as info:
        source.resolve_path(".github/k")
    assert info.value.message == "kustomization path not found: .github/k"
    assert "ignore" in (info.value.hint or "")


def test_relpath_of(tmp_path: Path) -> None:
    source = load_source(make_tree(tmp_path / "root", {"apps/k.yaml": ""}))
    assert source.relpath_of(source.root / "apps/k.yaml") == "apps/k.yaml"
    assert source.relpath_of(source.root) == ""
    with pytest.raises(SourceError):
        source.relpath_of(tmp_path)


# --- copy ---------------------------------------------------------------------------------------


def test_copy_to_places_only_artifact_files_as_regular_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "root", {"apps/k.yaml": "a: 1\n", "a.png": "", ".git/HEAD": "x"})
    (root / "link.yaml").symlink_to(root / "apps/k.yaml")
    dest = tmp_path / "dest"
    load_source(root).copy_to(dest)
    placed = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert placed == ["apps/k.yaml", "link.yaml"]
    assert not (dest / "link.yaml").is_symlink()
    assert (dest / "link.yaml").read_text() == "a: 1\n"
    # Same filesystem: hard links, not copies (a copy creates an inode per file, slow on some disks).
    assert (dest / "apps/k.yaml").stat().st_ino == (root / "apps/k.yaml").stat().st_ino


# --- revisions ----------------------------------------------------------------------------------


def test_revision_branch(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    assert load_source(repo).revision == f"main@sha1:{sha}"
    assert len(sha) == 40


def test_revision_detached_uses_the_ref_name_the_face_read(repo: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from fluxpush.app.request import run_settings

    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach")
    push = run_settings({"GITHUB_REF_NAME": "feature-x"})
    assert git_revision(repo, push.ref_name) == f"feature-x@sha1:{sha}"
    pull = run_settings({"GITHUB_REF_NAME": "4/merge", "GITHUB_HEAD_REF": "pr-branch"})
    assert load_source(repo, ref_name=pull.ref_name).revision == f"pr-branch@sha1:{sha}"
    monkeypatch.setenv("GITHUB_REF_NAME", "from-the-process")  # below the faces nothing reads it
    assert git_revision(repo) == f"main@sha1:{sha}"


def test_revision_tag(repo: Path) -> None:
    git(repo, "tag", "v1.0.0")
    git(repo, "commit", "-q", "--allow-empty", "-m", "later")
    git(repo, "checkout", "-q", "v1.0.0")
    sha = git(repo, "rev-parse", "HEAD")
    assert git_revision(repo) == f"v1.0.0@sha1:{sha}"


def test_revision_other_ref_keeps_tail_and_commit_only(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "pr")
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "update-ref", "refs/pull/4/head", sha)
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    git(repo, "checkout", "-q", sha)
    assert git_revision(repo) == f"4/head@sha1:{sha}"
    git(repo, "update-ref", "-d", "refs/pull/4/head")
    assert git_revision(repo) == f"sha1:{sha}"


def test_content_revision_outside_git(tmp_path: Path) -> None:
    files = {"apps/k.yaml": "a: 1\n", "b.yaml": "b: 2\n"}
    one = load_source(make_tree(tmp_path / "one", files))
    two = load_source(make_tree(tmp_path / "two", files))
    assert git_revision(one.root) is None
    assert one.revision.startswith("sha256:") and len(one.revision) == len("sha256:") + 64
    assert one.revision == two.revision
    assert load_source(one.root) == one
    (two.root / "ignored.png").write_text("not in the artifact")
    assert load_source(two.root).revision == one.revision
    (two.root / "b.yaml").write_text("b: 3\n")
    assert load_source(two.root).revision != one.revision
    (two.root / "b.yaml").rename(two.root / "c.yaml")
    (two.root / "c.yaml").write_text("b: 2\n")
    assert load_source(two.root).revision != one.revision


def test_subdirectory_of_repository_gets_content_revision(repo: Path) -> None:
    sub = load_source(repo / "apps")
    assert sub.revision.startswith("sha256:")
    copy = make_tree(repo.parent / "copy", {"app.yaml": "kind: ConfigMap\n"})
    assert sub.revision == load_source(copy).revision
    assert load_source(repo).revision.startswith("main@sha1:")


# --- the real corpus ----------------------------------------------------------------------------


def names_in(source_root: Path, files: list[str]) -> set[str]:
    """metadata.name of every document in `files` (golden templates' `{{ .fluxns }}` blanked)."""
    names = set()
    for rel in files:
        text = (source_root / rel).read_text().replace("{{ .fluxns }}", "flux-system")
        for doc in filter(None, yaml.safe_load_all(text)):
            names.add(doc["metadata"]["name"])
    return names


@pytest.mark.skipif(not CORPUS_BUILD.is_dir(), reason="shared corpus not present")
def test_corpus_flux_build_ignore_case() -> None:
    # flux2 build_kustomization_test "build ignore": ignore/.sourceignore excludes everything ("/*"),
    # --ignore-paths "!configmap.yaml,!secret.yaml" re-includes two files; the golden
    # podinfo-with-ignore-result.yaml holds exactly their objects, never Service do_not_deploy.
    golden = names_in(CORPUS_BUILD, ["podinfo-with-ignore-result.yaml"])
    assert golden == {"configmap_ignore", "secret_ignore"}

    plain = load_source(CORPUS_BUILD)
    assert plain.walk_files("ignore") == []
    with pytest.raises(SourceError, match="kustomization path not found"):
        plain.resolve_path("./ignore/not_deployable")

    source = load_source(CORPUS_BUILD / "ignore", spec_ignore="!configmap.yaml\n!secret.yaml\n")
    files = source.walk_files()
    assert files == ["configmap.yaml", "secret.yaml"]
    assert names_in(source.root, files) == golden

    whole = load_source(CORPUS_BUILD, spec_ignore="!configmap.yaml\n!secret.yaml\n")
    assert whole.walk_files("ignore") == ["ignore/configmap.yaml", "ignore/secret.yaml"]
    assert "podinfo/kustomization.yaml" in whole.walk_files()
