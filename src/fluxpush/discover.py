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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fluxpush.artifacts import ARTIFACT_KIND, ArtifactGenerator, is_artifact_generator, parse_generator
from fluxpush.errors import FluxpushError, InputError, Origin, RenderError, SchemaError, SourceError
from fluxpush.flux import is_flux_object, parse_flux_object, validate_flux_object
from fluxpush.flux.inert import Notice, inert_notice
from fluxpush.flux.model import (
    FluxObject,
    GitRepository,
    HelmRelease,
    Kustomization,
    ObjectRef,
    target_cluster,
)
from fluxpush.flux.validate import warm_up
from fluxpush.fluxinstance import is_flux_instance, sync_objects
from fluxpush.graph import Graph, after_parents, order_nodes
from fluxpush.local_artifacts import LocalArtifacts
from fluxpush.origins import OriginIndex
from fluxpush.render.confine import BuildConfinement
from fluxpush.render.kustomize import BuildWorkspace, needs_merge, prepare_build_dir, run_kustomize
from fluxpush.render.postbuild import (
    VariableSourceLookup,
    decryption_required,
    finalize_objects,
    resolve_variables,
)
from fluxpush.root_config import ROOT_CONFIG, load_root_spec
from fluxpush.sops.keysource import NO_KEYS, SopsKeys
from fluxpush.sops.sealed import Sealed
from fluxpush.sops.sources import decrypt_sources
from fluxpush.source import Source, load_source
from fluxpush.tools import Tool, find_kustomize
from fluxpush.variable_sources import VariableSources

ROOT_NAME = "flux-system"  # the name `flux bootstrap` gives the root Kustomization and its source


@dataclass
class Node:
    """A Kustomization or HelmRelease to reconcile, with what its build produced."""

    ref: ObjectRef
    spec: Kustomization | HelmRelease
    parent: ObjectRef | None
    objects: list[dict[str, Any]] = field(default_factory=list)  # rendered, not Flux objects
    children: list[ObjectRef] = field(default_factory=list)
    error: FluxpushError | None = None
    # Problems in what the node rendered (an invalid Flux object, an object another node renders too):
    # Flux's apply of this node would fail, so the node fails (see `settle_rejections`).
    rejected: list[FluxpushError] = field(default_factory=list)
    sealed: list[Sealed] = field(default_factory=list)  # SOPS values no key opened (masked)

    def settle_rejections(self) -> None:
        """Fail the node for what it rendered wrongly, unless its build already failed."""
        if self.error is not None or not self.rejected:
            return
        if len(self.rejected) == 1:
            self.error = self.rejected[0]
            return
        listing = "\n".join(f"  - {problem}" for problem in self.rejected)
        self.error = InputError(f"{len(self.rejected)} problems in what it renders:\n{listing}",
                                obj=str(self.ref), origin=self.spec.origin)

    @property
    def depends_on(self) -> list[ObjectRef]:
        """Refs of the nodes this one waits for (same kind, as Flux allows)."""
        return [ObjectRef(self.ref.kind, dep.namespace, dep.name) for dep in self.spec.depends_on]


@dataclass
class Discovery:
    """Everything discovery found: nodes in graph order, other Flux objects, problems."""

    root: ObjectRef
    source: Source
    nodes: dict[ObjectRef, Node]
    flux_objects: dict[ObjectRef, FluxObject]
    problems: list[FluxpushError]
    graph: Graph
    notices: list[Notice] = field(default_factory=list)  # Flux kinds not applicable in push mode
    # ExternalArtifact → the ArtifactGenerator that produces it (for HelmRelease chartRefs)
    artifact_generators: dict[ObjectRef, ArtifactGenerator] = field(default_factory=dict)

    @property
    def revision(self) -> str:
        """Flux-style revision of the checkout, e.g. `main@sha1:<sha>`."""
        return self.source.revision

    def ordered_nodes(self) -> list[Node]:
        """Nodes in apply order (dependsOn layers, each after the Kustomization rendering it), then the
        blocked ones."""
        order = after_parents(self.graph.order(), {ref: node.parent for ref, node in self.nodes.items()})
        return [self.nodes[r] for r in order] + [n for r, n in self.nodes.items() if r not in order]


@dataclass(frozen=True)
class DiscoverOptions:
    """Inputs of a discovery besides the checkout."""

    cluster_path: str
    strict_substitute: bool = True
    no_remote_bases: bool = False  # kustomize-controller's --no-remote-bases
    source_dirs: Mapping[ObjectRef, Path] = field(default_factory=dict)  # --source mappings
    # (kind, namespace, name) → the live ConfigMap/Secret, for substituteFrom sources that another
    # controller produced in the cluster; consulted after the repository's own rendered objects.
    live_lookup: VariableSourceLookup | None = None
    max_workers: int = max(2, os.cpu_count() or 2)
    sops: SopsKeys = NO_KEYS  # keys for spec.decryption; without them values stay masked
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
        repo = os.environ.get("GITHUB_REPOSITORY")
        if repo:
            self._checkout_urls.add(normalize_git_url(f"https://github.com/{repo}"))

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
    spec = parse_flux_object(data)
    assert isinstance(spec, Kustomization)
    return spec


