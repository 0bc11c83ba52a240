"""A fake GitHub REST API for tests: real HTTP on 127.0.0.1, App JWTs verified with the App's public key.

It serves the calls fluxpush's reporting makes through PyGithub (App, installation, access tokens,
issue comments with `Link` pagination, commit pulls, check runs, statuses, deployments and their
statuses), checks token scope and permissions the way GitHub does, and records everything.
"""

from .server import FakeGitHub
from .state import FakeToken, GitHubState, RecordedRequest

__all__ = ["FakeGitHub", "FakeToken", "GitHubState", "RecordedRequest"]
