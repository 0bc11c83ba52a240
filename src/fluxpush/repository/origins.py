"""Where an object came from in the repository, for error messages.

kustomize's output keeps no file names, so fluxpush indexes the repository's YAML documents by
`(kind, name)` and looks objects up there. Each kind is indexed on its first lookup, from only the
files whose text names that kind (`kind: HelmRelease`), so a repository of thousands of manifests
is not parsed whole to place its few Flux objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from fluxpush.errors import Origin, YAMLError
from fluxpush.repository.source import Source
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
    """Index of the repository's YAML documents by (kind, name), built kind by kind on first use."""

    def __init__(self, source: Source) -> None:
        self._source = source
        self._by_kind: dict[str, dict[str, list[Located]]] = {}  # kind → name → documents

    @cached_property
    def _texts(self) -> list[tuple[str, str]]:
        """Every readable YAML file of the repository: (path, text)."""
        texts = []
        for rel in self._source.walk_files():
            if rel.endswith((".yaml", ".yml")):
                try:
                    texts.append((rel, Path(self._source.root, rel).read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError):
                    continue  # the build reports unreadable files; the index only helps messages
        return texts

    def _of_kind(self, kind: str) -> dict[str, list[Located]]:
        if kind not in self._by_kind:
            self._by_kind[kind] = self._index(kind)
        return self._by_kind[kind]

    def _index(self, kind: str) -> dict[str, list[Located]]:
        names_kind = re.compile(rf"""\bkind["']?\s*:\s*["']?{re.escape(kind)}\b""")
        entries: dict[str, list[Located]] = {}
        for rel, text in self._texts:
            if not names_kind.search(text):
                continue
            try:
                docs = load_documents(text, rel)
            except YAMLError:
                continue
            for doc in docs:
                data = doc.data
                meta = data.get("metadata") if isinstance(data, dict) else None
                if not isinstance(meta, dict) or data.get("kind") != kind:
                    continue
                located = Located(doc.origin, str(meta.get("namespace") or ""), doc.index, text)
                entries.setdefault(str(meta.get("name")), []).append(located)
        return entries

    def find(self, kind: str, name: str, namespace: str = "", near: str = "") -> Located | None:
        """The best match of kind and name: same namespace and under folder `near` first."""
        candidates = self._of_kind(kind).get(name, [])
        prefix = near.rstrip("/") + "/" if near not in ("", ".") else ""

        def rank(entry: Located) -> tuple[bool, bool]:
            return (entry.namespace != namespace, not entry.origin.path.startswith(prefix))

        return min(candidates, key=rank) if candidates else None

    def locator(self, kind: str, name: str, namespace: str = "", near: str = "") -> tuple[
            Origin | None, Callable[[list[str | int]], int | None] | None]:
        """Origin of the object and a field-line finder for it (both None when not found)."""
        found = self.find(kind, name, namespace, near)
        return (found.origin, found.locate) if found else (None, None)
