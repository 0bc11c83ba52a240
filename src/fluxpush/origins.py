"""Where an object came from in the repository, for error messages.

kustomize's output keeps no file names, so fluxpush indexes the repository's YAML documents by
`(kind, name)` once, when an error needs a file and line, and looks objects up there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fluxpush.errors import Origin, YAMLError
from fluxpush.source import Source
from fluxpush.yamldoc import load_documents, locate_field


@dataclass(frozen=True, slots=True)
class Located:
    """One YAML document in the repository."""

    origin: Origin
    namespace: str
    doc_index: int
    text: str

    def locate(self, field_path: list[str | int]) -> int | None:
        """Line of a field inside this document."""
        return locate_field(self.text, self.doc_index, field_path)


class OriginIndex:
    """Index of the repository's YAML documents by (kind, name), built on first use."""

    def __init__(self, source: Source) -> None:
        self._source = source

    @cached_property
    def _entries(self) -> dict[tuple[str, str], list[Located]]:
        entries: dict[tuple[str, str], list[Located]] = {}
        for rel in self._source.walk_files():
            if not rel.endswith((".yaml", ".yml")):
                continue
            try:
                text = Path(self._source.root, rel).read_text(encoding="utf-8")
                docs = load_documents(text, rel)
            except (OSError, UnicodeDecodeError, YAMLError):
                continue  # the build reports unreadable files; the index only helps messages
            for doc in docs:
                data = doc.data
                if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
                    continue
                key = (str(data.get("kind")), str(data["metadata"].get("name")))
                namespace = str(data["metadata"].get("namespace") or "")
                entries.setdefault(key, []).append(Located(doc.origin, namespace, doc.index, text))
        return entries

    def find(self, kind: str, name: str, namespace: str = "", near: str = "") -> Located | None:
        """The best match of kind and name: same namespace and under folder `near` first."""
        candidates = self._entries.get((kind, name), [])
        prefix = near.rstrip("/") + "/" if near not in ("", ".") else ""

        def rank(entry: Located) -> tuple[bool, bool]:
            return (entry.namespace != namespace, not entry.origin.path.startswith(prefix))

        return min(candidates, key=rank) if candidates else None

    def locator(self, kind: str, name: str, namespace: str = "", near: str = "") -> tuple[
            Origin | None, Callable[[list[str | int]], int | None] | None]:
        """Origin of the object and a field-line finder for it (both None when not found)."""
        found = self.find(kind, name, namespace, near)
        return (found.origin, found.locate) if found else (None, None)
