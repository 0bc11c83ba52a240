"""ObjectRef's text form, printed in plans and JSON, reads back as the same reference."""

from __future__ import annotations

import pytest

from fluxpush.flux.model import ObjectRef


@pytest.mark.parametrize("ref", [ObjectRef("Kustomization", "flux-system", "apps"),
                                 ObjectRef("Namespace", "", "apps")])
def test_the_printed_reference_parses_back(ref: ObjectRef) -> None:
    assert ObjectRef.parse(str(ref)) == ref


@pytest.mark.parametrize("text", ["", "Kustomization", "Kustomization/", "/ns/name", "a/b/c/d", "Kind//"])
def test_text_that_is_not_a_reference_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an object reference"):
        ObjectRef.parse(text)
