"""SOPS documents decrypted as kustomize-controller's decryptor does (getsops/sops stores and
cipher): Flux's own fixtures with their public test keys, and files the real sops CLI encrypts with
keys made for the test. Each format, the encrypted_regex/unencrypted_suffix rules, the MAC, the
missing key and tampered values."""

from __future__ import annotations

import base64
import json
import shutil

import boto3
import pytest
from moto import mock_aws

from fluxpush.sops.document import decrypt_bytes
from fluxpush.sops.formats import Format, detect_format, load
from fluxpush.sops.keys import KeyRing, MissingKeyError, parse_age_identities
from fluxpush.sops.tree import SopsError
from fluxpush.yamldoc import load_documents


def _ring(text: str) -> KeyRing:
    return KeyRing(age=parse_age_identities(text, where="test key"), sources=["test key"])


def _yaml(data: bytes) -> dict:
    return load_documents(data.decode(), "out")[0].data


# -- kustomize-controller's fixtures (testdata/sops), with its published test keys --

def test_flux_fixture_age_yaml_secret(flux_sops_fixtures):
    ring = _ring((flux_sops_fixtures / "keys/age.txt").read_text())
    out = decrypt_bytes((flux_sops_fixtures / "algorithms/age.yaml").read_bytes(), Format.YAML, Format.YAML,
                        ring, where="age.yaml")
    assert _yaml(out) == {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "age"},
                          "stringData": {"key": "value"}}


def test_flux_fixture_dotenv_and_binary(flux_sops_fixtures):
    ring = _ring((flux_sops_fixtures / "keys/age.txt").read_text())
    env = decrypt_bytes((flux_sops_fixtures / "envs/env.env").read_bytes(), Format.DOTENV, Format.DOTENV,
                        ring, where="env.env")
    assert env == b"key=value\n"
    raw = (flux_sops_fixtures / "files/file.txt").read_bytes()
    assert detect_format(raw) is Format.BINARY
    assert decrypt_bytes(raw, Format.BINARY, Format.BINARY, ring, where="file.txt") == b"value"


def test_flux_fixture_json_inside_a_secret_value(flux_sops_fixtures):
    ring = _ring((flux_sops_fixtures / "keys/age.txt").read_text())
    secret = load((flux_sops_fixtures / "inside/secret.yaml").read_bytes(), Format.YAML, where="x")
    inner = base64.b64decode(secret["data"]["key"])
    out = decrypt_bytes(inner, Format.JSON, Format.JSON, ring, where="inside")
    assert json.loads(out) == {"data": "value"}


@pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg is not installed")
def test_flux_fixture_pgp(flux_sops_fixtures):
    ring = KeyRing(pgp=[(flux_sops_fixtures / "keys/pgp.asc").read_text()], sources=["pgp"])
    out = decrypt_bytes((flux_sops_fixtures / "algorithms/pgp.yaml").read_bytes(), Format.YAML, Format.YAML,
                        ring, where="pgp.yaml")
    assert _yaml(out)["stringData"] == {"key": "value"}


def test_flux_fixture_wrong_key_names_the_recipient(flux_sops_fixtures, age_key):
    with pytest.raises(MissingKeyError) as caught:
        decrypt_bytes((flux_sops_fixtures / "algorithms/age.yaml").read_bytes(), Format.YAML, Format.YAML,
                      _ring(age_key.secret), where="age.yaml")
    assert "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29" in str(caught.value)
    assert age_key.secret not in str(caught.value)


def test_flux_fixture_edited_plain_value_fails_the_mac(flux_sops_fixtures):
    ring = _ring((flux_sops_fixtures / "keys/age.txt").read_text())
    data = (flux_sops_fixtures / "algorithms/age.yaml").read_bytes().replace(b"name: age", b"name: evil")
    with pytest.raises(SopsError, match="integrity"):
        decrypt_bytes(data, Format.YAML, Format.YAML, ring, where="age.yaml")


# -- files the real sops CLI encrypts with a key made for this test --

SECRET_YAML = """apiVersion: v1
kind: Secret
metadata:
  name: db
  labels:
    tier: data
stringData:
  password: hunter2
  port: "5432"
  token_unencrypted: visible
"""


