"""Provider Secrets for notifications: from the cluster first, else from $FLUXPUSH_PROVIDER_SECRETS
(for runs whose cluster has no such Secret); a malformed value is refused without echoing it."""

from __future__ import annotations

import base64
import json

import pytest

from fluxpush.app.lookups import PROVIDER_SECRETS_ENV, env_secret_lookup, provider_secret_lookup
from fluxpush.errors import UsageError


def test_env_secrets_are_found_by_namespace_and_name():
    lookup = env_secret_lookup({PROVIDER_SECRETS_ENV: json.dumps(
        {"flux-system/slack-webhook": {"address": "https://hooks.example/T0/B0/s3cr3t", "port": 8443}})})

    assert lookup("flux-system", "slack-webhook") == {"address": "https://hooks.example/T0/B0/s3cr3t",
                                                      "port": "8443"}
    assert lookup("default", "slack-webhook") is None
    assert env_secret_lookup({})("flux-system", "slack-webhook") is None


@pytest.mark.parametrize("value", ['{"no-slash": {"address": "https://s3cr3t"}}', "https://s3cr3t", "[1]"])
def test_a_malformed_value_is_refused_without_echoing_it(value):
    with pytest.raises(UsageError) as raised:
        env_secret_lookup({PROVIDER_SECRETS_ENV: value})
    assert "s3cr3t" not in str(raised.value)
    assert PROVIDER_SECRETS_ENV in str(raised.value)


@pytest.mark.integration
def test_the_cluster_secret_wins_over_the_environment(sandbox):
    sandbox.client.apply({"apiVersion": "v1", "kind": "Secret",
                          "metadata": {"name": "hook", "namespace": "default"},
                          "data": {"address": base64.b64encode(b"https://from-cluster").decode()}}, "test")
    environ = {PROVIDER_SECRETS_ENV: json.dumps({"default/hook": {"address": "https://from-env"},
                                                 "default/other": {"address": "https://other"}})}

    lookup = provider_secret_lookup(sandbox.client, environ)

    assert lookup("default", "hook") == {"address": "https://from-cluster"}
    assert lookup("default", "other") == {"address": "https://other"}
    assert lookup("default", "missing") is None
