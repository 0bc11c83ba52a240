"""Helpers shared by the Flux model tests: parse or validate Flux objects written as YAML."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from fluxpush.errors import SchemaError
from fluxpush.flux import FluxObject, parse_flux_object, validate_flux_object
from fluxpush.yamldoc import load_documents, locate_field


@pytest.fixture
def parse() -> Callable[[str], FluxObject]:
    """Parse the single Flux object in a YAML snippet."""

    def run(text: str) -> FluxObject:
        text = textwrap.dedent(text)
        (doc,) = load_documents(text, "obj.yaml")
        return parse_flux_object(doc.data, doc.origin, lambda p: locate_field(text, doc.index, p))

    return run


@pytest.fixture
def problems() -> Callable[[str], list[SchemaError]]:
    """Every schema problem of the Flux objects in a YAML snippet, in document order."""

    def run(text: str) -> list[SchemaError]:
        text = textwrap.dedent(text)
        found: list[SchemaError] = []
        for doc in load_documents(text, "obj.yaml"):
            locate = lambda p, i=doc.index: locate_field(text, i, p)  # noqa: E731
            found += validate_flux_object(doc.data, doc.origin, locate)
        return found

    return run
