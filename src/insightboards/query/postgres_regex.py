"""Writing PostgreSQL's regular expression syntax for a translated RE2 pattern
(regex_translate.py reads the pattern): character sets as explicit code point ranges,
anchors and word boundaries as lookarounds, repetitions bounded so that PostgreSQL's
automaton stays small."""

import functools
import operator
from collections.abc import Callable

from insightboards.query import code_points
from insightboards.query.code_points import Ranges

# PostgreSQL's largest repetition count (RE2's is 1000): larger ones are written in parts.
POSTGRES_MAX_REPEAT = 255
# Optional parts in a row through repetitions of empty-matching groups (see repeated_piece).
MAX_SKIPS = 50


class Unsupported(Exception):
    """A construct RE2 accepts that has no PostgreSQL equivalent here."""


def _char(point: int) -> str:
    char = chr(point)
    if char.isascii() and char.isalnum():
        return char
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def _bracket_body(ranges: Ranges) -> str:
    return "".join(
        _char(low) if low == high else f"{_char(low)}-{_char(high)}" for low, high in ranges
    )


def char_class_text(ranges: Ranges) -> str:
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _char(ranges[0][0])
    complement = code_points.complement(ranges)
    if complement and len(complement) < len(ranges):
        return f"[^{_bracket_body(complement)}]"
    return f"[{_bracket_body(ranges)}]"


# Anchors and word boundaries test a position by what lies on either side of it: the start
# of the text, a newline, a word character or another character before it; the end, a
# newline, a word character or another character after it. A condition is the set of those
# 16 contexts in which it holds: a bit mask, bit 4 * before + after.
START, NEWLINE, WORD, OTHER = range(4)
END = START


def _contexts(holds: Callable[[int, int], bool]) -> int:
    return sum(1 << (4 * before + after) for before in range(4) for after in range(4)
               if holds(before, after))  # fmt: skip


EVERYWHERE, NOWHERE = _contexts(lambda before, after: True), 0
CONDITIONS = {
    "^": _contexts(lambda before, after: before == START),
    "$": _contexts(lambda before, after: after == END),
    "^m": _contexts(lambda before, after: before in (START, NEWLINE)),
    "$m": _contexts(lambda before, after: after in (END, NEWLINE)),
    "b": _contexts(lambda before, after: (before == WORD) != (after == WORD)),
    "B": _contexts(lambda before, after: (before == WORD) == (after == WORD)),
}
_KIND_CHARS = {NEWLINE: code_points.points("\n"), WORD: code_points.WORD_CHARS}
_KIND_CHARS[OTHER] = code_points.complement(
    code_points.normalized((*code_points.WORD_CHARS, *code_points.points("\n")))
)


def _either(kinds: list[int], anchor: str) -> str:
    """The text (or the anchor, ^ before it, $ after it) of a character of these kinds."""
    ranges = code_points.normalized(r for kind in kinds if kind != START for r in _KIND_CHARS[kind])
    texts = [anchor] if START in kinds else []
    return "|".join(texts + ([char_class_text(ranges)] if ranges else []))


def _condition_text(condition: int) -> str:
    """A condition as one lookaround (a lookbehind with a lookahead inside, if both sides
    matter), even `^` alone: anchors and boundaries written as such, where some are
    optional or alternatives and repeated, make PostgreSQL's automaton grow exponentially
    (`(?:^|$){16}` takes seconds, `(?:a?^b?$){1000}` is "too complex"); lookarounds do not.
    """
    if condition == EVERYWHERE:
        return ""
    if condition == NOWHERE:
        return "(?!)"
    befores_of: dict[tuple[int, ...], list[int]] = {}
    for before in range(4):
        afters = tuple(after for after in range(4) if condition >> (4 * before + after) & 1)
        if afters:
            befores_of.setdefault(afters, []).append(before)
    if len(befores_of) == 1 and len(next(iter(befores_of.values()))) == 4:
        return f"(?={_either(list(next(iter(befores_of))), '$')})"  # the next character alone
    branches = []
    for afters, befores in befores_of.items():
        behind = _either(befores, "^")
        if len(afters) < 4:
            behind = f"(?:{behind})" if "|" in behind else behind
            behind += f"(?={_either(list(afters), '$')})"
        branches.append(behind)
    return f"(?<={'|'.join(branches)})"


class Piece:
    """A translated part of a pattern.

    `empty`: the contexts in which it matches the empty string. A `zero_width` piece never
    consumes a character: it is that condition alone, written out (`text`) only once its
    neighbours are known, as one lookaround with them. `atom`: a quantifier may follow
    `text` directly. `skips`: for a piece that may match the empty string, how many
    optional parts PostgreSQL's automaton passes in a row to match it so (see repeated_piece);
    `chained`: whether some of them are the copies of a repetition within it.
    """

    def __init__(
        self,
        text: str,
        empty: int,
        zero_width: bool = False,
        atom: bool = False,
        skips: int = 0,
        chained: bool = False,
    ):
        self.text = text
        self.empty = empty
        self.zero_width = zero_width
        self.atom = atom
        self.skips = skips
        self.chained = chained


