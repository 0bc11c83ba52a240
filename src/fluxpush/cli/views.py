"""Text and JSON renderings of a discovery for the CLI: build streams, tables, trees, problems."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from fluxpush.errors import DependencyError, FluxpushError, InputError, RenderError
from fluxpush.flux.model import HelmRelease, Kustomization, ObjectRef, OCIRepository
from fluxpush.nodes import AnyNode as Node
from fluxpush.planning.apply_order import sort_for_apply
from fluxpush.repository.discover import Discovery
from fluxpush.yamldoc import dump_documents


def problem_dict(problem: FluxpushError) -> dict[str, Any]:
    """JSON form of any fluxpush error."""
    if isinstance(problem, InputError | RenderError | DependencyError):
        return problem.as_dict()
    return {"message": str(problem), "type": type(problem).__name__}


def object_id(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name`, or `Kind/name` when the object has no namespace."""
    meta = obj.get("metadata", {})
    namespace = meta.get("namespace")
    return f"{obj['kind']}/{namespace}/{meta['name']}" if namespace else f"{obj['kind']}/{meta['name']}"


def _status(discovery: Discovery, node: Node) -> str:
    if node.error is not None:
        return "build failed"
    if node.ref in discovery.graph.blocked:
        return f"blocked: {discovery.graph.blocked[node.ref]}"
    if isinstance(node.spec, HelmRelease):
        return "not rendered (HelmRelease)"
    count = len(node.objects)
    return f"{count} object{'' if count == 1 else 's'}"


def _deps(node: Node) -> str:
    return ",".join(f"{d.namespace}/{d.name}" for d in node.spec.depends_on) or "-"


def _node_header(node: Node) -> str:
    spec = node.spec
    where = f"path {spec.path or '.'}" if isinstance(spec, Kustomization) else "HelmRelease"
    deps = _deps(node)
    return f"# {node.ref} ({where}; dependsOn: {deps})"


def render_build(discovery: Discovery, nodes: Sequence[Node]) -> str:
    """The rendered objects as one YAML stream in apply order, a comment header per node."""
    chunks = []
    for node in nodes:
        chunks.append(_node_header(node) + "\n")
        if node.objects:
            chunks.append(dump_documents(sort_for_apply(node.objects)))
    return "".join(chunks)


def build_json(discovery: Discovery, nodes: Sequence[Node]) -> dict[str, Any]:
    """`fluxpush build --output json`."""
    return {
        "revision": discovery.revision,
        "nodes": [{**_node_dict(discovery, node), "objects": sort_for_apply(node.objects)} for node in nodes],
        "problems": [problem_dict(p) for p in discovery.problems],
        "notices": [str(n) for n in discovery.notices],
    }


def _node_dict(discovery: Discovery, node: Node) -> dict[str, Any]:
    spec = node.spec
    common = {
        "kind": node.ref.kind, "namespace": node.ref.namespace, "name": node.ref.name,
        "dependsOn": [f"{d.namespace}/{d.name}" for d in spec.depends_on],
        "suspended": spec.suspend, "parent": str(node.parent) if node.parent else None,
        "layer": discovery.graph.layer_of(node.ref),
        "blocked": discovery.graph.blocked.get(node.ref),
        "error": str(node.error) if node.error else None,
    }
    if isinstance(spec, Kustomization):
        common.update(path=spec.path, prune=spec.prune, wait=spec.wait,
                      sourceRef=f"{spec.source_ref.kind}/{spec.source_ref.namespace}/{spec.source_ref.name}",
                      targetNamespace=spec.target_namespace, objects=len(node.objects))
    else:
        name, version, source = chart_summary(discovery, spec)
        common.update(releaseName=spec.release_name, targetNamespace=spec.target_namespace,
                      chart=name, version=version, sourceRef=source,
                      chartRef=source if spec.chart is None else None)
    return common


def chart_summary(discovery: Discovery, hr: HelmRelease) -> tuple[str | None, str | None, str | None]:
    """(chart, version, source) of a HelmRelease; for a `chartRef`, read from the source it names:
    an OCIRepository's last URL segment and tag/semver/digest, an ExternalArtifact's name."""
    chart = hr.chart
    if chart is not None:
        source_ref = chart.source_ref
        namespace = source_ref.namespace or hr.ref.namespace
        return chart.chart, chart.version, f"{source_ref.kind}/{namespace}/{source_ref.name}"
    if hr.chart_ref is None:
        return None, None, None
    ref = ObjectRef(hr.chart_ref.kind, hr.chart_ref.namespace or hr.ref.namespace, hr.chart_ref.name)
    source = discovery.flux_objects.get(ref)
    if isinstance(source, OCIRepository):
        oci = source.oci_ref
        version = oci.get("semver") or oci.get("tag") or oci.get("digest") or "latest"
        return source.url.rstrip("/").rsplit("/", 1)[-1], str(version), str(ref)
    return ref.name, None, str(ref)


