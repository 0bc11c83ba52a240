"""Pure parts of the kube layer: Status bodies to ClusterErrors, and the retry schedule."""

from __future__ import annotations

import json
import random

import pytest

from fluxpush.errors import Cause, ClusterError, Forbidden, Invalid
from fluxpush.kube.retry import RetryPolicy, retry_after_seconds
from fluxpush.kube.status import error_from_status


def status_body(code: int, reason: str, message: str, **details) -> bytes:
    """A `Status` as kube-apiserver sends it."""
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "details": details,
            "code": code,
        }
    ).encode()


def test_forbidden_names_rbac():
    body = status_body(
        403,
        "Forbidden",
        'configmaps "x" is forbidden: User "ci" cannot patch resource',
        name="x",
        kind="configmaps",
    )
    error = error_from_status(403, body, obj="ConfigMap/apps/x", verb="apply")
    assert (error.status, error.reason, error.obj) == (403, "Forbidden", "ConfigMap/apps/x")
    assert "RBAC" in error.hint and not error.is_user_error and isinstance(error, Forbidden)


def test_unauthorized_message_says_credentials_without_echoing_them():
    error = error_from_status(401, status_body(401, "Unauthorized", "Unauthorized"), obj=None, verb="list")
    assert error.message == "list: the API server did not accept the credentials (Unauthorized)"
    assert "access entry" in error.hint


def test_immutable_field_suggests_recreating():
    body = status_body(
        422,
        "Invalid",
        'Deployment.apps "web" is invalid: spec.selector: Invalid value: {"app":"b"}: field is immutable',
        name="web",
        group="apps",
        kind="Deployment",
        causes=[
            {
                "reason": "FieldValueInvalid",
                "message": 'Invalid value: {"app":"b"}: field is immutable',
                "field": "spec.selector",
            }
        ],
    )
    error = error_from_status(422, body, obj="Deployment/apps/web", verb="apply")
    assert error.message == 'Deployment.apps "web" is invalid'
    assert error.causes == [
        Cause("FieldValueInvalid", "spec.selector", 'Invalid value: {"app":"b"}: field is immutable')
    ]
    assert "spec.force" in error.hint and error.is_user_error
    assert isinstance(error, Invalid) and error.immutable  # what apply's force (re-create) decides on


def test_a_plain_500_is_not_the_users_error():
    error = error_from_status(
        500, status_body(500, "InternalError", "etcdserver: leader changed"), obj=None, verb="get"
    )
    assert not error.is_user_error and error.message == "etcdserver: leader changed"
    assert type(error) is ClusterError


def test_a_body_that_is_not_a_status_still_gives_an_error():
    error = error_from_status(502, b"<html>Bad Gateway</html>", obj="ConfigMap/a/b", verb="apply")
    assert (error.status, error.reason, error.message) == (502, None, "apply failed")
    assert error.render() == "ConfigMap/a/b: apply failed (HTTP 502)"


def test_cluster_error_as_dict_is_json_ready():
    error = ClusterError(
        "boom",
        status=409,
        reason="Conflict",
        obj="ConfigMap/a/b",
        causes=[Cause("FieldManagerConflict", ".data.k", 'conflict with "helm"')],
        hint="force it",
        is_user_error=True,
    )
    assert json.loads(json.dumps(error.as_dict())) == {
        "object": "ConfigMap/a/b",
        "message": "boom",
        "status": 409,
        "reason": "Conflict",
        "causes": [{"reason": "FieldManagerConflict", "field": ".data.k", "message": 'conflict with "helm"'}],
        "hint": "force it",
        "user_error": True,
        "type": "ClusterError",
    }
    assert str(error) == (
        'ConfigMap/a/b: boom (HTTP 409 Conflict)\n  - .data.k: conflict with "helm"\n  fix: force it'
    )


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=0.2, max_delay=2.0)
    rng = random.Random(7)
    for retry in range(8):
        ceiling = min(2.0, 0.2 * 2**retry)
        samples = [policy.backoff(retry, rng) for _ in range(50)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 1, "jittered, so concurrent clients spread out"


def test_next_delay_honours_retry_after_and_stops_at_the_bounds():
    policy = RetryPolicy(max_attempts=3, max_total_wait=5.0)
    rng = random.Random(1)
    assert policy.next_delay(0, 0.0, 4.0, rng) == 4.0
    assert policy.next_delay(1, 4.0, 2.0, rng) is None, "4 s waited + 2 s would pass the 5 s budget"
    assert policy.next_delay(2, 0.0, 0.0, rng) is None, "three attempts are used up"
    without_header = policy.next_delay(1, 0.0, None, rng)
    assert without_header is not None and 0.2 <= without_header <= 0.4, "backoff for retry 1: [d/2, d], d=0.4"


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "3"}, b"", 3.0),
        ({"retry-after": "4"}, b"", 4.0),  # header names are case-insensitive (RFC 9110 §5.1)
        ({}, status_body(503, "ServiceUnavailable", "x", retryAfterSeconds=2), 2.0),
        ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, b"", None),
        ({}, b"not json", None),
        ({}, status_body(500, "InternalError", "x"), None),
    ],
)
def test_retry_after_comes_from_the_header_or_the_status_details(headers, body, expected):
    assert retry_after_seconds(headers, body) == expected
