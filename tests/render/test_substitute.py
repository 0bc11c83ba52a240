"""postBuild substitution: the envsubst language, variable sources and per-object behaviour.

Expected values come from fluxcd/pkg `envsubst` (eval_test.go, parse rules) and `kustomize/varsub`,
plus one `flux build` golden read in place from the shared corpus.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from fluxpush.errors import SubstitutionError
from fluxpush.render.substitute import (
    configmap_variables,
    envsubst,
    merge_variables,
    secret_variables,
    substitute_object,
)
from fluxpush.yamldoc import load_documents

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "flux2-cli" / "cmd" / "flux" / "testdata"
BUILD = CORPUS / "build-kustomization"

VARS = {
    "var01": "abcdEFGH28ij",
    "path_name": "/home/bozo/ideas/thoughts.for.today",
    "stringZ": "abcABC123ABCabc",
    "filename": "bash.string.txt",
    "nested": "path/to/file",
    "empty": "",
    "neg": "-3",
}


def expand(text: str, variables: dict[str, str] | None = None, *, strict: bool = False) -> str:
    return envsubst(text, VARS if variables is None else variables, strict=strict)


def deployment(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": spec}


# --- envsubst: plain references and escapes -------------------------------------------------------

def test_braced_variable_is_replaced_and_unset_is_empty_when_not_strict() -> None:
    assert expand("a ${var01} b ${missing}.") == "a abcdEFGH28ij b ."


def test_unbraced_dollar_variable_is_never_substituted() -> None:
    assert expand("$var01 and $ alone and ${var01}") == "$var01 and $ alone and abcdEFGH28ij"


def test_double_dollar_escapes_an_expression_and_a_dollar() -> None:
    assert expand("$${var01}") == "${var01}"
    assert expand("$$string") == "$string"
    assert expand("$$${var01}") == "$abcdEFGH28ij"
    assert expand("text ${var01}$${var$${var01}$var01${var01}") == (
        "text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij")


def test_backslashes_outside_expressions_are_kept() -> None:
    assert expand(r"\\.\pipe\name ${var01}") == r"\\.\pipe\name abcdEFGH28ij"


def test_text_without_dollar_is_returned_as_is() -> None:
    text = "plain: text\n"
    assert expand(text) is text


# --- envsubst: default operators ------------------------------------------------------------------

@pytest.mark.parametrize("op", [":=", ":-", "=", ":+", ":?"])
def test_default_operators_supply_the_default_when_unset_or_empty(op: str) -> None:
    assert expand(f"${{missing{op}dflt}}") == "dflt"
    assert expand(f"${{empty{op}dflt}}") == "dflt"
    assert expand(f"${{var01{op}dflt}}") == "abcdEFGH28ij"


@pytest.mark.parametrize("op", ["-", "+", "?"])
def test_colonless_dash_plus_question_do_not_parse_as_upstream(op: str) -> None:
    with pytest.raises(SubstitutionError, match=r"^missing closing brace$"):
        expand(f"${{missing{op}dflt}}")


def test_default_may_mix_text_and_nested_expressions() -> None:
    assert expand("${missing=pre-${var01}-suf}") == "pre-abcdEFGH28ij-suf"
    assert expand("${missing:=${var01^^}}") == "ABCDEFGH28IJ"
    assert expand("$${missing=${var01}}") == "${missing=abcdEFGH28ij}"


# --- envsubst: transforming operators --------------------------------------------------------------

@pytest.mark.parametrize(("text", "want"), [
    ("${path_name:11}", "ideas/thoughts.for.today"),
    ("${path_name:11:5}", "ideas"),
    ("${var01:1:-1}", "bcdEFGH28i"),
    ("${var01:${neg}}", "8ij"),
    ("${var01:99}", ""),
    ("${var01:x}", "abcdEFGH28ij"),
    ("${var01:2:y}", "abcdEFGH28ij"),
    ("${var01:-3}", "abcdEFGH28ij"),  # `:-` is the default operator, not a negative offset
])
def test_substring(text: str, want: str) -> None:
    assert expand(text) == want


def test_length_counts_utf8_bytes_like_go() -> None:
    assert expand("${#var01}") == "12"
    assert expand("${#v}", {"v": "é"}) == "2"


@pytest.mark.parametrize(("text", "want"), [
    ("${v^}", "ABcD"), ("${v^^}", "ABCD"), ("${v,}", "aBcD"), ("${v,,}", "abcd"), ("${v,^}", "aBcD"),
])
def test_case_conversion(text: str, want: str) -> None:
    assert expand(text, {"v": "aBcD"}) == want


def test_case_conversion_uses_simple_rune_mapping() -> None:
    assert expand("${v^^}", {"v": "straße"}) == "STRAßE"


@pytest.mark.parametrize(("text", "want"), [
    ("${filename#*.}", "string.txt"),
    ("${filename##*.}", "txt"),
    ("${filename%.*}", "bash.string"),
    ("${filename%%.*}", "bash"),
    ("${nested#*/}", "to/file"),
    ("${nested##*/}", "file"),  # `*` also matches `/` in Flux's glob
    ("${v#[0-9]}", "2-rc"),
    ("${v##[^a-z]?}", "-rc"),
    ("${v#[}", "12-rc"),  # a malformed pattern leaves the value alone
    ("${v%c}", "12-r"),
])
def test_prefix_and_suffix_removal_with_glob_patterns(text: str, want: str) -> None:
    assert expand(text, {**VARS, "v": "12-rc"}) == want


@pytest.mark.parametrize(("text", "want"), [
    ("${stringZ/abc/xyz}", "xyzABC123ABCabc"),
    ("${stringZ//abc/xyz}", "xyzABC123ABCxyz"),
    ("${stringZ/#abc/XYZ}", "XYZABC123ABCabc"),
    ("${stringZ/%abc/XYZ}", "abcABC123ABCXYZ"),
    ("${stringZ/#/pre-}", "pre-abcABC123ABCabc"),
    ("${stringZ/%/-suf}", "abcABC123ABCabc-suf"),
    ("${stringZ/abc/}", "ABC123ABCabc"),
    ("${stringZ//abc/}", "ABC123ABC"),
    ("${stringZ/#abc/}", "abcABC123ABCabc"),  # upstream needs a replacement for /# and /%
    ("${stringZ/a*c/X}", "abcABC123ABCabc"),  # replace patterns are literal text
])
def test_replace(text: str, want: str) -> None:
    assert expand(text) == want


def test_escaped_slash_and_backslash_inside_replace_patterns() -> None:
    assert expand(r"${v//\//-}", {"v": "foo/bar/baz"}) == "foo-bar-baz"
    assert expand(r"${v/\\/+}", {"v": "a\\b"}) == "a+b"
    assert expand(r"${v/a/\/x}", {"v": "abc"}) == "/xbc"


def test_nested_expressions_as_operator_arguments() -> None:
    assert expand("${nested//${sep}/${to}}", {**VARS, "sep": "/", "to": "."}) == "path.to.file"


@pytest.mark.parametrize(("text", "message"), [
    ("${}", "unable to parse variable name"),
    ("${ var01}", "unable to parse variable name"),
    ("${var01", "missing closing brace"),
    ("${var01:}", "unable to parse substitution within function"),
    ("${var01#}", "unable to parse substitution within function"),
    ("${var01:-x", "unable to parse substitution within function"),
    ("${#}", "bad substitution"),
    ("${var01//x}", "bad substitution"),
    ("${var01^^^}", "bad substitution"),
    ("${var01#a${x}}", "bad substitution"),
])
def test_syntax_errors_use_upstream_messages(text: str, message: str) -> None:
    with pytest.raises(SubstitutionError) as caught:
        expand(text)
    assert caught.value.message == message


def test_syntax_error_anywhere_wins_over_strict_mode() -> None:
    with pytest.raises(SubstitutionError, match=r"^missing closing brace$"):
        expand("${missing} ${broken", {}, strict=True)


# --- envsubst: strict mode -------------------------------------------------------------------------

def test_strict_mode_message_is_exact() -> None:
    with pytest.raises(SubstitutionError) as caught:
        expand("x: ${CLUSTER_NAME}", {}, strict=True)
    assert caught.value.message == 'variable not set (strict mode): "CLUSTER_NAME"'


@pytest.mark.parametrize("text", [
    "${m}", "${#m}", "${m^}", "${m^^}", "${m,}", "${m,,}", "${m:0}", "${m:0:10}", "${m/a/b}",
    "${m//a/b}", "${m/#a/b}", "${m/%a/b}", "${m#a}", "${m##a}", "${m%a}", "${m%%a}",
])
def test_strict_mode_fails_a_missing_variable_under_transforming_operators(text: str) -> None:
    with pytest.raises(SubstitutionError, match='variable not set \\(strict mode\\): "m"'):
        expand(text, {}, strict=True)


@pytest.mark.parametrize("text", ["${m:=x}", "${m:-x}", "${m=x}", "${m:+x}", "${m:?x}"])
def test_strict_mode_exempts_default_operators(text: str) -> None:
    assert expand(text, {}, strict=True) == "x"


def test_strict_mode_counts_an_empty_value_as_set() -> None:
    assert expand("[${e}] [${#e}]", {"e": ""}, strict=True) == "[] [0]"


def test_strict_mode_checks_variables_inside_a_default() -> None:
    with pytest.raises(SubstitutionError, match='"inner"'):
        expand("${outer:-${inner}}", {}, strict=True)


# --- variable sources ------------------------------------------------------------------------------

def test_merge_order_and_newline_removal() -> None:
    merged = merge_variables(
        [{"a": "from-first", "b": "line1\nline2\n"}, {"a": "from-second", "c": "x"}],
        {"c": "inline\n"},
    )
    assert merged == {"a": "from-second", "b": "line1line2", "c": "inline"}


@pytest.mark.parametrize("name", ["app.conf", "my-var", "1abc", "é"])
def test_invalid_variable_name_uses_flux_message(name: str) -> None:
    source = configmap_variables({"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {name: "v"}})
    with pytest.raises(SubstitutionError) as caught:
        merge_variables([source], {"ok": "1"})
    assert caught.value.message == (
        f"'{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'")


def test_valid_variable_names_pass() -> None:
    assert merge_variables([], {"_x": "1", "A_9": "2"}) == {"_x": "1", "A_9": "2"}


def test_secret_data_is_decoded_and_string_data_wins() -> None:
    secret = {
        "kind": "Secret", "metadata": {"name": "vars"},
        "data": {"token": base64.b64encode("s3cr€t".encode()).decode(), "both": "ZnJvbS1kYXRh"},
        "stringData": {"both": "from-stringData", "plain": "p"},
    }
    assert secret_variables(secret) == {"token": "s3cr€t", "both": "from-stringData", "plain": "p"}


def test_secret_with_invalid_base64_fails_without_leaking_the_value() -> None:
    with pytest.raises(SubstitutionError) as caught:
        secret_variables({"kind": "Secret", "metadata": {"name": "vars"}, "data": {"k": "not*base64"}})
    assert caught.value.message == "Secret/vars: data.k is not valid base64"


def test_secret_with_binary_data_fails() -> None:
    encoded = base64.b64encode(b"\xff\xfe").decode()
    with pytest.raises(SubstitutionError, match=r"data\.k is not UTF-8 text"):
        secret_variables({"kind": "Secret", "metadata": {"name": "vars"}, "data": {"k": encoded}})


def test_configmap_provides_data_only() -> None:
    cm = {"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "1"}, "binaryData": {"b": "AA=="}}
    assert configmap_variables(cm) == {"a": "1"}
    assert configmap_variables({"kind": "ConfigMap", "metadata": {"name": "cfg"}}) == {}


def test_configmap_with_non_string_value_fails() -> None:
    with pytest.raises(SubstitutionError, match=r"ConfigMap/cfg: data\.n must be a string"):
        configmap_variables({"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"n": 3}})


# --- substitute_object -----------------------------------------------------------------------------

def test_values_are_retyped_through_yaml() -> None:
    out = substitute_object(deployment(replicas="${N}", paused="${B}", name="web-${N}", note="${N}: x"),
                            {"N": "3", "B": "true"}, strict=True)
    assert out["spec"] == {"replicas": 3, "paused": True, "name": "web-3", "note": "3: x"}


def test_a_value_can_inject_yaml_structure() -> None:
    out = substitute_object(deployment(selector="${SEL}"), {"SEL": "{app: web}"}, strict=True)
    assert out["spec"]["selector"] == {"app": "web"}


def test_double_dollar_alone_triggers_substitution() -> None:
    out = substitute_object(deployment(cmd="echo $$HOME"), {"X": "1"}, strict=True)
    assert out["spec"]["cmd"] == "echo $HOME"


def test_object_without_expressions_is_returned_without_a_round_trip() -> None:
    obj = deployment(replicas=2, cmd="echo $HOME")
    assert substitute_object(obj, {"X": "1"}, strict=True) is obj


@pytest.mark.parametrize("field", ["labels", "annotations"])
def test_disabled_label_or_annotation_skips_the_object(field: str) -> None:
    obj = deployment(replicas="${MISSING}")
    obj["metadata"][field] = {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}
    assert substitute_object(obj, {"X": "1"}, strict=True) is obj


def test_disabled_value_is_case_sensitive() -> None:
    obj = deployment(replicas="${N}")
    obj["metadata"]["labels"] = {"kustomize.toolkit.fluxcd.io/substitute": "Disabled"}
    assert substitute_object(obj, {"N": "1"}, strict=True)["spec"]["replicas"] == 1


def test_with_variables_strategy_and_no_variables_leaves_defaults_literal() -> None:
    obj = deployment(env="${cluster_env:=dev}", region="${region}")
    assert substitute_object(obj, {}, strict=True) is obj


def test_always_strategy_substitutes_defaults_without_variables() -> None:
    out = substitute_object(deployment(env="${cluster_env:=dev}"), {}, strict=True, always=True)
    assert out["spec"]["env"] == "dev"
    with pytest.raises(SubstitutionError, match='"region"'):
        substitute_object(deployment(region="${region}"), {}, strict=True, always=True)


def test_strict_error_is_wrapped_as_flux_does_and_names_the_node() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dash"}, "data": {"a": "${ds}"}}
    with pytest.raises(SubstitutionError) as caught:
        substitute_object(obj, {"x": "1"}, strict=True, node="Kustomization/flux-system/apps")
    assert caught.value.message == (
        "post build failed for 'ConfigMap.v1.[noGrp]/dash': envsubst error: "
        'variable substitution failed: variable not set (strict mode): "ds"')
    assert caught.value.node == "Kustomization/flux-system/apps"


def test_non_strict_mode_blanks_missing_variables() -> None:
    out = substitute_object(deployment(a="x${missing}y"), {"x": "1"}, strict=False)
    assert out["spec"]["a"] == "xy"


def test_yaml_broken_by_a_value_is_reported_as_yamltojson() -> None:
    with pytest.raises(SubstitutionError) as caught:
        substitute_object(deployment(a="${V}"), {"V": "a: b: c"}, strict=True)
    assert caught.value.message.startswith(
        "post build failed for 'Deployment.v1.apps/web': envsubst error: YAMLToJSON: line ")


# --- against the flux2 CLI golden (build kustomization with var substitution) ----------------------

def _golden(name: str) -> dict[tuple[str, str], dict[str, Any]]:
    text = (BUILD / name).read_text(encoding="utf-8").replace("{{ .fluxns }}", "flux-system")
    docs = load_documents(text, name)
    return {(d.data["kind"], d.data["metadata"]["name"]): d.data for d in docs}


@pytest.mark.skipif(not BUILD.is_dir(), reason="shared corpus not present")
def test_podinfo_var_substitution_matches_flux_build_golden() -> None:
    ks = next(iter(_golden("podinfo-kustomization.yaml").values()))
    variables = merge_variables([], ks["spec"]["postBuild"]["substitute"])
    source = load_documents((BUILD / "var-substitution" / "deployment.yaml").read_text(), "deployment.yaml")
    out = substitute_object(source[0].data, variables, strict=True)

    want = _golden("podinfo-with-var-substitution-result.yaml")[("Deployment", "podinfo")]
    flux_labels = {k: v for k, v in want["metadata"]["labels"].items()
                   if not k.startswith("kustomize.toolkit.fluxcd.io/")}
    assert out["metadata"]["labels"] == flux_labels == {"environment": "prod", "region": "eu-central-1"}
    assert out["spec"] == want["spec"]


@pytest.mark.skipif(not BUILD.is_dir(), reason="shared corpus not present")
def test_disabled_generated_configmap_keeps_grafana_variables_like_flux_build() -> None:
    dashboard = (BUILD / "var-substitution" / "cluster.json").read_text(encoding="utf-8")
    want = _golden("podinfo-with-var-substitution-result.yaml")[
        ("ConfigMap", "flux-grafana-dashboards-kt8md725kf")]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"cluster.json": dashboard},
          "metadata": {"name": "flux-grafana-dashboards-kt8md725kf",
                       "labels": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}}}
    variables = {"cluster_env": "prod", "cluster_region": "eu-central-1"}

    assert substitute_object(cm, variables, strict=True)["data"] == want["data"]
    del cm["metadata"]["labels"]
    with pytest.raises(SubstitutionError, match='"DS_PROMETHEUS"'):
        substitute_object(cm, variables, strict=True)
