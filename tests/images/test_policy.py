"""ImagePolicy tag selection, case by case as image-reflector-controller decides (internal/policy and
its tests, Masterminds/semver v3.5 for ranges, Go's regexp and strconv.ParseFloat)."""

from __future__ import annotations

import pytest

from fluxpush.errors import InputError
from fluxpush.helm.semver import newest_match, parse_constraint, parse_version
from fluxpush.images.goregexp import compile_go, expand
from fluxpush.images.policy import PolicyFailed, PolicySpec, choose, go_parse_float


def spec(policy: dict, **extra) -> PolicySpec:
    return PolicySpec.from_spec({"policy": policy, **extra}, "image.toolkit.fluxcd.io/v1", "ImagePolicy/ns/p")


def pick(policy: dict, tags: list[str], **extra) -> str:
    return choose(spec(policy, **extra), tags, "ImagePolicy/ns/p").tag


# internal/policy/semver_test.go TestSemVer_Latest
@pytest.mark.parametrize(("tags", "range_", "expected"), [
    (["1.0.0", "1.0.0.1", "1.0.0p", "1.0.1", "1.2.0", "0.1.0"], "1.0.x", "1.0.1"),
    (["v1.2.3", "v1.0.0", "v0.1.0"], "1.0.x", "v1.0.0"),
])
def test_semver_controller_cases(tags, range_, expected):
    assert pick({"semver": {"range": range_}}, tags) == expected


@pytest.mark.parametrize("tags", [["b1.2.3", "b1.0.0", "b0.1.0"], [], ["1.2.0"]])
def test_semver_without_a_match_fails_like_the_controller(tags):
    with pytest.raises(PolicyFailed):
        pick({"semver": {"range": "1.0.x"}}, tags)


def test_semver_ignores_tags_with_fewer_than_three_parts():
    # fluxcd/pkg/version.ParseVersion splits on "." and wants three parts: `1.9` is not a version here.
    assert pick({"semver": {"range": ">=1.0.0"}}, ["1.2.0", "1.9", "2"]) == "1.2.0"


def test_semver_prereleases_only_when_the_range_names_one():
    tags = ["1.0.0", "1.1.0-rc.1", "1.1.0-rc.2", "0.9.0"]
    assert pick({"semver": {"range": ">=1.0.0"}}, tags) == "1.0.0"
    assert pick({"semver": {"range": ">=1.0.0-0"}}, tags) == "1.1.0-rc.2"
    # Masterminds v3.4+: a pre-release in any term of the AND group admits pre-releases to all terms.
    assert pick({"semver": {"range": ">=1.0.0-0 <2.0.0"}}, tags) == "1.1.0-rc.2"
    # ...but not to another OR group.
    assert pick({"semver": {"range": "<0.1.0-0 || >=1.0.0"}}, tags) == "1.0.0"


def test_semver_prerelease_identifiers_order_numerically_then_alphanumerically():
    tags = ["1.0.0-rc.9", "1.0.0-rc.10", "1.0.0-rc.a", "1.0.0-beta"]
    assert pick({"semver": {"range": ">=1.0.0-0"}}, tags) == "1.0.0-rc.a"
    assert pick({"semver": {"range": ">=1.0.0-0 <1.0.0-rc.a"}}, tags) == "1.0.0-rc.10"


def test_semver_equal_versions_keep_the_first_in_the_database_order():
    # The scan stores tags in descending string order; GreaterThan is strict, so `v1.0.0` (sorted
    # first) stays chosen over `1.0.0`.
    assert pick({"semver": {"range": "*"}}, ["1.0.0", "v1.0.0"]) == "v1.0.0"


@pytest.mark.parametrize(("constraint", "version", "allowed"), [
    (">1.2", "1.2.5", False),  # dirty >: the minor must be greater
    (">1.2", "1.3.0", True),
    ("<=1.2", "1.2.9", True),
    ("<=1.x", "1.99.0", True),
    ("~0.0.0", "5.0.0", True),  # Masterminds quirk: ~0.0.0 allows everything
    ("~1", "1.9.0", True),
    ("~1.2.3", "1.3.0", False),
    ("^0.0.3", "0.0.4", False),
    ("^0.2", "0.2.9", True),
    ("^0.2", "0.3.0", False),
    ("^1.2", "1.9.0", True),
    ("!=1.2", "1.2.4", False),
    ("!=1.2", "1.3.0", True),
    ("1.2.3 - 1.4", "1.4.7", True),
    ("1.2.3 - 1.4", "1.5.0", False),
    ("=1.0.0", "1.0.0+build.5", True),  # build metadata is ignored
    ("1.0.0, 2.0.0", "1.0.0", False),
    (">=01.2.0", "1.2.0", True),  # CoerceNewVersion: leading zeros parse
])
def test_masterminds_constraint_rules(constraint, version, allowed):
    assert parse_constraint(constraint).allows(parse_version(version)) is allowed


