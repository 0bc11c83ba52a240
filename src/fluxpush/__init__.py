"""fluxpush: push-mode GitOps deployer for Flux-style repositories."""

__version__ = "0.1.0"
