"""Fixtures: loopback HTTP receivers that record every request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .helpers import Receiver, start_receiver


@pytest.fixture
def make_receiver() -> Iterator[Any]:
    """Start receivers on demand; all stop at the end of the test."""
    started: list[Receiver] = []

    def start() -> Receiver:
        receiver = start_receiver()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver(make_receiver: Any) -> Receiver:
    return make_receiver()