def test_sops_cli_yaml_with_encrypted_regex(sops_encrypt, age_key):
    data = sops_encrypt("db.yaml", SECRET_YAML, "--age", age_key.public,
                        "--encrypted-regex", "^(data|stringData)$")
    doc = load(data, Format.YAML, where="db.yaml")
    assert doc["metadata"]["name"] == "db" and doc["stringData"]["password"].startswith("ENC[")
    out = _yaml(decrypt_bytes(data, Format.YAML, Format.YAML, _ring(age_key.secret), where="db.yaml"))
    assert out["stringData"] == {"password": "hunter2", "port": "5432", "token_unencrypted": "visible"}


def test_sops_cli_yaml_with_unencrypted_suffix(sops_encrypt, age_key):
    data = sops_encrypt("db.yaml", SECRET_YAML, "--age", age_key.public)
    doc = load(data, Format.YAML, where="db.yaml")
    assert doc["stringData"]["token_unencrypted"] == "visible"
    assert doc["kind"].startswith("ENC[")  # without a regex, everything else is encrypted
    out = _yaml(decrypt_bytes(data, Format.YAML, Format.YAML, _ring(age_key.secret), where="db.yaml"))
    assert out["kind"] == "Secret" and out["stringData"]["password"] == "hunter2"


def test_sops_cli_yaml_with_unencrypted_regex(sops_encrypt, age_key):
    data = sops_encrypt("db.yaml", SECRET_YAML, "--age", age_key.public, "--unencrypted-regex",
                        "^(apiVersion|kind|metadata)$")
    doc = load(data, Format.YAML, where="db.yaml")
    assert doc["metadata"]["labels"]["tier"] == "data"
    out = _yaml(decrypt_bytes(data, Format.YAML, Format.YAML, _ring(age_key.secret), where="db.yaml"))
    assert out["stringData"]["port"] == "5432"


def test_sops_cli_json_dotenv_ini(sops_encrypt, age_key):
    ring = _ring(age_key.secret)
    js = sops_encrypt("c.json", '{"user": "admin", "n": 3, "on": true, "l": [1.5, "x"]}',
                      "--age", age_key.public)
    assert json.loads(decrypt_bytes(js, Format.JSON, Format.JSON, ring, where="c.json")) == \
        {"user": "admin", "n": 3, "on": True, "l": [1.5, "x"]}
    env = sops_encrypt("c.env", "USER=admin\nPASSWORD=s3cr=t\n", "--age", age_key.public)
    assert decrypt_bytes(env, Format.DOTENV, Format.DOTENV, ring, where="c.env") == \
        b"USER=admin\nPASSWORD=s3cr=t\n"
    ini = sops_encrypt("c.ini", "[db]\nuser = admin\npassword = pw\n", "--age", age_key.public)
    assert detect_format(ini) is Format.INI
    assert decrypt_bytes(ini, Format.INI, Format.INI, ring, where="c.ini") == \
        b"[db]\nuser = admin\npassword = pw\n"


def test_sops_cli_value_moved_to_another_key_does_not_decrypt(sops_encrypt, age_key):
    data = sops_encrypt("db.yaml", SECRET_YAML, "--age", age_key.public, "--encrypted-regex", "^stringData$")
    doc = load(data, Format.YAML, where="db.yaml")
    swapped = data.replace(doc["stringData"]["password"].encode(), b"X").replace(
        doc["stringData"]["port"].encode(), doc["stringData"]["password"].encode())
    with pytest.raises(SopsError, match="stringData:port"):
        decrypt_bytes(swapped.replace(b"password: X", b"password: ''"), Format.YAML, Format.YAML,
                      _ring(age_key.secret), where="db.yaml")


def test_bad_age_key_is_reported_without_its_text():
    with pytest.raises(SopsError) as caught:
        parse_age_identities("AGE-SECRET-KEY-1NOTAKEY", where="$SOPS_AGE_KEY")
    assert "NOTAKEY" not in str(caught.value) and "$SOPS_AGE_KEY" in str(caught.value)


