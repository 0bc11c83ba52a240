"""Container registries over the OCI distribution API: one client for Helm charts and image tags."""

from fluxpush.registry.client import Location, Registry, credentials_from_secret, problem_of

__all__ = ["Location", "Registry", "credentials_from_secret", "problem_of"]
