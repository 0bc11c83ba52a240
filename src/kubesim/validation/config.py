"""ConfigMap, Secret and PersistentVolumeClaim."""

from __future__ import annotations

import re
from typing import Any

from kubesim.validation.common import Cause, forbidden, invalid, parse_quantity, required, unsupported

Obj = dict[str, Any]
MAX_DATA_SIZE = 1024 * 1024  # bytes of a ConfigMap's or Secret's data (etcd's object size budget)
CONFIG_KEY = r"[-._a-zA-Z0-9]+"
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    f"'KEY_NAME',  or 'key-name', regex used for validation is '{CONFIG_KEY}')"
)
ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
# Secret types whose data must hold these keys.
SECRET_TYPE_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def config_key_errors(key: str) -> list[str]:
    """IsConfigMapKey."""
    errors = []
    if len(key) > 253:
        errors.append("must be no more than 253 characters")
    if not re.fullmatch(CONFIG_KEY, key):
        errors.append(CONFIG_KEY_MSG)
    if key in (".", ".."):
        errors.append(f"must not be '{key}'")
    elif key.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def _keys(data: Any, field: str) -> list[Cause]:
    return [invalid(f"{field}[{key}]", key, m) for key in (data or {}) for m in config_key_errors(str(key))]


def _too_long(obj: Obj, fields: tuple[str, ...]) -> list[Cause]:
    size = sum(len(str(k)) + len(str(v)) for f in fields for k, v in (obj.get(f) or {}).items())
    if size <= MAX_DATA_SIZE:
        return []
    message = f"Too long: may not be more than {MAX_DATA_SIZE} bytes"
    return [{"reason": "FieldValueTooLong", "message": message, "field": ""}]


def validate_configmap(obj: Obj) -> list[Cause]:
    """ConfigMap: valid keys, no key in both data and binaryData, bounded size."""
    causes = _keys(obj.get("data"), "data") + _keys(obj.get("binaryData"), "binaryData")
    for key in obj.get("binaryData") or {}:
        if key in (obj.get("data") or {}):
            causes.append(invalid("binaryData", key, "duplicate of key present in data"))
    return causes + _too_long(obj, ("data", "binaryData"))


def validate_secret(obj: Obj) -> list[Cause]:
    """Secret: valid keys, the keys its type requires, bounded size."""
    causes = _keys(obj.get("data"), "data")
    data = obj.get("data") or {}
    for key in SECRET_TYPE_KEYS.get(obj.get("type", ""), ()):
        if key not in data:
            causes.append(required(f"data[{key}]"))
    if obj.get("type") == "kubernetes.io/service-account-token":
        annotation = "kubernetes.io/service-account.name"
        if not ((obj.get("metadata") or {}).get("annotations") or {}).get(annotation):
            causes.append(required(f"metadata.annotations[{annotation}]"))
    return causes + _too_long(obj, ("data",))


def validate_pvc(obj: Obj) -> list[Cause]:
    """PersistentVolumeClaim: access modes and a positive storage request."""
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    modes = spec.get("accessModes") or []
    if not modes and not spec.get("dataSourceRef"):
        causes.append(required("spec.accessModes"))
    for mode in modes:
        if mode not in ACCESS_MODES:
            causes.append(unsupported("spec.accessModes", mode, ACCESS_MODES))
    if "ReadWriteOncePod" in modes and len(modes) > 1:
        causes.append(forbidden("spec.accessModes", "may not use ReadWriteOncePod with other access modes"))
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if storage is None:
        causes.append(required("spec.resources[storage]"))
    else:
        amount = parse_quantity(storage)
        if amount is not None and amount <= 0:
            causes.append(invalid("spec.resources[storage]", str(storage), "must be greater than zero"))
    mode = spec.get("volumeMode")
    if mode not in (None, "Block", "Filesystem"):
        causes.append(unsupported("spec.volumeMode", mode, ("Block", "Filesystem")))
    return causes