@pytest.mark.parametrize("bad", ["", ">=banana", "1.0.0 ||", "~>"])
def test_invalid_range_is_an_input_error_naming_the_policy(bad):
    with pytest.raises(InputError, match="invalid version constraint"):
        spec({"semver": {"range": bad}})


def test_versions_that_masterminds_rejects():
    assert parse_version("1.0.0-01") is None  # zero-padded numeric pre-release identifier
    assert parse_version("1.0.0-") is None
    assert parse_version("1.0.0+") is None
    assert parse_version("18446744073709551616.0.0") is None  # beyond uint64
    assert parse_version("v01.02.03").sort_key()[:3] == (1, 2, 3)
    assert newest_match(">=1.0.0", ["1.0.0-01", "0.5.0"]) is None


# internal/policy/alphabetical_test.go: ASC picks the greatest string, DESC the least.
@pytest.mark.parametrize(("order", "expected"), [
    (None, "zulu"), ("asc", "zulu"), ("ASC", "zulu"), ("desc", "Alpha"), ("DESC", "Alpha"),
])
def test_alphabetical(order, expected):
    policy = {"alphabetical": {"order": order} if order else {}}
    assert pick(policy, ["bravo", "zulu", "Alpha", "alpha", "Zulu"]) == expected


def test_alphabetical_compares_bytes_not_numbers():
    assert pick({"alphabetical": {}}, ["RELEASE.2023-01-31T08-42-01Z", "RELEASE.2023-10-07T15-07-38Z",
                                       "RELEASE.2022-12-31T00-00-00Z"]) == "RELEASE.2023-10-07T15-07-38Z"
    assert pick({"alphabetical": {}}, ["9", "10"]) == "9"


# internal/policy/numerical_test.go
@pytest.mark.parametrize(("order", "tags", "expected"), [
    (None, ["-62", "-88", "73", "72", "15", "16", "15", "29", "-33", "-91"], "73"),
    ("desc", ["5", "-8", "-78", "25", "70", "-4", "80", "92", "-20", "-24"], "-78"),
    (None, ["47.40896403322944", "-27.8520927455902", "53.47333823144817", "3.2008658570411086"],
     "53.47333823144817"),
    (None, ["1606234201", "1606364286", "1606334092"], "1606364286"),
    ("desc", ["1606234201", "1606364286", "1606334092"], "1606234201"),
    (None, ["1"], "1"),
    (None, ["1e3", "999", "0x1p10"], "0x1p10"),  # Go ParseFloat: exponents and hex floats
])
def test_numerical(order, tags, expected):
    assert pick({"numerical": {"order": order} if order else {}}, tags) == expected


def test_numerical_fails_on_a_non_number_as_the_controller_does():
    with pytest.raises(PolicyFailed, match="failed to parse invalid numeric value 'latest'"):
        pick({"numerical": {}}, ["1", "2", "latest"])


def test_go_parse_float_refuses_what_go_refuses():
    assert go_parse_float("1_000") is None  # Python's float() would accept it
    assert go_parse_float(" 1") is None
    assert go_parse_float("1e400") is None  # out of range is an error in Go
    assert go_parse_float("Inf") == float("inf")
    assert go_parse_float("+nan") is None and go_parse_float("NaN") != go_parse_float("NaN")
    assert go_parse_float("1.") == 1.0
    assert go_parse_float("0x1.8p1") == 3.0


@pytest.mark.parametrize("order", ["newest", "up"])
def test_invalid_order_is_an_input_error(order):
    with pytest.raises(InputError, match="invalid order argument provided"):
        spec({"numerical": {"order": order}})


