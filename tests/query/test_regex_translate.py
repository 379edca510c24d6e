"""The RE2-to-PostgreSQL translation of `$regex`, checked against RE2 itself.

Without a database: case variants and character classes are compared with what RE2
matches (a translated class is also valid Python `re` syntax, which reads it the same way).
test_regex_postgres.py runs whole patterns on PostgreSQL.
"""

# ruff: noqa: RUF001  (look-alike letters such as long s and dotless i are the point)

from __future__ import annotations

import re
import sys

import pytest
import re2
from hypothesis import example, given
from hypothesis import strategies as st

from insightboards.errors import BadRequest
from insightboards.query import code_points, regex
from insightboards.sqlite_functions import regexp as sqlite_regexp
from tests.query.regex_grammar import patterns

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def _re2_findall(pattern: str, text: str) -> set[str]:
    return set(re2.compile(pattern, _RE2_OPTIONS).findall(text))


def _code_points(start: int, stop: int) -> str:
    return "".join(chr(p) for p in range(start, stop) if not 0xD800 <= p <= 0xDFFF)


def test_case_variants_are_re2s_for_every_code_point() -> None:
    orbits = code_points.case_orbits()
    # Every code point Python knows a case mapping of, or as one, anywhere in Unicode.
    cased = {chr(p) for p in orbits}
    for char in _code_points(0, sys.maxunicode + 1):
        for mapped in (char.lower(), char.upper(), char.casefold(), char.title()):
            if mapped != char:
                cased.update(char, mapped)
    everything_cased = "".join(sorted(cased))
    for char in everything_cased:
        orbit = {chr(p) for p in orbits.get(ord(char), (ord(char),))}
        for pattern in (f"(?i)\\x{{{ord(char):x}}}", f"(?i)[\\x{{{ord(char):x}}}]"):
            assert _re2_findall(pattern, everything_cased) == orbit, (hex(ord(char)), pattern)
    # And RE2 folds no code point with case variants into one without.
    members = "".join(f"\\x{{{p:x}}}" for p in sorted(orbits))
    others = "".join(c for c in _code_points(0, sys.maxunicode + 1) if ord(c) not in orbits)
    assert _re2_findall(f"(?i)[{members}]", others) == set()


# A universe of code points where classes differ: ASCII, Latin-1, every cased code point,
# and the edges of the planes.
_UNIVERSE = "".join(
    sorted(
        set(_code_points(0, 0x100))
        | {chr(p) for p in code_points.case_orbits()}
        | {chr(p) for p in (0x2028, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF)}
    )
)
POSIX_CLASSES = ["alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print",
                 "punct", "space", "upper", "word", "xdigit"]  # fmt: skip
CLASSES = ["\\d", "\\D", "\\s", "\\S", "\\w", "\\W", ".", "[^\\W\\d]", "[a-z]", "[^a]", "[]a]",
           "[^-a]", "[a-]", "[\\x{41}-\\x{5a}]", "[\\101-\\132]", "[é-ſ]", "k", "ß", "ſ",
           "\\x{212a}", "σ", "[[:a]", "[\\d-z]", "[a-b-c]", "\\n", "\\v", "\\0", "\\12", "\\x7f",
           "[\\s\\S]", "[^\\x{0}-\\x{10ffff}a]", "[\\^]", "\\Q[\\E", "[\\x{10000}-\\x{10FFFF}]",
           *(f"[[:{name}:]]" for name in POSIX_CLASSES),
           *(f"[[:^{name}:]]" for name in POSIX_CLASSES)]  # fmt: skip


@pytest.mark.parametrize("options", ["", "i", "s"])
@pytest.mark.parametrize("pattern", CLASSES)
def test_each_class_holds_the_code_points_re2_matches(pattern: str, options: str) -> None:
    regex.validate(pattern, options)
    translated = regex.postgres_pattern(pattern, options)
    expected = _re2_findall(regex.re2_pattern(pattern, options), _UNIVERSE)
    if translated == "(?!)":
        assert expected == set()
    else:
        assert set(re.findall(translated, _UNIVERSE)) == expected, translated


