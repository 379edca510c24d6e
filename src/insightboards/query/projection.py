"""The `fields` projection: `name,createdById,insights{insightId,row}`.

A comma list of field names; a name followed by `{...}` keeps only those sub-fields of a
nested object (or of each object in a list). Parsed once into a tree, applied to documents.
"""

import re
from typing import Any

from insightboards.errors import BadRequest

# None: keep the whole value; a dict: keep only these sub-fields.
Projection = dict[str, "Projection | None"]

MAX_FIELDS_LENGTH = 2000
MAX_DEPTH = 3
_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _grammar(depth: int) -> str:
    name = r"[A-Za-z0-9_-]+"
    item = name if depth == 0 else rf"{name}(?:\{{{_grammar(depth - 1)}\}})?"
    return rf" *{item} *(?:, *{item} *)*"


# The whole grammar as one regular expression, for the OpenAPI document and for validation.
FIELDS_PATTERN = rf"^(?:{_grammar(MAX_DEPTH)})?$"


def parse_fields(text: str) -> Projection:
    """Parse a projection; raises BadRequest naming the problem."""
    if len(text) > MAX_FIELDS_LENGTH:
        raise BadRequest(f"fields is longer than {MAX_FIELDS_LENGTH} characters")
    tree, position = _parse_list(text, 0, depth=0)
    if position != len(text):
        raise BadRequest(f"fields: unexpected '{text[position]}' at position {position}")
    # The parser names the first problem; the grammar has the last word (no empty names).
    if not re.fullmatch(FIELDS_PATTERN, text):
        raise BadRequest(
            "fields: expected names separated by commas, with `{...}` for sub-fields "
            f"(at most {MAX_DEPTH} levels)"
        )
    return tree


def _parse_list(text: str, position: int, depth: int) -> tuple[Projection, int]:
    if depth > MAX_DEPTH:
        raise BadRequest(f"fields: nested deeper than {MAX_DEPTH} levels")
    tree: Projection = {}
    while True:
        start = position
        while position < len(text) and text[position] not in ",{}":
            position += 1
        name = text[start:position].strip()
        if name:
            if not _NAME.fullmatch(name):
                raise BadRequest(f"fields: '{name}' is not a field name")
            tree[name] = None
        if position < len(text) and text[position] == "{":
            if not name:
                raise BadRequest(f"fields: '{{' without a field name at position {position}")
            tree[name], position = _parse_list(text, position + 1, depth + 1)
            if position >= len(text) or text[position] != "}":
                raise BadRequest(f"fields: missing '}}' after '{name}{{'")
            position += 1
            while position < len(text) and text[position] == " ":
                position += 1
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return tree, position


def apply(
    document: dict[str, Any], projection: Projection, always: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Keep only the projected fields of `document` (and `always`, where present)."""
    result: dict[str, Any] = {}
    for name in always:
        if name in document:
            result[name] = document[name]
    for name, sub in projection.items():
        if name not in document:
            continue
        value = document[name]
        if sub is not None:
            if isinstance(value, dict):
                value = apply(value, sub)
            elif isinstance(value, list):
                value = [apply(v, sub) if isinstance(v, dict) else v for v in value]
        result[name] = value
    return result
