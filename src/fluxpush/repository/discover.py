"""Discovery: build the cluster path, then every Kustomization found in a build, until closed.

The cluster path (`--path clusters/dev`) is the root. Its build yields Flux objects; each
Kustomization becomes a node whose `spec.path` is built in turn (from its parent's
post-substitution output, as Flux would apply it), each HelmRelease a node, and sources, Providers,
Alerts and image objects are collected. Flux objects are interpreted, never emitted as objects to
apply. Builds of one wave run in parallel; a node waiting for a `substituteFrom` ConfigMap/Secret
or a GitRepository that no finished build has rendered yet is built last, when nothing else can
make progress.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from fluxpush.errors import (
    FluxpushError,
    InputError,
    Origin,
    RenderError,
    SchemaError,
    SourceError,
    UsageError,
)
from fluxpush.flux import is_flux_object, parse_flux_object, validate_flux_object
from fluxpush.flux.inert import Notice, inert_notice
from fluxpush.flux.model import (
    FluxObject,
    GitRepository,
    HelmRelease,
    Kustomization,
    ObjectLookup,
    ObjectRef,
    target_cluster,
)
from fluxpush.flux.parse import parse_kustomization
from fluxpush.flux.validate import warm_up
from fluxpush.nodes import AnyNode, KustomizationNode, Node, is_kustomization
from fluxpush.planning.normalize import ObjectId, object_id
from fluxpush.render.confine import BuildConfinement
from fluxpush.render.kustomize import BuildWorkspace, needs_merge, prepare_build_dir, run_kustomize
from fluxpush.render.postbuild import (
    decryption_required,
    finalize_objects,
    resolve_variables,
)
from fluxpush.repository.artifacts import (
    ARTIFACT_KIND,
    ArtifactGenerator,
    is_artifact_generator,
    parse_generator,
)
from fluxpush.repository.fluxinstance import is_flux_instance, sync_objects
from fluxpush.repository.graph import Graph, after_parents, order_nodes
from fluxpush.repository.local_artifacts import LocalArtifacts
from fluxpush.repository.origins import OriginIndex
from fluxpush.repository.root_config import ROOT_CONFIG, load_root_spec
from fluxpush.repository.source import Source, load_source
from fluxpush.repository.variable_sources import VariableSources, rendered_ref
from fluxpush.sops.keysource import NO_KEYS, SopsKeys
from fluxpush.sops.sealed import Sealed
from fluxpush.sops.sources import decrypt_sources
from fluxpush.tools import Tool, find_kustomize
from fluxpush.yamldoc import field_steps

ROOT_NAME = "flux-system"  # the name `flux bootstrap` gives the root Kustomization and its source


@dataclass(frozen=True)
class Discovery:
    """Everything discovery found: nodes in graph order, other Flux objects, problems."""

    root: ObjectRef
    source: Source
    nodes: dict[ObjectRef, AnyNode]
    flux_objects: dict[ObjectRef, FluxObject]
    problems: list[FluxpushError]
    graph: Graph
    notices: list[Notice] = field(default_factory=list)  # Flux kinds not applicable in push mode
    # ExternalArtifact → the ArtifactGenerator that produces it (for HelmRelease chartRefs)
    artifact_generators: dict[ObjectRef, ArtifactGenerator] = field(default_factory=dict)
    github_repository: str = ""  # `owner/name` of the checkout on GitHub, when the face knows it
    origins: OriginIndex | None = field(default=None, repr=False, compare=False)  # where objects came from

    @property
    def revision(self) -> str:
        """Flux-style revision of the checkout, e.g. `main@sha1:<sha>`."""
        return self.source.revision

    def locate(self, obj: dict[str, Any], field_path: str, near: str) -> Origin | None:
        """The file an object a node under folder `near` rendered came from, at the line of
        `field_path` (dotted, as the API server names fields) when found; None when not found (a
        name kustomize changed, a generated object)."""
        if self.origins is None:
            return None
        meta = obj.get("metadata") or {}
        found = self.origins.find(str(obj.get("kind")), str(meta.get("name")),
                                  str(meta.get("namespace") or ""), normalize_path(near))
        if found is None:
            return None
        line = found.locate(field_steps(field_path)) if field_path else None
        return Origin(found.origin.path, line or found.origin.line)

    def ordered_nodes(self) -> list[AnyNode]:
        """Nodes in apply order (dependsOn layers, each after the Kustomization rendering it), then the
        blocked ones."""
        order = after_parents(self.graph.order(), {ref: node.parent for ref, node in self.nodes.items()})
        return [self.nodes[r] for r in order] + [n for r, n in self.nodes.items() if r not in order]

    @cached_property
    def _rendered_index(self) -> dict[ObjectRef, dict[str, Any]]:
        return {rendered_ref(o): o for node in self.nodes.values() for o in node.objects}

    def rendered(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """An object some node renders (the last node in ref order, when several do), or None."""
        return self._rendered_index.get(ObjectRef(kind, namespace, name))

    def flux_object(self, ref: ObjectRef) -> FluxObject | None:
        """A Flux object (a source, a Provider…) the repository declares, or None."""
        return self.flux_objects.get(ref)

    def artifact_generator(self, ref: ObjectRef) -> ArtifactGenerator | None:
        """The ArtifactGenerator producing the ExternalArtifact `ref`, or None."""
        return self.artifact_generators.get(ref)

    def is_checkout(self, repo: GitRepository) -> bool:
        """Whether `repo` is the checkout: the root's sourceRef, or a GitRepository with its URL (or
        the GitHub repository's)."""
        root_source = self.nodes[self.root].spec.raw.get("spec", {}).get("sourceRef", {})
        checkout_ref = ObjectRef("GitRepository", root_source.get("namespace") or self.root.namespace,
                                 root_source.get("name", ""))
        known = self.flux_objects.get(checkout_ref)
        urls = {normalize_git_url(known.url)} if isinstance(known, GitRepository) else set()
        if self.github_repository:
            urls.add(normalize_git_url(f"https://github.com/{self.github_repository}"))
        return repo.ref == checkout_ref or normalize_git_url(repo.url) in urls