# -- AWS KMS through the run's credentials (moto) --

@pytest.fixture
def kms_key():
    with mock_aws():
        kms = boto3.client("kms", region_name="eu-west-1", aws_access_key_id="AKIAFLUXPUSHSOPS0001",
                           aws_secret_access_key="x")
        arn = kms.create_key()["KeyMetadata"]["Arn"]
        yield kms, arn


def _moto_session():
    return boto3.session.Session(aws_access_key_id="AKIAFLUXPUSHSOPS0001", aws_secret_access_key="x",
                                 region_name="eu-west-1")


def test_kms_document_decrypts_with_the_runs_credentials(kms_key, tree_encryptor):
    kms, arn = kms_key
    data_key = bytes(range(32))
    blob = kms.encrypt(KeyId=arn, Plaintext=data_key)["CiphertextBlob"]
    doc = tree_encryptor({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"},
                          "stringData": {"token": "t0k3n"}}, data_key,
                         {"kms": [{"arn": arn, "enc": base64.b64encode(blob).decode()}]},
                         encrypted_regex="^stringData$")
    raw = json.dumps(doc).encode()
    ring = KeyRing(aws_kms=True, aws_session=_moto_session, sources=["AWS"])
    assert json.loads(decrypt_bytes(raw, Format.JSON, Format.JSON, ring, where="k"))["stringData"] == \
        {"token": "t0k3n"}
    with pytest.raises(MissingKeyError, match=arn):
        decrypt_bytes(raw, Format.JSON, Format.JSON, KeyRing(sources=[]), where="k")


def test_masks_are_flux_builds(flux_sops_fixtures):
    """`flux build` golden output (flux2 cmd/flux/testdata/build-kustomization/podinfo-result.yaml):
    `data` values → base64 `**SOPS**`, `.dockerconfigjson` → base64 `{"mask":"**SOPS**"}`,
    `stringData` → `**SOPS**`; all three are sealed (never written)."""
    from fluxpush.sops.sealed import is_sealed, mask_values

    testdata = flux_sops_fixtures.parents[4] / "flux2-cli/cmd/flux/testdata"
    golden = testdata / "build-kustomization/podinfo-result.yaml"
    if not golden.is_file():
        pytest.skip("../shared/corpus/flux2-cli is not beside this checkout")
    text = golden.read_text()
    docker = mask_values({"kind": "Secret", "data": {".dockerconfigjson": "x"}, "sops": {}})
    token = mask_values({"kind": "Secret", "data": {"token": "x"}, "sops": {}})
    basic = mask_values({"kind": "Secret", "stringData": {"password": "x"}, "sops": {}})
    assert f".dockerconfigjson: {docker['data']['.dockerconfigjson']}" in text
    assert f"token: {token['data']['token']}" in text
    assert f"password: '{basic['stringData']['password']}'" in text
    assert all(is_sealed(o) for o in (docker, token, basic))


def test_run_keys_sources_and_their_errors(tmp_path, age_key):
    from fluxpush.errors import UsageError
    from fluxpush.sops.keysource import run_keys

    config = tmp_path / "xdg"
    (config / "sops/age").mkdir(parents=True)
    (config / "sops/age/keys.txt").write_text(age_key.secret + "\n")
    env = {"XDG_CONFIG_HOME": str(config), "SOPS_AGE_KEY": age_key.secret}
    ring = run_keys(None, env, age_key=age_key.secret)
    assert len(ring.age) == 3
    assert ring.sources[1:] == ["input sops-age-key", "$SOPS_AGE_KEY", str(config / "sops/age/keys.txt")]

    with pytest.raises(UsageError, match="--sops-age-key-file: cannot read"):
        run_keys(str(tmp_path / "missing"), {"HOME": str(tmp_path)})
    with pytest.raises(UsageError) as caught:
        run_keys(None, {"HOME": str(tmp_path), "SOPS_AGE_KEY": "AGE-SECRET-KEY-1WRONGWRONG"})
    assert "$SOPS_AGE_KEY" in str(caught.value) and "WRONGWRONG" not in str(caught.value)
