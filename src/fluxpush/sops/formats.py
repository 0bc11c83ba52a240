"""SOPS' file formats: YAML, JSON, dotenv, INI and binary, read into a tree and written back.

dotenv and INI keep the metadata flattened (`sops_age__list_0__map_enc=…` in dotenv, a `[sops]`
section in INI, `\\n` escaped), as getsops/sops `stores/flatten.go` writes it. Binary files are
JSON `{"data": "ENC[…]", "sops": {…}}` whose decrypted `data` is the file's content.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

from fluxpush.errors import FluxpushError
from fluxpush.sops.tree import SopsError
from fluxpush.yamldoc import dump_documents, load_documents

_MAP, _LIST = "__map_", "__list_"
_TOKEN = re.compile(r"(__map_|__list_)")


class Format(StrEnum):
    """A SOPS store."""

    YAML = "yaml"
    JSON = "json"
    DOTENV = "dotenv"
    INI = "ini"
    BINARY = "binary"


# What kustomize-controller looks for to tell an encrypted file of each format.
MARKERS = {Format.BINARY: b'"mac": "ENC[', Format.DOTENV: b"sops_mac=ENC[", Format.INI: b"[sops]",
           Format.JSON: b'"mac": "ENC[', Format.YAML: b"mac: ENC["}


def format_for_path(path: str) -> Format:
    """SOPS' format for a file name (`.dockerconfigjson` is JSON, as in Flux)."""
    lower = path.lower()
    if lower.endswith((".yaml", ".yml")):
        return Format.YAML
    if lower.endswith((".json", ".dockerconfigjson")):
        return Format.JSON
    if lower.endswith(".env"):
        return Format.DOTENV
    if lower.endswith(".ini"):
        return Format.INI
    return Format.BINARY


def detect_format(data: bytes) -> Format | None:
    """The format whose SOPS marker `data` holds, in kustomize-controller's order; None if none."""
    for fmt in (Format.BINARY, Format.DOTENV, Format.INI, Format.YAML):
        if MARKERS[fmt] in data:
            return fmt
    return None


def _unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path, value in flat.items():
        parts = _TOKEN.split(path)
        tokens: list[str | int] = [parts[0]]
        for sep, name in zip(parts[1::2], parts[2::2], strict=True):
            tokens.append(int(name) if sep == _LIST and name.isdigit() else name)
        node: Any = root
        for token, following in zip(tokens, [*tokens[1:], None], strict=True):
            container: Any = {} if not isinstance(following, int) else []
            if following is None:
                _set(node, token, value)
            else:
                node = _child(node, token, container)
    return root


def _child(node: Any, token: str | int, empty: Any) -> Any:
    if isinstance(node, list):
        assert isinstance(token, int)
        while len(node) <= token:
            node.append(None)
        if node[token] is None:
            node[token] = empty
        return node[token]
    return node.setdefault(token, empty)


def _set(node: Any, token: str | int, value: Any) -> None:
    if isinstance(node, list) and isinstance(token, int):
        _child(node, token, None)
        node[token] = value
    elif isinstance(node, dict):
        node[token] = value
    else:
        raise SopsError("the flattened SOPS metadata mixes lists and maps")


def _load_dotenv(text: str) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise SopsError(f"line {number} is not KEY=VALUE")
        value = value.replace("\\n", "\n")
        if key.startswith("sops_"):
            meta[key.removeprefix("sops_")] = value
        else:
            tree[key] = value
    return {**tree, "sops": _unflatten(meta)}


def _load_ini(text: str) -> dict[str, Any]:
    sections: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
            continue
        key, sep, value = line.partition("=")
        if not sep or current is None:
            raise SopsError(f"line {number} is neither a [section] nor key = value inside one")
        current[key.strip()] = value.strip().replace("\\n", "\n")
    meta = sections.pop("sops", None)
    return {**sections, "sops": _unflatten(meta) if meta is not None else None}


def load(data: bytes, fmt: Format, *, where: str) -> dict[str, Any]:
    """The tree of an encrypted file (metadata under `sops`); SopsError when it cannot be read."""
    text = data.decode("utf-8", "replace")
    if fmt is Format.DOTENV:
        return _load_dotenv(text)
    if fmt is Format.INI:
        return _load_ini(text)
    if fmt in (Format.JSON, Format.BINARY):
        try:
            tree = json.loads(text)
        except ValueError as exc:
            raise SopsError(f"not valid JSON: {exc}") from exc
    else:
        try:
            docs = load_documents(text, where)
        except FluxpushError as exc:
            raise SopsError(str(exc)) from exc
        tree = docs[0].data if len(docs) == 1 else None
    if not isinstance(tree, dict):
        raise SopsError(f"expected one {fmt} document holding a mapping")
    return tree


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def emit(tree: dict[str, Any], fmt: Format) -> bytes:
    """The plain file for a decrypted tree (no `sops` section), as SOPS' stores write it."""
    if fmt is Format.BINARY:
        data = tree.get("data", "")
        return data if isinstance(data, bytes) else str(data).encode()
    if fmt is Format.JSON:
        return json.dumps(tree, indent="\t", ensure_ascii=False).encode()
    if fmt is Format.DOTENV:
        lines = []
        for key, value in tree.items():
            if isinstance(value, dict | list):
                raise SopsError(f"cannot use complex value in dotenv file; offending key {key}")
            lines.append(f"{key}={_scalar(value).replace(chr(10), chr(92) + 'n')}\n")
        return "".join(lines).encode()
    if fmt is Format.INI:
        out = []
        for section, values in tree.items():
            if not isinstance(values, dict):
                raise SopsError(f"INI section {section} is not a mapping")
            out.append(f"[{section}]\n" + "".join(f"{k} = {_scalar(v)}\n" for k, v in values.items()))
        return "\n".join(out).encode()
    return dump_documents([tree]).encode()