def condition_piece(condition: int) -> Piece:
    return Piece("", condition, zero_width=True)


def char_set_piece(ranges: Ranges) -> Piece:
    if not ranges:
        return condition_piece(NOWHERE)  # an empty class matches nothing
    return Piece(char_class_text(ranges), NOWHERE, atom=True)


def piece_text(piece: Piece) -> str:
    return _condition_text(piece.empty) if piece.zero_width else piece.text


def sequence_piece(pieces: list[Piece]) -> Piece:
    """Pieces one after the other; neighbouring conditions become one."""
    merged: list[Piece] = []
    for piece in pieces:
        if piece.zero_width and merged and merged[-1].zero_width:
            merged[-1] = condition_piece(merged[-1].empty & piece.empty)
        else:
            merged.append(piece)
    if all(piece.zero_width for piece in merged):
        return condition_piece(
            functools.reduce(operator.and_, (p.empty for p in merged), EVERYWHERE)
        )
    empty = functools.reduce(operator.and_, (p.empty for p in merged))
    skips = sum(piece.skips for piece in merged) if empty != NOWHERE else 0
    chained = any(piece.chained for piece in merged)
    return Piece(
        "".join(piece_text(piece) for piece in merged), empty, skips=skips, chained=chained
    )


def alternatives_piece(branches: list[Piece]) -> Piece:
    conditions = [branch.empty for branch in branches if branch.zero_width]
    either = functools.reduce(operator.or_, conditions, NOWHERE)
    if len(conditions) == len(branches):
        return condition_piece(either)
    texts = [branch.text for branch in branches if not branch.zero_width]
    if conditions:
        texts.append(_condition_text(either))
    empty = functools.reduce(operator.or_, (branch.empty for branch in branches))
    skips = max(1, *(branch.skips for branch in branches)) if empty != NOWHERE else 0
    chained = any(branch.chained for branch in branches)
    return Piece("|".join(texts), empty, skips=skips, chained=chained)


def repeated_piece(piece: Piece, low: int, high: int | None) -> Piece:
    if piece.zero_width or high == 0:
        # A condition holds once or not at all where it is tested: c{2,} is c, c* nothing.
        return condition_piece(piece.empty if low and piece.zero_width else EVERYWHERE)
    operand = piece.text if piece.atom else f"(?:{piece.text})"
    text = _counted(operand, low, high)
    empty = EVERYWHERE if low == 0 else piece.empty
    if piece.empty == NOWHERE:
        return Piece(text, empty, skips=1 if low == 0 else 0)
    # PostgreSQL writes out each repetition of x{n,m}; when x may be empty, the copies
    # form a chain of optional parts that it takes time quadratic (or worse) in to compile:
    # (?:a?b?){255} takes seconds, (?:\w*\s*){100} one. RE2 does not mind, so this is
    # refused on both databases alike.
    if piece.empty == EVERYWHERE:
        copies = high if high is not None else max(low, 1)
        skips = copies * max(piece.skips, 1)
        refused = skips > MAX_SKIPS
    else:
        # Empty only where a condition holds, (?:,|$): one level of copies costs PostgreSQL
        # nothing ((?:[^,]*(?:,|$)){0,255}, (?:a|\b){1000}), but its optional copies, and
        # the chains of those repeated inside it, add up once repeated again:
        # (?:(?:a|^){0,255}(?:a|^){0,45})* is "too complex", (?:(?:a|^){1,128}(?:a|^){1,128})*
        # runs past 10 s.
        optional = high - low if high is not None else 1
        skips = optional * max(piece.skips, 1) + (low * piece.skips if piece.chained else 0)
        refused = piece.chained and skips > MAX_SKIPS
    if refused:
        raise Unsupported(
            f"a group that can match the empty string, repeated {skips} times (at most "
            f"{MAX_SKIPS}; PostgreSQL's engine cannot compile more in time)"
        )
    return Piece(text, empty, skips=skips, chained=skips > 0)


def _counted(text: str, low: int, high: int | None) -> str:
    """`text` repeated low to high times (high None: no limit)."""
    if low <= POSTGRES_MAX_REPEAT and (high is None or high <= POSTGRES_MAX_REPEAT):
        if high is None:
            return f"{text}*" if low == 0 else f"{text}+" if low == 1 else f"{text}{{{low},}}"
        if (low, high) == (0, 1):
            return f"{text}?"
        return f"{text}{{{low}}}" if low == high else f"{text}{{{low},{high}}}"
    # x{600,700} is x{255}x{255}x{90}x{0,100}; x{600,} ends with x* instead.
    parts = [f"{text}{{{count}}}" for count in _in_parts(low)]
    if high is None:
        parts.append(f"{text}*")
    else:
        parts.extend(f"{text}{{0,{count}}}" for count in _in_parts(high - low))
    return "".join(parts)


def _in_parts(total: int) -> list[int]:
    step = POSTGRES_MAX_REPEAT
    return [min(step, total - start) for start in range(0, total, step)]
