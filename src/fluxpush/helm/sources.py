"""Chart sources for a HelmRelease: a path in a GitRepository, a chart in an HTTP or OCI
HelmRepository, or (`chartRef`) an OCIRepository holding a chart (see `oci`).

GitRepository charts come from the checkout (the GitRepository whose URL is this repository);
their version is Chart.yaml's and `version` is ignored, as in Flux. HelmRepository charts are
resolved from `index.yaml` (the newest version matching the semver constraint) and downloaded
into a content-addressed cache (`charts/<sha256>.tgz`); the index and the (url, chart, version) →
digest refs are cached too, so an offline preview works from the cache and otherwise says that
the chart cannot be fetched. Every cache write is a rename of a complete temporary file, so
concurrent runs sharing a cache only ever see whole files. Basic-auth credentials come from the
HelmRepository's `secretRef` Secret (rendered repository, then live cluster) and are only sent to
the repository's host unless `passCredentials`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fluxpush.errors import EndpointError, InputError, SourceError, YAMLError
from fluxpush.flux.model import (
    GitRepository,
    HelmChartTemplate,
    HelmRelease,
    HelmRepository,
    ObjectLookup,
    ObjectRef,
    OCIRepository,
)
from fluxpush.helm.oci import OciLocation, Registry, credentials_from_secret, pull_chart, resolve_tag
from fluxpush.helm.semver import newest_match
from fluxpush.helm.values import merge_values
from fluxpush.outbound import Session, display_url
from fluxpush.reconciler import Repository
from fluxpush.repository.artifacts import build_artifact
from fluxpush.tools import sha256_hex
from fluxpush.yamldoc import load_safe

FETCH_TIMEOUT = 60.0  # seconds, HelmRepository's default `timeout`


def cache_dir() -> Path:
    """`FLUXPUSH_CACHE_DIR`, else `$XDG_CACHE_HOME/fluxpush`, else `~/.cache/fluxpush`."""
    override = os.environ.get("FLUXPUSH_CACHE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fluxpush"


@dataclass(frozen=True, slots=True)
class ResolvedChart:
    """A chart helm can install: `path` is a chart folder or a `.tgz`; `digest` its content's SHA-256."""

    name: str
    version: str
    path: Path
    digest: str
    source: str  # `HelmRepository/ns/name` or `GitRepository/ns/name`
    cached: bool = False  # served from the cache because the repository could not be reached


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def digest_folder(folder: Path) -> str:
    """SHA-256 over every file's relative path and content, in sorted order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(file.relative_to(folder).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


class ChartCache:
    """The on-disk cache: `charts/<sha256>.tgz`, `index/<sha256(url)>.yaml`, `refs/<sha256(key)>`."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir()

    def chart_path(self, digest: str) -> Path:
        return self.root / "charts" / f"{digest}.tgz"

    def put_chart(self, data: bytes) -> str:
        digest = sha256_hex(data)
        if not self.chart_path(digest).is_file():
            _write_atomic(self.chart_path(digest), data)
        return digest

    def _key(self, *parts: str) -> str:
        return sha256_hex("\0".join(parts).encode())

    def put_index(self, url: str, data: bytes) -> None:
        _write_atomic(self.root / "index" / f"{self._key(url)}.yaml", data)

    def get_index(self, url: str) -> bytes | None:
        path = self.root / "index" / f"{self._key(url)}.yaml"
        return path.read_bytes() if path.is_file() else None

    def put_ref(self, url: str, chart: str, version: str, digest: str) -> None:
        _write_atomic(self.root / "refs" / self._key(url, chart, version), digest.encode())

    def put_resolved(self, url: str, constraint: str, version: str) -> None:
        _write_atomic(self.root / "resolved" / self._key(url, constraint), version.encode())

    def get_resolved(self, url: str, constraint: str) -> str | None:
        path = self.root / "resolved" / self._key(url, constraint)
        return path.read_text().strip() if path.is_file() else None

    def get_ref(self, url: str, chart: str, version: str) -> str | None:
        path = self.root / "refs" / self._key(url, chart, version)
        digest = path.read_text().strip() if path.is_file() else ""
        return digest if digest and self.chart_path(digest).is_file() else None