# internal/policy/filter_test.go and the docs' examples
def test_filter_tags_keeps_matches_and_ranks_the_extracted_values():
    tags = ["main-fe8ac1a2-1700000000", "main-0a1b2c3d-1700000900", "dev-ffffffff-1800000000",
            "main-99999999-1600000000", "main-latest"]
    chosen = choose(spec({"numerical": {"order": "asc"}},
                         filterTags={"pattern": r"^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"}),
                    tags, "ImagePolicy/ns/p")
    assert chosen.tag == "main-0a1b2c3d-1700000900"
    assert chosen.why == "highest of 3 tags as numbers; 2 excluded by filterTags (extracted '1700000900')"


def test_filter_without_extract_ranks_the_tags_themselves():
    tags = ["ver1", "ver2", "ver3", "rel1"]
    assert pick({"alphabetical": {}}, tags, filterTags={"pattern": "^ver"}) == "ver3"
    assert pick({"alphabetical": {}}, tags, filterTags={"pattern": "rel"}) == "rel1"


def test_filter_with_semver_extract_and_explanation():
    tags = [f"1.{n}.0-{sha}" for n, sha in enumerate(["a1", "b2", "c3"])] + ["2.0.0-d4", "1.5.0.sig", "junk"]
    decision = choose(spec({"semver": {"range": ">=1.0.0 <2.0.0"}},
                           filterTags={"pattern": r"^(?<version>[0-9]+\.[0-9]+\.[0-9]+)-[a-z0-9]+$",
                                       "extract": "${version}"}),
                      tags, "ImagePolicy/ns/p")
    assert decision.tag == "1.2.0-c3"
    assert decision.why == ("newest of 3 tags matching >=1.0.0 <2.0.0; 2 excluded by filterTags "
                            "(extracted '1.2.0')")


def test_filter_that_keeps_nothing_fails():
    with pytest.raises(PolicyFailed, match="version list argument cannot be empty"):
        pick({"alphabetical": {}}, ["a", "b"], filterTags={"pattern": "^z"})


def test_go_expand_rules():
    match = compile_go(r"(?P<major>\d+)\.(\d+)", "t").search("v12.34")
    assert expand("$major-$2", match) == "12-34"
    assert expand("${major}x", match) == "12x"
    assert expand("$majorx", match) == ""  # Go reads the longest name: `majorx` does not exist
    assert expand("$$1", match) == "$1"
    assert expand("$", match) == "$"
    assert expand("$01", match) == ""  # a zero-padded number is a name, which does not exist
    assert expand("${2", match) == "${2"  # malformed: kept


@pytest.mark.parametrize(("pattern", "problem"), [
    ("^(?=v)", "look-arounds"), (r"(a)\1", "back-references"), (r"\p{Greek}", "Unicode"), ("(", "invalid"),
])
def test_patterns_go_refuses_are_input_errors(pattern, problem):
    with pytest.raises(InputError, match=problem):
        choose(spec({"alphabetical": {}}, filterTags={"pattern": pattern}), ["a"], "ImagePolicy/ns/p")


def test_go_syntax_is_translated():
    assert compile_go(r"^[[:digit:]]+\z", "t").search("123")
    assert not compile_go(r"^\d+$", "t").search("١٢٣")  # Go's \d is ASCII only


def test_digest_reflection_policy_by_api_version():
    assert spec({"semver": {"range": "*"}}, digestReflectionPolicy="Always").digest_reflection == "Always"
    old = PolicySpec.from_spec({"policy": {"semver": {"range": "*"}}, "digestReflectionPolicy": "Always"},
                               "image.toolkit.fluxcd.io/v1beta1", "ImagePolicy/ns/p")
    assert old.digest_reflection == "Never"
    with pytest.raises(InputError, match="digestReflectionPolicy"):
        spec({"semver": {"range": "*"}}, digestReflectionPolicy="Sometimes")


def test_policy_naming_no_choice_is_an_input_error():
    with pytest.raises(InputError, match="names no semver, alphabetical or numerical"):
        spec({})


def test_filter_tags_without_pattern_matches_every_tag():
    # The controller compiles the empty pattern, which matches everything.
    assert pick({"alphabetical": {}}, ["a", "b"], filterTags={}) == "b"
    # `$1` without a group extracts "" from every tag: the map keeps the last tag in database order
    # (descending), so "a" is what the controller answers.
    assert pick({"alphabetical": {}}, ["a", "b"], filterTags={"extract": "$1"}) == "a"
