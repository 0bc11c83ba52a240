"""Defaulting: the values the real API server fills in for the kinds deployments use."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable
from typing import Any

from kubesim.errors import bad_request
from kubesim.validation.common import builtin_kind

Obj = dict[str, Any]
BASE64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
# autoscaling/v2 HPAs without metrics scale on CPU at 80% utilization.
DEFAULT_HPA_METRIC = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
}


def base64_error_offset(text: str) -> int | None:
    """Where Go's base64.StdEncoding stops decoding `text` (None when it decodes).

    Go skips CR and LF, requires padding, and reports the byte offset of the first bad input.
    """
    data = text.encode()
    index, quantum = 0, 0
    while index < len(data):
        char = data[index]
        index += 1
        if char in (0x0A, 0x0D):
            continue
        if char in BASE64_ALPHABET:
            quantum = (quantum + 1) % 4
            continue
        if char != ord("=") or quantum in (0, 1):
            return index - 1
        if quantum == 2:
            while index < len(data) and data[index] in (0x0A, 0x0D):
                index += 1
            if index == len(data):
                return len(data)
            if data[index] != ord("="):
                return index - 1
            index += 1
        while index < len(data) and data[index] in (0x0A, 0x0D):
            index += 1
        return index if index < len(data) else None
    return None if quantum == 0 else index - quantum


def check_base64(obj: Obj, field: str) -> None:
    """400 like the real decoder when a base64 field (Secret data, binaryData) is not base64."""
    for value in (obj.get(field) or {}).values():
        offset = base64_error_offset(str(value))
        if offset is not None:
            kind = obj.get("kind")
            raise bad_request(
                f'{kind} in version "v1" cannot be handled as a {kind}: '
                f"illegal base64 data at input byte {offset}"
            )


def fold_string_data(secret: Obj) -> None:
    """Write-only `stringData` entries are encoded into `data` (they win over `data` keys)."""
    string_data = secret.pop("stringData", None)
    if not string_data:
        return
    data = secret.setdefault("data", {})
    for key, value in string_data.items():
        data[key] = base64.b64encode(str(value).encode()).decode()


def _image_pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.split(":", 1)[1] if ":" in name else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def default_container(container: Obj) -> None:
    """Container defaults: termination message, pull policy, ports protocol."""
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("resources", {})
    if "image" in container:
        container.setdefault("imagePullPolicy", _image_pull_policy(str(container["image"])))
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for env in container.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("fieldRef")
        if ref is not None:
            ref.setdefault("apiVersion", "v1")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            probe.setdefault("timeoutSeconds", 1)
            probe.setdefault("periodSeconds", 10)
            probe.setdefault("successThreshold", 1)
            probe.setdefault("failureThreshold", 3)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("path", "/")
                probe["httpGet"].setdefault("scheme", "HTTP")


def default_pod_spec(spec: Obj) -> None:
    """Pod spec defaults every workload template gets."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            default_container(container)
    for volume in spec.get("volumes") or []:
        for source in ("configMap", "secret"):
            if isinstance(volume.get(source), dict):
                volume[source].setdefault("defaultMode", 420)
        if "emptyDir" in volume and volume["emptyDir"] is None:
            volume["emptyDir"] = {}


def _template(spec: Obj) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        default_pod_spec(template.setdefault("spec", {}))


def _deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    _template(spec)


def _statefulset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
        claim.setdefault("status", {"phase": "Pending"})
    _template(spec)


def _daemonset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    _template(spec)


def _job_spec(spec: Obj, uid: str, name: str, set_selector: bool) -> None:
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    if set_selector and uid and not spec.get("manualSelector"):
        labels = template["metadata"].setdefault("labels", {})
        labels.setdefault("batch.kubernetes.io/controller-uid", uid)
        labels.setdefault("batch.kubernetes.io/job-name", name)
        labels.setdefault("controller-uid", uid)
        labels.setdefault("job-name", name)
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    default_pod_spec(template.setdefault("spec", {}))


