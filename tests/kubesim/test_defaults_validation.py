"""kubesim defaulting and validation at the Resources layer (no HTTP).

Messages are compared with kube-apiserver's wording (field.Error rendering: `<field>: Invalid value:
<value>: <detail>`, `Required value`, `Unsupported value: … supported values: …`, `Forbidden: …`),
and rejected writes must answer 422 with the real Status shape. Bad values print as JSON
(`{"matchLabels":{"app":"web"}}`, `["None"]`), as kube-apiserver 1.34 and later print them; older
servers used Go's %#v (`v1.LabelSelector{MatchLabels:…}`). `rbac.RoleRef{…}` is the form reports show.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubesim.cluster import Cluster, Options
from kubesim.controllers import Controllers
from kubesim.errors import ApiError
from kubesim.resources import Resources, WriteOptions

Obj = dict[str, Any]
APPLIER = WriteOptions(manager="test")
LABELS = {"app": "web"}
RBAC = "rbac.authorization.k8s.io"


class Api:
    """Create/patch/apply objects of one cluster by apiVersion and resource."""

    def __init__(self) -> None:
        self.cluster = Cluster(Options(ready_delay=0, crd_delay=0))
        self.resources = Resources(self.cluster)

    def _rtype(self, api_version: str, plural: str) -> Any:
        group, _, version = api_version.rpartition("/")
        rtype = self.cluster.registry.get(group, version, plural)
        assert rtype is not None, f"{api_version} {plural} is not served"
        return rtype

    def create(self, plural: str, obj: Obj, namespace: str = "default") -> Obj:
        rtype = self._rtype(obj["apiVersion"], plural)
        return self.resources.create(rtype, namespace if rtype.namespaced else "", obj, APPLIER)

    def patch(self, api_version: str, plural: str, name: str, patch: Obj, namespace: str = "default") -> Obj:
        rtype = self._rtype(api_version, plural)
        ns = namespace if rtype.namespaced else ""
        return self.resources.patch(rtype, ns, name, "merge", patch, APPLIER)[0]

    def apply(self, plural: str, obj: Obj, namespace: str = "default") -> Obj:
        rtype = self._rtype(obj["apiVersion"], plural)
        ns = namespace if rtype.namespaced else ""
        return self.resources.apply(rtype, ns, obj["metadata"]["name"], obj, APPLIER, False)[0]

    def write_status(self, api_version: str, plural: str, name: str, status: Obj) -> Obj:
        rtype = self._rtype(api_version, plural)
        opts = WriteOptions(manager="kube-controller-manager", subresource="status")
        return self.resources.patch(rtype, "default", name, "merge", {"status": status}, opts)[0]


@pytest.fixture
def api() -> Api:
    return Api()


def rejected(call: Any, *args: Any) -> ApiError:
    """The ApiError a write raises (fails the test when it succeeds)."""
    with pytest.raises(ApiError) as caught:
        call(*args)
    return caught.value


def messages(error: ApiError) -> list[str]:
    """`field: message` of every cause."""
    assert error.code == 422 and error.reason == "Invalid", error.message
    return [f"{c['field']}: {c['message']}" for c in error.details["causes"]]


def container(**extra: Any) -> Obj:
    return {"name": "app", "image": "nginx:1.27", **extra}


def pod_template(labels: Obj | None = None, **spec: Any) -> Obj:
    return {"metadata": {"labels": labels or LABELS}, "spec": {"containers": [container()], **spec}}


def deployment(name: str = "web", **spec: Any) -> Obj:
    body = {"replicas": 1, "selector": {"matchLabels": LABELS}, "template": pod_template(), **spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": body}


def service(name: str = "web", **spec: Any) -> Obj:
    body = {"selector": LABELS, "ports": [{"port": 80}], **spec}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": body}


def configmap(name: str = "settings", **fields: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **fields}


def secret(name: str = "creds", **fields: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **fields}


def job(name: str = "migrate", restart: str | None = "Never", **spec: Any) -> Obj:
    pod: Obj = {"containers": [container()]}
    if restart:
        pod["restartPolicy"] = restart
    body = {"template": {"spec": pod}, **spec}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": body}


def pvc(name: str = "data", storage: str = "1Gi", modes: tuple[str, ...] = ("ReadWriteOnce",)) -> Obj:
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": storage}}}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def crd(group: str = "example.com", plural: str = "widgets", kind: str = "Widget", **spec: Any) -> Obj:
    schema = {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object"}}}}
    body = {
        "group": group,
        "scope": "Namespaced",
        "names": {"plural": plural, "kind": kind},
        "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        **spec,
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": body,
    }


# ---- the 422 shape ---------------------------------------------------------------------------------
def test_immutable_selector_answers_422_with_the_real_status_shape(api: Api) -> None:
    api.create("deployments", deployment())
    moved = {"matchLabels": {"app": "other"}}
    template = pod_template({"app": "other"})
    error = rejected(
        api.patch, "apps/v1", "deployments", "web", {"spec": {"selector": moved, "template": template}}
    )
    detail = 'Invalid value: {"matchLabels":{"app":"other"}}: field is immutable'  # 1.34+ prints JSON
    assert error.to_status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'Deployment.apps "web" is invalid: spec.selector: {detail}',
        "reason": "Invalid",
        "details": {
            "name": "web",
            "group": "apps",
            "kind": "Deployment",
            "causes": [{"reason": "FieldValueInvalid", "message": detail, "field": "spec.selector"}],
        },
        "code": 422,
    }


def test_several_causes_are_listed_in_brackets(api: Api) -> None:
    body = deployment(replicas=-1)
    body["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    error = rejected(api.create, "deployments", body)
    assert error.message == (
        'Deployment.apps "web" is invalid: [spec.template.spec.restartPolicy: Unsupported value: "Never": '
        'supported values: "Always", spec.replicas: Invalid value: -1: must be greater than or equal to 0]'
    )


# ---- names -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("plural", "body", "expected"),
    [
        (
            "namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}},
            'metadata.name: Invalid value: "team.a": a lowercase RFC 1123 label must consist of',
        ),
        (
            "services",
            service("1web"),
            'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case',
        ),
        (
            "configmaps",
            configmap("Settings"),
            'metadata.name: Invalid value: "Settings": a lowercase RFC 1123 subdomain must consist of',
        ),
        (
            "roles",
            {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "a/b"}, "rules": []},
            "metadata.name: Invalid value: \"a/b\": may not contain '/'",
        ),
        (
            "cronjobs",
            {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c" * 53}, "spec": {}},
            f'metadata.name: Invalid value: "{"c" * 53}": must be no more than 52 characters',
        ),
    ],
)
def test_names_follow_the_rule_of_their_kind(api: Api, plural: str, body: Obj, expected: str) -> None:
    namespace = "" if plural == "namespaces" else "default"
    assert any(m.startswith(expected) for m in messages(rejected(api.create, plural, body, namespace)))


def test_path_segment_names_allow_what_dns_names_do_not(api: Api) -> None:
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
    body = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "system:Pod-Reader"},
        "rules": [rule],
    }
    assert api.create("clusterroles", body)["metadata"]["name"] == "system:Pod-Reader"


def test_label_keys_and_values_are_checked(api: Api) -> None:
    body = configmap()
    body["metadata"]["labels"] = {"team": "a b"}
    [message] = messages(rejected(api.create, "configmaps", body))
    assert message.startswith('metadata.labels: Invalid value: "a b": a valid label must be an empty string')


# ---- ConfigMap and Secret ----------------------------------------------------------------------------
def test_configmap_keys_must_be_config_keys(api: Api) -> None:
    body = configmap(data={"a b": "1", "ok": "2"}, binaryData={"ok": "AA=="})
    assert messages(rejected(api.create, "configmaps", body)) == [
        'data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '
        "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')",
        'binaryData: Invalid value: "ok": duplicate of key present in data',
    ]


def test_secret_defaults_to_opaque_and_folds_string_data(api: Api) -> None:
    created = api.create(
        "secrets", secret(data={"user": base64.b64encode(b"old").decode()}, stringData={"user": "admin"})
    )
    assert created["type"] == "Opaque"
    assert "stringData" not in created
    assert base64.b64decode(created["data"]["user"]) == b"admin"


def test_secret_data_must_be_base64(api: Api) -> None:
    error = rejected(api.create, "secrets", secret(data={"password": "hunter2!"}))
    assert (error.code, error.reason) == (400, "BadRequest")
    assert (
        error.message
        == 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 7'
    )


def test_tls_secret_needs_its_keys(api: Api) -> None:
    body = secret(type="kubernetes.io/tls", data={"tls.crt": "AA=="})
    assert messages(rejected(api.create, "secrets", body)) == ["data[tls.key]: Required value"]


@pytest.mark.parametrize(("plural", "make"), [("configmaps", configmap), ("secrets", secret)])
def test_immutable_data_cannot_change(api: Api, plural: str, make: Any) -> None:
    api.create(plural, make(data={"k": "AA=="}, immutable=True))
    name = make()["metadata"]["name"]
    changed = messages(rejected(api.patch, "v1", plural, name, {"data": {"k": "AQ=="}}))
    assert changed == ["data: Forbidden: field is immutable when `immutable` is set"]
    flipped = messages(rejected(api.patch, "v1", plural, name, {"immutable": False}))
    assert flipped == ["immutable: Forbidden: field is immutable when `immutable` is set"]


def test_secret_type_is_immutable(api: Api) -> None:
    api.create("secrets", secret(data={"a": "AA=="}))
    error = rejected(api.patch, "v1", "secrets", "creds", {"type": "example.com/custom"})
    assert messages(error) == ['type: Invalid value: "example.com/custom": field is immutable']


# ---- Service -----------------------------------------------------------------------------------------
def test_service_defaults_allocate_ips_and_distinct_node_ports(api: Api) -> None:
    first = api.create("services", service("a", type="NodePort"))
    second = api.create("services", service("b", type="LoadBalancer"))
    port = first["spec"]["ports"][0]
    assert port["targetPort"] == 80 and port["protocol"] == "TCP"
    assert first["spec"]["clusterIPs"] == [first["spec"]["clusterIP"]] != second["spec"]["clusterIPs"]
    ports = {first["spec"]["ports"][0]["nodePort"], second["spec"]["ports"][0]["nodePort"]}
    assert len(ports) == 2 and all(30000 <= p <= 32767 for p in ports)
    assert first["spec"]["externalTrafficPolicy"] == "Cluster"


def test_service_node_ports_only_where_they_belong(api: Api) -> None:
    plain = api.create("services", service("plain"))
    assert "nodePort" not in plain["spec"]["ports"][0]
    no_lb_ports = api.create(
        "services", service("lb", type="LoadBalancer", allocateLoadBalancerNodePorts=False)
    )
    assert "nodePort" not in no_lb_ports["spec"]["ports"][0]
    forbidden = messages(
        rejected(api.create, "services", service("x", ports=[{"port": 80, "nodePort": 30080}]))
    )
    assert forbidden == ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
    out_of_range = service("y", type="NodePort", ports=[{"port": 80, "nodePort": 80}])
    assert messages(rejected(api.create, "services", out_of_range)) == [
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
        "The range of valid ports is 30000-32767"
    ]


def test_headless_service_gets_no_cluster_ip(api: Api) -> None:
    created = api.create("services", service("db", clusterIP="None"))
    assert created["spec"]["clusterIP"] == "None" and created["spec"]["clusterIPs"] == ["None"]


def test_service_ports_need_names_when_there_are_several(api: Api) -> None:
    body = service(ports=[{"port": 80}, {"port": 0, "name": "metrics"}])
    assert messages(rejected(api.create, "services", body)) == [
        "spec.ports[0].name: Required value",
        "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        # targetPort is defaulted from port, so the real server reports it too
        "spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
    ]


def test_service_cluster_ip_may_not_change_but_reapply_keeps_it(api: Api) -> None:
    created = api.apply("services", service())
    ip = created["spec"]["clusterIP"]
    assert (
        api.apply("services", service())["spec"]["clusterIP"] == ip
    )  # the allocated IP is not the applier's
    error = rejected(
        api.patch, "v1", "services", "web", {"spec": {"clusterIP": "10.96.0.200", "clusterIPs": None}}
    )
    assert messages(error) == ['spec.clusterIPs[0]: Invalid value: ["10.96.0.200"]: may not change once set']


# ---- workloads ---------------------------------------------------------------------------------------
def test_selector_must_match_the_template(api: Api) -> None:
    body = deployment(selector={"matchLabels": {"app": "other"}})
    assert messages(rejected(api.create, "deployments", body)) == [
        'spec.template.metadata.labels: Invalid value: {"app":"web"}: '
        "`selector` does not match template `labels`"
    ]


def test_pod_template_containers_are_checked(api: Api) -> None:
    template = pod_template()
    template["spec"]["containers"] = [
        container(name="App", volumeMounts=[{"name": "cache", "mountPath": "/cache"}]),
        container(name="side", resources={"requests": {"cpu": "2"}, "limits": {"cpu": "500m"}}),
    ]
    found = messages(rejected(api.create, "deployments", deployment(template=template)))
    assert found[0].startswith(
        'spec.template.spec.containers[0].name: Invalid value: "App": a lowercase RFC 1123 label'
    )
    assert found[1:] == [
        'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "cache"',
        'spec.template.spec.containers[1].resources.requests: Invalid value: "2": '
        "must be less than or equal to cpu limit of 500m",
    ]


def test_deployment_strategy_rules(api: Api) -> None:
    recreate = deployment(strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}})
    assert messages(rejected(api.create, "deployments", recreate)) == [
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
    ]
    stuck = deployment(
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}}
    )
    assert messages(rejected(api.create, "deployments", stuck)) == [
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"
    ]


@pytest.mark.parametrize(("plural", "kind"), [("daemonsets", "DaemonSet"), ("replicasets", "ReplicaSet")])
def test_selector_is_immutable(api: Api, plural: str, kind: str) -> None:
    body = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web"}, "spec": deployment()["spec"]}
    body["spec"].pop("replicas") if kind == "DaemonSet" else None
    api.create(plural, body)
    extra = {
        "matchLabels": LABELS,
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
    }
    [message] = messages(rejected(api.patch, "apps/v1", plural, "web", {"spec": {"selector": extra}}))
    assert message == (
        'spec.selector: Invalid value: {"matchLabels":{"app":"web"},'
        '"matchExpressions":[{"key":"tier","operator":"NotIn","values":["db"]}]}: field is immutable'
    )


def test_statefulset_spec_is_forbidden_except_the_allowed_fields(api: Api) -> None:
    body = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {**deployment()["spec"], "serviceName": "db"},
    }
    api.create("statefulsets", body)
    assert api.patch("apps/v1", "statefulsets", "db", {"spec": {"replicas": 3}})["spec"]["replicas"] == 3
    assert messages(
        rejected(api.patch, "apps/v1", "statefulsets", "db", {"spec": {"serviceName": "other"}})
    ) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
        "'template', "
        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    ]


def test_job_defaults_a_generated_selector_and_rejects_restart_always(api: Api) -> None:
    created = api.create("jobs", job())
    uid = created["metadata"]["uid"]
    assert created["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert created["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "migrate"
    assert created["spec"]["backoffLimit"] == 6 and created["spec"]["completionMode"] == "NonIndexed"
    assert messages(rejected(api.create, "jobs", job("plain", restart=None))) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Always": '
        'supported values: "OnFailure", "Never"'
    ]
    manual = job("picked", selector={"matchLabels": LABELS})
    [message] = messages(rejected(api.create, "jobs", manual))
    assert message.startswith("spec.selector: Invalid value: ") and message.endswith(
        "`selector` not auto-generated"
    )


def test_job_template_is_immutable_unless_suspended(api: Api) -> None:
    api.create("jobs", job())
    change = {"spec": {"template": {"spec": {"activeDeadlineSeconds": 5}}}}
    [message] = messages(rejected(api.patch, "batch/v1", "jobs", "migrate", change))
    assert message.startswith("spec.template: Invalid value: ") and message.endswith("field is immutable")
    api.create("jobs", job("later", suspend=True))
    assert (
        api.patch("batch/v1", "jobs", "later", change)["spec"]["template"]["spec"]["activeDeadlineSeconds"]
        == 5
    )


def test_cronjob_schedule_has_five_fields(api: Api) -> None:
    body = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 *", "jobTemplate": {"spec": job()["spec"]}},
    }
    assert messages(rejected(api.create, "cronjobs", body)) == [
        'spec.schedule: Invalid value: "0 3 *": expected exactly 5 fields, found 3: 0 3 *'
    ]
    body["spec"]["schedule"] = "@daily"
    assert api.create("cronjobs", body)["spec"]["concurrencyPolicy"] == "Allow"


def test_hpa_replica_bounds_and_v2_metric_default(api: Api) -> None:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    body = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": target, "maxReplicas": 3},
    }
    created = api.create("horizontalpodautoscalers", body)
    assert created["spec"]["minReplicas"] == 1
    assert created["spec"]["metrics"][0]["resource"]["target"] == {
        "type": "Utilization",
        "averageUtilization": 80,
    }
    body["metadata"]["name"], body["spec"]["minReplicas"] = "inverted", 5
    assert messages(rejected(api.create, "horizontalpodautoscalers", body)) == [
        "spec.minReplicas: Invalid value: 5: must be less than or equal to maxReplicas"
    ]


def test_pdb_takes_min_available_or_max_unavailable(api: Api) -> None:
    spec = {"minAvailable": 1, "maxUnavailable": "150%", "selector": {"matchLabels": LABELS}}
    body = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": spec,
    }
    found = messages(rejected(api.create, "poddisruptionbudgets", body))
    assert found[0].startswith("spec: Invalid value: ") and found[0].endswith(
        "minAvailable and maxUnavailable cannot be both set"
    )
    assert found[1] == 'spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%'


# ---- Ingress ---------------------------------------------------------------------------------------
def test_ingress_path_type_is_required_and_paths_absolute(api: Api) -> None:
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    paths = [{"path": "/", "backend": backend}, {"path": "api", "pathType": "Prefix", "backend": backend}]
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {"rules": [{"host": "10.0.0.1", "http": {"paths": paths}}]},
    }
    assert messages(rejected(api.create, "ingresses", body)) == [
        'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
        'spec.rules[0].http.paths[1].path: Invalid value: "api": must be an absolute path',
    ]


# ---- RBAC ------------------------------------------------------------------------------------------
def test_role_rules_need_verbs_groups_and_resources(api: Api) -> None:
    rules = [{"resources": ["pods"]}, {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]
    body = {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": "reader"}, "rules": rules}
    assert messages(rejected(api.create, "roles", body)) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
        'rules[1].nonResourceURLs: Invalid value: ["/healthz"]: '
        "namespaced rules cannot apply to non-resource URLs",
    ]


def _binding(kind: str = "RoleBinding", ref_kind: str = "Role", **subject: Any) -> Obj:
    ref = {"apiGroup": RBAC, "kind": ref_kind, "name": "reader"}
    subjects = [{"kind": "ServiceAccount", "name": "default", **subject}]
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": kind,
        "metadata": {"name": "readers"},
        "roleRef": ref,
        "subjects": subjects,
    }


def test_binding_role_ref_and_subjects(api: Api) -> None:
    assert messages(rejected(api.create, "clusterrolebindings", _binding("ClusterRoleBinding", "Role"))) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "subjects[0].namespace: Required value",
    ]


def test_role_ref_cannot_change(api: Api) -> None:
    api.create("rolebindings", _binding())
    error = rejected(api.patch, f"{RBAC}/v1", "rolebindings", "readers", {"roleRef": {"name": "writer"}})
    assert error.message == (
        f'RoleBinding.{RBAC} "readers" is invalid: roleRef: Invalid value: '
        f'rbac.RoleRef{{APIGroup:"{RBAC}", Kind:"Role", Name:"writer"}}: cannot change roleRef'
    )


# ---- PVC ---------------------------------------------------------------------------------------------
def test_pvc_access_modes_and_storage(api: Api) -> None:
    body = pvc(modes=("RWO",))
    del body["spec"]["resources"]
    assert messages(rejected(api.create, "persistentvolumeclaims", body)) == [
        'spec.accessModes: Unsupported value: "RWO": supported values: "ReadOnlyMany", "ReadWriteMany", '
        '"ReadWriteOnce", "ReadWriteOncePod"',
        "spec.resources[storage]: Required value",
    ]


def test_pvc_spec_is_immutable_and_only_a_bound_claim_grows(api: Api) -> None:
    api.create("persistentvolumeclaims", pvc())
    grow = {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    forbidden = (
        "spec: Forbidden: spec is immutable after creation except resources.requests and "
        "volumeAttributesClassName for bound claims"
    )
    assert messages(rejected(api.patch, "v1", "persistentvolumeclaims", "data", grow)) == [forbidden]
    assert messages(
        rejected(api.patch, "v1", "persistentvolumeclaims", "data", {"spec": {"storageClassName": "fast"}})
    ) == [forbidden]
    api.write_status(
        "v1", "persistentvolumeclaims", "data", {"phase": "Bound", "capacity": {"storage": "1Gi"}}
    )
    assert (
        api.patch("v1", "persistentvolumeclaims", "data", grow)["spec"]["resources"]["requests"]["storage"]
        == "2Gi"
    )
    shrink = {"spec": {"resources": {"requests": {"storage": "512Mi"}}}}
    assert messages(rejected(api.patch, "v1", "persistentvolumeclaims", "data", shrink)) == [
        "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
    ]


# ---- CRDs --------------------------------------------------------------------------------------------
CRDS = "customresourcedefinitions"


def test_crd_schema_must_be_structural(api: Api) -> None:
    body = crd()
    body["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"] = {
        "properties": {"size": {}}
    }
    assert messages(rejected(api.create, CRDS, body)) == [
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: "
        "must not be empty for specified object fields",
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type: Required value: "
        "must not be empty for specified object fields",
    ]


def test_crd_names_group_and_storage_version(api: Api) -> None:
    body = crd(group="example", plural="Widgets")
    body["metadata"]["name"] = "widgets.example"
    body["spec"]["versions"].append({**body["spec"]["versions"][0], "name": "v2"})
    found = messages(rejected(api.create, CRDS, body))
    assert 'spec.group: Invalid value: "example": should be a domain with at least one dot' in found
    assert any(
        m.startswith('spec.names.plural: Invalid value: "Widgets": a lowercase RFC 1123 label') for m in found
    )
    assert any(
        m.startswith("spec.versions: Invalid value: ")
        and m.endswith("must have exactly one version marked as storage version")
        for m in found
    )


def test_crd_stored_versions_must_stay_in_spec(api: Api) -> None:
    api.create(CRDS, crd())
    Controllers(api.cluster).run_once()
    v2 = {**crd()["spec"]["versions"][0], "name": "v2"}
    error = rejected(
        api.patch, "apiextensions.k8s.io/v1", CRDS, "widgets.example.com", {"spec": {"versions": [v2]}}
    )
    assert messages(error) == ['status.storedVersions[0]: Invalid value: "v1": must appear in spec.versions']
    scope = rejected(
        api.patch, "apiextensions.k8s.io/v1", CRDS, "widgets.example.com", {"spec": {"scope": "Cluster"}}
    )
    assert messages(scope) == ['spec.scope: Invalid value: "Cluster": field is immutable']


def test_custom_resources_named_like_built_ins_are_not_validated_as_them(api: Api) -> None:
    api.create(CRDS, crd(group="serving.example.com", plural="services", kind="Service"))
    Controllers(api.cluster).run_once()
    body = {
        "apiVersion": "serving.example.com/v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {},
    }
    created = api.create("services", body)
    assert created["spec"] == {} and "status" not in created  # no ports required, no clusterIP defaulted


def test_custom_resources_named_like_built_ins_keep_the_subdomain_name_rule(api: Api) -> None:
    """A core Service's name is a DNS-1035 label; a custom `Service` (Knative's) is a subdomain."""
    api.create(CRDS, crd(group="serving.example.com", plural="services", kind="Service"))
    Controllers(api.cluster).run_once()
    body = {"apiVersion": "serving.example.com/v1", "kind": "Service", "metadata": {"name": "1.web"},
            "spec": {}}
    assert api.create("services", body)["metadata"]["name"] == "1.web"
    assert any("DNS-1035" in m for m in messages(rejected(api.create, "services", service("1.web"))))