def _secret_value(secret: dict[str, Any], key: str) -> str | None:
    if key in (secret.get("data") or {}):
        return base64.b64decode(secret["data"][key]).decode()
    value = (secret.get("stringData") or {}).get(key)
    return None if value is None else str(value)


class _Http:
    """GETs for one HelmRepository, with its basic auth for the repository's host."""

    def __init__(self, repo: HelmRepository, lookup: ObjectLookup) -> None:
        self.repo = repo
        self.session = Session(timeout=FETCH_TIMEOUT)
        self.auth: str | None = None
        if repo.secret_ref:
            secret = lookup("Secret", repo.ref.namespace, repo.secret_ref)
            if secret is None:
                raise SourceError(f"HelmRepository {repo.ref.namespace}/{repo.ref.name}: secretRef "
                                  f"'{repo.secret_ref}' not found", hint="create the Secret in the cluster")
            user, password = _secret_value(secret, "username"), _secret_value(secret, "password")
            if user is not None and password is not None:
                self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def get(self, url: str) -> bytes:
        """The body at `url`, with the repository's basic auth for its own host (or any host with
        `passCredentials`)."""
        same_host = urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(self.repo.url).netloc
        send_auth = self.auth is not None and (same_host or self.repo.pass_credentials)
        headers = {"Authorization": self.auth} if self.auth and send_auth else {}
        return self.session.request("GET", url, headers=headers).body


def _index_url(repo: HelmRepository) -> str:
    return repo.url.rstrip("/") + "/index.yaml"


def _read_index(data: bytes, where: str) -> dict[str, list[dict[str, Any]]]:
    try:
        index = load_safe(data, f"{where}: index.yaml") or {}
    except YAMLError as exc:
        raise SourceError(f"{where}: index.yaml is not valid YAML") from exc
    entries = index.get("entries") if isinstance(index, dict) else None
    if not isinstance(entries, dict):
        raise SourceError(f"{where}: index.yaml has no entries")
    return entries


def _fetch_repository_chart(repo: HelmRepository, spec: HelmChartTemplate, lookup: ObjectLookup,
                            cache: ChartCache, offline: bool) -> ResolvedChart:
    where = f"HelmRepository {repo.ref.namespace}/{repo.ref.name}"
    if repo.repo_type == "oci":
        spec_raw = repo.raw.get("spec") or {}
        return _fetch_oci_chart(f"{repo.url.rstrip('/')}/{spec.chart}", {"semver": spec.version or "*"},
                                spec_raw, repo, lookup, cache, offline)
    if not repo.url.startswith(("http://", "https://")):
        raise SourceError(f"{where}: url {repo.url!r} is not http(s)")
    http = _Http(repo, lookup)
    url, failure, from_cache = _index_url(repo), None, False
    data: bytes | None = None
    if not offline:
        try:
            data = http.get(url)
            cache.put_index(url, data)
        except EndpointError as exc:
            failure = exc
    if data is None:
        data, from_cache = cache.get_index(url), True
    if data is None:
        raise SourceError(f"{where}: index {display_url(url)} cannot be fetched "
                          f"({failure.problem if failure else 'offline'}) and is not cached",
                          hint="run once with network access to fill the chart cache") from failure
    entries = _read_index(data, where)
    versions = {str(e.get("version")): e for e in entries.get(spec.chart) or []}
    if not versions:
        raise SourceError(f"{where}: no chart named '{spec.chart}' in the index")
    version = newest_match(spec.version, versions)
    if version is None:
        raise SourceError(f"{where}: no '{spec.chart}' version matches '{spec.version or '*'}' "
                          f"(available: {', '.join(sorted(versions)[:10])})")
    digest = cache.get_ref(repo.url, spec.chart, version)
    if digest is None:
        urls = versions[version].get("urls") or []
        if not urls or offline:
            raise SourceError(f"{where}: chart {spec.chart}@{version} is not cached and "
                              f"{'the run is offline' if offline else 'the index lists no URL'}")
        chart_url = urllib.parse.urljoin(repo.url.rstrip("/") + "/", urls[0])
        try:
            digest = cache.put_chart(http.get(chart_url))
        except EndpointError as exc:
            raise SourceError(f"{where}: chart {spec.chart}@{version} cannot be fetched from "
                              f"{display_url(chart_url)}: {exc.problem}") from exc
        cache.put_ref(repo.url, spec.chart, version, digest)
    return ResolvedChart(spec.chart, version, cache.chart_path(digest), digest,
                         f"HelmRepository/{repo.ref.namespace}/{repo.ref.name}", from_cache)


