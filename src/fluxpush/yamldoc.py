"""Safe YAML loading with an origin (file, line) for every document.

Scalars resolve with the YAML 1.2 core schema, as kustomize (kyaml) does: `yes`/`on` stay strings,
dates stay strings, `0o17` is octal. Only plain data is built (no Python tags), and documents whose
aliases would expand past `MAX_EXPANDED_NODES` (a "billion laughs" alias bomb) or that refer to
themselves are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from fluxpush.errors import Origin, YAMLError

# A large rendered manifest (a CRD bundle) has ~10^5 nodes; an alias bomb reaches 10^9 quickly.
MAX_EXPANDED_NODES = 2_000_000

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# YAML 1.2 core schema scalars (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_CORE_RESOLVERS: list[tuple[str, str, str]] = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
]


class _CoreLoader(_BaseLoader):  # type: ignore[misc]
    """Safe loader with YAML 1.2 core scalar resolution."""

    yaml_implicit_resolvers: ClassVar[dict[str, Any]] = {}

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = str(self.construct_scalar(node))
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value)


for _tag, _pattern, _first in _CORE_RESOLVERS:
    # An empty plain scalar is null; PyYAML files that case under the first character "".
    _CoreLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first) + [""] * (_first == "~nN"))
_CoreLoader.add_constructor("tag:yaml.org,2002:int", _CoreLoader.construct_yaml_int)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Block-style dumper that never emits anchors for repeated values."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document: its data and where it starts."""

    data: Any
    origin: Origin
    index: int


def _expanded_size(node: yaml.Node) -> int:
    """Node count once every alias is expanded; raises ValueError on a self-referencing node."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(current: yaml.Node) -> int:
        key = id(current)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise ValueError("a node refers to itself through an alias")
        visiting.add(key)
        if isinstance(current, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in current.value)
        elif isinstance(current, yaml.SequenceNode):
            total = 1 + sum(size(item) for item in current.value)
        else:
            total = 1
        visiting.discard(key)
        sizes[key] = total
        return total

    return size(node)


def _checked_documents(text: str, path: str, loader_class: type = _CoreLoader) -> Iterator[Document]:
    loader = loader_class(text)
    may_alias = "&" in text and "*" in text  # aliases need an anchor; skip the walk otherwise
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            origin = Origin(path, node.start_mark.line + 1 if node is not None else None)
            if node is not None and may_alias and _expanded_size(node) > MAX_EXPANDED_NODES:
                raise YAMLError(
                    f"aliases expand to more than {MAX_EXPANDED_NODES} nodes (possible alias bomb)",
                    origin=origin,
                    hint="remove the repeated aliases",
                )
            data = loader.construct_document(node) if node is not None else None
            yield Document(data, origin, index)
            index += 1
    except ValueError as exc:
        raise YAMLError(str(exc), origin=Origin(path), hint="remove the recursive alias") from exc
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise YAMLError(
            f"invalid YAML: {exc.problem or exc}",
            origin=Origin(path, line),
            hint="correct the YAML syntax at that line",
        ) from exc
    except yaml.YAMLError as exc:
        raise YAMLError(f"invalid YAML: {exc}", origin=Origin(path)) from exc
    finally:
        loader.dispose()


def load_documents(text: str, path: str) -> list[Document]:
    """Parse a YAML stream; empty documents are dropped. `path` names the text in errors."""
    return [doc for doc in _checked_documents(text, path) if doc.data is not None]


def load_safe_documents(text: str | bytes, path: str) -> list[Any]:
    """`yaml.safe_load_all` (YAML 1.1 scalars, as helm's and PyYAML's) with the same alias bound as
    `load_documents`; for content that is not kustomize's (chart metadata, values, helm output).
    Empty documents are dropped. `path` names the text in errors."""
    text = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    return [doc.data for doc in _checked_documents(text, path, _BaseLoader) if doc.data is not None]


def load_safe(text: str | bytes, path: str) -> Any:
    """The first document of `text` as `yaml.safe_load` gives it, alias-bounded; None when empty."""
    docs = load_safe_documents(text, path)
    return docs[0] if docs else None


def load_file(path: str, display: str | None = None) -> list[Document]:
    """Read and parse a YAML file; `display` is the name shown in errors (default: `path`)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise YAMLError("file is not UTF-8 text", origin=Origin(display or path)) from exc
    return load_documents(text, display or path)


def locate_field(text: str, doc_index: int, field_path: list[str | int]) -> int | None:
    """Line (1-based) of `field_path` inside document `doc_index`, or of its nearest parent.

    Used only when reporting an error, so the file is composed again rather than keeping marks.
    """
    try:
        nodes = list(yaml.compose_all(text, Loader=_CoreLoader))
    except yaml.YAMLError:
        return None
    if doc_index >= len(nodes) or nodes[doc_index] is None:
        return None
    node: yaml.Node = nodes[doc_index]
    line: int = node.start_mark.line + 1
    for step in field_path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == step:
                    line, child = key.start_mark.line + 1, value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def field_steps(dotted: str) -> list[str | int]:
    """The steps of a field as the API server names it: `spec.containers[0].image` →
    `["spec", "containers", 0, "image"]`; a bracketed map key keeps its dots."""
    steps: list[str | int] = []
    for name, index in _FIELD_STEP.findall(dotted):
        steps.append(name if name else int(index) if index.isdigit() else index)
    return steps


_FIELD_STEP = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def dump_block(obj: Any, *, sort_keys: bool, width: int) -> str:
    """One object as block YAML (multi-line strings as `|` blocks, no anchors)."""
    text: str = yaml.dump(obj, Dumper=_Dumper, sort_keys=sort_keys, default_flow_style=False,
                          allow_unicode=True, width=width)
    return text


def dump_documents(objects: list[Any]) -> str:
    """Serialize objects as a `---`-separated YAML stream, keys in their given order."""
    text: str = yaml.dump_all(
        objects,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        explicit_start=True,
        allow_unicode=True,
        width=1 << 16,
    )
    return text