@pytest.mark.parametrize(
    ("pattern", "options", "translated"),
    [
        # The patterns of the bug report that PostgreSQL refused.
        ("(?i)okr", "", "[Oo][Kk\\u212a][Rr]"),
        ("(?m)^a$", "", "(?<=^|\\u000a)a(?=$|\\u000a)"),
        ("(?P<n>a)", "", "(?:a)"),
        ("\\z", "", "(?=$)"),
        ("a{1000}", "", "a{255}a{255}a{255}a{235}"),
        ("[[:^alpha:]]", "", "[^A-Za-z]"),
        # Options, and flags scoped as RE2 scopes them: to the end of the group, across `|`.
        ("okr", "i", "[Oo][Kk\\u212a][Rr]"),
        ("a(?i)b|c", "", "a[Bb]|[Cc]"),
        ("(?i:a)b", "", "(?:[Aa])b"),
        ("((?i)a)b", "", "(?:[Aa])b"),
        ("(?i)a(?-i)b", "", "[Aa]b"),
        ("a.b", "", "a[^\\u000a]b"),
        ("a.b", "s", "a[\\u0000-\\U0010ffff]b"),
        ("^a", "m", "(?<=^|\\u000a)a"),
        ("x{2,600}?", "", "x{2}x{0,255}x{0,255}x{0,88}"),
        ("a{300,}", "", "a{255}a{45}a*"),
        # A word boundary is one lookbehind; an empty class matches nothing.
        (
            "a\\b",
            "",
            "a(?<=(?:^|[^0-9A-Z\\u005fa-z])(?=[0-9A-Z\\u005fa-z])"
            "|[0-9A-Z\\u005fa-z](?=$|[^0-9A-Z\\u005fa-z]))",
        ),
        ("[^\\x{0}-\\x{10FFFF}]", "", "(?!)"),
        ("x{0}", "", ""),
        ("(?:^|$){16}", "", "(?<=^|[\\u0000-\\U0010ffff](?=$))"),
    ],
)
def test_translations(pattern: str, options: str, translated: str) -> None:
    regex.validate(pattern, options)
    assert regex.postgres_pattern(pattern, options) == translated


def test_b_between_the_bytes_of_a_character_is_kept() -> None:
    # RE2 reads UTF-8: `\B` holds between the two bytes of ß, so it matches "AßB".
    assert sqlite_regexp("\\B", "AßB") and not sqlite_regexp("\\B", "A-B")
    assert regex.postgres_pattern("\\B", "").endswith("|[\\u0080-\\U0010ffff]")
    assert "\\u0080" not in regex.postgres_pattern("a\\B", "")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("\\pL", "\\pL (a Unicode class"),
        ("\\p{Greek}", "\\p{Greek} (a Unicode class"),
        ("x\\PN", "\\PN (a Unicode class"),
        ("[a\\p{L}]", "\\p{L} (a Unicode class"),
        ("\\C", "\\C (any byte)"),
        ("(?:a?b?){26}", "repeated 52 times (at most 50"),
        ("(?:(?:a|){10}){6}", "repeated 60 times"),
        # Repetitions of groups that may be empty only where a condition holds, repeated
        # again: PostgreSQL found the first "too complex" (the property test in
        # test_regex_postgres.py), ran the second and the last past 10 s; the third counts
        # the optional copies of both its parts, the last those inside an exact count.
        ("(?:(?:a|^){0,255}(?:a|^){0,45})*", "repeated 300 times"),
        ("(?:(?:a|^){1,128}(?:a|^){1,128})*", "repeated 254 times"),
        ("(?:(?:a|^){1,27}(?:a|^){1,27})*", "repeated 52 times"),
        ("(?:" + "(?:(?:a|^){1,50}){1}" * 6 + ")*", "repeated 294 times"),
        ("a{1001}", "invalid repetition size"),  # RE2's own limit
    ],
)
def test_what_has_no_translation_is_refused_on_every_database(pattern: str, reason: str) -> None:
    with pytest.raises(BadRequest, match="not supported") as refused:
        regex.validate(pattern, "")
    assert reason in refused.value.detail


def test_repetitions_of_what_cannot_match_empty_are_not_limited() -> None:
    for pattern in ("(?:a|\\b){1000}", "(?:a?b?c){1000}", "a{0,1000}", "(?:a*)*", "(?:a?){50}"):
        regex.validate(pattern, "")


@pytest.mark.parametrize(
    "pattern",
    [
        "(?:[^,]*(?:,|$)){0,255}",
        "(?:\\s*(?:,|$)){0,30}",
        "(?:(?:^|,)\\s*){2,40}",
        "(?m)(?:^.*\\n?){0,60}",
        "(?:.*(?:\\n|$)){1,51}",
        "(?:(?:a|\\b){1000})*",
        "(?:(?:a|^){0,50})*",
    ],
)
def test_one_level_of_copies_of_what_is_empty_only_at_an_anchor_is_not_limited(
    pattern: str,
) -> None:
    """PostgreSQL compiles each of these at once (a few ms at most): only such copies
    repeated again are counted."""
    regex.validate(pattern, "")


@given(
    literal=st.text(alphabet="aB é", min_size=1, max_size=4),
    tail=patterns,
    options=st.sampled_from(["", "s"]),
    rest=st.text(alphabet="aB é.\n", max_size=4),
)
# Found by this test: RE2 lets the `*` of `^B(?i)*` take the B, so no text needs to start B.
@example(literal="B", tail="(?i)*", options="", rest="")
@example(literal="ab", tail="\\Q\\E?", options="", rest="")
def test_the_literal_prefix_is_what_every_match_starts_with(
    literal: str, tail: str, options: str, rest: str
) -> None:
    pattern = "^" + literal + tail
    try:
        regex.validate(pattern, options)
    except BadRequest:
        return
    prefix, whole = regex.literal_prefix(pattern, options)
    re2_pattern = regex.re2_pattern(pattern, options)
    for text in (literal + rest, rest, literal[:-1] + rest):
        matched = sqlite_regexp(re2_pattern, text)
        if matched:
            assert text.startswith(prefix), (pattern, text)
        if whole:
            assert matched == text.startswith(prefix), (pattern, text)
