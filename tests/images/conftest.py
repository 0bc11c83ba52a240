"""Image registries for the image automation tests: the real `docker-registry` on loopback with
images pushed through the distribution API, optionally behind a bearer-token gate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_server import Gate, ImageRegistry, gated, running_registry


@pytest.fixture
def image_registry(tmp_path: Path) -> Iterator[ImageRegistry]:
    """A fresh `docker-registry` on loopback (plain HTTP), empty until `push`."""
    with running_registry(tmp_path) as host:
        yield ImageRegistry(host)


@pytest.fixture
def gated_registry(image_registry: ImageRegistry) -> Iterator[tuple[ImageRegistry, Gate]]:
    """`image_registry` behind a bearer-token gate that accepts `robot:s3cret-pass`."""
    with gated(image_registry.host, "robot:s3cret-pass") as gate:
        yield image_registry, gate