def format_table(rows: list[list[str]]) -> str:
    """Rows as left-aligned columns separated by two spaces (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows) + "\n"


def kustomization_table(discovery: Discovery) -> str:
    """`fluxpush get ks`."""
    rows = [["NAME", "NAMESPACE", "PATH", "DEPENDS-ON", "SUSPENDED", "STATUS"]]
    for node in discovery.ordered_nodes():
        if isinstance(node.spec, Kustomization):
            rows.append([node.ref.name, node.ref.namespace, node.spec.path or ".", _deps(node),
                         str(node.spec.suspend), _status(discovery, node)])
    return format_table(rows)


def helmrelease_table(discovery: Discovery) -> str:
    """`fluxpush get hr`."""
    rows = [["NAME", "NAMESPACE", "CHART", "VERSION", "SOURCE", "DEPENDS-ON", "SUSPENDED"]]
    for node in discovery.ordered_nodes():
        spec = node.spec
        if isinstance(spec, HelmRelease):
            name, version, source = chart_summary(discovery, spec)
            rows.append([node.ref.name, node.ref.namespace, name or "-", version or "*", source or "-",
                         _deps(node), str(spec.suspend)])
    return format_table(rows)


def helmrelease_live_table(status: dict[ObjectRef, dict[str, Any]]) -> str:
    """`fluxpush get hr` with a cluster: chart, resolved version, release revision and status."""
    rows = [["NAME", "NAMESPACE", "CHART", "VERSION", "REVISION", "STATUS", "READY", "REASON"]]
    for ref, live in status.items():
        rows.append([ref.name, ref.namespace, live["chart"] or "-", live["version"] or "-",
                     str(live["revision"] or "-"), live["status"], live["ready"], live["reason"]])
    return format_table(rows)


def flux_object_table(discovery: Discovery) -> str:
    """Sources, Providers, Alerts and image objects found in the builds."""
    rows = [["KIND", "NAME", "NAMESPACE", "DETAIL"]]
    for ref, obj in sorted(discovery.flux_objects.items()):
        detail = getattr(obj, "url", None) or getattr(obj, "image", None) or getattr(obj, "provider_type", "")
        rows.append([ref.kind, ref.name, ref.namespace, str(detail or "-")])
    return format_table(rows)


def get_json(discovery: Discovery, kinds: Iterable[str]) -> list[dict[str, Any]]:
    """`fluxpush get … --output json`: one entry per node of the given kinds, in graph order."""
    wanted = set(kinds)
    return [_node_dict(discovery, n) for n in discovery.ordered_nodes() if n.ref.kind in wanted]


def render_tree(discovery: Discovery, ref: ObjectRef) -> str:
    """`fluxpush tree ks NAME`: the node's objects and child nodes, recursively."""
    lines = [str(ref)]

    def walk(node: Node, indent: str) -> None:
        entries: list[tuple[str, Node | None]] = [(object_id(o), None) for o in sort_for_apply(node.objects)]
        entries += [(str(child), discovery.nodes[child]) for child in node.children]
        for i, (label, child) in enumerate(entries):
            last = i == len(entries) - 1
            lines.append(f"{indent}{'└── ' if last else '├── '}{label}")
            if child is not None:
                walk(child, indent + ("    " if last else "│   "))

    walk(discovery.nodes[ref], "")
    return "\n".join(lines) + "\n"


def dumps_json(data: Any) -> str:
    """Pretty JSON with a trailing newline."""
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def live_status_table(status: dict[ObjectRef, dict[str, object]]) -> str:
    """`fluxpush get ks` with a cluster: the live columns, as `flux get ks` shows them."""
    rows = [["NAME", "NAMESPACE", "READY", "REASON", "REVISION", "SUSPENDED", "OBJECTS", "LAST RUN"]]
    for ref, live in status.items():
        revision = str(live["lastAppliedRevision"] or "-")
        rows.append([ref.name, ref.namespace, str(live["ready"]), str(live["reason"]), revision[:40],
                     str(live["suspended"]), str(live["objects"]), str(live["finishedAt"] or "-")])
    return format_table(rows)
