"""Rendering: kustomize builds and what kustomize-controller does to their output."""
