"""Stopping a run on request (SIGTERM, SIGINT): one switch per client, checked before every write.

Once the switch is thrown, the client refuses every new write (`WritesStopped`, a `ClusterError`,
so it takes each node's ordinary failure path) except fluxpush's own bookkeeping: inventories and
the Lease are written inside `KubeClient.bookkeeping()`, so an interrupted run still records what
it wrote and releases the cluster. Requests already sent finish; waits (health, the Lease, a
recreate) end early through `StopSwitch.wait`. The faces throw the switch from signal handlers
(`stop_on_signals`) and exit 128 + the signal's number.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from fluxpush.errors import ClusterError

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class WritesStopped(ClusterError):
    """A write refused because the run was interrupted; nothing was sent."""


class StopSwitch:
    """Set once (from a signal handler); thread-safe."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name = ""
        self.signal_number = 0

    @property
    def stopped(self) -> bool:
        """Whether the run was asked to stop."""
        return self._event.is_set()

    def stop(self, signal_number: int) -> None:
        """Ask the run to stop because of `signal_number` (the first signal wins)."""
        if not self._event.is_set():
            self.signal_number = signal_number
            self.signal_name = signal.Signals(signal_number).name
            self._event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, returning early (True) when the run is stopped meanwhile."""
        return self._event.wait(max(seconds, 0.0))

    @property
    def exit_code(self) -> int:
        """The shell's code for death by the signal: 143 for SIGTERM, 130 for SIGINT."""
        return 128 + self.signal_number

    def refusal(self, what: str) -> WritesStopped:
        """The error for a write not started because of the interruption."""
        return WritesStopped(
            f"not written: the run was interrupted ({self.signal_name}) before this write started",
            obj=what,
            reason="Interrupted",
            hint="run the same command again: it continues from what the cluster now holds",
        )


@contextmanager
def stop_on_signals(switch: StopSwitch) -> Iterator[StopSwitch]:
    """Throw `switch` on SIGTERM/SIGINT for the duration (main thread only; elsewhere a no-op).

    The first signal stops new writes; a second one gets the default handling (ends the process
    at once), so an impatient operator can still kill a run that waits on an in-flight request.
    """
    if threading.current_thread() is not threading.main_thread():
        yield switch
        return

    def handle(signal_number: int, _frame: FrameType | None) -> None:
        switch.stop(signal_number)
        for number in STOP_SIGNALS:
            signal.signal(number, signal.SIG_DFL)

    previous = {number: signal.signal(number, handle) for number in STOP_SIGNALS}
    try:
        yield switch
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
