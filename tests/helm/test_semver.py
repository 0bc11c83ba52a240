"""Chart version constraints resolve to the newest match, as Flux's HelmChart (Masterminds semver) does."""

from __future__ import annotations

import pytest

from fluxpush.errors import InputError
from fluxpush.helm.semver import newest_match, parse_constraint, parse_version

AVAILABLE = ["0.9.1", "0.9.20", "0.9.3", "0.10.0", "1.0.0", "1.2.3", "1.3.0-rc.1", "1.9.9", "2.0.0"]


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("0.9.x", "0.9.20"),  # numeric, not string, order: 0.9.20 > 0.9.3
        (">=1.0.0 <2.0.0", "1.9.9"),
        (">=1.0.0, <1.3.0", "1.2.3"),
        ("*", "2.0.0"),
        (None, "2.0.0"),
        ("~1.2", "1.2.3"),
        ("^1", "1.9.9"),
        ("^0.9", "0.9.20"),  # caret below 1.0 stays on the minor
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("> 1.2.3", "2.0.0"),
        ("1.0 - 1.2", "1.2.3"),
        ("0.x || 2.x", "2.0.0"),
        ("!=2.0.0", "1.9.9"),
        (">=1.3.0-0 <2.0.0", "1.9.9"),
        ("3.x", None),
    ],
)
def test_newest_match(constraint, expected):
    assert newest_match(constraint, AVAILABLE) == expected


def test_prerelease_only_matches_a_constraint_naming_one():
    assert newest_match(">=1.3.0-0 <1.4.0", ["1.3.0-rc.1", "1.2.0"]) == "1.3.0-rc.1"
    assert newest_match("1.3.x", ["1.3.0-rc.1", "1.2.0"]) is None


def test_release_sorts_above_its_prereleases():
    ordered = sorted(["1.0.0", "1.0.0-rc.2", "1.0.0-rc.10", "1.0.0-alpha"],
                     key=lambda t: parse_version(t).sort_key())
    assert ordered == ["1.0.0-alpha", "1.0.0-rc.2", "1.0.0-rc.10", "1.0.0"]


def test_invalid_constraint_is_an_input_error():
    with pytest.raises(InputError, match="invalid version constraint"):
        parse_constraint(">=banana")
