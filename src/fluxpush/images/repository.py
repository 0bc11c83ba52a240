"""The tags of an ImageRepository, as image-reflector-controller scans them.

Matched behaviour: `spec.image` is a repository without scheme, tag or digest, normalized as
go-containerregistry does (`nginx` → `index.docker.io/library/nginx`); the scheme is `http` when
`insecure: true` or the registry is on a loopback or private address (go-containerregistry's
`Registry.Scheme()`), else `https`; credentials come from `secretRef` (a dockerconfigjson Secret,
from the rendered repository or the live cluster) or, with `provider: aws`, from ECR; tags matching
any `exclusionList` regexp (default `^.*\\.sig$`, also when the list is empty) are dropped. Each
repository is listed once per run (`TagSource` caches by registry, repository and credentials).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from fluxpush.errors import InputError, SourceError
from fluxpush.flux.model import ImageRepository, ObjectLookup
from fluxpush.images.goregexp import compile_go
from fluxpush.registry import Location, Registry, credentials_from_secret

DEFAULT_EXCLUSIONS = ("^.*\\.sig$",)
DOCKER_HUB = "index.docker.io"
# What go-containerregistry's remote.Head accepts.
MANIFEST_ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$")
_USE_SECRET = "use secretRef with a kubernetes.io/dockerconfigjson Secret"


@dataclass(frozen=True, slots=True)
class ImageName:
    """An ImageRepository's image: registry host and repository path."""

    registry: str
    repository: str

    @classmethod
    def parse(cls, image: str, where: str) -> ImageName:
        """`spec.image` split and normalized; an InputError for a scheme, tag, digest or bad name."""
        if "://" in image:
            scheme = image.split("://", 1)[0]
            raise InputError(f"{where}: image '{image}' should not include URL scheme; remove '{scheme}://'",
                             field="spec.image")
        first, _, rest = image.partition("/")
        if rest and (any(c in first for c in ".:") or first == "localhost"):
            registry, path = first, rest
        else:
            registry, path = DOCKER_HUB, image
        if "@" in path or ":" in path:
            raise InputError(f"{where}: image '{image}' should not include a tag or digest; "
                             f"remove ':{path.split(':', 1)[-1]}'", field="spec.image")
        registry = DOCKER_HUB if registry in ("docker.io", "registry-1.docker.io") else registry
        if registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        if not all(_COMPONENT.match(part) for part in path.split("/")):
            raise InputError(f"{where}: image '{image}': repository can only contain the characters "
                             "`abcdefghijklmnopqrstuvwxyz0123456789_-./`", field="spec.image")
        return cls(registry, path)


def _private(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost" or name.startswith("localhost."):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def scheme(host: str, insecure: bool) -> str:
    """`http` for `insecure` or a loopback/private registry (go-containerregistry), else `https`."""
    return "http" if insecure or _private(host) else "https"


@dataclass(frozen=True, slots=True)
class Scan:
    """A repository's tags after the exclusion list, and how many the list dropped."""

    image: str
    tags: tuple[str, ...]
    excluded: int


def exclusions_of(repo: ImageRepository) -> tuple[str, ...]:
    """The exclusion list with the controller's default (also for an empty list)."""
    given = repo.raw.get("spec", {}).get("exclusionList")
    return tuple(str(p) for p in given) if given else DEFAULT_EXCLUSIONS


class TagSource:
    """Registries for ImageRepositories, each repository's tags listed once per run."""

    def __init__(self, secrets: ObjectLookup, *, page_size: int | None = None) -> None:
        self._secrets = secrets
        self._page_size = page_size
        self._registries: dict[tuple[str, str, str | None], Registry] = {}
        self._scans: dict[tuple[str, str, str | None], tuple[str, ...]] = {}
        self._ecr: dict[str, str] = {}

    def _credentials(self, repo: ImageRepository, host: str, where: str) -> str | None:
        spec = repo.raw.get("spec", {})
        provider = str(spec.get("provider") or "generic")
        if provider == "aws":
            from fluxpush.registry.ecr import ecr_credentials  # boto3 is slow to import: only when used

            if host not in self._ecr:  # one token per registry and run (they last 12 hours)
                self._ecr[host] = ecr_credentials(host)
            return self._ecr[host]
        if provider != "generic":
            raise SourceError(f"provider {provider!r} is not supported by fluxpush (aws and generic are)",
                              obj=where, origin=repo.origin, field="spec.provider", hint=_USE_SECRET)
        if spec.get("serviceAccountName"):
            raise SourceError("image pull secrets of a ServiceAccount are not supported by fluxpush",
                              obj=where, origin=repo.origin, field="spec.serviceAccountName",
                              hint=_USE_SECRET)
        if not repo.secret_ref:
            return None
        secret = self._secrets("Secret", repo.ref.namespace, repo.secret_ref)
        if secret is None:
            raise SourceError(f"Secret '{repo.secret_ref}' not found in the repository or the cluster",
                              obj=where, origin=repo.origin, field="spec.secretRef")
        return credentials_from_secret(secret, host)

    def registry(self, repo: ImageRepository) -> Registry:
        """The registry client for `repo` (made once per repository and credentials)."""
        where = str(repo.ref)
        name = ImageName.parse(repo.image, where)
        credentials = self._credentials(repo, name.registry, where)
        insecure = bool(repo.raw.get("spec", {}).get("insecure"))
        key = (scheme(name.registry, insecure) + "://" + name.registry, name.repository, credentials)
        if key not in self._registries:
            options = {"page_size": self._page_size} if self._page_size else {}
            self._registries[key] = Registry(Location(key[0], key[1]), credentials, **options)
        return self._registries[key]

    def scan(self, repo: ImageRepository) -> Scan:
        """`repo`'s tags after its exclusion list; a SourceError (naming it) when the registry refuses."""
        where = str(repo.ref)
        patterns = [compile_go(p, f"{where}: exclusionList") for p in exclusions_of(repo)]
        registry = self.registry(repo)
        key = (registry.location.base, registry.location.name, registry.credentials)
        if key not in self._scans:
            try:
                self._scans[key] = tuple(registry.tags())
            except SourceError as exc:
                raise SourceError(exc.message, obj=where, origin=repo.origin, hint=exc.hint) from None
        tags = self._scans[key]
        kept = tuple(t for t in tags if not any(p.search(t) for p in patterns))
        return Scan(repo.image, kept, len(tags) - len(kept))
