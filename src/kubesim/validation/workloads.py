"""apps/v1, batch/v1, autoscaling/v2 and policy/v1 objects."""

from __future__ import annotations

from typing import Any

from kubesim.validation.common import (
    Cause,
    forbidden,
    invalid,
    required,
    unsupported,
)
from kubesim.validation.pods import ALL_RESTART_POLICIES, validate_pod_spec, validate_template

Obj = dict[str, Any]
CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def selector_matches(selector: Obj, labels: Obj) -> bool:
    """LabelSelector semantics: every matchLabels pair and every matchExpressions requirement."""
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, operator, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


def _non_negative(spec: Obj, field: str, prefix: str = "spec") -> list[Cause]:
    value = spec.get(field)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        # The real server cannot even decode it: `cannot unmarshal string into ... of type int32`.
        return [invalid(f"{prefix}.{field}", value, "must be an integer")]
    if isinstance(value, int) and value < 0:
        return [invalid(f"{prefix}.{field}", value, "must be greater than or equal to 0")]
    return []


def _selector_and_template(kind: str, spec: Obj) -> list[Cause]:
    """The selector must exist, be non-empty and select the template's labels."""
    selector = spec.get("selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not selector:
        return [required("spec.selector")]
    if not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return [invalid("spec.selector", selector, f"empty selector is invalid for {kind.lower()}")]
    if not selector_matches(selector, labels):
        return [
            invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`")
        ]
    return []


def _is_zero(value: Any) -> bool:
    return value in (0, "0", "0%")


def _deployment_strategy(spec: Obj) -> list[Cause]:
    strategy = spec.get("strategy") or {}
    kind = strategy.get("type")
    if kind not in (None, "Recreate", "RollingUpdate"):
        return [unsupported("spec.strategy.type", kind, ("Recreate", "RollingUpdate"))]
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate" and rolling is not None:
        return [
            forbidden(
                "spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
            )
        ]
    rolling = rolling or {}
    surge, unavailable = rolling.get("maxSurge"), rolling.get("maxUnavailable")
    if surge is not None and unavailable is not None and _is_zero(surge) and _is_zero(unavailable):
        return [
            invalid(
                "spec.strategy.rollingUpdate.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0"
            )
        ]
    return []


def validate_apps(obj: Obj) -> list[Cause]:
    """Deployment, StatefulSet, DaemonSet and ReplicaSet specs."""
    kind, spec = obj["kind"], obj.get("spec") or {}
    causes = _selector_and_template(kind, spec)
    causes += validate_template(spec.get("template"), "spec.template", ("Always",))
    causes += _non_negative(spec, "replicas") + _non_negative(spec, "minReadySeconds")
    causes += _non_negative(spec, "revisionHistoryLimit")
    if kind == "Deployment":
        causes += _deployment_strategy(spec)
        deadline, ready = spec.get("progressDeadlineSeconds"), spec.get("minReadySeconds", 0)
        if isinstance(deadline, int) and deadline <= ready:
            causes.append(
                invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")
            )
    elif kind == "StatefulSet":
        policy = spec.get("podManagementPolicy")
        if policy not in (None, "OrderedReady", "Parallel"):
            causes.append(unsupported("spec.podManagementPolicy", policy, ("OrderedReady", "Parallel")))
        strategy = (spec.get("updateStrategy") or {}).get("type")
        if strategy not in (None, "OnDelete", "RollingUpdate"):
            causes.append(unsupported("spec.updateStrategy.type", strategy, ("OnDelete", "RollingUpdate")))
    elif kind == "DaemonSet":
        strategy = (spec.get("updateStrategy") or {}).get("type")
        if strategy not in (None, "OnDelete", "RollingUpdate"):
            causes.append(unsupported("spec.updateStrategy.type", strategy, ("OnDelete", "RollingUpdate")))
    return causes


def _job_spec(spec: Obj, prefix: str) -> list[Cause]:
    causes = validate_template(spec.get("template"), f"{prefix}.template", ("OnFailure", "Never"))
    for field in (
        "parallelism",
        "completions",
        "backoffLimit",
        "activeDeadlineSeconds",
        "ttlSecondsAfterFinished",
    ):
        causes += _non_negative(spec, field, prefix)
    mode = spec.get("completionMode")
    if mode not in (None, "NonIndexed", "Indexed"):
        causes.append(unsupported(f"{prefix}.completionMode", mode, ("NonIndexed", "Indexed")))
    return causes


def validate_job(obj: Obj) -> list[Cause]:
    """Job: template restartPolicy OnFailure/Never, counts, a generated selector unless manual."""
    spec = obj.get("spec") or {}
    causes = _job_spec(spec, "spec")
    selector = spec.get("selector")
    uid = obj["metadata"].get("uid")
    if selector and not spec.get("manualSelector") and uid:
        generated = (selector.get("matchLabels") or {}).get("batch.kubernetes.io/controller-uid")
        if generated != uid:
            causes.append(invalid("spec.selector", selector, "`selector` not auto-generated"))
    return causes


def _schedule_errors(schedule: str) -> list[str]:
    if "TZ=" in schedule:
        return ["cannot use TZ or CRON_TZ in schedule, use timeZone field instead"]
    if schedule.startswith("@"):
        known = schedule in CRON_DESCRIPTORS or schedule.startswith("@every ")
        return [] if known else [f"unrecognized descriptor: {schedule}"]
    fields = schedule.split()
    if len(fields) != 5:
        return [f"expected exactly 5 fields, found {len(fields)}: {schedule}"]
    return []


def validate_cronjob(obj: Obj) -> list[Cause]:
    """CronJob: a standard five-field schedule, concurrencyPolicy, the job template."""
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    schedule = spec.get("schedule")
    if not schedule:
        causes.append(required("spec.schedule"))
    else:
        causes += [invalid("spec.schedule", schedule, m) for m in _schedule_errors(str(schedule))]
    policy = spec.get("concurrencyPolicy")
    if policy not in (None, "Allow", "Forbid", "Replace"):
        causes.append(unsupported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace")))
    causes += _non_negative(spec, "successfulJobsHistoryLimit") + _non_negative(
        spec, "failedJobsHistoryLimit"
    )
    return causes + _job_spec((spec.get("jobTemplate") or {}).get("spec") or {}, "spec.jobTemplate.spec")


def validate_pod(obj: Obj) -> list[Cause]:
    """A bare Pod: any restartPolicy."""
    return validate_pod_spec(obj.get("spec"), "spec", ALL_RESTART_POLICIES)


def validate_hpa(obj: Obj) -> list[Cause]:
    """HorizontalPodAutoscaler: a scale target and a sane replica range."""
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    target = spec.get("scaleTargetRef") or {}
    for field in ("kind", "name"):
        if not target.get(field):
            causes.append(required(f"spec.scaleTargetRef.{field}"))
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    if not isinstance(high, int) or high < 1:
        causes.append(invalid("spec.maxReplicas", high, "must be greater than 0"))
    if isinstance(low, int) and low < 1:
        causes.append(invalid("spec.minReplicas", low, "must be greater than or equal to 1"))
    elif isinstance(low, int) and isinstance(high, int) and low > high:
        causes.append(invalid("spec.minReplicas", low, "must be less than or equal to maxReplicas"))
    return causes


def _budget_errors(value: Any) -> list[str]:
    if isinstance(value, int):
        return ["must be greater than or equal to 0"] if value < 0 else []
    text = str(value)
    if not text.endswith("%") or not text[:-1].isdigit():
        return [
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%')"
        ]
    return ["must not be greater than 100%"] if int(text[:-1]) > 100 else []


def validate_pdb(obj: Obj) -> list[Cause]:
    """PodDisruptionBudget: minAvailable or maxUnavailable (not both), each an int or a percentage."""
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    if "minAvailable" in spec and "maxUnavailable" in spec:
        causes.append(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
    for field in ("minAvailable", "maxUnavailable"):
        if field in spec:
            causes += [invalid(f"spec.{field}", spec[field], m) for m in _budget_errors(spec[field])]
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy not in (None, "IfHealthyBudget", "AlwaysAllow"):
        causes.append(
            unsupported("spec.unhealthyPodEvictionPolicy", policy, ("AlwaysAllow", "IfHealthyBudget"))
        )
    return causes
