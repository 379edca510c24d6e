"""Regular expressions in filters: checked with RE2, which runs in linear time.

RE2 refuses constructs that can backtrack catastrophically (backreferences, lookaround),
so no pattern can stall the server. On SQLite, RE2 itself evaluates `REGEXP`; PostgreSQL
evaluates the pattern translated to its own syntax (regex_translate.py), under a statement
timeout. What cannot be translated is refused on both databases, so they answer alike.
"""

import functools

import re2

from insightboards.errors import BadRequest
from insightboards.query import regex_translate
from insightboards.sqlite_functions import compiled

MAX_PATTERN_LENGTH = 500
_OPTIONS = frozenset("ims")


def validate(pattern: str, options: str) -> None:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise BadRequest(f"filter: $regex is longer than {MAX_PATTERN_LENGTH} characters")
    validate_options(options)
    try:
        compiled(re2_pattern(pattern, options))
    except re2.error as error:
        reason = error.args[0] if error.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise BadRequest(f"filter: $regex is not supported: {reason}") from None
    try:
        postgres_pattern(pattern, options)
    except regex_translate.Unsupported as error:
        raise BadRequest(f"filter: $regex is not supported: {error}") from None


def validate_options(options: str) -> None:
    unknown = set(options) - _OPTIONS
    if unknown:
        raise BadRequest(
            f"filter: $options may contain only i, m and s, not {''.join(sorted(unknown))}"
        )


def re2_pattern(pattern: str, options: str) -> str:
    flags = "".join(sorted(set(options)))
    return f"(?{flags}){pattern}" if flags else pattern


@functools.lru_cache(maxsize=256)
def postgres_pattern(pattern: str, options: str) -> str:
    """What PostgreSQL's `~` needs to match exactly what RE2 matches (for a valid pattern)."""
    return regex_translate.to_postgres(pattern, options)


_META = frozenset(".^$*+?()[]{}|\\")
_QUANTIFIERS = frozenset("*?{")


def literal_text(pattern: str, options: str) -> str | None:
    """The pattern as plain text when it is nothing more (no metacharacter, not
    case-insensitive): a match is then a substring test, which the database does itself
    instead of calling RE2 (SQLite) or compiling a regex (PostgreSQL) for every row."""
    if "i" in options or any(char in _META for char in pattern):
        return None
    return pattern


def literal_prefix(pattern: str, options: str) -> tuple[str, bool]:
    """The literal text every match must start with, for `^literal...` patterns, and whether
    the pattern is nothing more than that (so a range test alone decides it).

    Only for case-sensitive, single-line patterns without alternation: otherwise `^`,
    letters or `|` mean more than the literal text.
    """
    if not pattern.startswith("^") or "i" in options or "m" in options or "|" in pattern:
        return "", False
    body = pattern[1:]
    end = 0
    while end < len(body) and body[end] not in _META:
        end += 1
    prefix = body[:end]
    # `^abc*` does not need its `c`; nor does `^abc(?i)*` or `^abc\Q\E*`, where flags and
    # empty literal text stand between the `c` and its quantifier (RE2 allows that).
    if end < len(body) and (body[end] in _QUANTIFIERS or body.startswith(("(?", "\\Q"), end)):
        prefix = prefix[:-1]
    if prefix.endswith(chr(0x10FFFF)):
        return "", False
    return prefix, prefix == body


def next_string(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
