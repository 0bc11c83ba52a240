"""fluxpush: push-mode GitOps deployer for Flux-style repositories."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fluxpush")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
