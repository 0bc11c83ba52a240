"""Plan files: a plan that `apply --plan-file` executes, and the rules that refuse a stale one.

`plan --plan-file F` writes the plan JSON (`Plan.to_json`) plus an `execution` section: the revision
and cluster path planned, the cluster's identity (the `kube-system` Namespace's uid), every node's
rendered objects as planned, a digest of each node's Flux object, and the `resourceVersion` of every
planned object and inventory record read just before planning ("" when absent).

Secrets never appear in clear: a Secret, or any object the secret registry would mask, is carried
by name and a salted scrypt digest only; apply re-renders it from the checkout and uses it only if
its digest matches. `verify` is pure: the plan file, a fresh discovery and a fresh `Snapshot` in,
an `Execution` (the discovery to apply, with the planned objects) out, or `PlanRefusedError` saying why.

Objects are keyed by `ObjectId` and nodes by `ObjectRef` throughout; the file holds their text forms
(`Kind/namespace/name`), converted only where it is written (`dumps`) and read (`loads`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from fluxpush.errors import ClusterError, InputError
from fluxpush.flux.model import Kustomization, ObjectRef
from fluxpush.kube import KubeClient
from fluxpush.nodes import AnyNode
from fluxpush.planning.inventory import inventory_name
from fluxpush.planning.live import LiveIndex
from fluxpush.planning.normalize import ObjectId, object_id
from fluxpush.planning.options import EngineOptions
from fluxpush.planning.plan import Action, Plan
from fluxpush.redact import redact_data
from fluxpush.repository.discover import Discovery

EXECUTION_KIND = "fluxpush-plan-file"
EXECUTION_VERSION = 2  # 2: objects keyed by Flux inventory id (namespace_name_group_kind)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # a slow digest, so a weak Secret value is not cheap to guess


class PlanFileError(InputError):
    """A plan file that cannot be read or was changed after `fluxpush plan` wrote it."""


class PlanRefusedError(InputError):
    """The checkout or the cluster moved in a way that invalidates the plan; nothing was written."""

    def __init__(self, reasons: list[str]) -> None:
        listing = "\n".join(f"  - {reason}" for reason in reasons)
        super().__init__(f"the plan file cannot be applied, nothing was written:\n{listing}\n"
                         "plan again (fluxpush plan --plan-file FILE) and apply the new file")
        self.reasons = reasons


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the cluster held when read: its identity, and the version (`live_version`) of each object
    read ("" when absent) and of each node's inventory record."""

    cluster_uid: str = ""
    versions: dict[ObjectId, str] = field(default_factory=dict)
    records: dict[ObjectRef, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlannedNode:
    """One node as planned: its Flux object's digest, its clear objects, the digests of the objects
    carried by digest (Secrets), and whether its build failed (then apply uses the checkout's)."""

    node: ObjectRef
    spec_digest: str
    objects: tuple[dict[str, Any], ...] = ()
    by_digest: dict[ObjectId, str] = field(default_factory=dict)
    failed: bool = False


@dataclass(frozen=True, slots=True)
class PlanFile:
    """A plan and what executing it needs."""

    plan: Plan
    revision: str
    cluster_path: str
    snapshot: Snapshot
    salt: str
    nodes: tuple[PlannedNode, ...]
    options: dict[str, bool] = field(default_factory=dict)  # `planned_options` of the plan's run


@dataclass(frozen=True, slots=True)
class Execution:
    """What `apply --plan-file` runs: the discovery with the planned objects, the objects that moved
    in the cluster since the plan (re-planned at apply), and notes for the user."""

    discovery: Discovery
    moved: dict[ObjectId, str]
    notes: tuple[str, ...] = ()


# -- reads --

def read_snapshot(client: KubeClient, discovery: Discovery) -> Snapshot:
    """The cluster's identity and the live versions of every object and record the run would read."""
    local = [n for n in discovery.nodes.values() if not getattr(n.spec, "kube_config", None)]
    objects = [obj for node in local for obj in node.objects]
    records = {n.ref: _record_stub(n.ref) for n in discovery.nodes.values()}
    index = LiveIndex(client, reads=[*objects, *records.values()])
    return Snapshot(_cluster_uid(client),
                    {object_id(obj): live_version(index.get(obj)) for obj in objects},
                    {ref: live_version(index.get(stub)) for ref, stub in records.items()})


def _record_stub(ref: ObjectRef) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": inventory_name(ref), "namespace": ref.namespace}}


def live_version(live: dict[str, Any] | None) -> str:
    """`<resourceVersion>/<digest>` of a live object ("" when absent). The digest leaves out what
    controllers change without anyone touching the object (status, the resourceVersion, status
    managers' entries and every entry's time), so only a real change of the object counts as moved."""
    if not live:
        return ""
    meta = dict(live.get("metadata") or {})
    version = str(meta.pop("resourceVersion", ""))
    meta["managedFields"] = [{k: v for k, v in entry.items() if k != "time"}
                             for entry in meta.get("managedFields") or () if not entry.get("subresource")]
    body = {k: v for k, v in live.items() if k not in ("status", "metadata")}
    return f"{version}/{content_digest([meta, body])[7:23]}"


def _same_version(planned: str, current: str) -> bool:
    return planned.partition("/")[2] == current.partition("/")[2]


def _cluster_uid(client: KubeClient) -> str:
    try:
        namespace = client.get("v1", "Namespace", "kube-system")
    except ClusterError:
        return ""  # credentials that may not read it: the identity check is skipped
    return str(((namespace or {}).get("metadata") or {}).get("uid", ""))


# -- digests --

def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def content_digest(data: Any) -> str:
    """sha256 of the canonical JSON of `data`."""
    return "sha256:" + hashlib.sha256(_canonical(data)).hexdigest()


def secret_digest(obj: dict[str, Any], salt: str) -> str:
    """A salted scrypt digest of an object carried by digest (a Secret): no value in clear."""
    return "scrypt:" + hashlib.scrypt(_canonical(obj), salt=bytes.fromhex(salt), **_SCRYPT).hex()


def carried_by_digest(obj: dict[str, Any]) -> bool:
    """Whether the object may not be written in clear: a Secret, or anything masking would change."""
    return obj.get("kind") == "Secret" or redact_data(obj) != obj


# -- writing and reading --

def cluster_path(discovery: Discovery) -> str:
    """The cluster path the discovery started from (its root Kustomization's path), e.g. `clusters/dev`."""
    root = discovery.nodes.get(discovery.root)
    path = root.spec.path if root is not None and isinstance(root.spec, Kustomization) else ""
    return path.removeprefix("./").strip("/")


def planned_options(options: EngineOptions) -> dict[str, bool]:
    """The engine options that change what a plan holds (which deletions, which recreations)."""
    return {"prune": options.prune, "force": options.force,
            "allow_destructive_prune": options.allow_destructive_prune}


def make_plan_file(plan: Plan, discovery: Discovery, snapshot: Snapshot, options: EngineOptions) -> PlanFile:
    """The plan file of a plan made from `discovery` with `options` after `snapshot` was read."""
    salt = secrets.token_hex(16)
    failed = {n.node for n in plan.nodes if n.error}
    nodes = tuple(_planned_node(node, salt, node.ref in failed)
                  for node in discovery.ordered_nodes())
    return PlanFile(plan, discovery.revision, cluster_path(discovery), snapshot, salt, nodes,
                    planned_options(options))


def _planned_node(node: AnyNode, salt: str, failed: bool) -> PlannedNode:
    clear = tuple(obj for obj in node.objects if not carried_by_digest(obj))
    hidden = {object_id(obj): secret_digest(obj, salt) for obj in node.objects if carried_by_digest(obj)}
    failed = failed or node.error is not None
    return PlannedNode(node.ref, _spec_digest(node, salt), clear, hidden, failed)


def _spec_digest(node: AnyNode, salt: str) -> str:
    """The digest of the node's Flux object; salted scrypt when it holds a secret (inline values)."""
    raw = node.spec.raw
    return secret_digest(raw, salt) if carried_by_digest(raw) else content_digest(raw)


def dumps(plan_file: PlanFile) -> str:
    """The plan file's text: the plan JSON plus its `execution` section, with a checksum."""
    data = json.loads(plan_file.plan.to_json())
    execution = {
        "kind": EXECUTION_KIND, "version": EXECUTION_VERSION, "revision": plan_file.revision,
        "cluster_path": plan_file.cluster_path, "cluster_uid": plan_file.snapshot.cluster_uid,
        "salt": plan_file.salt, "options": plan_file.options,
        "live": _by_inventory_id(plan_file.snapshot.versions),
        "records": {str(ref): v for ref, v in plan_file.snapshot.records.items()},
        "nodes": [{"node": str(n.node), "spec": n.spec_digest, "objects": list(n.objects),
                   "by_digest": _by_inventory_id(n.by_digest), "failed": n.failed} for n in plan_file.nodes],
    }
    data["execution"] = redact_data(execution)
    data["execution"]["checksum"] = content_digest(data)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _by_inventory_id(by_identity: dict[ObjectId, str]) -> dict[str, str]:
    """A mapping keyed by object identity, keyed by Flux's inventory id (which keeps the API group)."""
    return {key.inventory_id: value for key, value in by_identity.items()}


def _from_inventory_ids(by_id: dict[str, str]) -> dict[ObjectId, str]:
    """The file's inventory-id keys back to object identities (ValueError on a malformed one)."""
    return {ObjectId.from_inventory_id(text): value for text, value in by_id.items()}


def _node_ref(text: str) -> ObjectRef:
    """`Kind/namespace/name` of a node (always namespaced) back to its `ObjectRef`."""
    kind, namespace, name = text.split("/")
    return ObjectRef(kind, namespace, name)


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file, so an interrupted write leaves no half file."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def loads(text: str, name: str) -> PlanFile:
    """Read a plan file; PlanFileError (naming `name`) when it is not one or was changed."""
    try:
        data = json.loads(text)
        execution = data["execution"]
    except (ValueError, TypeError, KeyError) as exc:
        raise PlanFileError(f"{name} is not a plan file written by `fluxpush plan --plan-file` "
                            f"({type(exc).__name__}: {exc}); write one with `fluxpush plan --plan-file "
                            f"{name}`") from exc
    if not isinstance(execution, dict) or execution.get("kind") != EXECUTION_KIND:
        raise PlanFileError(f"{name} has no execution section of a fluxpush plan file")
    if execution.get("version") != EXECUTION_VERSION:
        raise PlanFileError(f"{name} is a plan file of version {execution.get('version')!r}; this "
                            f"fluxpush applies version {EXECUTION_VERSION}: plan again")
    checksum = execution.pop("checksum", None)
    if checksum != content_digest(data):
        raise PlanFileError(f"{name} was changed after `fluxpush plan` wrote it (its checksum does not "
                            "match): plan again")
    try:
        return _from_dict(data, execution)
    except (ValueError, TypeError, KeyError) as exc:
        raise PlanFileError(f"{name} is not a readable plan file ({exc})") from exc


def _from_dict(data: dict[str, Any], execution: dict[str, Any]) -> PlanFile:
    plan = Plan.from_json(json.dumps({k: v for k, v in data.items() if k != "execution"}))
    snapshot = Snapshot(execution["cluster_uid"],
                        _from_inventory_ids(execution["live"]),
                        {_node_ref(ref): v for ref, v in execution["records"].items()})
    nodes = tuple(PlannedNode(_node_ref(n["node"]), n["spec"], tuple(n["objects"]),
                              _from_inventory_ids(n["by_digest"]), n["failed"])
                  for n in execution["nodes"])
    return PlanFile(plan, execution["revision"], execution["cluster_path"], snapshot, execution["salt"],
                    nodes, dict(execution["options"]))


# -- verifying against the checkout and the cluster now --

def verify(plan_file: PlanFile, discovery: Discovery, now: Snapshot, options: EngineOptions) -> Execution:
    """The execution of `plan_file` with `options`, given the checkout's fresh `discovery` and the
    cluster `now`; raises PlanRefusedError listing every reason it may not run (README, "Plan files")."""
    reasons = _target_reasons(plan_file, cluster_path(discovery), now)
    given = planned_options(options)
    reasons += [f"it was planned with {_flag(name, planned)}, and this apply has {_flag(name, given[name])}: "
                "give the same options" for name, planned in sorted(plan_file.options.items())
                if given.get(name) != planned]
    nodes: dict[ObjectRef, AnyNode] = {}
    for planned in plan_file.nodes:
        current = discovery.nodes.get(planned.node)
        if current is None:
            reasons.append(f"{planned.node} was planned but the checkout no longer declares it")
            continue
        if _spec_digest(current, plan_file.salt) != planned.spec_digest:
            reasons.append(f"{planned.node}: its Flux object changed in the checkout since the plan")
            continue
        node, why = _planned_objects(planned, current, plan_file.salt)
        reasons += why
        nodes[current.ref] = node
    planned_names = {n.node for n in plan_file.nodes}
    reasons += [f"{ref} is declared in the checkout but was not planned"
                for ref in discovery.nodes if ref not in planned_names]
    reasons += [f"{node} was applied since the plan (its inventory record changed)"
                for node, version in plan_file.snapshot.records.items()
                if not _same_version(version, now.records.get(node, version))]
    if reasons:
        raise PlanRefusedError(reasons)
    source = replace(discovery.source, revision=plan_file.revision)
    notes = () if discovery.revision == plan_file.revision else (
        f"the checkout moved to {discovery.revision} since the plan: applying the content planned at "
        f"{plan_file.revision}",)
    return Execution(replace(discovery, source=source, nodes=nodes), moved_objects(plan_file.snapshot, now),
                     notes)


def _flag(name: str, value: bool) -> str:
    flag = name.replace("_", "-")
    if name == "prune":
        return f"--{'' if value else 'no-'}prune"
    return f"--{flag}" if value else f"no --{flag}"


def _target_reasons(plan_file: PlanFile, path: str, now: Snapshot) -> list[str]:
    reasons = []
    if plan_file.cluster_path != path:
        reasons.append(f"it was planned for --path {plan_file.cluster_path}, not {path}")
    planned_uid = plan_file.snapshot.cluster_uid
    if planned_uid and now.cluster_uid and planned_uid != now.cluster_uid:
        reasons.append(f"it was planned against another cluster (kube-system uid {planned_uid}, this "
                       f"cluster's is {now.cluster_uid})")
    return reasons


def _planned_objects(planned: PlannedNode, current: AnyNode, salt: str) -> tuple[AnyNode, list[str]]:
    """The node with its planned objects, Secrets taken from the checkout when their digest matches."""
    if planned.failed:
        return current, []
    fresh = {object_id(obj): obj for obj in current.objects if carried_by_digest(obj)}
    reasons, hidden = [], []
    for oid, digest in sorted(planned.by_digest.items()):
        obj = fresh.get(oid)
        if obj is None or secret_digest(obj, salt) != digest:
            reasons.append(f"{planned.node}: {oid} renders differently in the checkout than when planned "
                           "(Secrets are not stored in plan files, so they must render the same)")
        else:
            hidden.append(obj)
    objects = [*[dict(obj) for obj in planned.objects], *hidden]
    return replace(current, objects=objects, error=None, rejected=[]), reasons


def moved_objects(planned: Snapshot, now: Snapshot) -> dict[ObjectId, str]:
    """Each planned object whose live version changed since the plan, with how."""
    moved: dict[ObjectId, str] = {}
    for oid, version in planned.versions.items():
        current = now.versions.get(oid, version)
        if _same_version(version, current):
            continue
        was, now_at = version.partition("/")[0], current.partition("/")[0]
        if not version:
            moved[oid] = "planned as absent, it exists now"
        elif not current:
            moved[oid] = f"deleted since the plan (was resourceVersion {was})"
        else:
            moved[oid] = f"changed since the plan (resourceVersion {was} → {now_at})"
    return moved



# -- comparing a deploy with its preview --

_DIGEST_SALT = hashlib.sha256(b"fluxpush plan digest").hexdigest()[:32]


def _object_digest(obj: dict[str, Any]) -> str:
    return secret_digest(obj, _DIGEST_SALT) if carried_by_digest(obj) else content_digest(obj)


def plan_digest(plan: Plan, discovery: Discovery) -> str:
    """One digest of what a run applies: every node's Flux object and rendered objects, and every
    deletion its plan holds (planned or made); independent of the revision's name (a PR head and its
    merge commit with the same content agree) and of creates vs updates (which depend on the cluster).
    Secrets enter through `secret_digest`, so the digest reveals no value."""
    entries = sorted(
        [f"{ref} {_object_digest(node.spec.raw)}" for ref, node in discovery.nodes.items()]
        + [f"{ref} {object_id(obj)} {_object_digest(obj)}" for ref, node in discovery.nodes.items()
           for obj in node.objects]
        + [f"{node.node} {change.id} delete" for node in plan.nodes for change in (*node.changes, *node.prune)
           if change.action is Action.DELETE])
    return content_digest(entries)


def diverged(planned: Plan, applied: Plan) -> dict[ObjectId, str]:
    """Each object whose action at apply differs from the plan's (its live object changed after the
    re-check, or the dry run at apply decided what the plan could not), with both actions."""
    before = {(node.node, c.id): c.action for node in planned.nodes for c in (*node.changes, *node.prune)}
    found = {}
    for node in applied.nodes:
        for change in (*node.changes, *node.prune):
            was = before.get((node.node, change.id))
            if was is not None and was is not change.action:
                found[change.id] = f"planned {was}, applied {change.action}"
    return found
