"""What the built image holds: GitHub's rules for a Docker action, the tools, and nothing of the host's
package-index configuration (pip.conf, CA bundle, apt settings reach the build as secrets only)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from test_lock import pins  # the lock-file reader of the supply-chain tests

from .image import HOST_CA_BUNDLES, _apt_config, _host_ca_bundle, _pip_config, source_hash

pytestmark = pytest.mark.integration

PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
SITE_PACKAGES = "opt/fluxpush/lib/python3.11/site-packages"
# Where a leaked configuration would sit; the whole image (~550 MB) is not read byte by byte.
SCANNED = ("etc", "root", "run", "tmp", "var/tmp", "opt/fluxpush/etc", "src", "wheels")


@pytest.fixture(scope="module")
def rootfs(image) -> Iterator[Path]:
    """The image's files, mounted read-only from local storage."""
    path = subprocess.run(["podman", "image", "mount", image], check=True, capture_output=True, text=True)
    try:
        yield Path(path.stdout.strip())
    finally:
        subprocess.run(["podman", "image", "unmount", image], capture_output=True)


def image_config(image: str) -> dict:
    done = subprocess.run(["podman", "image", "inspect", image], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)[0]


def scanned_files(root: Path) -> Iterator[Path]:
    for top in SCANNED:
        for path in (root / top).rglob("*"):
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 5_000_000:
                yield path


def test_the_tag_is_the_hash_of_what_the_image_is_built_from(image):
    assert image.endswith(":" + source_hash())


def test_runs_as_root_from_an_absolute_exec_form_entrypoint(image):
    config = image_config(image)["Config"]
    assert config.get("User", "") in ("", "root", "0"), "GitHub: Docker actions run as the default user"
    assert config["Entrypoint"] == ["/opt/fluxpush/entrypoint.sh"]
    names = [variable.split("=")[0] for variable in config["Env"]]
    assert not [name for name in names if name.startswith(("PIP_", "REQUESTS_CA", "SSL_CERT"))]


def test_the_tools_are_there_and_the_sandbox_is_not(rootfs):
    tools = rootfs / "opt/fluxpush/share/fluxpush/bin"
    assert (tools / "kubectl").is_file() and (tools / "helm").is_file()
    assert (rootfs / "usr/bin/git").is_file()
    assert (rootfs / SITE_PACKAGES / "fluxpush" / "action" / "handback.py").is_file()
    for removed in ("kubesim", "kubernetes_validate", "kubernetes/aio", "pip"):
        assert not (rootfs / SITE_PACKAGES / removed).exists(), f"{removed} is not used by the action"


def test_no_host_package_index_configuration_is_in_the_image(rootfs):
    assert not (rootfs / "etc/pip.conf").exists()
    assert not any((rootfs / "run/secrets").glob("*"))
    leaked_lines = {
        line.strip()
        for line in (_pip_config() + _apt_config()).splitlines()
        if line.strip() and not line.startswith("[")
    }
    host_ca = _host_ca_bundle() or HOST_CA_BUNDLES[0]
    host_certs = set(PEM.findall(Path(host_ca).read_text())) if Path(host_ca).is_file() else set()
    stock = rootfs / "etc/ssl/certs/ca-certificates.crt"
    host_only = host_certs - set(PEM.findall(stock.read_text()))  # e.g. an intercepting proxy's CA
    for path in scanned_files(rootfs):
        text = path.read_text(errors="replace")
        assert not any(line in text for line in leaked_lines if len(line) > 12), f"host config in {path}"
        assert not any(cert in text for cert in host_only), f"a host-only CA certificate in {path}"


def test_every_installed_distribution_is_the_one_requirements_lock_pins(rootfs):
    pinned = pins("requirements.lock")
    installed = {}
    for info in (rootfs / SITE_PACKAGES).glob("*.dist-info"):
        name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
        installed[canonicalize_name(name)] = version
    assert installed.pop("fluxpush")
    assert len(installed) > 20
    unpinned = {name: version for name, version in installed.items() if pinned.get(name) != version}
    assert unpinned == {}, "installed but not as requirements.lock pins them"
