"""Build the action's image from the real Dockerfile with buildah, the way CI and the container tests do.

    python tests/container/image.py            # build (or reuse) and print the tag
    python tests/container/image.py --timing   # also print how long each part took

No Docker daemon is needed: Debian's buildah builds as root (`--isolation chroot`) into the local
containers storage that podman runs from (`podman run localhost/fluxpush-action` after it). The tag is
`localhost/fluxpush-action:<hash>` (also tagged `latest`), the hash of every file the build reads
(.dockerignore, Dockerfile, entrypoint/, pyproject.toml, the runtime and build locks, src/ but
kubesim), so an unchanged tree reuses the image and any change builds a new one.

The Dockerfile's base, python:3.11-slim-bookworm, is pulled when a registry can be reached. When it
cannot (no Docker Hub here), a stand-in is made once with debootstrap (Debian bookworm's python3 is
3.11, the same minor version) and tagged locally under the base's name, labelled
`org.fluxpush.stand-in=debootstrap`. Its root filesystem is kept as a tarball in the cache folder
(`$FLUXPUSH_CONTAINER_CACHE`, default ~/.cache/fluxpush-container), so a wiped image store does not
mean another debootstrap.

The host's pip configuration (/etc/pip.conf, PIP_* variables), CA bundle and apt `Acquire::` settings
reach the build as build secrets only (see the Dockerfile); tests/container/test_image.py checks that
none of them is in the image.
"""

from __future__ import annotations

import configparser
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IMAGE_REPOSITORY = "localhost/fluxpush-action"
LATEST = f"{IMAGE_REPOSITORY}:latest"  # the image of the tree built or checked last, for other tools
BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
STAND_IN_LABEL = "org.fluxpush.stand-in"
# What the stand-in base holds: python:3.11-slim has python, the venv module and CA certificates.
STAND_IN_PACKAGES = "python3,python3-venv,python-is-python3,ca-certificates"
DEBIAN_MIRROR = os.environ.get("FLUXPUSH_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BUILD_INPUTS = (
    ".dockerignore", "Dockerfile", "entrypoint", "pyproject.toml",
    "requirements.lock", "requirements-build.lock", "src",
)
# In src/ but not in the build context (.dockerignore): the sandbox server and pip's editable metadata.
NOT_BUILT = ("src/kubesim", ".egg-info", "__pycache__")
HOST_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
# The apt settings a build behind a proxy or on a snapshot mirror may need from the host.
APT_NETWORK_SETTING = re.compile(
    r'Acquire::(https?::|ftp::)?(Proxy|CaInfo|Verify|Check-Valid-Until|Check-Date)\S* "'
)
KEEP_IMAGES = 8  # images of other source trees kept (other worktrees on this machine, older branches)
# Where the Dockerfile's secret mounts put the host's CA bundle during a build step.
SECRET_CA_PATH = "/run/secrets/ca.crt"


class ImageError(RuntimeError):
    """The image could not be built; the message says which step and why."""


def cache_dir() -> Path:
    """The folder kept between runs (the stand-in base tarball and the build lock)."""
    folder = Path(os.environ.get("FLUXPUSH_CONTAINER_CACHE") or Path.home() / ".cache" / "fluxpush-container")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def missing_tools() -> list[str]:
    """The programs a build and a run need that this machine lacks."""
    return [name for name in ("buildah", "podman") if shutil.which(name) is None]


def _build_files(root: Path) -> Iterator[Path]:
    for name in BUILD_INPUTS:
        top = root / name
        if top.is_file():
            yield top
        elif top.is_dir():
            files = (path for path in top.rglob("*") if path.is_file())
            yield from sorted(path for path in files if not _not_built(root, path))


def _not_built(root: Path, path: Path) -> bool:
    relative = str(path.relative_to(root))
    return relative.startswith(NOT_BUILT[0]) or any(part.endswith(NOT_BUILT[1:]) for part in path.parts)


def source_hash(root: Path = PROJECT_ROOT) -> str:
    """A hash of every file the image is built from (paths, contents and the executable bit)."""
    digest = hashlib.sha256()
    for path in _build_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_tag(root: Path = PROJECT_ROOT) -> str:
    """The tag the image of this source tree has (or will have)."""
    return f"{IMAGE_REPOSITORY}:{source_hash(root)}"


