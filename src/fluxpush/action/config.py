"""The action's inputs, read from the `INPUT_*` variables the runner sets, validated once.

The runner names each input `INPUT_<ID upper-cased>` with dashes kept (`cluster-path` →
`INPUT_CLUSTER-PATH`); an input that is unset and empty are the same. Booleans follow
actions/toolkit's `getBooleanInput` (`true|True|TRUE|false|False|FALSE`). Every invalid input is
reported at once, each message naming its input.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from fluxpush.errors import UsageError
from fluxpush.flux.duration import parse_duration

# Every input action.yml declares (tests keep the two in step).
INPUT_NAMES = (
    "cluster-path",
    "mode",
    "eks-cluster-name",
    "aws-region",
    "role-arn",
    "kubeconfig",
    "github-app-id",
    "github-app-private-key",
    "github-token",
    "targets",
    "dry-run",
    "prune",
    "no-remote-bases",
    "force",
    "timeout",
    "comment",
    "environment",
    "sops-age-key",
    "kubeconfig-for",
)
MODES = ("auto", "plan", "apply", "reconcile", "image-update")
# The kubeconfig `user` fields that hold credentials.
KUBECONFIG_CREDENTIAL_KEYS = ("token", "client-key-data", "password")
COMMENT_POLICIES = ("on-change", "always", "never")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
# GitHub refuses environment names longer than 255 characters.
ENVIRONMENT_MAX = 255


@dataclass(frozen=True, slots=True)
class ActionConfig:
    """Validated inputs; optional ones are None when not given."""

    cluster_path: str
    mode: str = "auto"
    eks_cluster_name: str | None = None
    aws_region: str | None = None
    role_arn: str | None = None
    kubeconfig: str | None = None  # a path, or the kubeconfig itself
    github_app_id: str | None = None
    github_app_private_key: str | None = None
    github_token: str | None = None
    targets: tuple[str, ...] = ()
    dry_run: bool = False
    prune: bool = True
    no_remote_bases: bool = False  # kustomize-controller's --no-remote-bases
    force: bool = False
    timeout: float | None = None  # seconds
    comment: str = "on-change"
    environment: str = ""
    sops_age_key: str | None = None  # age identities, one a line
    kubeconfig_for: dict[str, str] | None = None  # spec.kubeConfig Secret `ns/name` → kubeconfig path

    @property
    def has_cluster_credentials(self) -> bool:
        """Whether a cluster is configured at all (EKS or kubeconfig)."""
        return bool(self.eks_cluster_name or self.kubeconfig)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must be masked in the log: the key, the token, an inline kubeconfig's credentials."""
        values = [v for v in (self.github_app_private_key, self.github_token) if v]
        if self.sops_age_key:
            values += [line.strip() for line in self.sops_age_key.splitlines()
                       if line.strip() and not line.strip().startswith("#")]
        if self.kubeconfig and is_inline_kubeconfig(self.kubeconfig):
            values += kubeconfig_credentials(self.kubeconfig)
        return tuple(values)


def input_variable(name: str) -> str:
    """The variable the runner passes input `name` in: `INPUT_` + upper-cased id, spaces as `_`."""
    return "INPUT_" + name.replace(" ", "_").upper()


def is_inline_kubeconfig(value: str) -> bool:
    """Whether the `kubeconfig` input holds the file's content rather than a path to it."""
    text = value.strip()
    return "\n" in text or text.startswith(("apiVersion:", "{"))


def kubeconfig_credentials(text: str) -> list[str]:
    """The credential values of a kubeconfig's users (tokens, keys, passwords).

    Only these are masked, not the whole file: masking its every line would blank out lines such as
    `apiVersion: v1` wherever they appear in the log.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    users = data.get("users") if isinstance(data, dict) else None
    found = []
    for entry in users if isinstance(users, list) else []:
        user = entry.get("user") if isinstance(entry, dict) else None
        if isinstance(user, dict):
            found += [str(user[k]) for k in KUBECONFIG_CREDENTIAL_KEYS if isinstance(user.get(k), str)]
    return found


def environment_from_cluster_path(cluster_path: str) -> str:
    """The default deployment environment: the cluster path's last folder (`clusters/prod` → `prod`)."""
    return posixpath.basename(posixpath.normpath(cluster_path.strip().strip("/"))) or cluster_path


