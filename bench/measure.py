"""Run one process and measure it: wall time, exit code, output, and peak resident memory.

Peak memory is the child's own `ru_maxrss` from `os.wait4` (per process, unlike
`RUSAGE_CHILDREN`, which keeps the largest child ever waited for), in KiB on Linux. Linux starts
a child's ru_maxrss from the RSS of the process that forked it, so for a small child (kubectl,
kustomize) it is only an upper bound: at least this runner's own RSS. fluxpush's engine child
reports its own peak (VmHWM) instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

# A single benchmarked command may not run longer than this, so a full run stays bounded.
COMMAND_TIMEOUT = 900.0


@dataclass(frozen=True, slots=True)
class ProcessRun:
    """What one process did: exit code, seconds, peak RSS in MiB, and its output."""

    code: int
    seconds: float
    peak_mib: float
    stdout: str
    stderr: str
    timed_out: bool = False


def run_measured(
    argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = COMMAND_TIMEOUT
) -> ProcessRun:
    """Run `argv` to completion (killed after `timeout` seconds) and measure it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env, start_new_session=True)
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ProcessRun(
            code=proc.returncode,
            seconds=seconds,
            peak_mib=usage.ru_maxrss / 1024,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=proc.returncode == -signal.SIGKILL and seconds >= timeout,
        )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