def _changes_build(ks: Kustomization) -> bool:
    return needs_merge(ks) or ks.post_build is not None or ks.common_metadata is not None \
        or ks.decryption is not None


class _Discoverer:
    """One discovery run; see the module docstring."""

    def __init__(self, checkout: Source, options: DiscoverOptions, tool: Tool, scratch: Path) -> None:
        self.options = options
        self.tool = tool
        self.sources = _Sources(checkout, scratch, options)
        self.origins = OriginIndex(checkout)
        self.nodes: dict[ObjectRef, Node] = {}
        self.flux_objects: dict[ObjectRef, FluxObject] = {}
        self.problems: list[FluxpushError] = []
        self.notices: list[Notice] = []  # Flux kinds listed, not acted on
        self.rendered: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind, ns, name) → object
        self.root_candidates: list[Kustomization] = []  # Kustomizations pointing at the cluster path

    # -- building one node (runs in worker threads; reads shared state only) --

    def _lookup(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.rendered.get((kind, namespace, name))

    def _build(self, node: Node, directory: Path) -> tuple[list[dict[str, Any]], list[Sealed]]:
        ks = node.spec
        assert isinstance(ks, Kustomization)
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

    def _waiting_on(self, node: Node) -> bool:
        """Whether the node needs something no finished build has rendered yet."""
        ks = node.spec
        assert isinstance(ks, Kustomization)
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

    def _parse(self, obj: dict[str, Any], parent: Node) -> FluxObject | None:
        meta = obj.get("metadata", {})
        near = normalize_path(parent.spec.path) if isinstance(parent.spec, Kustomization) else ""
        origin, locate = self.origins.locator(obj["kind"], meta.get("name", ""), meta.get("namespace", ""),
                                              near)
        errors = validate_flux_object(obj, origin, locate)
        if errors:
            self._reject(parent, errors)
            return None
        return parse_flux_object(obj, origin)

    def _reject(self, node: Node, errors: Sequence[FluxpushError]) -> None:
        """Problems in what `node` rendered: reported, and they fail `node` (as its apply would)."""
        self.problems.extend(errors)
        node.rejected.extend(errors)

    def _register(self, node: Node, objects: list[dict[str, Any]]) -> list[Node]:
        """Record a build's output; returns the new child nodes it declares."""
        children: list[Node] = []
        for obj in objects:
            meta = obj["metadata"]
            key = (obj["kind"], meta.get("namespace", ""), meta["name"])
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
                node.objects.append(obj)
                self.rendered.setdefault(key, obj)
                continue
            parsed = self._parse(obj, node)
            if parsed is None:
                continue
            if node.parent is None and isinstance(parsed, Kustomization) and \
                    normalize_path(parsed.path) == normalize_path(node.spec.path):  # type: ignore[union-attr]
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
                node.children.append(parsed.ref)
                children.append(child)
            elif parsed.ref in self.flux_objects:
                self._reject(node, [InputError(
                    "defined twice in the rendered repository", obj=str(parsed.ref), origin=parsed.origin,
                    hint="remove one of the definitions")])
            else:
                self.flux_objects[parsed.ref] = parsed
        return children

    def _add_flux_instance(self, obj: dict[str, Any], root: Node) -> None:
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
                    normalize_path(parsed.path) == normalize_path(root.spec.path):  # type: ignore[union-attr]
                self.root_candidates.append(parsed)
            elif parsed is not None and not isinstance(parsed, Kustomization):
                self.flux_objects.setdefault(parsed.ref, parsed)

    def _add_generator(self, obj: dict[str, Any]) -> None:
        try:
            self.sources.artifacts.add(parse_generator(obj))
        except InputError as exc:
            self.problems.append(exc)

    # -- the loop --

    def _run_wave(self, pool: ThreadPoolExecutor, wave: list[Node]) -> list[Node]:
        jobs = []
        for node in wave:
            assert isinstance(node.spec, Kustomization)  # only Kustomizations are built
            directory = self.sources.resolve(self._source_ref(node.spec), self.flux_objects)
            if directory is None:
                ref = self._source_ref(node.spec)
                node.error = self.sources.artifacts.error(ref) or SourceError(
                    f"source {ref} is neither this repository nor mapped to a directory",
                    obj=str(node.ref), origin=node.spec.origin,
                    hint=f"pass --source {ref.kind}/{ref.namespace}/{ref.name}=DIR")
                continue
            jobs.append((node, pool.submit(self._build, node, directory)))
        new_nodes: list[Node] = []
        for node, future in jobs:
            try:
                objects, node.sealed = future.result()
            except FluxpushError as exc:
                node.error = exc
                continue
            new_nodes.extend(self._register(node, objects))
        return new_nodes

    def _adopt_root(self, pool: ThreadPoolExecutor, root: Node) -> tuple[Node, list[Node]]:
        """Give the root the identity and spec of the Kustomization that points at the cluster path.

        Returns the root and the nodes its build declared. When that Kustomization changes the
        build (targetNamespace, postBuild, …), the cluster path is built again with its spec.
        """
        pending = [self.nodes[ref] for ref in root.children]
        if not self.root_candidates:
            return root, pending
        spec = self.root_candidates[0]
        self.sources.mark_checkout(self._source_ref(spec), self.flux_objects)
        if _changes_build(spec):
            self.nodes.clear()
            self.flux_objects.clear()
            self.rendered.clear()
            self.problems.clear()
            self.notices.clear()
            adopted = Node(spec.ref, spec, None)
            return adopted, self._run_wave(pool, [adopted])
        adopted = Node(spec.ref, spec, None, root.objects, root.children, root.error, root.rejected,
                       root.sealed)
        if root.sealed:  # no decryption in its spec: Flux fails the root; its children stay known
            adopted.error = decryption_required(root.sealed[0].object.rsplit("/", 1)[-1], str(spec.ref))
        for node in pending:
            node.parent = spec.ref
        return adopted, pending

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
                builds = [n for n in pending if isinstance(n.spec, Kustomization)]
                ready = [n for n in builds if not self._waiting_on(n)] or builds
                pending = [n for n in builds if n not in ready]
                pending += self._run_wave(pool, ready)
        nodes = {ref: self.nodes[ref] for ref in sorted(self.nodes)}
        graph = order_nodes({ref: n.depends_on for ref, n in nodes.items()})
        problems = [*self.problems, *graph.problems,
                    *(n.error for n in nodes.values() if n.error is not None)]
        for conflict, owners in find_ownership_conflicts(nodes.values()):
            problems.append(conflict)
            for ref in owners:
                nodes[ref].rejected.append(conflict)
        for node in nodes.values():
            node.settle_rejections()
        return Discovery(root.ref, self.sources.checkout, nodes, self.flux_objects, problems, graph,
                         self.notices, self.sources.artifacts.generators)


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


def object_key(obj: dict[str, Any]) -> str:
    """`group/Kind/namespace/name`, the identity used for ownership checks."""
    group = obj["apiVersion"].rpartition("/")[0]
    meta = obj["metadata"]
    return f"{group}/{obj['kind']}/{meta.get('namespace', '')}/{meta['name']}"


def find_ownership_conflicts(nodes: Iterable[Node]) -> list[tuple[InputError, tuple[ObjectRef, ...]]]:
    """Objects rendered by more than one node into the same cluster, each with the nodes that render
    it. Flux's server-side apply would make each node take the object from the other on every
    reconciliation; fluxpush fails every node involved instead. Nodes whose `spec.kubeConfig` names
    different clusters (hub and spoke) never share an object."""
    owners: dict[tuple[str, str], list[ObjectRef]] = {}
    names: dict[tuple[str, str], str] = {}
    for node in nodes:
        cluster = target_cluster(node.spec)
        for obj in node.objects:
            key = (cluster, object_key(obj))
            if node.ref not in owners.setdefault(key, []):
                owners[key].append(node.ref)
            meta = obj["metadata"]
            names[key] = str(ObjectRef(obj["kind"], meta.get("namespace", ""), meta["name"]))
    return [(InputError(f"rendered by more than one node: {', '.join(str(r) for r in refs)}",
                        obj=names[key], hint="keep the object in exactly one Kustomization"),
             tuple(refs)) for key, refs in owners.items() if len(refs) > 1]


def discover(repo_root: str | Path, options: DiscoverOptions, *, tool: Tool | None = None) -> Discovery:
    """Build the cluster path and every Kustomization it leads to; collect all problems."""
    try:
        checkout = load_source(repo_root, ref_name=options.ref_name)
    except OSError as exc:
        raise SourceError(f"cannot read the repository: {exc}", origin=None) from exc
    cluster_dir = checkout.root / normalize_path(options.cluster_path)
    if not cluster_dir.is_dir():
        raise SourceError(f"cluster path {options.cluster_path!r} is not a directory in {checkout.root}",
                          hint="pass --path with a folder such as clusters/dev")
    tool = tool or find_kustomize()
    with tempfile.TemporaryDirectory(prefix="fluxpush-") as scratch:
        return _Discoverer(checkout, options, tool, Path(scratch)).run()


__all__ = ["DiscoverOptions", "Discovery", "Node", "RenderError", "SchemaError", "discover"]