def _cronjob(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job_template = spec.setdefault("jobTemplate", {})
    job_template.setdefault("metadata", {})
    job_spec = job_template.setdefault("spec", {})
    job_spec.setdefault("backoffLimit", 6)
    job_spec.setdefault("completionMode", "NonIndexed")
    job_spec.setdefault("suspend", False)
    job_spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    template = job_spec.setdefault("template", {})
    template.setdefault("metadata", {})
    default_pod_spec(template.setdefault("spec", {}))


NODE_PORTS = range(30000, 32768)  # kube-apiserver's default --service-node-port-range


class ServiceIPs:
    """Allocators for Service cluster IPs (the usual 10.96.0.0/12 range) and node ports."""

    def __init__(self, cidr: str = "10.96.0.0/12") -> None:
        self.network = ipaddress.ip_network(cidr)
        self.next = 10  # 10.96.0.1 belongs to the `kubernetes` Service; start above it
        self.node_ports: set[int] = set()

    def allocate(self) -> str:
        """The next free address."""
        address = self.network.network_address + self.next
        self.next += 1
        return str(address)

    def allocate_node_port(self) -> int:
        """The lowest node port not handed out yet."""
        port = next(p for p in NODE_PORTS if p not in self.node_ports)
        self.node_ports.add(port)
        return port

    def claim_node_port(self, port: int) -> None:
        """Record a node port a Service asked for, so it is not handed out again."""
        self.node_ports.add(port)


def keep_allocated(old: Obj, new: Obj) -> None:
    """On an update of a core Service, carry over what the server allocated and the new body leaves
    out (kube-apiserver's patchAllocatedValues): the cluster IPs while both need one, and each node
    port, matched by port and protocol, while both types need node ports."""
    if builtin_kind(new) != "Service" or new.get("apiVersion") != "v1":
        return
    before, after = old.get("spec") or {}, new.setdefault("spec", {})
    if "ExternalName" not in (before.get("type"), after.get("type")) and not after.get("clusterIP") \
            and before.get("clusterIP") and not after.get("clusterIPs"):
        after["clusterIP"] = before["clusterIP"]
        after["clusterIPs"] = list(before.get("clusterIPs") or [before["clusterIP"]])
    node_ports = {(p.get("port"), p.get("protocol", "TCP")): p["nodePort"]
                  for p in before.get("ports") or [] if p.get("nodePort")}
    if after.get("type") in ("NodePort", "LoadBalancer"):
        for port in after.get("ports") or []:
            allocated = node_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if allocated and not port.get("nodePort"):
                port["nodePort"] = allocated


def _service(obj: Obj, ips: ServiceIPs | None) -> None:
    spec = obj.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if kind != "ExternalName":
        if ips is not None and not spec.get("clusterIP"):
            spec["clusterIP"] = ips.allocate()
        if spec.get("clusterIP"):
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    allocate_node_ports = kind == "NodePort" or (
        kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True)
    )
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if kind != "ExternalName" and "port" in port:
            port.setdefault("targetPort", port["port"])
        if allocate_node_ports and ips is not None:
            if port.get("nodePort"):
                ips.claim_node_port(int(port["nodePort"]))
            else:
                port["nodePort"] = ips.allocate_node_port()
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _replicaset(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj["spec"])


def _pod(obj: Obj) -> None:
    default_pod_spec(obj.setdefault("spec", {}))


def _secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    check_base64(obj, "data")
    fold_string_data(obj)


def _config_map(obj: Obj) -> None:
    check_base64(obj, "binaryData")


def _namespace(obj: Obj) -> None:
    meta = obj["metadata"]
    meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def _claim(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def _binding(obj: Obj) -> None:
    for subject in obj.get("subjects") or []:
        if subject.get("kind") in ("User", "Group"):
            subject.setdefault("apiGroup", "rbac.authorization.k8s.io")


def _crd(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if "kind" in names:
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    spec.setdefault("conversion", {"strategy": "None"})


def _autoscaler(obj: Obj, api_version: str) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if api_version == "autoscaling/v2" and spec.get("metrics") is None:
        spec["metrics"] = [DEFAULT_HPA_METRIC]


# Kinds whose defaults depend on the object alone, in any of their API versions.
_DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "Deployment": _deployment, "StatefulSet": _statefulset, "DaemonSet": _daemonset,
    "ReplicaSet": _replicaset, "CronJob": _cronjob, "Pod": _pod, "Secret": _secret,
    "ConfigMap": _config_map, "PersistentVolumeClaim": _claim, "RoleBinding": _binding,
    "ClusterRoleBinding": _binding, "CustomResourceDefinition": _crd,
}


def apply_defaults(obj: Obj, ips: ServiceIPs | None = None, creating: bool = False) -> None:
    """Fill the server-side defaults of `obj` in place (by apiVersion/kind)."""
    kind, api_version = builtin_kind(obj), obj.get("apiVersion", "")
    meta = obj.setdefault("metadata", {})
    defaulter = _DEFAULTERS.get(kind or "")
    if defaulter is not None:
        defaulter(obj)
    elif kind == "Job" and api_version == "batch/v1":
        _job_spec(obj.setdefault("spec", {}), meta.get("uid", ""), meta.get("name", ""), creating)
    elif kind == "Service" and api_version == "v1":
        _service(obj, ips)
    elif kind == "Namespace" and api_version == "v1":
        _namespace(obj)
    elif kind == "HorizontalPodAutoscaler":
        _autoscaler(obj, api_version)
