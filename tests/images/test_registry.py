"""Tags of ImageRepositories from a real registry (Debian's docker-registry on loopback), as
image-reflector-controller lists them: pagination, bearer challenges, dockerconfigjson credentials,
ECR credentials through moto, exclusion lists, insecure/plain HTTP, one listing per run."""

from __future__ import annotations

import base64
import json

import pytest
from moto import mock_aws

from fluxpush.errors import InputError, SourceError
from fluxpush.flux.parse import parse_flux_object
from fluxpush.images.repository import ImageName, TagSource, scheme
from fluxpush.registry.ecr import ecr_credentials, ecr_region


def image_repository(image: str, **spec) -> object:
    return parse_flux_object({
        "apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
        "metadata": {"name": "app", "namespace": "flux-system"},
        "spec": {"image": image, "interval": "5m", **spec},
    })


def docker_config_secret(host: str, credentials: str) -> dict:
    config = {"auths": {host: {"auth": base64.b64encode(credentials.encode()).decode()}}}
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "regcred", "namespace": "flux-system"},
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}}


def no_secrets(kind: str, namespace: str, name: str) -> None:
    return None


def test_all_tags_are_listed_across_pages(gated_registry):
    registry, gate = gated_registry
    tags = [f"1.{n}.0" for n in range(7)]
    registry.push("team/app", tags)
    secret = docker_config_secret(gate.host, gate.credentials)
    source = TagSource(lambda kind, ns, name: secret if name == "regcred" else None, page_size=2)
    scan = source.scan(image_repository(f"{gate.host}/team/app", secretRef={"name": "regcred"}))
    assert sorted(scan.tags) == sorted(tags)
    pages = [path for path, _ in gate.seen if "/tags/list" in path and "Bearer" in _]
    assert len(pages) == 4  # 2+2+2+1, following the Link header
    # One token for the run, fetched with the Secret's credentials as basic auth.
    token_requests = [auth for path, auth in gate.seen if path.startswith("/token")]
    assert token_requests == ["Basic " + base64.b64encode(b"robot:s3cret-pass").decode()]


def test_wrong_credentials_name_the_object_and_hide_the_password(gated_registry):
    registry, gate = gated_registry
    registry.push("team/app", ["1.0.0"])
    secret = docker_config_secret(gate.host, "robot:wrong-password")
    source = TagSource(lambda *_: secret)
    with pytest.raises(SourceError) as caught:
        source.scan(image_repository(f"{gate.host}/team/app", secretRef={"name": "regcred"}))
    message = str(caught.value)
    assert "ImageRepository/flux-system/app" in message and "HTTP 401" in message
    assert "wrong-password" not in message and "check the credentials" in message


def test_a_gated_registry_without_credentials_says_so(gated_registry):
    registry, gate = gated_registry
    registry.push("team/app", ["1.0.0"])
    with pytest.raises(SourceError, match="the registry wants credentials: set secretRef or provider"):
        TagSource(no_secrets).scan(image_repository(f"{gate.host}/team/app"))


def test_missing_secret_is_an_error_naming_the_field(image_registry):
    repo = image_repository(f"{image_registry.host}/app", secretRef={"name": "regcred"})
    with pytest.raises(SourceError, match=r"spec\.secretRef: Secret 'regcred' not found"):
        TagSource(no_secrets).scan(repo)


def test_exclusion_list_default_custom_and_empty(image_registry):
    image_registry.push("app", ["1.0.0", "1.0.0.sig", "sha256-abc.sig", "latest", "1.1.0-debug"])
    source = TagSource(no_secrets)
    default = source.scan(image_repository(f"{image_registry.host}/app"))
    assert sorted(default.tags) == ["1.0.0", "1.1.0-debug", "latest"] and default.excluded == 2
    custom = source.scan(image_repository(f"{image_registry.host}/app", exclusionList=["^latest$", "-debug"]))
    assert sorted(custom.tags) == ["1.0.0", "1.0.0.sig", "sha256-abc.sig"]
    # An empty list is the default list again (GetExclusionList), not "exclude nothing".
    assert source.scan(image_repository(f"{image_registry.host}/app", exclusionList=[])).tags == default.tags


def test_each_repository_is_listed_once_per_run(gated_registry):
    registry, gate = gated_registry
    registry.push("app", ["1.0.0"])
    source = TagSource(lambda *_: docker_config_secret(gate.host, gate.credentials))
    repo = image_repository(f"{gate.host}/app", secretRef={"name": "regcred"})
    source.scan(repo)
    source.scan(repo)
    assert len([p for p, auth in gate.seen if "/tags/list" in p and auth.startswith("Bearer")]) == 1


def test_digest_is_the_manifest_digest(image_registry):
    image_registry.push("app", ["1.0.0", "2.0.0"])
    source = TagSource(no_secrets)
    registry = source.registry(image_repository(f"{image_registry.host}/app"))
    from fluxpush.images.repository import MANIFEST_ACCEPT
    assert registry.digest("2.0.0", MANIFEST_ACCEPT) == image_registry.digests["app:2.0.0"]


