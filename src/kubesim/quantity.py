"""`resource.Quantity` values in the canonical form kube-apiserver stores (`0.5` → `500m`, `1024Mi` → `1Gi`).

The server parses every quantity field of a built-in kind when it decodes a request and writes it
back canonically, keeping the notation family of the input: binary suffixes (Ki…Ei), decimal
suffixes (n, u, m, k…E), or a decimal exponent (`1e3`). Values are rounded up to nano units.
Custom resources are not touched: their quantities are plain strings to the server.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from kubesim.schema import Node, Schema

QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}  # powers of 1024
# Decimal SI suffixes and their powers of 10.
DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QUANTITY = re.compile(r"([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])|[eE]([+-]?\d+))?")
NANO = Fraction(1, 10**9)  # the finest unit the server keeps


def canonical_quantity(text: str) -> str | None:
    """The canonical spelling of a quantity, or None when `text` is not one (validation reports it)."""
    match = _QUANTITY.fullmatch(text.strip())
    if not match:
        return None
    sign, number, suffix, exponent = match.groups()
    value = Fraction(number) * (-1 if sign == "-" else 1)
    if suffix in BINARY:
        value *= 1024 ** BINARY[suffix]
        family = "binary"
    elif exponent is not None:
        value *= Fraction(10) ** int(exponent)
        family = "exponent"
    else:
        value *= Fraction(10) ** DECIMAL[suffix or ""]
        family = "decimal"
    value = math.ceil(value / NANO) * NANO  # rounds toward +infinity, like inf.Dec's RoundUp
    if value == 0:
        return "0"
    if family == "binary" and abs(value) >= 1024 and value.denominator == 1:
        power = max(p for p in range(7) if value % (1024**p) == 0)
        suffix = next((s for s, p in BINARY.items() if p == power), "")
        return f"{int(value / 1024**power)}{suffix}"
    power = max(p for p in range(-9, 19, 3) if (value / Fraction(10) ** p).denominator == 1)
    mantissa = int(value / Fraction(10) ** power)
    if family == "exponent":
        return f"{mantissa}e{power}" if power else str(mantissa)
    return f"{mantissa}{next(s for s, p in DECIMAL.items() if p == power)}"


def canonicalize_quantities(schema: Schema, value: Any, node: Node | None) -> Any:
    """`value` with every Quantity field (per the schema) in canonical form; other values unchanged."""
    resolved = schema.resolve(node)
    if resolved is not None and resolved is schema.definitions.get(QUANTITY):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return value
        return canonical_quantity(str(value)) or value
    if isinstance(value, dict):
        return {k: canonicalize_quantities(schema, v, schema.child(node, k)) for k, v in value.items()}
    if isinstance(value, list):
        item = schema.items(node)
        return [canonicalize_quantities(schema, v, item) for v in value]
    return value
