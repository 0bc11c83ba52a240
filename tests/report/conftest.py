"""Fixtures for the GitHub side: a throwaway App key, a movable clock, the fake GitHub over real HTTP."""

from __future__ import annotations

import io

import pytest

from fakegithub import FakeGitHub
from fluxpush.report.github_app import ClientOptions
from fluxpush.report.workflow import WorkflowCommands

REPO = "acme/platform"
# No spacing between requests: the production default waits 0.25 s per request and 1 s per write.
FAST = ClientOptions(seconds_between_requests=None, seconds_between_writes=None, per_page=100, timeout=10)


@pytest.fixture
def fake_github(app_key, clock):
    with FakeGitHub(app_key.public_key(), clock=clock) as fake:
        yield fake


@pytest.fixture
def log() -> io.StringIO:
    """What the code under test printed as workflow commands."""
    return io.StringIO()


@pytest.fixture
def commands(log) -> WorkflowCommands:
    return WorkflowCommands(log)
