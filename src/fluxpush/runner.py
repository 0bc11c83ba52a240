"""The one place fluxpush starts processes (kustomize, helm, git, pip).

Commands are argument lists, never shell strings; their output is captured and returned, and a
failure becomes a `RenderError` carrying the command, the exit code and the end of stderr.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from fluxpush.errors import RenderError


@dataclass(frozen=True, slots=True)
class Completed:
    """What a finished command printed."""

    stdout: str
    stderr: str


def run_command(argv: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
                stdin: str | None = None, timeout: float | None = 300, node: str | None = None,
                what: str = "command failed") -> Completed:
    """Run `argv`; raise `RenderError` (naming `node` and `what`) when it exits non-zero."""
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise RenderError(f"{what}: {argv[0]} not found", node=node, argv=argv) from exc
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"{what}: timed out after {timeout}s", node=node, argv=argv) from exc
    if proc.returncode != 0:
        raise RenderError(what, node=node, argv=argv, exit_code=proc.returncode, stderr=proc.stderr)
    return Completed(proc.stdout, proc.stderr)
