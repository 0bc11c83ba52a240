"""ExternalArtifacts this run produces itself, from the ArtifactGenerators discovery found.

An artifact is produced once per run, on first use, into the run's scratch folder, from the
filtered copy of the checkout (so `.sourceignore` applies as it does to the GitRepository artifact
source-watcher reads). A generator whose sources are not all this checkout (or `--source`
mappings) produces nothing; the Kustomization that needs its artifact fails saying which source.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from fluxpush.errors import FluxpushError, SourceError
from fluxpush.flux.model import ObjectRef
from fluxpush.repository.artifacts import ArtifactGenerator, build_artifact

ResolveSource = Callable[[ObjectRef], Path | None]


class LocalArtifacts:
    """Known generators, the artifacts built so far, and why any could not be built."""

    def __init__(self, scratch: Path, checkout_tree: Callable[[], Path], checkout_root: Path) -> None:
        self._scratch = scratch
        self._checkout_tree = checkout_tree
        self._checkout_root = checkout_root
        self.generators: dict[ObjectRef, ArtifactGenerator] = {}
        self._built: dict[ObjectRef, Path] = {}
        self._errors: dict[ObjectRef, FluxpushError] = {}
        self._lock = threading.Lock()

    def add(self, generator: ArtifactGenerator) -> None:
        """Know the ExternalArtifacts `generator` produces."""
        for ref in generator.artifact_refs():
            self.generators[ref] = generator

    def error(self, ref: ObjectRef) -> FluxpushError | None:
        """Why the artifact `ref` could not be produced, if it was tried."""
        return self._errors.get(ref)

    def _sources(self, generator: ArtifactGenerator, ref: ObjectRef,
                 resolve_source: ResolveSource) -> dict[str, Path] | None:
        found = {}
        for alias, source in generator.sources.items():
            directory = resolve_source(source)
            if directory is None:
                self._errors[ref] = SourceError(
                    f"source {ref} is produced by {generator.ref} from @{alias} ({source}), which is "
                    "neither this repository nor mapped to a directory", obj=str(generator.ref),
                    hint=f"pass --source {source.kind}/{source.namespace}/{source.name}=DIR")
                return None
            found[alias] = self._checkout_tree() if directory == self._checkout_root else directory
        return found

    def resolve(self, ref: ObjectRef, resolve_source: ResolveSource) -> Path | None:
        """The folder of ExternalArtifact `ref`, built on first use; None when it cannot be."""
        with self._lock:
            if ref in self._built:
                return self._built[ref]
        generator = self.generators.get(ref)
        if generator is None:
            return None
        sources = self._sources(generator, ref, resolve_source)
        if sources is None:
            return None
        artifact = next(a for a in generator.artifacts if a.name == ref.name)
        staging = self._scratch / "artifacts" / ref.namespace / ref.name
        try:
            build_artifact(artifact, sources, staging, where=str(generator.ref))
        except FluxpushError as exc:
            self._errors[ref] = exc
            return None
        with self._lock:
            self._built[ref] = staging
        return staging
