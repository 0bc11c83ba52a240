"""Decode the Kubernetes protobuf wire format for the few kinds clients send that way.

client-go typed clients may send `application/vnd.kubernetes.protobuf` bodies: helm's release
storage does so for Secrets and ConfigMaps, `kubectl create namespace|configmap|secret` too.
A body is the 4-byte magic `k8s\\0` and a `runtime.Unknown` (typeMeta, raw bytes of the object's
own message). Only the fields of Secret, ConfigMap, Namespace, DeleteOptions and ObjectMeta that
clients set are decoded; any other kind (e.g. `kubectl create deployment`) answers 415.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

from kubesim.errors import ApiError

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

Field = tuple[int, int, Any]  # (field number, wire type, int value or bytes)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> Iterator[Field]:
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            yield number, wire, data[pos : pos + length]
            pos += length
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            yield number, wire, data[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _map_entry(data: bytes) -> tuple[str, bytes]:
    key, value = "", b""
    for number, _, raw in _fields(data):
        if number == 1:
            key = raw.decode()
        elif number == 2:
            value = raw
    return key, value


def _object_meta(data: bytes) -> dict[str, Any]:
    strings = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}
    maps = {11: "labels", 12: "annotations"}
    meta: dict[str, Any] = {}
    for number, _, raw in _fields(data):
        if number in strings and raw:
            meta[strings[number]] = raw.decode()
        elif number in maps:
            key, value = _map_entry(raw)
            meta.setdefault(maps[number], {})[key] = value.decode()
        elif number == 14:
            meta.setdefault("finalizers", []).append(raw.decode())
    return meta


def _secret(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret"}
    for number, _, raw in _fields(data):
        if number == 1:
            obj["metadata"] = _object_meta(raw)
        elif number == 2:
            key, value = _map_entry(raw)
            obj.setdefault("data", {})[key] = base64.b64encode(value).decode()
        elif number == 3:
            obj["type"] = raw.decode()
        elif number == 4:
            key, value = _map_entry(raw)
            obj.setdefault("stringData", {})[key] = value.decode()
        elif number == 5:
            obj["immutable"] = bool(raw)
    return obj


def _configmap(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap"}
    for number, _, raw in _fields(data):
        if number == 1:
            obj["metadata"] = _object_meta(raw)
        elif number == 2:
            key, value = _map_entry(raw)
            obj.setdefault("data", {})[key] = value.decode()
        elif number == 3:
            key, value = _map_entry(raw)
            obj.setdefault("binaryData", {})[key] = base64.b64encode(value).decode()
        elif number == 4:
            obj["immutable"] = bool(raw)
    return obj


def _namespace(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace"}
    for number, _, raw in _fields(data):
        if number == 1:
            obj["metadata"] = _object_meta(raw)
        elif number == 2:
            finalizers = [text.decode() for sub, _, text in _fields(raw) if sub == 1]
            obj["spec"] = {"finalizers": finalizers} if finalizers else {}
    return obj


def _delete_options(data: bytes) -> dict[str, Any]:
    options: dict[str, Any] = {"kind": "DeleteOptions"}
    for number, _, raw in _fields(data):
        if number == 1:
            options["gracePeriodSeconds"] = raw
        elif number == 2:
            options["preconditions"] = {
                {1: "uid", 2: "resourceVersion"}[sub]: text.decode()
                for sub, _, text in _fields(raw)
                if sub in (1, 2)
            }
        elif number == 3:
            options["orphanDependents"] = bool(raw)
        elif number == 4:
            options["propagationPolicy"] = raw.decode()
        elif number == 5:
            options.setdefault("dryRun", []).append(raw.decode())
    return options


# By kind: core objects carry apiVersion v1; DeleteOptions comes as v1 or meta.k8s.io/v1.
DECODERS: dict[str, Callable[[bytes], dict[str, Any]]] = {
    "Secret": _secret,
    "ConfigMap": _configmap,
    "Namespace": _namespace,
    "DeleteOptions": _delete_options,
}


def decode_object(body: bytes) -> dict[str, Any]:
    """The object in a protobuf request body, as the JSON-shaped dict the handlers use."""
    if not body.startswith(MAGIC):
        raise ApiError(
            400,
            "BadRequest",
            "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]",
        )
    api_version = kind = ""
    raw = b""
    try:
        for number, _, value in _fields(body[len(MAGIC) :]):
            if number == 1:
                for sub, _, text in _fields(value):
                    if sub == 1:
                        api_version = text.decode()
                    elif sub == 2:
                        kind = text.decode()
            elif number == 2:
                raw = value
        decoder = DECODERS.get(kind)
        if decoder is None:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - kubesim decodes protobuf "
                f"only for {', '.join(DECODERS)} (got {api_version}, Kind={kind})",
            )
        return decoder(raw)
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "BadRequest", f"unable to decode protobuf body: {exc}") from exc
