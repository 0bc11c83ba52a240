"""Transport-neutral request and response values shared by the server and the handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass(slots=True)
class Request:
    """One HTTP request as the handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    @classmethod
    def build(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> Request:
        """Parse a request target (path + query string)."""
        path, _, query = target.partition("?")
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        return cls(method.upper(), path, params, {k.lower(): v for k, v in headers.items()}, body)

    def flag(self, name: str) -> bool:
        """A boolean query parameter (`true`/`1`)."""
        return self.query.get(name, "").lower() in ("true", "1")

    @property
    def verb(self) -> str:
        """The Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection."""
        return self.query.get("_verb", self.method.lower())


@dataclass(slots=True)
class Response:
    """A response: a JSON body, raw bytes, or a stream of byte chunks (watch)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> Response:
        """A JSON response."""
        return cls(status, json.dumps(data, separators=(",", ":")).encode() + b"\n", content_type,
                   headers or {})