def test_unreachable_registry_is_a_source_error_naming_the_object():
    source = TagSource(no_secrets)
    with pytest.raises(SourceError, match=r"ImageRepository/flux-system/app: 127\.0\.0\.1:9/app: tags"):
        source.scan(image_repository("127.0.0.1:9/app"))


@pytest.mark.parametrize(("image", "registry", "repository"), [
    ("nginx", "index.docker.io", "library/nginx"),
    ("docker.io/fluxcd/flux", "index.docker.io", "fluxcd/flux"),
    ("ghcr.io/example-org/app-1", "ghcr.io", "example-org/app-1"),
    ("localhost/app", "localhost", "app"),
    ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c"),
])
def test_image_names_normalize_like_go_containerregistry(image, registry, repository):
    assert ImageName.parse(image, "x") == ImageName(registry, repository)


@pytest.mark.parametrize(("image", "problem"), [
    ("https://ghcr.io/app", "should not include URL scheme"),
    ("ghcr.io/app:1.0.0", "should not include a tag"),
    ("ghcr.io/app@sha256:abc", "should not include a tag or digest"),
    ("ghcr.io/App", "repository can only contain"),
])
def test_bad_image_names_are_input_errors(image, problem):
    with pytest.raises(InputError, match=problem):
        ImageName.parse(image, "ImageRepository/ns/app")


def test_scheme_follows_insecure_and_private_addresses():
    assert scheme("ghcr.io", False) == "https"
    assert scheme("ghcr.io", True) == "http"
    assert scheme("localhost:5000", False) == "http"
    assert scheme("10.1.2.3:5000", False) == "http"


@pytest.fixture
def aws_run(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "eu-west-1")):
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def test_ecr_credentials_come_from_get_authorization_token(aws_run):
    host = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
    user, _, password = ecr_credentials(host).partition(":")
    assert user == "AWS" and password
    repo = image_repository(f"{host}/team/app", provider="aws")
    source = TagSource(no_secrets)
    registry = source.registry(repo)
    assert registry.credentials.startswith("AWS:") and len(registry.credentials) > 4
    assert registry.location.base == f"https://{host}"
    assert source.registry(repo) is registry  # one token and one client per registry and run


def test_ecr_region_and_hosts_outside_ecr():
    assert ecr_region("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com") == "us-gov-west-1"
    assert ecr_region("123456789012.dkr-ecr.cn-north-1.amazonaws.com.cn") == "cn-north-1"
    assert ecr_region("public.ecr.aws") == "us-east-1"
    with pytest.raises(SourceError, match=r"invalid AWS registry: 'ghcr\.io'"):
        TagSource(no_secrets).registry(image_repository("ghcr.io/app", provider="aws"))


def test_unsupported_providers_and_service_accounts_say_so():
    with pytest.raises(SourceError, match="provider 'gcp' is not supported"):
        TagSource(no_secrets).registry(image_repository("gcr.io/p/app", provider="gcp"))
    with pytest.raises(SourceError, match="ServiceAccount are not supported"):
        TagSource(no_secrets).registry(image_repository("ghcr.io/app", serviceAccountName="sa"))


class _Hostile:
    """Two loopback servers: the 'registry' redirects or links to the 'elsewhere' one, which records
    the Authorization header it receives."""

    def __init__(self, mode: str) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.seen: list[str | None] = []
        hostile = self

        class Elsewhere(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hostile.seen.append(self.headers.get("Authorization"))
                body = b'{"tags": ["1.0.0"]}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        class Registry(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target = f"http://127.0.0.1:{hostile.elsewhere.server_address[1]}/v2/app/tags/list"
                if mode == "redirect":
                    self.send_response(307)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"tags": ["0.1.0"]}'
                self.send_response(200)
                self.send_header("Link", f'<{target}?n=1&last=0.1.0>; rel="next"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
        self.registry = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
        for server in (self.elsewhere, self.registry):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.host = f"127.0.0.1:{self.registry.server_address[1]}"

    def close(self) -> None:
        for server in (self.elsewhere, self.registry):
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize("mode", ["redirect", "link"])
def test_credentials_never_follow_the_registry_to_another_host(mode):
    hostile = _Hostile(mode)
    try:
        secret = docker_config_secret(hostile.host, "robot:s3cret-pass")
        source = TagSource(lambda *_: secret)
        repo = image_repository(f"{hostile.host}/app", secretRef={"name": "regcred"})
        if mode == "redirect":  # followed (blob stores, CDNs), without the Authorization header
            assert source.scan(repo).tags == ("1.0.0",)
            assert hostile.seen == [None]
        else:  # a next page elsewhere is refused
            with pytest.raises(SourceError, match="next page is on another host"):
                source.scan(repo)
            assert hostile.seen == []
    finally:
        hostile.close()
