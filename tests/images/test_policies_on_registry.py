"""Every policy kind against tags pushed to a real registry (docker-registry on loopback), through the
same path a run takes: list, exclusionList, filterTags, choose, digest — each result as
image-reflector-controller would set `status.latestRef`."""

from __future__ import annotations

import pytest

from fluxpush.flux.parse import parse_flux_object
from fluxpush.images.automation import evaluate_policy
from fluxpush.images.repository import TagSource

TAGS = ["1.0.0", "1.2.0", "1.10.0", "v1.11.0", "2.0.0-rc.1", "1.9", "latest", "1.10.0.sig",
        "main-abc1234-1700000100", "main-def5678-1700000900", "dev-0000000-1800000000",
        "20240101", "20240315", "20231231", "RELEASE.2024-02-01", "RELEASE.2024-10-07"]


def objects(host: str, policy: dict, **extra):
    repo = parse_flux_object({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
                              "metadata": {"name": "app", "namespace": "apps"},
                              "spec": {"image": f"{host}/team/app", "interval": "5m"}})
    spec = {"imageRepositoryRef": {"name": "app"}, "policy": policy, **extra}
    image_policy = parse_flux_object({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
                                      "metadata": {"name": "app", "namespace": "apps"}, "spec": spec})
    return image_policy, repo


@pytest.fixture
def pushed(image_registry):
    image_registry.push("team/app", TAGS)
    return image_registry


@pytest.mark.parametrize(("policy", "extra", "tag"), [
    ({"semver": {"range": ">=1.0.0"}}, {}, "v1.11.0"),
    ({"semver": {"range": "~1.10"}}, {}, "1.10.0"),
    ({"semver": {"range": ">=2.0.0-0"}}, {}, "2.0.0-rc.1"),
    ({"semver": {"range": "<1.10.0"}}, {}, "1.2.0"),
    ({"alphabetical": {"order": "asc"}}, {"filterTags": {"pattern": "^RELEASE\\."}}, "RELEASE.2024-10-07"),
    ({"alphabetical": {"order": "desc"}}, {"filterTags": {"pattern": "^RELEASE\\."}}, "RELEASE.2024-02-01"),
    ({"numerical": {"order": "asc"}}, {"filterTags": {"pattern": "^[0-9]{8}$"}}, "20240315"),
    ({"numerical": {"order": "desc"}}, {"filterTags": {"pattern": "^[0-9]{8}$"}}, "20231231"),
    ({"numerical": {"order": "asc"}},
     {"filterTags": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"}},
     "main-def5678-1700000900"),
])
def test_each_policy_picks_what_the_controller_picks(pushed, policy, extra, tag):
    result = evaluate_policy(*objects(pushed.host, policy, **extra), TagSource(lambda *_: None))
    assert result.error == ""
    assert (result.tag, result.latest) == (tag, f"{pushed.host}/team/app:{tag}")
    assert result.why.endswith("; 1 excluded by exclusionList")  # 1.10.0.sig


def test_digest_reflection_adds_the_manifest_digest(pushed):
    policy, repo = objects(pushed.host, {"semver": {"range": "1.10.x"}}, digestReflectionPolicy="Always",
                           interval="10m")
    result = evaluate_policy(policy, repo, TagSource(lambda *_: None))
    digest = pushed.digests["team/app:1.10.0"]
    assert result.digest == digest and result.latest == f"{pushed.host}/team/app:1.10.0@{digest}"


def test_numerical_without_a_filter_fails_on_the_first_non_number(pushed):
    result = evaluate_policy(*objects(pushed.host, {"numerical": {}}), TagSource(lambda *_: None))
    assert result.tag == "" and result.error.startswith("failed to parse invalid numeric value")


def test_a_range_nothing_matches_is_the_controllers_error(pushed):
    policy, repo = objects(pushed.host, {"semver": {"range": ">=5.0.0"}})
    result = evaluate_policy(policy, repo, TagSource(lambda *_: None))
    assert result.error == "unable to determine latest version from provided list"


def test_cross_namespace_repository_needs_access_from(pushed):
    # fluxcd/pkg runtime/acl HasAccessToRef, as the ImagePolicy reconciler calls it.
    repo = parse_flux_object({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
                              "metadata": {"name": "app", "namespace": "images"},
                              "spec": {"image": f"{pushed.host}/team/app", "interval": "5m"}})
    policy = parse_flux_object({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
                                "metadata": {"name": "app", "namespace": "apps"},
                                "spec": {"imageRepositoryRef": {"name": "app", "namespace": "images"},
                                         "policy": {"semver": {"range": "1.2.x"}}}})
    source = TagSource(lambda *_: None)
    denied = evaluate_policy(policy, repo, source)
    assert denied.error == ("access denied: 'images/app' can't be accessed due to missing ACL labels on "
                            "'accessFrom'")
    allowed_spec = {**repo.raw["spec"], "accessFrom": {"namespaceSelectors": [
        {"matchLabels": {"team": "web"}}, {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}]}}
    allowed = parse_flux_object({**repo.raw, "spec": allowed_spec})
    assert evaluate_policy(policy, allowed, source).tag == "1.2.0"
    team_only = {"namespaceSelectors": [{"matchLabels": {"team": "web"}}]}
    other_spec = {**repo.raw["spec"], "accessFrom": team_only}
    mismatch = evaluate_policy(policy, parse_flux_object({**repo.raw, "spec": other_spec}), source)
    assert mismatch.error.endswith("due to ACL labels mismatch on namespace 'apps'")
    labelled = evaluate_policy(policy, parse_flux_object({**repo.raw, "spec": other_spec}), source,
                               lambda namespace: {"team": "web"})
    assert labelled.tag == "1.2.0"
