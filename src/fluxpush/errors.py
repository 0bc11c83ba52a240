"""The one exception tree of fluxpush.

    FluxpushError                  base; only the CLI/action entry points catch it broadly
    ├── InputError                 the user's to fix: file, line, Flux object, field path, what to do
    │   ├── YAMLError              a file that is not safe, well-formed YAML
    │   ├── SchemaError            a Flux object that does not match its schema
    │   └── SourceError            a path or source reference that cannot be resolved
    ├── RenderError                kustomize/helm/substitution failed (argv, exit code, stderr tail)
    │   └── SubstitutionError      postBuild variable substitution failed
    ├── DependencyError            dependsOn problems: a cycle (members listed) or a missing dependency
    ├── ToolError                  a pinned binary is missing, the wrong version, or failed to install
    ├── ClusterError               the Kubernetes API answered with an error (status, reason, causes)
    │   ├── NotFound               404: the object, or the namespace it goes in, does not exist
    │   ├── Conflict               409: a stale resourceVersion, or fields another manager owns
    │   ├── Invalid                400/422 (or the 500 for an undeclared field): the manifest is refused
    │   ├── Forbidden              403: the identity lacks RBAC permission
    │   └── NotServed              the server serves no such apiVersion/kind (no CRD yet)
    ├── UsageError                 wrong command-line arguments (exit code 2)
    ├── ReportError                GitHub or a notification endpoint could not be reached
    └── EndpointError              an outbound request (chart, registry, webhook) failed

Every message names where the problem is and what to do about it; none carries a Secret value
or a whole document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Exit codes of both faces (the CLI and the action): 0 ok, 1 a node or check failed, 2 a usage error
# (bad option, value or name) or an internal error. `diff` exits as `flux diff`: 1 changes, 2 failure.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_DIFF_CHANGES, EXIT_DIFF_FAILED = 1, 2


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a YAML document (or a problem in it) comes from."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class FluxpushError(Exception):
    """Base of every error fluxpush raises on purpose."""


class InputError(FluxpushError):
    """A problem in the user's repository or arguments.

    `origin` is the file (and line), `obj` the Flux object as `Kind/namespace/name`,
    `field` a dotted field path, `hint` what to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        origin: Origin | None = None,
        obj: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.origin = origin
        self.obj = obj
        self.field = field
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        """One line: `file:line: Kind/ns/name: field: message (hint)`."""
        parts = [str(p) for p in (self.origin, self.obj) if p]
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        text = ": ".join(parts)
        return f"{text} (fix: {self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form used by `--output json`."""
        return {
            "file": self.origin.path if self.origin else None,
            "line": self.origin.line if self.origin else None,
            "object": self.obj,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "type": type(self).__name__,
        }


class YAMLError(InputError):
    """A file that is not safe, well-formed YAML."""


class SchemaError(InputError):
    """A Flux object that does not match its JSON Schema."""


class SourceError(InputError):
    """A path or sourceRef that cannot be resolved inside the repository."""


class RenderError(FluxpushError):
    """Building a node failed. Carries the node, the command and the end of its stderr."""

    def __init__(
        self,
        message: str,
        *,
        node: str | None = None,
        argv: list[str] | None = None,
        exit_code: int | None = None,
        stderr: str = "",
    ) -> None:
        self.message = message
        self.node = node
        self.argv = argv
        self.exit_code = exit_code
        self.stderr = stderr
        super().__init__(self.render())

    def render(self) -> str:
        """The message, prefixed with the node, followed by the command's stderr tail."""
        text = f"{self.node}: {self.message}" if self.node else self.message
        if self.argv:
            text += f"\n  command: {' '.join(self.argv)} (exit {self.exit_code})"
        if self.stderr:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            text += "\n  " + tail.replace("\n", "\n  ")
        return text

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form used by `--output json`."""
        return {
            "object": self.node,
            "message": self.message,
            "exit_code": self.exit_code,
            "stderr": self.stderr.strip()[-2000:],
            "type": type(self).__name__,
        }


class SubstitutionError(RenderError):
    """postBuild substitution failed (strict mode, bad variable name, missing substituteFrom)."""


class DependencyError(FluxpushError):
    """A dependsOn cycle or a missing dependency."""

    def __init__(self, message: str, *, node: str | None = None, cycle: list[str] | None = None) -> None:
        self.message = message
        self.node = node
        self.cycle = cycle or []
        super().__init__(message)

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form used by `--output json`."""
        return {
            "object": self.node,
            "message": self.message,
            "cycle": self.cycle,
            "type": type(self).__name__,
        }