@dataclass(frozen=True)
class DiscoverOptions:
    """Inputs of a discovery besides the checkout."""

    cluster_path: str
    strict_substitute: bool = True
    no_remote_bases: bool = False  # kustomize-controller's --no-remote-bases
    source_dirs: Mapping[ObjectRef, Path] = field(default_factory=dict)  # --source mappings
    # (kind, namespace, name) → the live ConfigMap/Secret, for substituteFrom sources that another
    # controller produced in the cluster; consulted after the repository's own rendered objects.
    live_lookup: ObjectLookup | None = None
    max_workers: int = max(2, os.cpu_count() or 2)
    sops: SopsKeys = NO_KEYS  # keys for spec.decryption; without them values stay masked
    # `owner/name` of the checkout on GitHub (the action's GITHUB_REPOSITORY): a GitRepository with
    # that URL is the checkout
    github_repository: str = ""
    ref_name: str | None = None  # the branch a detached CI checkout came from (`git_revision`)


def normalize_path(path: str) -> str:
    """`./clusters/dev/`, `clusters/dev`, `/clusters/dev` → `clusters/dev`; the root is `.`."""
    return posixpath.normpath(path.strip().lstrip("/")) if path.strip(" ./") else "."


def normalize_git_url(url: str) -> str:
    """Compare Git URLs by host and path: scheme, credentials and `.git` dropped, ssh ≈ https."""
    text = url.strip().lower()
    for prefix in ("ssh://", "https://", "http://", "git://"):
        text = text.removeprefix(prefix)
    text = text.split("@", 1)[-1].replace(":", "/", 1) if "@" in text.split("/", 1)[0] else text
    return text.removesuffix("/").removesuffix(".git")


