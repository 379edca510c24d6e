"""Sets of code points as sorted, disjoint ranges: what RE2's classes, brackets and case
folding stand for, spelled out so that PostgreSQL is left nothing to interpret by locale
(regex_translate.py)."""

import bisect
import functools
from collections.abc import Iterable

MAX_CODE_POINT = 0x10FFFF
# Python knows no cased character beyond the Supplementary Multilingual Plane.
_CASED_BELOW = 0x20000

Ranges = tuple[tuple[int, int], ...]


def normalized(ranges: Iterable[tuple[int, int]]) -> Ranges:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def complement(ranges: Ranges) -> Ranges:
    gaps = []
    start = 0
    for low, high in ranges:
        if low > start:
            gaps.append((start, low - 1))
        start = high + 1
    if start <= MAX_CODE_POINT:
        gaps.append((start, MAX_CODE_POINT))
    return tuple(gaps)


def points(text: str) -> Ranges:
    return normalized((ord(c), ord(c)) for c in text)


def _span(low: str, high: str) -> tuple[int, int]:
    return ord(low), ord(high)


@functools.cache
def case_orbits() -> dict[int, tuple[int, ...]]:
    """Each cased code point's orbit: the code points RE2's `(?i)` takes for the same letter.

    RE2 folds by Unicode's simple case folding. Python offers full folding (`casefold`) and
    `lower`: a single-character result of either is a simple folding, and characters whose
    full foldings are equal fold to each other too (U+0390 and U+1FD3; U+FB05 and U+FB06).
    `upper` is not used: the upper case of U+0131 (dotless i) is I, yet RE2 keeps it apart.
    tests/query/test_regex_translate.py checks every orbit against RE2 itself.
    """
    parent: dict[int, int] = {}

    def root(point: int) -> int:
        while parent.setdefault(point, point) != point:
            point = parent[point]
        return point

    def join(a: int, b: int) -> None:
        parent[root(a)] = root(b)

    by_full_folding: dict[str, int] = {}
    for point in range(_CASED_BELOW):
        char = chr(point)
        folded, lower = char.casefold(), char.lower()
        if len(folded) == 1:
            join(point, ord(folded))
        elif folded in by_full_folding:
            join(point, by_full_folding[folded])
        else:
            by_full_folding[folded] = point
        if len(lower) == 1:
            join(point, ord(lower))
    members: dict[int, list[int]] = {}
    for point in parent:
        members.setdefault(root(point), []).append(point)
    return {p: tuple(sorted(m)) for m in members.values() if len(m) > 1 for p in m}


@functools.cache
def _cased_points() -> list[int]:
    return sorted(case_orbits())


def _case_closed(ranges: Ranges) -> Ranges:
    """`ranges` with every case variant of each of its code points."""
    orbits, cased = case_orbits(), _cased_points()
    added: list[tuple[int, int]] = []

    for low, high in ranges:
        for index in range(bisect.bisect_left(cased, low), bisect.bisect_right(cased, high)):
            added.extend((p, p) for p in orbits[cased[index]])
    return normalized((*ranges, *added)) if added else ranges


# RE2's classes are ASCII-only (re2/perl_groups.cc).
_DIGIT = (_span("0", "9"),)
WORD_CHARS = normalized((_span("0", "9"), _span("A", "Z"), _span("a", "z"), _span("_", "_")))
PERL_CLASSES: dict[str, Ranges] = {"d": _DIGIT, "s": points("\t\n\f\r "), "w": WORD_CHARS}
POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": normalized((_span("0", "9"), _span("A", "Z"), _span("a", "z"))),
    "alpha": normalized((_span("A", "Z"), _span("a", "z"))),
    "ascii": ((0, 0x7F),),
    "blank": points("\t "),
    "cntrl": ((0, 0x1F), (0x7F, 0x7F)),
    "digit": _DIGIT,
    "graph": (_span("!", "~"),),
    "lower": (_span("a", "z"),),
    "print": (_span(" ", "~"),),
    "punct": normalized((_span("!", "/"), _span(":", "@"), _span("[", "`"), _span("{", "~"))),
    "space": normalized((_span("\t", "\r"), _span(" ", " "))),
    "upper": (_span("A", "Z"),),
    "word": WORD_CHARS,
    "xdigit": normalized((_span("0", "9"), _span("A", "F"), _span("a", "f"))),
}


def class_of(ranges: Ranges, negated: bool, fold: bool) -> Ranges:
    """A named class as RE2 builds it: under `(?i)` a negated class leaves out the case
    variants of its members too (parse.cc, AddUGroup)."""
    if fold:
        ranges = _case_closed(ranges)
    return complement(ranges) if negated else ranges
