"""image-automation-controller's `Setters` update strategy, as targeted text edits.

Matched behaviour (internal/update: the screening reader, the setters filter, kyaml's fieldmeta):
files under `update.path` named `*.yaml`, `*.yml` or `Kustomization` that contain `"$imagepolicy"`;
a file that does not parse is skipped (and reported); in every document each scalar whose line
comment is exactly a JSON object `{"$imagepolicy": "NS:NAME"}` (or `NS:NAME:tag`, `:name`,
`:digest`) naming a policy in scope gets that policy's image (`name:tag[@digest]`), tag, name or
digest; a value that YAML 1.1 would read as a non-string (`"1.0"`) is double-quoted, as kyaml does.

Unlike the controller, which re-serializes each changed file through kyaml, only the changed scalar's
characters are replaced: every other byte of the file (comments, indentation, quoting, line ends)
stays as it was. Not supported: markers in head comments (the line above a sequence item) and on
block scalars (`|`, `>`), which are reported and left alone.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

TOKEN = b'"$imagepolicy"'
SHORTHAND = "$imagepolicy"
_COMMENT = re.compile(r"[ \t]+#+([^\r\n]*)")
_PROPERTIES = re.compile(r"(?:[!&][^\s]*\s+)*")
# libyaml's composer when present (marks are character offsets in both), else PyYAML's.
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True, order=True)
class ResourceIdentifier:
    """The object a change is in (kyaml's ResourceIdentifier): apiVersion, kind, name, namespace."""

    api_version: str
    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass(frozen=True, slots=True)
class Change:
    """One scalar changed by one setter (`NS:NAME`, `NS:NAME:tag`, …)."""

    old: str
    new: str
    setter: str


@dataclass(slots=True)
class FileUpdate:
    """A changed file: its path in the repository, the path under `update.path`, old and new text."""

    path: str
    key: str
    before: str
    after: str
    changes: list[tuple[ResourceIdentifier, Change]] = field(default_factory=list)


@dataclass(slots=True)
class SetterResult:
    """Every changed file, and the files and markers that could not be used."""

    files: list[FileUpdate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def setter_values(policy: str, image: str, tag: str, digest: str) -> dict[str, str]:
    """The four setters of one policy `NS:NAME` and the values they write."""
    full = f"{image}:{tag}" + (f"@{digest}" if digest else "")
    return {policy: full, f"{policy}:tag": tag, f"{policy}:name": image, f"{policy}:digest": digest}


def _marker(text: str, end: int) -> str | None:
    """The setter a scalar ending at `end` names in its line comment, or None."""
    found = _COMMENT.match(text, end)
    if not found:
        return None
    try:
        data = json.loads(found[1])
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    value = data.get(SHORTHAND)
    return value if isinstance(value, str) else None


def _would_not_be_string(value: str) -> bool:
    """Whether YAML 1.1 reads `value` unquoted as something else than this string (or cannot)."""
    dumped = str(yaml.safe_dump(value, default_flow_style=True, width=10**9))
    return dumped.startswith(("'", '"')) or dumped.rstrip("\n").removesuffix("\n...") != value


def render_scalar(value: str, style: str | None) -> str:
    """`value` written in the scalar's style (plain, `'`, `"`), quoted when plain would change it."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or _would_not_be_string(value):
        return json.dumps(value)
    return value


def _scalar_pairs(node: yaml.Node, seen: set[int]) -> Iterator[yaml.ScalarNode]:
    """Every scalar value in `node` (mapping keys are not values), each node once."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalar_pairs(item, seen)
    elif isinstance(node, yaml.MappingNode):
        for _, value in node.value:
            yield from _scalar_pairs(value, seen)


def _identify(document: yaml.Node) -> ResourceIdentifier:
    fields: dict[str, str] = {}
    if isinstance(document, yaml.MappingNode):
        for key, value in document.value:
            if isinstance(value, yaml.ScalarNode) and key.value in ("apiVersion", "kind"):
                fields[key.value] = value.value
            if isinstance(value, yaml.MappingNode) and key.value == "metadata":
                fields.update({k.value: v.value for k, v in value.value
                               if isinstance(v, yaml.ScalarNode) and k.value in ("name", "namespace")})
    return ResourceIdentifier(fields.get("apiVersion", ""), fields.get("kind", ""), fields.get("name", ""),
                    fields.get("namespace", ""))


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    end: int
    text: str
    obj: ResourceIdentifier
    change: Change


def _edits(text: str, display: str, setters: dict[str, str], problems: list[str]) -> list[_Edit]:
    edits: dict[tuple[int, int], _Edit] = {}
    seen: set[int] = set()
    for document in yaml.compose_all(text, Loader=_LOADER):
        if document is None:
            continue
        obj = _identify(document)
        for node in _scalar_pairs(document, seen):
            setter = _marker(text, node.end_mark.index)
            if setter is None or setter not in setters:
                continue
            style = node.style or None  # libyaml says "" for plain
            if style in ("|", ">"):
                problems.append(f"{display}:{node.start_mark.line + 1}: marker {setter} on a block scalar "
                                "is not supported; write the value on one line")
                continue
            new = setters[setter]
            if new == node.value:
                continue
            start, end = _PROPERTIES.match(text, node.start_mark.index).end(), node.end_mark.index  # type: ignore[union-attr]
            edits[(start, end)] = _Edit(start, end, render_scalar(new, style), obj,
                                        Change(node.value, new, setter))
    return sorted(edits.values(), key=lambda e: e.start)


def update_file(path: Path, display: str, key: str, setters: dict[str, str],
                problems: list[str]) -> FileUpdate | None:
    """The file with every marked scalar set, or None when nothing changes (or it does not parse)."""
    raw = path.read_bytes()
    if TOKEN not in raw:
        return None
    try:
        text = raw.decode("utf-8")
        edits = _edits(text, display, setters, problems)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{display}: skipped, it does not parse as YAML: {str(exc).splitlines()[0]}")
        return None
    if not edits:
        return None
    pieces, cursor = [], 0
    for edit in edits:
        pieces += [text[cursor:edit.start], edit.text]
        cursor = edit.end
    pieces.append(text[cursor:])
    return FileUpdate(display, key, text, "".join(pieces), [(e.obj, e.change) for e in edits])


def _candidates(root: Path) -> Iterator[Path]:
    """Files the controller's screening reader considers, in walk order (sorted, like filepath.Walk)."""
    if root.is_file():
        yield root
        return
    for directory, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if f != ".git")
        for name in sorted(files):
            if name.endswith((".yaml", ".yml")) or name == "Kustomization":
                yield Path(directory, name)


def _marked(path: Path) -> bool:
    try:
        return TOKEN in path.read_bytes()
    except OSError:  # a dangling link
        return False


def apply_setters(repo_root: Path, update_path: Path, setters: dict[str, str]) -> SetterResult:
    """Set every marker naming one of `setters` in the files under `update_path` (inside `repo_root`)."""
    result = SetterResult()
    base = update_path if update_path.is_dir() else update_path.parent
    for path in _candidates(update_path):
        display = path.relative_to(repo_root).as_posix()
        if path.is_symlink():  # writing through it could change a file outside the repository
            if _marked(path):
                result.problems.append(f"{display}: skipped, a marked file that is a symlink is not written")
            continue
        try:
            changed = update_file(path, display, path.relative_to(base).as_posix(), setters, result.problems)
        except OSError as exc:
            result.problems.append(f"{display}: skipped, it cannot be read: {exc.strerror}")
            continue
        if changed is not None:
            result.files.append(changed)
    return result