class _Sources:
    """Maps sourceRefs to checked-out directories and keeps one build workspace per directory."""

    def __init__(self, checkout: Source, scratch: Path, options: DiscoverOptions) -> None:
        self.checkout = checkout
        self.scratch = scratch
        self._explicit = dict(options.source_dirs)
        self._checkout_refs: set[ObjectRef] = set()
        self._checkout_urls: set[str] = set()
        self._workspaces: dict[Path, tuple[Source, BuildWorkspace]] = {}
        self.artifacts = LocalArtifacts(scratch, lambda: self.workspace(checkout.root)[1].tree,
                                        checkout.root)
        if options.github_repository:
            self._checkout_urls.add(normalize_git_url(f"https://github.com/{options.github_repository}"))

    def mark_checkout(self, ref: ObjectRef, known: Mapping[ObjectRef, FluxObject]) -> None:
        """Declare that `ref` (a GitRepository) is the checkout, and so is any with its URL."""
        self._checkout_refs.add(ref)
        repo = known.get(ref)
        if isinstance(repo, GitRepository):
            self._checkout_urls.add(normalize_git_url(repo.url))

    def resolve(self, ref: ObjectRef, known: Mapping[ObjectRef, FluxObject]) -> Path | None:
        """The directory holding `ref`'s artifact, or None when it is not (yet) known."""
        if ref in self._explicit:
            return self._explicit[ref]
        if ref in self._checkout_refs:
            return self.checkout.root
        if ref.kind == ARTIFACT_KIND:
            return self.artifacts.resolve(ref, lambda source: self.resolve(source, known))
        repo = known.get(ref)
        if isinstance(repo, GitRepository) and normalize_git_url(repo.url) in self._checkout_urls:
            return self.checkout.root
        return None

    def workspace(self, directory: Path) -> tuple[Source, BuildWorkspace]:
        """The loaded source and its filtered copy for `directory` (made once per run)."""
        if directory not in self._workspaces:
            source = self.checkout if directory == self.checkout.root else load_source(directory)
            base = Path(tempfile.mkdtemp(dir=self.scratch))
            source.copy_to(base / "tree")
            (base / "views").mkdir()
            self._workspaces[directory] = (source, BuildWorkspace(base / "tree", base / "views"))
        return self._workspaces[directory]


def _root_spec(cluster_path: str, configured: dict[str, Any]) -> Kustomization:
    """The synthesized root, with the spec `.fluxpush/root.yaml` gives it (`configured`)."""
    data = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": ROOT_NAME, "namespace": ROOT_NAME},
            "spec": {"interval": "10m", "prune": True,
                     # Until the Kustomization that points at the cluster path is known (it usually
                     # adds decryption by a patch), SOPS Secrets are masked rather than refused.
                     "decryption": {"provider": "sops"}, **configured,
                     "path": f"./{normalize_path(cluster_path)}",
                     "sourceRef": {"kind": "GitRepository", "name": ROOT_NAME}}}
    errors = validate_flux_object(data, Origin(ROOT_CONFIG))
    if errors:
        raise errors[0]
    return parse_kustomization(data)


def _changes_build(ks: Kustomization) -> bool:
    return needs_merge(ks) or ks.post_build is not None or ks.common_metadata is not None \
        or ks.decryption is not None


