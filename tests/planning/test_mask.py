"""Secret masking, and a search of every engine output for a random Secret value."""

from __future__ import annotations

import base64
import copy
import json
import secrets

from fluxpush.flux.model import ObjectRef
from fluxpush.planning.diff import diff_objects
from fluxpush.planning.mask import MASK, MASK_AFTER, MASK_BEFORE, mask_secrets
from fluxpush.planning.plan import NodePlan, Plan, classify, delete_change
from fluxpush.report.terminal import render_text


def secret(data=None, string_data=None, **meta):
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "apps", **meta}}
    if data is not None:
        obj["data"] = data
    if string_data is not None:
        obj["stringData"] = string_data
    return obj


def test_equal_changed_and_one_sided_keys_are_masked_like_flux():
    live = secret({"same": "YQ==", "changed": "Yg==", "gone": "Yw=="})
    desired = secret({"same": "YQ==", "changed": "ZA==", "new": "ZQ=="})
    masked_live, masked_desired = mask_secrets(live, desired)
    assert masked_live["data"] == {"same": MASK, "changed": MASK_BEFORE, "gone": MASK}
    assert masked_desired["data"] == {"same": MASK, "changed": MASK_AFTER, "new": MASK}


def test_string_data_is_masked_too_and_inputs_stay_untouched():
    desired = secret(string_data={"token": "plain"})
    before = copy.deepcopy(desired)
    _, masked = mask_secrets(None, desired)
    assert masked["stringData"] == {"token": MASK}
    assert desired == before


def test_objects_that_are_not_secrets_are_returned_as_they_are():
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    before = copy.deepcopy(config)
    live, desired = mask_secrets(config, config)
    assert live is config and desired is config and config == before


def test_single_object_masking_covers_the_last_applied_annotation():
    value = "hunter2"
    obj = secret({"pw": base64.b64encode(value.encode()).decode()},
                 annotations={"kubectl.kubernetes.io/last-applied-configuration": json.dumps({"pw": value})})
    masked, _ = mask_secrets(obj, None)
    assert value not in json.dumps(masked)
    assert masked["data"] == {"pw": MASK}


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def test_no_secret_value_survives_any_output():
    old, new = secrets.token_hex(16), secrets.token_hex(16)
    forms = {old, new, base64.b64encode(old.encode()).decode(), base64.b64encode(new.encode()).decode()}
    live = secret({"pw": base64.b64encode(old.encode()).decode()}, resourceVersion="7",
                  annotations={"kubectl.kubernetes.io/last-applied-configuration": json.dumps({"pw": old})})
    desired = secret(string_data={"pw": new, "extra": new})
    merged = secret({"pw": base64.b64encode(new.encode()).decode(),
                     "extra": base64.b64encode(new.encode()).decode()})
    outputs = []
    for diff in (diff_objects(live, desired), diff_objects(live, merged), diff_objects(None, desired),
                 diff_objects(live, None)):
        outputs.append(diff.text)
        outputs.extend(str(change) for change in diff.changes)
    changes = (classify(desired, live, merged), classify(desired, live, None), classify(desired, None, None),
               delete_change(live))
    node = NodePlan(ObjectRef.parse("Kustomization/flux-system/apps"), "main@sha1:" + "a" * 40, changes[:3],
                    changes[3:])
    plan = Plan((node,))
    outputs += [plan.to_json(), render_text(plan, color=False), render_text(plan, color=True)]
    for change in changes:
        outputs += [change.diff, change.reason, *change.changed_paths]
    assert any("pw" in text for text in outputs)  # the key names are shown …
    leaked = [text for text in outputs for value in forms if value in text]
    assert leaked == []  # … never the values
    assert all(value not in text for text in _strings(json.loads(plan.to_json())) for value in forms)
