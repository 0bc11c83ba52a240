"""The one registry of secret values, and their removal from everything fluxpush emits.

Object-level masking (`engine.mask`) hides the `data` of Secret objects in diffs, as Flux does. A
value that came from a Secret can still travel elsewhere: a chart copies a `valuesFrom` Secret into
a ConfigMap or an annotation, a `substituteFrom` Secret is substituted into any object, an error
message quotes a token. So every value read from a secret source is registered here the moment it
is read, and every output channel passes its text through `redact` (or its data through
`redact_data`) on the way out:

    register_secret(value)        at the source: valuesFrom/substituteFrom Secrets, SOPS-decrypted
                                  values, Provider secrets, the App key, tokens, kubeconfig credentials
    redact(text) / redact_data()  at the sink: terminal (`RedactingStream`), `-o json`, plan files,
                                  PR comments, check runs, deployment statuses, the job summary,
                                  step outputs, annotations, notification bodies, error messages
    on_secret(callback)           called for every value, past and future (the action's `::add-mask::`)

A value is registered with the forms it takes in output: itself, each of its lines, its JSON- and
URL-escaped forms and its base64 encoding. Values shorter than `MIN_SECRET_LENGTH`, and `true`,
`false`, `null` or numbers, are not registered: replacing them would garble ordinary output (a
JSON `true`) without hiding anything worth hiding.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TextIO
from urllib.parse import quote

MASK = "***"
MIN_SECRET_LENGTH = 4
# Credentials a CI job may hold in its environment; registered at start by both faces.
ENVIRONMENT_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GITHUB_TOKEN", "GH_TOKEN",
                       "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
_NOT_SECRET = re.compile(r"^(?:true|false|null|yes|no|[-+]?[0-9][0-9_.eE+-]*)$", re.IGNORECASE)


def _forms(value: str) -> set[str]:
    """The texts `value` may appear as in output."""
    forms = {value, value.strip()}
    forms.update(line.strip() for line in value.splitlines())
    for form in list(forms):
        forms.add(json.dumps(form)[1:-1])
        forms.add(quote(form, safe=""))
    encoded = value.encode("utf-8")
    forms.add(base64.b64encode(encoded).decode("ascii"))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH and not _NOT_SECRET.match(form)}


class SecretRegistry:
    """Secret values seen by this process; thread-safe. Use the module-level functions."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._listeners: list[Callable[[str], None]] = []
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str | bytes | None) -> None:
        """Register one secret value (bytes are decoded as UTF-8)."""
        if value is None:
            return
        text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
        forms = _forms(text)
        if not forms:
            return
        with self._lock:
            new = text not in self._values
            self._values.add(text)
            if not forms <= self._forms:
                self._forms |= forms
                self._pattern = None
            listeners = list(self._listeners) if new else []
        for listener in listeners:
            listener(text)

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call `listener` with every value registered so far and every one registered later."""
        with self._lock:
            self._listeners.append(listener)
            known = sorted(self._values)
        for value in known:
            listener(value)

    def redact(self, text: str) -> str:
        """`text` with every registered form replaced by `MASK`."""
        pattern = self._compiled()
        return pattern.sub(MASK, text) if pattern is not None and text else text

    def clear(self) -> None:
        """Forget every value and listener (tests; a new run in the same process)."""
        with self._lock:
            self._values.clear()
            self._forms.clear()
            self._listeners.clear()
            self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._forms:
                ordered = sorted(self._forms, key=len, reverse=True)  # longest first: no partial masks
                self._pattern = re.compile("|".join(re.escape(form) for form in ordered))
            return self._pattern


REGISTRY = SecretRegistry()


def register_secret(value: str | bytes | None) -> None:
    """Register a value that came from a secret source; it is masked in every output from now on."""
    REGISTRY.add(value)


def register_secrets(values: Iterable[str | bytes | None]) -> None:
    """`register_secret` for each value."""
    for value in values:
        REGISTRY.add(value)


def register_secret_data(data: Any) -> None:
    """Register every string leaf of JSON-like `data` (a values document read from a Secret)."""
    if isinstance(data, dict):
        for value in data.values():
            register_secret_data(value)
    elif isinstance(data, list):
        for item in data:
            register_secret_data(item)
    elif isinstance(data, str):
        REGISTRY.add(data)


def register_environment_secrets(environ: Mapping[str, str]) -> None:
    """Register the credentials named in `ENVIRONMENT_SECRETS` that `environ` holds."""
    register_secrets(environ.get(name) for name in ENVIRONMENT_SECRETS)


def on_secret(listener: Callable[[str], None]) -> None:
    """Call `listener` for every secret value, registered before or after this call."""
    REGISTRY.subscribe(listener)


def redact(text: str) -> str:
    """`text` with every registered secret value replaced by `***`."""
    return REGISTRY.redact(text)


def redact_data(data: Any) -> Any:
    """A copy of JSON-like `data` whose strings (keys included) have every secret value masked."""
    if isinstance(data, str):
        return REGISTRY.redact(data)
    if isinstance(data, dict):
        return {redact_data(key): redact_data(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(item) for item in data]
    return data


class RedactingStream:
    """A text stream that masks secret values in everything written to it (stdout, stderr).

    A value is masked when it is written in one call (`print` writes each argument whole).
    `inner` is the wrapped stream, for the one writer that must print values unmasked: the
    `::add-mask::` command that tells the Actions runner about them.
    """

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        """Write `text` masked; returns the length of the original text, as callers expect."""
        self.inner.write(REGISTRY.redact(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        """Write each line masked."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def unmasked(stream: TextIO) -> TextIO:
    """The stream under a `RedactingStream` (or `stream` itself)."""
    return stream.inner if isinstance(stream, RedactingStream) else stream


@contextlib.contextmanager
def redacting_streams() -> Iterator[None]:
    """Within the block, `sys.stdout` and `sys.stderr` mask every registered value (nested use is
    harmless); the original streams are put back afterwards."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