def chart_metadata(archive: Path) -> dict[str, Any]:
    """Chart.yaml of a packaged chart."""
    with tarfile.open(archive) as tar:
        member = next((m for m in tar.getmembers() if m.name.count("/") == 1
                       and m.name.endswith("/Chart.yaml")), None)
        handle = tar.extractfile(member) if member else None
        if handle is None:
            raise SourceError(f"{archive.name} is not a Helm chart (no Chart.yaml)")
        return load_safe(handle.read(), f"{archive.name}: Chart.yaml") or {}


def _fetch_oci_chart(url: str, oci_ref: dict[str, Any], spec_raw: dict[str, Any],
                     source: HelmRepository | OCIRepository, lookup: ObjectLookup, cache: ChartCache,
                     offline: bool) -> ResolvedChart:
    """A chart from `oci://…` at `oci_ref` (digest > semver > tag, as OCIRepository orders them)."""
    where = f"{source.ref.kind}/{source.ref.namespace}/{source.ref.name}"
    location = OciLocation.parse(url, bool(spec_raw.get("insecure")))
    wanted = oci_ref.get("digest") or (f"semver:{oci_ref['semver']}" if oci_ref.get("semver")
                                        else f"tag:{oci_ref.get('tag') or 'latest'}")
    digest: str | None = None
    if offline:
        version = cache.get_resolved(url, wanted)
        digest = cache.get_ref(url, "", version) if version else None
        if digest is None:
            raise SourceError(f"{where}: {url} ({wanted}) is not cached and the run is offline",
                              hint="run once with registry access to fill the chart cache")
    else:
        secret = lookup("Secret", source.ref.namespace, source.secret_ref) if source.secret_ref else None
        if source.secret_ref and secret is None:
            raise SourceError(f"{where}: secretRef '{source.secret_ref}' not found")
        registry = Registry(location, credentials_from_secret(secret, location.base.split("://")[1]))
        if oci_ref.get("digest"):
            reference = str(oci_ref["digest"])
        elif oci_ref.get("semver"):
            reference = resolve_tag(registry, oci_ref["semver"])
        else:
            reference = str(oci_ref.get("tag") or "latest")
        data, _ = pull_chart(registry, reference)
        digest = cache.put_chart(data)
    meta = chart_metadata(cache.chart_path(digest))
    version = str(meta.get("version", ""))
    cache.put_ref(url, "", version, digest)
    cache.put_resolved(url, wanted, version)
    return ResolvedChart(str(meta.get("name", "")), version, cache.chart_path(digest), digest, where, offline)


def _folder_chart(folder: Path, where: str, source: str) -> ResolvedChart:
    meta_file = folder / "Chart.yaml"
    if not meta_file.is_file():
        raise SourceError(f"no Chart.yaml in {where}")
    meta = load_safe(meta_file.read_text(encoding="utf-8"), f"{where}/Chart.yaml") or {}
    return ResolvedChart(str(meta.get("name", "")), str(meta.get("version", "")), folder,
                         digest_folder(folder), source)


def _checkout_chart(repository: Repository, repo: GitRepository, spec: HelmChartTemplate) -> ResolvedChart:
    if not repository.is_checkout(repo):
        raise SourceError(f"GitRepository {repo.ref.namespace}/{repo.ref.name} ({repo.url}) is not this "
                          "repository; charts from other Git repositories are not supported yet")
    folder = repository.source.resolve_path(spec.chart, obj=str(repo.ref))
    repository.source.refuse_escaping_links(folder, obj=str(repo.ref), what="spec.chart")
    source = f"GitRepository/{repo.ref.namespace}/{repo.ref.name}"
    where = f"{spec.chart} of GitRepository {repo.ref.namespace}/{repo.ref.name}"
    return _folder_chart(folder, where, source)


