"""Inputs as the runner passes them (`INPUT_<ID>` with dashes kept), validated all at once."""

from __future__ import annotations

import pytest

from fluxpush.action.config import (
    environment_from_cluster_path,
    input_variable,
    is_inline_kubeconfig,
    read_config,
    split_targets,
)
from fluxpush.errors import UsageError


def inputs(**values: str) -> dict[str, str]:
    return {input_variable(name.replace("_", "-")): value for name, value in values.items()}


def test_input_variables_keep_dashes_like_the_runner():
    assert input_variable("github-app-private-key") == "INPUT_GITHUB-APP-PRIVATE-KEY"
    assert input_variable("cluster path") == "INPUT_CLUSTER_PATH"


def test_inputs_are_read_with_defaults_and_strict_booleans():
    config = read_config(
        inputs(
            cluster_path=" clusters/prod ",
            mode="reconcile",
            eks_cluster_name="prod",
            aws_region="eu-west-1",
            role_arn="arn:aws:iam::123456789012:role/deployer",
            targets="app-1, app-2\ninfrastructure\napp-1",
            dry_run="TRUE",
            prune="false",
            timeout="1h30m",
            github_token="ghs_x",
        )
    )
    assert config.cluster_path == "clusters/prod"
    assert config.mode == "reconcile" and config.eks_cluster_name == "prod"
    assert config.targets == ("app-1", "app-2", "infrastructure")
    assert (config.dry_run, config.prune, config.force) == (True, False, False)
    assert config.timeout == 5400.0
    assert config.environment == "prod", "the environment defaults to the cluster path's last folder"
    assert config.comment == "on-change"
    assert config.secrets == ("ghs_x",)


def test_every_invalid_input_is_named_in_one_error():
    with pytest.raises(UsageError) as caught:
        read_config(
            inputs(
                mode="deploy",
                dry_run="yes",
                timeout="soon",
                comment="sometimes",
                github_app_id="123",
                role_arn="deployer",
            )
        )
    message = str(caught.value)
    for name in (
        "cluster-path",
        "mode",
        "dry-run",
        "timeout",
        "comment",
        "github-app-private-key",
        "role-arn",
    ):
        assert f"`{name}`" in message, name
    assert "'yes' is not a boolean" in message


def test_eks_needs_a_region_and_excludes_a_kubeconfig():
    with pytest.raises(UsageError, match="`aws-region` is required"):
        read_config(inputs(cluster_path="clusters/dev", eks_cluster_name="dev"))
    with pytest.raises(UsageError, match="exclude each other"):
        read_config(inputs(cluster_path="c", eks_cluster_name="dev", aws_region="x", kubeconfig="k"))
    config = read_config({**inputs(cluster_path="c", eks_cluster_name="dev"), "AWS_REGION": "us-east-2"})
    assert config.aws_region == "us-east-2", "the region from configure-aws-credentials is used"


def test_an_inline_kubeconfig_has_its_credentials_masked_and_a_path_has_none():
    inline = "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user: {token: abc}\n"
    assert is_inline_kubeconfig(inline) and not is_inline_kubeconfig(".kube/ci.yaml")
    assert read_config(inputs(cluster_path="c", kubeconfig=inline)).secrets == ("abc",), "credentials only"
    assert read_config(inputs(cluster_path="c", kubeconfig=".kube/ci.yaml")).secrets == ()


@pytest.mark.parametrize(
    ("path", "environment"),
    [("clusters/prod", "prod"), ("./clusters/staging/", "staging"), ("prod-eks", "prod-eks")],
)
def test_environment_from_cluster_path(path, environment):
    assert environment_from_cluster_path(path) == environment


def test_targets_split_on_commas_and_newlines():
    assert split_targets("a,b\n\n c ,a") == ("a", "b", "c")
    assert split_targets("") == ()


def test_the_sops_age_key_input_is_a_secret_line_by_line():
    key = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
    config = read_config(inputs(cluster_path="clusters/dev", sops_age_key=f"# created: today\n{key}\n"))
    assert config.sops_age_key is not None and key in config.sops_age_key
    assert config.secrets == (key,)


def test_kubeconfig_for_maps_spoke_secrets_to_files_and_names_bad_entries(tmp_path):
    from fluxpush.action.modes import engine_options
    from fluxpush.planning.options import PlanWay

    mapping = "flux-system/spoke-a=spokes/a.yaml\nflux-system/spoke-b=/abs/b.yaml"
    config = read_config(inputs(cluster_path="clusters/hub", kubeconfig_for=mapping))
    assert config.kubeconfig_for == {"flux-system/spoke-a": "spokes/a.yaml",
                                     "flux-system/spoke-b": "/abs/b.yaml"}
    (tmp_path / "spokes").mkdir()
    (tmp_path / "spokes/a.yaml").write_text("apiVersion: v1\n")
    with pytest.raises(UsageError, match=r"/abs/b.yaml \(for flux-system/spoke-b\) is not a file"):
        engine_options(config, PlanWay.SERVER, tmp_path)
    one = read_config(inputs(cluster_path="clusters/hub", kubeconfig_for="flux-system/spoke-a=spokes/a.yaml"))
    assert engine_options(one, PlanWay.SERVER, tmp_path).kubeconfigs == \
        {"flux-system/spoke-a": str(tmp_path / "spokes/a.yaml")}
    with pytest.raises(UsageError, match=r"'spoke-a\.yaml' is not NAMESPACE/NAME=FILE"):
        read_config(inputs(cluster_path="clusters/hub", kubeconfig_for="spoke-a.yaml"))
