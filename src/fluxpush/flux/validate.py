"""Validation of Flux objects against the JSON Schemas shipped in `schemas/`.

Every problem of an object is reported, each as a `SchemaError` naming the object
(`Kind/namespace/name`), the field (`spec.dependsOn[0].name`), what is expected, and the line when
the caller can locate fields in the source text.

jsonschema is imported on first use, not with this module: it is a tenth of a second of start-up
that `warm_up` lets discovery spend while its first kustomize build runs.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fluxpush.errors import Origin, SchemaError
from fluxpush.flux.kinds import SUPPORTED, schema_name, split_api_version, supported_versions
from fluxpush.flux.model import DEFAULT_NAMESPACE, ObjectRef

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

Locate = Callable[[list[str | int]], int | None]

SCHEMA_DIR = Path(__file__).with_name("schemas")

# Values are quoted in messages only up to this length: enough to recognise, never a whole blob.
MAX_QUOTED_VALUE = 60

_JSON_TYPE_WORDS = {
    "string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
    "object": "a mapping", "array": "a list", "null": "null",
}


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@cache
def schema_validator(kind: str) -> Draft202012Validator:
    """The compiled validator for every version of `kind` (built once)."""
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMA_DIR / schema_name(kind)).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=_registry())


def warm_up() -> None:
    """Load jsonschema and the validators of the kinds every repository has, ahead of their first use."""
    for kind in ("Kustomization", "GitRepository"):
        schema_validator(kind).is_valid({})


def object_ref(data: dict[str, Any]) -> ObjectRef:
    """`Kind/namespace/name` of a wire dict, tolerating missing pieces (for messages)."""
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    return ObjectRef(
        str(data.get("kind") or "?"),
        str(metadata.get("namespace") or DEFAULT_NAMESPACE),
        str(metadata.get("name") or "?"),
    )


def format_field(path: Iterable[str | int]) -> str:
    """`["spec", "dependsOn", 0, "name"]` -> `spec.dependsOn[0].name`."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _quote(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= MAX_QUOTED_VALUE else text[: MAX_QUOTED_VALUE - 3] + "..."


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"string {_quote(value)}"
    return _quote(value)


def _type_words(expected: str | list[str]) -> str:
    names = [expected] if isinstance(expected, str) else expected
    return " or ".join(_JSON_TYPE_WORDS.get(name, name) for name in names)


Problem = tuple[list[str | int], str, str | None]


def _unknown_fields(error: ValidationError) -> list[Problem]:
    schema: Any = error.schema  # the object schema that refused (an additionalProperties error)
    instance: Any = error.instance
    known = list(schema.get("properties", {}))
    problems: list[Problem] = []
    for key in instance:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "remove it or check the field name"
        problems.append(([*error.absolute_path, key], "unknown field", hint))
    return problems


def _problems(error: ValidationError) -> list[Problem]:
    """One jsonschema error as (field path, message, hint) triples."""
    path = list(error.absolute_path)
    value: Any = error.instance  # whatever the YAML held
    expected: Any = error.validator_value  # the keyword's value in the schema (a list, a type name…)
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    match error.validator:
        case "required":
            return [([*path, name], "required field is missing", None)
                    for name in expected if name not in value]
        case "additionalProperties":
            return _unknown_fields(error)
        case "type":
            hint = "quote the value" if expected == "string" else None
            return [(path, f"expected {_type_words(expected)}, got {_describe(value)}", hint)]
        case "enum":
            choices = ", ".join(str(choice) for choice in expected)
            return [(path, f"expected one of {choices}, got {_describe(value)}", None)]
        case "pattern":
            wanted = description or f"a value matching {expected}"
            return [(path, f"expected {wanted}, got {_quote(value)}", None)]
        case "minLength" | "maxLength":
            bound = "at least" if error.validator == "minLength" else "at most"
            return [(path, f"expected {bound} {expected} character(s), got {len(value)}", None)]
        case "minimum":
            return [(path, f"expected a number >= {expected}, got {value}", None)]
        case "not":
            return [(path, description or "field not allowed here", None)]
    if description:
        return [(path, f"expected {description}", None)]
    return [(path, error.message[:200], None)]


def _version_error(data: dict[str, Any]) -> Problem | None:
    """The apiVersion/kind problem of an object fluxpush has no schema for, if any."""
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return ["apiVersion"], "apiVersion and kind must both be strings", None
    group, version = split_api_version(api_version)
    versions = supported_versions(group, kind)
    if not versions:
        kinds = sorted(k for g, k in SUPPORTED if g == group)
        if kinds:
            return ["kind"], f"unsupported kind {kind} in {group}; fluxpush supports {', '.join(kinds)}", None
        return ["apiVersion"], f"unsupported Flux API group {group}", None
    if version not in versions:
        listed = ", ".join(f"{group}/{v}" for v in versions)
        return (["apiVersion"], f"unsupported apiVersion {api_version} for {kind}; supported: {listed}",
                f"change apiVersion to {group}/{versions[0]}")
    return None


def validate_flux_object(
    data: dict[str, Any], origin: Origin | None, locate: Locate | None = None
) -> list[SchemaError]:
    """Every schema problem of one Flux object (empty when valid).

    `locate(field_path)` returns the line of a field in the source text, or None.
    """
    obj = str(object_ref(data)) if isinstance(data, dict) else None

    def make(path: list[str | int], message: str, hint: str | None) -> SchemaError:
        where = origin
        line = locate(path) if locate else None
        if origin is not None and line is not None:
            where = Origin(origin.path, line)
        return SchemaError(message, origin=where, obj=obj, field=format_field(path) or None, hint=hint)

    if not isinstance(data, dict):
        return [make([], "a Flux object must be a mapping", None)]
    unsupported = _version_error(data)
    if unsupported:
        return [make(*unsupported)]
    seen: set[tuple[str, str]] = set()
    errors: list[SchemaError] = []
    ordered = sorted(schema_validator(data["kind"]).iter_errors(data), key=lambda e: list(map(str, e.path)))
    for error in ordered:
        for path, message, hint in _problems(error):
            key = (format_field(path), message)
            if key not in seen:
                seen.add(key)
                errors.append(make(path, message, hint))
    return errors