@dataclass
class _Built:
    """What discovery learns of a node while it runs; the node itself stays a frozen value until
    `_Discoverer.run` folds this in."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    children: list[ObjectRef] = field(default_factory=list)
    error: FluxpushError | None = None
    rejected: list[FluxpushError] = field(default_factory=list)
    sealed: list[Sealed] = field(default_factory=list)


def _settled_error(node: AnyNode, built: _Built) -> FluxpushError | None:
    """The node's error: its build's, else what it rendered wrongly (Flux's apply of it would fail)."""
    if built.error is not None or not built.rejected:
        return built.error
    if len(built.rejected) == 1:
        return built.rejected[0]
    listing = "\n".join(f"  - {problem}" for problem in built.rejected)
    return InputError(f"{len(built.rejected)} problems in what it renders:\n{listing}",
                      obj=str(node.ref), origin=node.spec.origin)


class _Discoverer:
    """One discovery run; see the module docstring."""

    def __init__(self, checkout: Source, options: DiscoverOptions, tool: Tool, scratch: Path) -> None:
        self.options = options
        self.tool = tool
        self.sources = _Sources(checkout, scratch, options)
        self.origins = OriginIndex(checkout)
        self.nodes: dict[ObjectRef, AnyNode] = {}
        self.built: dict[ObjectRef, _Built] = {}  # what each node's build gave, by node
        self.flux_objects: dict[ObjectRef, FluxObject] = {}
        self.problems: list[FluxpushError] = []
        self.notices: list[Notice] = []  # Flux kinds listed, not acted on
        self.rendered: dict[ObjectRef, dict[str, Any]] = {}  # every object a node renders
        self.root_candidates: list[Kustomization] = []  # Kustomizations pointing at the cluster path

    def _built(self, ref: ObjectRef) -> _Built:
        return self.built.setdefault(ref, _Built())

    # -- building one node (runs in worker threads; reads shared state only) --

    def _lookup(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.rendered.get(ObjectRef(kind, namespace, name))

    def _build(self, node: KustomizationNode, directory: Path) -> tuple[list[dict[str, Any]], list[Sealed]]:
        ks = node.spec
        source, workspace = self.sources.workspace(directory)
        build_dir = source.resolve_path(ks.path, obj=str(ks.ref))
        rel = build_dir.relative_to(source.root).as_posix()
        if not (workspace.tree / rel).is_dir():  # on disk, but no file of it is in the source (Git)
            raise SourceError(f"kustomization path not found: {ks.path} holds no file of the source",
                              obj=str(ks.ref), field="spec.path", origin=ks.origin,
                              hint=f"add the files of {rel}/ to Git (an empty folder is not committed), "
                                   "or fix spec.path")
        decrypt = self.options.sops.decryptor(ks)
        if ks.decryption is not None:
            workspace = decrypt_sources(workspace, rel, decrypt, self.sources.scratch)
        prepared = prepare_build_dir(ks, workspace, rel)
        BuildConfinement(workspace.tree, source.root, str(ks.ref),
                         no_remote_bases=self.options.no_remote_bases).check(prepared, rel)
        try:
            objects = run_kustomize(self.tool, prepared, node=str(ks.ref))
        except RenderError as exc:
            raise in_repository_terms(exc, workspace, rel) from exc
        live = self.options.live_lookup
        sources = VariableSources(self._lookup, objects, live, decrypt if ks.decryption else None,
                                  str(ks.ref))
        if live is None:  # e.g. a Secret an ExternalSecret makes: Flux reads it in the cluster
            variables = resolve_variables(ks, sources, searched="no Kustomization of this repository "
                                          "renders it, and no cluster was given to read it from")
        else:
            variables = resolve_variables(ks, sources, searched="neither rendered by this repository nor in "
                                                                "the cluster")
        finalized = finalize_objects(objects, ks, variables, strict=self.options.strict_substitute,
                                     decrypt=decrypt)
        return finalized, list(dict.fromkeys([*decrypt.sealed, *sources.sealed]))

    def _waiting_on(self, node: KustomizationNode) -> bool:
        """Whether the node needs something no finished build has rendered yet."""
        ks = node.spec
        if self.sources.resolve(self._source_ref(ks), self.flux_objects) is None:
            return True
        post_build = ks.post_build
        return post_build is not None and any(
            self._lookup(ref.kind, ks.ref.namespace, ref.name) is None
            for ref in post_build.substitute_from)

    @staticmethod
    def _source_ref(ks: Kustomization) -> ObjectRef:
        return ObjectRef(ks.source_ref.kind, ks.source_ref.namespace, ks.source_ref.name)

    # -- interpreting a build's output (main thread) --

    def _parse(self, obj: dict[str, Any], parent: KustomizationNode) -> FluxObject | None:
        meta = obj.get("metadata", {})
        origin, locate = self.origins.locator(obj["kind"], meta.get("name", ""), meta.get("namespace", ""),
                                              normalize_path(parent.spec.path))
        errors = validate_flux_object(obj, origin, locate)
        if errors:
            self._reject(parent, errors)
            return None
        return parse_flux_object(obj, origin)

    def _reject(self, node: AnyNode, errors: Sequence[FluxpushError]) -> None:
        """Problems in what `node` rendered: reported, and they fail `node` (as its apply would)."""
        self.problems.extend(errors)
        self._built(node.ref).rejected.extend(errors)

    def _register(self, node: KustomizationNode, objects: list[dict[str, Any]]) -> list[AnyNode]:
        """Record a build's output; returns the new child nodes it declares."""
        built = self._built(node.ref)
        children: list[AnyNode] = []
        for obj in objects:
            if is_artifact_generator(obj):
                self._add_generator(obj)
                continue
            if node.parent is None and is_flux_instance(obj):
                self._add_flux_instance(obj, node)
            notice = inert_notice(obj)
            if notice is not None:
                self.notices.append(notice)
                continue
            if not is_flux_object(obj):
                built.objects.append(obj)
                self.rendered.setdefault(rendered_ref(obj), obj)
                continue
            parsed = self._parse(obj, node)
            if parsed is None:
                continue
            if node.parent is None and isinstance(parsed, Kustomization) and \
                    normalize_path(parsed.path) == normalize_path(node.spec.path):
                self.root_candidates.append(parsed)
            elif isinstance(parsed, Kustomization | HelmRelease):
                if parsed.ref == node.ref or parsed.ref in self.nodes:
                    first = self.nodes.get(parsed.ref)
                    if first is not None and parsed.ref != node.ref and first.parent != node.ref:
                        self._reject(node, [InputError(
                            f"declared by both {first.parent} and {node.ref}",
                            obj=str(parsed.ref), origin=parsed.origin,
                            hint="keep one definition; the second would overwrite the first in Flux")])
                    continue
                child = Node(parsed.ref, parsed, node.ref)
                self.nodes[parsed.ref] = child
                built.children.append(parsed.ref)
                children.append(child)
            elif parsed.ref in self.flux_objects:
                self._reject(node, [InputError(
                    "defined twice in the rendered repository", obj=str(parsed.ref), origin=parsed.origin,
                    hint="remove one of the definitions")])
            else:
                self.flux_objects[parsed.ref] = parsed
        return children

    def _add_flux_instance(self, obj: dict[str, Any], root: KustomizationNode) -> None:
        """A FluxInstance in the root's build defines the root, as Flux Operator's sync does."""
        try:
            generated = sync_objects(obj)
        except InputError as exc:
            self.problems.append(exc)
            return
        if generated is None:
            return
        for data in generated:
            parsed = self._parse(data, root)
            if isinstance(parsed, Kustomization) and \
                    normalize_path(parsed.path) == normalize_path(root.spec.path):
                self.root_candidates.append(parsed)
            elif parsed is not None and not isinstance(parsed, Kustomization):
                self.flux_objects.setdefault(parsed.ref, parsed)

    def _add_generator(self, obj: dict[str, Any]) -> None:
        try:
            self.sources.artifacts.add(parse_generator(obj))
        except InputError as exc:
            self.problems.append(exc)

    # -- the loop --

    def _run_wave(self, pool: ThreadPoolExecutor, wave: list[KustomizationNode]) -> list[AnyNode]:
        jobs = []
        for node in wave:  # only Kustomizations are built
            directory = self.sources.resolve(self._source_ref(node.spec), self.flux_objects)
            if directory is None:
                ref = self._source_ref(node.spec)
                self._built(node.ref).error = self.sources.artifacts.error(ref) or SourceError(
                    f"source {ref} is neither this repository nor mapped to a directory",
                    obj=str(node.ref), origin=node.spec.origin,
                    hint=f"pass --source {ref.kind}/{ref.namespace}/{ref.name}=DIR")
                continue
            jobs.append((node, pool.submit(self._build, node, directory)))
        new_nodes: list[AnyNode] = []
        for node, future in jobs:
            try:
                objects, self._built(node.ref).sealed = future.result()
            except FluxpushError as exc:
                self._built(node.ref).error = exc
                continue
            new_nodes.extend(self._register(node, objects))
        return new_nodes

    def _adopt_root(self, pool: ThreadPoolExecutor, root: KustomizationNode) -> tuple[KustomizationNode,
                                                                                        list[AnyNode]]:
        """Give the root the identity and spec of the Kustomization that points at the cluster path.

        Returns the root and the nodes its build declared. When that Kustomization changes the
        build (targetNamespace, postBuild, …), the cluster path is built again with its spec.
        """
        pending = [self.nodes[ref] for ref in self._built(root.ref).children]
        if not self.root_candidates:
            return root, pending
        spec = self.root_candidates[0]
        self.sources.mark_checkout(self._source_ref(spec), self.flux_objects)
        adopted = Node(spec.ref, spec, None)
        if _changes_build(spec):
            for found in (self.nodes, self.built, self.flux_objects, self.rendered):
                found.clear()
            self.problems.clear()
            self.notices.clear()
            return adopted, self._run_wave(pool, [adopted])
        built = self.built.pop(root.ref)
        self.built[adopted.ref] = built
        if built.sealed:  # no decryption in its spec: Flux fails the root; its children stay known
            built.error = decryption_required(built.sealed[0].object.rsplit("/", 1)[-1], str(spec.ref))
        for node in pending:
            self.nodes[node.ref] = replace(node, parent=spec.ref)
        return adopted, [self.nodes[node.ref] for node in pending]

    def _node(self, ref: ObjectRef, *, settle: bool) -> AnyNode:
        """The frozen node with what its build gave; `settle` folds its rejections into its error."""
        node, built = self.nodes[ref], self._built(ref)
        error = _settled_error(node, built) if settle else built.error
        return replace(node, objects=built.objects, children=built.children, error=error,
                       rejected=list(built.rejected), sealed=built.sealed)

    def run(self) -> Discovery:
        """Discover every node; see the module docstring."""
        root_spec = _root_spec(self.options.cluster_path, load_root_spec(self.sources.checkout.root))
        synthetic = Node(ObjectRef("Kustomization", ROOT_NAME, ROOT_NAME), root_spec, None)
        self.sources.mark_checkout(self._source_ref(root_spec), {})
        with ThreadPoolExecutor(max_workers=self.options.max_workers) as pool:
            pool.submit(warm_up)  # the validators load while the root builds, not after
            self._run_wave(pool, [synthetic])
            root, pending = self._adopt_root(pool, synthetic)
            self.nodes[root.ref] = root
            while pending:
                builds = [n for n in pending if is_kustomization(n)]
                ready = [n for n in builds if not self._waiting_on(n)] or builds
                pending = [n for n in builds if n not in ready]
                pending += self._run_wave(pool, ready)
        refs = sorted(self.nodes)
        built = {ref: self._node(ref, settle=False) for ref in refs}
        graph = order_nodes({ref: n.depends_on for ref, n in built.items()})
        problems = [*self.problems, *graph.problems,
                    *(n.error for n in built.values() if n.error is not None)]
        for conflict, owners in find_ownership_conflicts(built.values()):
            problems.append(conflict)
            for ref in owners:
                self._built(ref).rejected.append(conflict)
        nodes = {ref: self._node(ref, settle=True) for ref in refs}
        return Discovery(root.ref, self.sources.checkout, nodes, self.flux_objects, problems, graph,
                         self.notices, self.sources.artifacts.generators, self.options.github_repository,
                         self.origins)


def in_repository_terms(exc: RenderError, workspace: BuildWorkspace, rel: str) -> RenderError:
    """The kustomize failure with the build copy's paths shown relative to the repository (`./infra/x`
    rather than a temporary folder), and where to fix it."""
    copy = re.compile(re.escape(str(workspace.tree.parent)) + r"/(?:tree|views/view-\d+)(/?)")

    def clean(text: str) -> str:
        return copy.sub(lambda found: "./" if found.group(1) else ".", text)

    where = f"./{rel}" if rel not in ("", ".") else "the repository root"
    return type(exc)(f"{clean(exc.message)} in {where} (fix: the kustomization file there, or a file it "
                     "names)", node=exc.node, argv=[clean(arg) for arg in exc.argv] if exc.argv else None,
                     exit_code=exc.exit_code, stderr=clean(exc.stderr))


def find_ownership_conflicts(nodes: Iterable[AnyNode]) -> list[tuple[InputError, tuple[ObjectRef, ...]]]:
    """Objects rendered by more than one node into the same cluster, each with the nodes that render
    it. Flux's server-side apply would make each node take the object from the other on every
    reconciliation; fluxpush fails every node involved instead. Nodes whose `spec.kubeConfig` names
    different clusters (hub and spoke) never share an object."""
    owners: dict[tuple[str, ObjectId], list[ObjectRef]] = {}
    for node in nodes:
        cluster = target_cluster(node.spec)
        for obj in node.objects:
            key = (cluster, object_id(obj))
            if node.ref not in owners.setdefault(key, []):
                owners[key].append(node.ref)
    return [(InputError(f"rendered by more than one node: {', '.join(str(r) for r in refs)}",
                        obj=str(key[1]), hint="keep the object in exactly one Kustomization"),
             tuple(refs)) for key, refs in owners.items() if len(refs) > 1]


def discover(repo_root: str | Path, options: DiscoverOptions, *, tool: Tool | None = None) -> Discovery:
    """Build the cluster path and every Kustomization it leads to; collect all problems."""
    try:
        checkout = load_source(repo_root, ref_name=options.ref_name)
    except OSError as exc:
        raise SourceError(f"cannot read the repository: {exc}", origin=None) from exc
    cluster_dir = checkout.root / normalize_path(options.cluster_path)
    if not cluster_dir.is_dir():
        raise UsageError(f"cluster path {options.cluster_path!r} is not a directory in {checkout.root} (fix: "
                         "pass --path, or the action's cluster-path input, a folder such as clusters/dev)")
    tool = tool or find_kustomize()
    with tempfile.TemporaryDirectory(prefix="fluxpush-") as scratch:
        return _Discoverer(checkout, options, tool, Path(scratch)).run()


__all__ = ["DiscoverOptions", "Discovery", "RenderError", "SchemaError", "discover"]