class ToolError(FluxpushError):
    """A pinned binary (kustomize, helm) is missing, has the wrong version or failed to install."""


@dataclass(frozen=True, slots=True)
class Cause:
    """One entry of a `Status.details.causes` list: why the server refused a field."""

    reason: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ClusterError(FluxpushError):
    """The Kubernetes API answered with an error, or could not be reached.

    `status` is the HTTP code (None when no answer came), `reason` the `Status.reason`
    (`Conflict`, `Invalid`, …), `obj` the object as `Kind/namespace/name`, `causes` the server's
    `details.causes`, `hint` what to do. `is_user_error` marks refusals the repository has to fix
    (invalid objects, field-manager conflicts, fields the schema does not declare).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        obj: str | None = None,
        causes: list[Cause] | None = None,
        hint: str | None = None,
        is_user_error: bool = False,
    ) -> None:
        self.message = message
        self.status = status
        self.reason = reason
        self.obj = obj
        self.causes = causes or []
        self.hint = hint
        self.is_user_error = is_user_error
        super().__init__(self.render())

    def render(self) -> str:
        """`Kind/ns/name: message (HTTP 422 Invalid)`, one indented line per cause, then the hint."""
        text = f"{self.obj}: {self.message}" if self.obj else self.message
        if self.status is not None:
            text += f" (HTTP {self.status} {self.reason})" if self.reason else f" (HTTP {self.status})"
        for cause in self.causes:
            text += f"\n  - {cause}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form used by `--output json`."""
        return {
            "object": self.obj,
            "message": self.message,
            "status": self.status,
            "reason": self.reason,
            "causes": [{"reason": c.reason, "field": c.field, "message": c.message} for c in self.causes],
            "hint": self.hint,
            "user_error": self.is_user_error,
            "type": type(self).__name__,
        }


class NotFound(ClusterError):
    """404. `missing` is the resource type the server says is missing: `namespaces` when a namespaced
    write found no namespace, else the object's own type."""

    def __init__(self, message: str, *, missing: str | None = None, **details: Any) -> None:
        self.missing = missing
        super().__init__(message, **details)


class Conflict(ClusterError):
    """409: the object changed since it was read (a stale resourceVersion), or server-side apply found
    fields owned by another field manager (`is_user_error`)."""


class Invalid(ClusterError):
    """The server refused the object as written (400, 422, or the 500 it answers for a field the
    schema does not declare); `immutable` when a field that cannot change was changed."""

    def __init__(self, message: str, *, immutable: bool = False, **details: Any) -> None:
        self.immutable = immutable
        super().__init__(message, **details)


class Forbidden(ClusterError):
    """403: the deploying identity has no RBAC permission for the verb and resource."""


class NotServed(ClusterError):
    """The API server serves no such apiVersion and kind (its CustomResourceDefinition is missing)."""


class UsageError(FluxpushError):
    """Wrong command-line arguments; the CLI exits with code 2."""


class ReportError(FluxpushError):
    """GitHub or a notification endpoint could not be reached or refused the report."""


class EndpointError(FluxpushError):
    """An HTTP endpoint outside the cluster (chart repository, OCI registry, webhook) refused a
    request or could not be reached.

    `target` is `METHOD scheme://host/path` (no credentials, no query), `problem` what went wrong
    (`HTTP 503: body excerpt`, `connection refused`), `status` the HTTP code (None when no answer
    came), `headers` the refusal's headers with lower-cased names (a `www-authenticate` challenge),
    `tls` whether the TLS handshake failed, `attempts` how many times the request was sent. The
    callers turn it into the error of their domain (`SourceError`, `ReportError`) with `raise … from`.
    """

    def __init__(
        self,
        target: str,
        problem: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        tls: bool = False,
        attempts: int = 1,
    ) -> None:
        self.target = target
        self.problem = problem
        self.status = status
        self.headers: Mapping[str, str] = headers or {}
        self.tls = tls
        self.attempts = attempts
        super().__init__(f"{target}: {problem}")
