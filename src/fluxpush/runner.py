"""The one place fluxpush starts processes (kustomize, helm, git, pip).

Commands are argument lists, never shell strings; their output is captured and returned, and a
failure becomes a `RenderError` carrying the command, the exit code and the end of stderr.

A repository is untrusted input, so every process gets only what it needs:

* a minimal environment: the variables in `BASE_ENVIRONMENT` (PATH, HOME, locale, temp dir,
  proxies, CA bundles, the Go collector settings, fluxpush's own tool lookups) plus what the
  caller passes; never the action's inputs, cloud or GitHub credentials, or a kubeconfig path,
  unless the caller hands one over explicitly (helm commands that talk to the cluster);
* a wall-clock timeout, after which its whole process group is killed;
* a memory cap (`RLIMIT_DATA`, which counts the heap a Go program really allocates rather than the
  address space it reserves): a YAML alias bomb makes the build fail in seconds, not the runner.
  The limit is set right after the process starts, so it also binds every process it starts.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fluxpush.errors import RenderError

# Variables a child may inherit from fluxpush's environment (exact names).
BASE_ENVIRONMENT = (
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "GOGC", "GOMEMLIMIT",
    "FLUXPUSH_KUSTOMIZE", "FLUXPUSH_HELM", "FLUXPUSH_TOOLS_DIR",
)
# Defaults of the per-process limits; the environment variables override them.
TIMEOUT_VARIABLE = "FLUXPUSH_BUILD_TIMEOUT"
MEMORY_VARIABLE = "FLUXPUSH_BUILD_MEMORY_MIB"
DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY_MIB = 1024
_STDERR_OOM = ("out of memory", "cannot allocate memory", "MemoryError")


@dataclass(frozen=True, slots=True)
class Completed:
    """What a finished command printed."""

    stdout: str
    stderr: str


def _number(variable: str, default: float) -> float:
    text = os.environ.get(variable, "")
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if value > 0 else default


def memory_limit_mib() -> int:
    """The memory cap of one process, in MiB (`FLUXPUSH_BUILD_MEMORY_MIB`, default 1024)."""
    return int(_number(MEMORY_VARIABLE, DEFAULT_MEMORY_MIB))


def build_timeout() -> float:
    """The wall-clock limit of one build, in seconds (`FLUXPUSH_BUILD_TIMEOUT`, default 120)."""
    return _number(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT)


def child_environment(extra: Mapping[str, str] | None = None, inherit: Iterable[str] = ()) -> dict[str, str]:
    """The environment of a child: `BASE_ENVIRONMENT` and variables starting with an `inherit`
    prefix, taken from ours, then `extra` on top."""
    prefixes = tuple(inherit)
    env = {key: value for key, value in os.environ.items()
           if key in BASE_ENVIRONMENT or (prefixes and key.startswith(prefixes))}
    env.update(extra or {})
    return env


def _cap_memory(pid: int, limit_mib: int) -> None:
    if not hasattr(resource, "prlimit"):  # not Linux: no per-process cap
        return
    limit = limit_mib * 1024 * 1024
    # OSError/ValueError: the process already exited, or a hard limit set around us is lower.
    with contextlib.suppress(OSError, ValueError):
        resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _out_of_memory(returncode: int, stderr: str) -> bool:
    return returncode != 0 and any(marker in stderr for marker in _STDERR_OOM)


def run_command(argv: list[str], *, cwd: str | None = None, env: Mapping[str, str] | None = None,
                inherit: Iterable[str] = (), stdin: str | None = None, timeout: float | None = None,
                node: str | None = None, what: str = "command failed") -> Completed:
    """Run `argv` with the minimal environment plus `env`, in `cwd`, under the time limit
    (`timeout`, default `build_timeout()`) and the memory cap; raise `RenderError` (naming `node`
    and `what`) when it fails, runs out of time or memory."""
    limit = timeout or build_timeout()
    memory = memory_limit_mib()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=child_environment(env, inherit), text=True,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except FileNotFoundError as exc:
        raise RenderError(f"{what}: {argv[0]} not found", node=node, argv=argv) from exc
    _cap_memory(proc.pid, memory)
    try:
        stdout, stderr = proc.communicate(stdin, timeout=limit)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        proc.communicate()
        raise RenderError(f"{what}: stopped after the time limit of {limit:g}s ({TIMEOUT_VARIABLE})",
                          node=node, argv=argv) from exc
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    if _out_of_memory(proc.returncode, stderr):
        raise RenderError(f"{what}: stopped at the memory limit of {memory} MiB ({MEMORY_VARIABLE}); "
                          "an alias bomb or a build too large for the limit", node=node, argv=argv,
                          exit_code=proc.returncode)
    if proc.returncode != 0:
        raise RenderError(what, node=node, argv=argv, exit_code=proc.returncode, stderr=stderr)
    return Completed(stdout, stderr)