def _artifact_chart(repository: Repository, ref: ObjectRef, cache: ChartCache) -> ResolvedChart:
    """A chart that is an ExternalArtifact an ArtifactGenerator of this repository produces."""
    generator = repository.artifact_generator(ref)
    if generator is None:
        raise SourceError(f"{ref} is not produced by an ArtifactGenerator of this repository")
    sources = {}
    for alias, source in generator.sources.items():
        repo = repository.flux_object(source)
        if not isinstance(repo, GitRepository) or not repository.is_checkout(repo):
            raise SourceError(f"{ref} is produced by {generator.ref} from @{alias} ({source}), which is "
                              "not this repository")
        sources[alias] = repository.source.root
    cache.root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fluxpush-artifact-", dir=cache.root))
    artifact = next(a for a in generator.artifacts if a.name == ref.name)
    build_artifact(artifact, sources, staging / ref.name, where=str(generator.ref))
    return _folder_chart(staging / ref.name, f"the root of {ref}", str(ref))


def _with_values_files(chart: ResolvedChart, spec: HelmChartTemplate, base: Path | None,
                       cache: ChartCache) -> ResolvedChart:
    """The chart re-packaged with `valuesFiles` merged (in order) as its default values."""
    cache.root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".fluxpush-chart-", dir=cache.root))
    if chart.path.is_dir():
        shutil.copytree(chart.path, work / chart.name)
    else:
        with tarfile.open(chart.path) as tar:
            tar.extractall(work, filter="data")
    folder = work / chart.name
    merged: dict[str, Any] = {}
    for name in spec.values_files:
        root = (base or folder).resolve()
        file = (root / name.removeprefix("./").lstrip("/")).resolve()
        if not file.is_relative_to(root):
            raise SourceError(f"values file {name} points outside the chart source")
        if not file.is_file():
            raise SourceError(f"values file {name} not found in the chart source")
        merged = merge_values(merged, load_safe(file.read_text(encoding="utf-8"), name) or {})
    (folder / "values.yaml").write_text(yaml.safe_dump(merged), encoding="utf-8")
    digest = digest_folder(folder)
    target = cache.root / "packaged" / digest / chart.name
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # a concurrent run put the same content there first
            folder.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return ResolvedChart(chart.name, chart.version, target, digest, chart.source, chart.cached)


def _chart_ref(hr: HelmRelease, repository: Repository, lookup: ObjectLookup, cache: ChartCache,
               offline: bool) -> ResolvedChart:
    ref = hr.chart_ref
    if ref is None or ref.kind not in ("OCIRepository", "ExternalArtifact"):
        raise InputError(f"spec.chartRef to a {ref.kind if ref else 'missing'} source is not supported",
                         obj=str(hr.ref), hint="use an OCIRepository, an ExternalArtifact, or spec.chart")
    key = ObjectRef(ref.kind, ref.namespace or hr.ref.namespace, ref.name)
    if ref.kind == "ExternalArtifact":
        return _artifact_chart(repository, key, cache)
    source = repository.flux_object(key)
    if not isinstance(source, OCIRepository):
        raise SourceError(f"OCIRepository {key.namespace}/{key.name} is not defined in the repository")
    return _fetch_oci_chart(source.url, source.oci_ref, source.raw.get("spec") or {}, source, lookup, cache,
                            offline)


def resolve_chart(hr: HelmRelease, repository: Repository, lookup: ObjectLookup, *,
                  cache: ChartCache | None = None, offline: bool = False) -> ResolvedChart:
    """The chart `hr.spec.chart` names, fetched or found in the cache; raises SourceError/InputError."""
    cache = cache or ChartCache()
    if hr.chart is None:
        return _chart_ref(hr, repository, lookup, cache, offline)
    spec = hr.chart
    namespace = spec.source_ref.namespace or hr.ref.namespace
    ref = ObjectRef(spec.source_ref.kind, namespace, spec.source_ref.name)
    source = repository.flux_object(ref)
    if source is None:
        raise SourceError(f"{ref.kind} {ref.namespace}/{ref.name} is not defined in the repository",
                          hint="define the source in a Kustomization this cluster path reaches")
    if isinstance(source, HelmRepository):
        chart = _fetch_repository_chart(source, spec, lookup, cache, offline)
        base = None
    elif isinstance(source, GitRepository):
        chart = _checkout_chart(repository, source, spec)
        base = repository.source.root
    else:
        raise SourceError(f"{ref.kind} chart sources are not supported",
                          hint="use HelmRepository or GitRepository")
    return _with_values_files(chart, spec, base, cache) if spec.values_files else chart