def split_targets(value: str) -> tuple[str, ...]:
    """`a, b` or one name a line → ("a", "b"); blanks dropped, order kept, duplicates once."""
    return tuple(dict.fromkeys(t.strip() for t in re.split(r"[,\n]", value) if t.strip()))


class _Reader:
    """Reads inputs and collects every problem, so all are reported together."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str) -> str | None:
        assert name in INPUT_NAMES, name
        value = self.environ.get(input_variable(name), "")
        if name not in ("kubeconfig", "github-app-private-key", "sops-age-key"):
            value = value.strip()
        return value if value.strip() else None

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name) or default
        if value not in allowed:
            self.problems.append(f"input `{name}`: {value!r} is not one of {', '.join(allowed)}")
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.problems.append(f"input `{name}`: {value!r} is not a boolean (use true or false)")
        return default

    def duration(self, name: str) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError:
            self.problems.append(f"input `{name}`: {value!r} is not a duration such as 5m, 90s or 1h30m")
            return None


def _kubeconfig_for(read: _Reader) -> dict[str, str]:
    """`kubeconfig-for`: `NAMESPACE/NAME=FILE` entries (comma or newline separated)."""
    found = {}
    for entry in split_targets(read.text("kubeconfig-for") or ""):
        ref, sep, path = entry.partition("=")
        if not sep or ref.count("/") != 1 or not all(ref.split("/")) or not path.strip():
            read.problems.append(f"input `kubeconfig-for`: {entry!r} is not NAMESPACE/NAME=FILE")
            continue
        found[ref.strip()] = path.strip()
    return found


def read_config(environ: Mapping[str, str]) -> ActionConfig:
    """The inputs from the environment; a UsageError lists every invalid one by name."""
    read = _Reader(environ)
    cluster_path = read.text("cluster-path")
    if cluster_path is None:
        read.problems.append("input `cluster-path` is required (e.g. clusters/dev)")
    eks = read.text("eks-cluster-name")
    region = read.text("aws-region")
    role = read.text("role-arn")
    kubeconfig = read.text("kubeconfig")
    if eks and kubeconfig:
        read.problems.append("inputs `eks-cluster-name` and `kubeconfig` exclude each other; give one")
    if role and not eks:
        read.problems.append("input `role-arn` needs `eks-cluster-name`")
    if role and not role.startswith("arn:"):
        read.problems.append(f"input `role-arn`: {role!r} is not an IAM role ARN (arn:aws:iam::…:role/…)")
    app_id = read.text("github-app-id")
    app_key = read.text("github-app-private-key")
    if bool(app_id) != bool(app_key):
        given, missing = (
            ("github-app-id", "github-app-private-key")
            if app_id
            else ("github-app-private-key", "github-app-id")
        )
        read.problems.append(f"input `{given}` needs `{missing}` too (or drop it and use `github-token`)")
    environment = read.text("environment") or environment_from_cluster_path(cluster_path or "")
    if len(environment) > ENVIRONMENT_MAX:
        read.problems.append(f"input `environment` is longer than {ENVIRONMENT_MAX} characters")
    config = ActionConfig(
        cluster_path=cluster_path or "",
        mode=read.choice("mode", MODES, "auto"),
        eks_cluster_name=eks,
        aws_region=region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
        role_arn=role,
        kubeconfig=kubeconfig,
        github_app_id=app_id,
        github_app_private_key=app_key,
        github_token=read.text("github-token"),
        targets=split_targets(read.text("targets") or ""),
        dry_run=read.boolean("dry-run", False),
        prune=read.boolean("prune", True),
        no_remote_bases=read.boolean("no-remote-bases", False),
        force=read.boolean("force", False),
        timeout=read.duration("timeout"),
        comment=read.choice("comment", COMMENT_POLICIES, "on-change"),
        environment=environment,
        sops_age_key=read.text("sops-age-key"),
        kubeconfig_for=_kubeconfig_for(read),
    )
    if config.eks_cluster_name and not config.aws_region:
        read.problems.append("input `aws-region` is required with `eks-cluster-name` (or set AWS_REGION)")
    if read.problems:
        raise UsageError("invalid action inputs:\n" + "\n".join(f"  - {p}" for p in read.problems))
    return config