def run(argv: list[str], what: str, timeout: float = 1800) -> str:
    """Run a command; its stdout, or an ImageError naming `what` with the command's last output lines."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise ImageError(f"{what} failed (exit {done.returncode}): {' '.join(argv[:4])} ...\n{tail}")
    return done.stdout


def image_exists(name: str) -> bool:
    return subprocess.run(["podman", "image", "exists", name], capture_output=True).returncode == 0


def _pull_base() -> bool:
    done = subprocess.run(["podman", "pull", "--quiet", BASE_IMAGE], capture_output=True, timeout=300)
    return done.returncode == 0


def _debootstrap(tarball: Path) -> None:
    """Make the stand-in root filesystem with debootstrap and keep it as `tarball`."""
    if shutil.which("debootstrap") is None:
        raise ImageError(f"{BASE_IMAGE} cannot be pulled and debootstrap is not installed (make system-deps)")
    with tempfile.TemporaryDirectory(prefix="fluxpush-rootfs-", dir=tarball.parent) as scratch:
        rootfs = Path(scratch) / "rootfs"
        run(
            ["debootstrap", "--variant=minbase", f"--include={STAND_IN_PACKAGES}", "bookworm", str(rootfs),
             DEBIAN_MIRROR],
            "debootstrap of the stand-in base",
        )
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = tarball.with_suffix(".partial")
        run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], "packing the stand-in")
        partial.replace(tarball)


def ensure_base() -> str:
    """Make sure the Dockerfile's base is in local storage; returns "pulled", "present" or "stand-in"."""
    if image_exists(BASE_IMAGE):
        return "present"
    if os.environ.get("FLUXPUSH_CONTAINER_NO_PULL") != "1" and _pull_base():
        return "pulled"
    tarball = cache_dir() / "stand-in-bookworm-python3.tar"
    if not tarball.is_file():
        _debootstrap(tarball)
    run(
        ["podman", "import", "--quiet",
         "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
         "--change", "ENV LANG=C.UTF-8",
         "--change", f"LABEL {STAND_IN_LABEL}=debootstrap",
         "--change", 'CMD ["python3"]',
         str(tarball), BASE_IMAGE],
        "importing the stand-in base",
    )
    return "stand-in"


def _pip_config() -> str:
    """The host's pip configuration as one file: /etc/pip.conf (or $PIP_CONFIG_FILE), then PIP_* vars."""
    config = configparser.ConfigParser(interpolation=None)
    config.read([os.environ.get("PIP_CONFIG_FILE") or "/etc/pip.conf"])
    if not config.has_section("global"):
        config.add_section("global")
    for name, value in os.environ.items():
        if name.startswith("PIP_") and name != "PIP_CONFIG_FILE":
            config.set("global", name[4:].lower().replace("_", "-"), value)
    for section in config.sections():
        if config.has_option(section, "cert"):
            config.set(section, "cert", SECRET_CA_PATH)
    lines: list[str] = []
    for section in config.sections():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in config.items(section, raw=True))
    return "\n".join(lines) + "\n"


def _apt_config() -> str:
    """The host's apt network settings (proxies, TLS, snapshot date checks), in apt.conf syntax."""
    if shutil.which("apt-config") is None:
        return ""
    dump = subprocess.run(["apt-config", "dump"], capture_output=True, text=True).stdout
    return "".join(line + "\n" for line in dump.splitlines() if APT_NETWORK_SETTING.match(line))


def _host_ca_bundle() -> str | None:
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), *HOST_CA_BUNDLES):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def build(tag: str, root: Path = PROJECT_ROOT) -> None:
    """`buildah bud` the Dockerfile into `tag`, the host's package-index settings given as secrets."""
    with tempfile.TemporaryDirectory(prefix="fluxpush-build-secrets-") as scratch:
        secrets = Path(scratch)
        (secrets / "pip.conf").write_text(_pip_config())
        (secrets / "apt.conf").write_text(_apt_config())
        ca = _host_ca_bundle()
        argv = ["buildah", "bud", "--isolation", "chroot", "--layers", "--pull=never", "--tag", tag,
                "--secret", f"id=pip.conf,src={secrets / 'pip.conf'}",
                "--secret", f"id=apt.conf,src={secrets / 'apt.conf'}"]
        if ca:
            argv += ["--secret", f"id=ca.crt,src={ca}"]
        argv += ["--file", str(root / "Dockerfile"), str(root)]
        run(argv, "buildah bud of the Dockerfile", timeout=3600)


def prune_old_images(keep: int = KEEP_IMAGES) -> list[str]:
    """Remove all but the `keep` newest fluxpush-action images (each source change makes one), and
    the untagged build-stage images no later build can reuse (any source change rebuilds that stage)."""
    listing = run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter",
                   f"reference={IMAGE_REPOSITORY}"], "listing images")
    old = [name for name in listing.split() if name != LATEST][keep:]  # newest first
    if old:
        run(["podman", "rmi", *old], "removing old images")
    run(["podman", "image", "prune", "--force"], "removing untagged images")
    return old


@contextmanager
def build_lock() -> Iterator[None]:
    """One build at a time on this machine (pytest-xdist workers, parallel CI jobs)."""
    with (cache_dir() / "build.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_image(root: Path = PROJECT_ROOT) -> tuple[str, dict[str, float | str]]:
    """The image of this source tree, built when not already in local storage; the tag and timings."""
    tag = image_tag(root)
    timings: dict[str, float | str] = {}
    with build_lock():
        if image_exists(tag):
            timings["image"] = "cached"
            run(["podman", "tag", tag, LATEST], "tagging the image as latest")
            return tag, timings
        started = time.monotonic()
        timings["base"] = ensure_base()
        timings["base_seconds"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        build(tag, root)
        timings["build_seconds"] = round(time.monotonic() - started, 1)
        timings["image"] = "built"
        run(["podman", "tag", tag, LATEST], "tagging the image as latest")
        timings["removed_old"] = len(prune_old_images())
    return tag, timings


def main(argv: list[str]) -> int:
    missing = missing_tools()
    if missing:
        print(f"error: {', '.join(missing)} not installed (as root: make system-deps)", file=sys.stderr)
        return 1
    try:
        tag, timings = ensure_image()
    except ImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if "--timing" in argv:
        print(" ".join(f"{key}={value}" for key, value in timings.items()), file=sys.stderr)
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
