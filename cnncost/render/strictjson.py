"""Every JSON document cnncost prints, serialised in one place: strict JSON (RFC 8259) only.

Python's json writes bare NaN and Infinity by default, which strict parsers (jq, JavaScript, Go) refuse. Specs
and expressions refuse non-finite numbers where they are written; should one still reach a result, this refuses
to print it rather than print something that is not JSON.
"""
from __future__ import annotations

import json

from cnncost.errors import CnnCostError


def dumps(data, compact: bool = False) -> str:
    """One document and a newline; compact (one line, json's fast C encoder) or indented by 2."""
    layout = {"separators": (",", ":")} if compact else {"indent": 2}
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, **layout) + "\n"
    except ValueError as exc:  # a NaN or infinity that got past the checks at the source
        raise CnnCostError(f"a result is not a finite number and cannot be written as JSON ({exc})", None) from None
