"""Debian's `docker-registry` (distribution) on loopback, for OCI charts and image tags alike."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_registry(root: Path) -> Iterator[str]:
    """A fresh registry process serving plain HTTP on loopback; yields its `127.0.0.1:PORT`."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    config = root / "registry.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root / 'registry'}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\nlog:\n  level: error\n")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _send(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    return urllib.request.urlopen(request, timeout=10)


@dataclass
class ImageRegistry:
    """The registry at `host`; `push` stores a minimal image under each tag (each with its own digest)."""

    host: str
    digests: dict[str, str] = field(default_factory=dict)  # "repo:tag" -> manifest digest

    def _blob(self, repository: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with _send("POST", f"http://{self.host}/v2/{repository}/blobs/uploads/") as answer:
            location = answer.headers["Location"]
        separator = "&" if "?" in location else "?"
        target = location if location.startswith("http") else f"http://{self.host}{location}"
        _send("PUT", f"{target}{separator}digest={digest}", data,
              {"Content-Type": "application/octet-stream"}).close()
        return digest

    def push(self, repository: str, tags: list[str]) -> None:
        """Push one small image per tag (the tag is in an annotation, so digests differ)."""
        config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
        config_digest = self._blob(repository, config)
        layer = b"fluxpush test layer"
        layer_digest = self._blob(repository, layer)
        for tag in tags:
            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                           "size": len(config)},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                            "size": len(layer)}],
                "annotations": {"org.opencontainers.image.version": tag},
            }).encode()
            _send("PUT", f"http://{self.host}/v2/{repository}/manifests/{tag}", manifest,
                  {"Content-Type": OCI_MANIFEST}).close()
            self.digests[f"{repository}:{tag}"] = "sha256:" + hashlib.sha256(manifest).hexdigest()
