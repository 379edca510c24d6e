"""RE2 patterns as PostgreSQL regular expressions that match exactly the same strings.

PostgreSQL's engine differs from RE2 in many details: its `\\d \\w \\s`, POSIX classes and
case-insensitivity follow the database's locale, its `\\b` is a backspace, its embedded
options are allowed only at the very start, its repetition counts stop at 255, and it has
no named groups or `\\z`. So nothing is left to its interpretation: the pattern is parsed as
RE2 parses it (re2/parse.cc) and written out with every character set as explicit code
point ranges, case-insensitivity as sets of case variants, anchors and word boundaries as
lookarounds, and no options, in PostgreSQL's default mode (where `.` and `[^a]` match a
newline and `^`/`$` only the ends of the text: neither is used as such).

Only whether a pattern matches somewhere matters to a filter, so capture groups and
laziness are dropped. The input must be a pattern RE2 compiles (regex.validate checks
first); what has no translation (`\\p{...}` classes, `\\C`) raises Unsupported.
"""

import bisect
import functools
import operator
import re
from collections.abc import Callable, Iterable

MAX_CODE_POINT = 0x10FFFF
# PostgreSQL's largest repetition count (RE2's is 1000): larger ones are written in parts.
POSTGRES_MAX_REPEAT = 255
# Optional parts in a row through repetitions of empty-matching groups (see _repeated).
MAX_SKIPS = 50

# Python knows no cased character beyond the Supplementary Multilingual Plane.
_CASED_BELOW = 0x20000

Ranges = tuple[tuple[int, int], ...]


class Unsupported(Exception):
    """A construct RE2 accepts that has no PostgreSQL equivalent here."""


# --- sets of code points, as sorted disjoint ranges --------------------------------------


def _normalized(ranges: Iterable[tuple[int, int]]) -> Ranges:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def _complement(ranges: Ranges) -> Ranges:
    gaps = []
    start = 0
    for low, high in ranges:
        if low > start:
            gaps.append((start, low - 1))
        start = high + 1
    if start <= MAX_CODE_POINT:
        gaps.append((start, MAX_CODE_POINT))
    return tuple(gaps)


def _points(text: str) -> Ranges:
    return _normalized((ord(c), ord(c)) for c in text)


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
    return _normalized((*ranges, *added)) if added else ranges


# RE2's classes are ASCII-only (re2/perl_groups.cc).
_DIGIT = (_span("0", "9"),)
_WORD = _normalized((_span("0", "9"), _span("A", "Z"), _span("a", "z"), _span("_", "_")))
_PERL_CLASSES: dict[str, Ranges] = {"d": _DIGIT, "s": _points("\t\n\f\r "), "w": _WORD}
_POSIX_CLASSES: dict[str, Ranges] = {
    "alnum": _normalized((_span("0", "9"), _span("A", "Z"), _span("a", "z"))),
    "alpha": _normalized((_span("A", "Z"), _span("a", "z"))),
    "ascii": ((0, 0x7F),),
    "blank": _points("\t "),
    "cntrl": ((0, 0x1F), (0x7F, 0x7F)),
    "digit": _DIGIT,
    "graph": (_span("!", "~"),),
    "lower": (_span("a", "z"),),
    "print": (_span(" ", "~"),),
    "punct": _normalized((_span("!", "/"), _span(":", "@"), _span("[", "`"), _span("{", "~"))),
    "space": _normalized((_span("\t", "\r"), _span(" ", " "))),
    "upper": (_span("A", "Z"),),
    "word": _WORD,
    "xdigit": _normalized((_span("0", "9"), _span("A", "F"), _span("a", "f"))),
}


def _class_of(ranges: Ranges, negated: bool, fold: bool) -> Ranges:
    """A named class as RE2 builds it: under `(?i)` a negated class leaves out the case
    variants of its members too (parse.cc, AddUGroup)."""
    if fold:
        ranges = _case_closed(ranges)
    return _complement(ranges) if negated else ranges


# --- writing PostgreSQL syntax -----------------------------------------------------------


def _char(point: int) -> str:
    char = chr(point)
    if char.isascii() and char.isalnum():
        return char
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def _bracket_body(ranges: Ranges) -> str:
    return "".join(
        _char(low) if low == high else f"{_char(low)}-{_char(high)}" for low, high in ranges
    )


def _chars(ranges: Ranges) -> str:
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        return _char(ranges[0][0])
    complement = _complement(ranges)
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
_CONDITIONS = {
    "^": _contexts(lambda before, after: before == START),
    "$": _contexts(lambda before, after: after == END),
    "^m": _contexts(lambda before, after: before in (START, NEWLINE)),
    "$m": _contexts(lambda before, after: after in (END, NEWLINE)),
    "b": _contexts(lambda before, after: (before == WORD) != (after == WORD)),
    "B": _contexts(lambda before, after: (before == WORD) == (after == WORD)),
}
_KIND_CHARS = {NEWLINE: _points("\n"), WORD: _WORD}
_KIND_CHARS[OTHER] = _complement(_normalized((*_WORD, *_points("\n"))))


def _either(kinds: list[int], anchor: str) -> str:
    """The text (or the anchor, ^ before it, $ after it) of a character of these kinds."""
    ranges = _normalized(r for kind in kinds if kind != START for r in _KIND_CHARS[kind])
    texts = [anchor] if START in kinds else []
    return "|".join(texts + ([_chars(ranges)] if ranges else []))


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


class _Piece:
    """A translated part of a pattern.

    `empty`: the contexts in which it matches the empty string. A `zero_width` piece never
    consumes a character: it is that condition alone, written out (`text`) only once its
    neighbours are known, as one lookaround with them. `atom`: a quantifier may follow
    `text` directly. `skips`: for a piece that may match the empty string, how many
    optional parts PostgreSQL's automaton passes in a row to match it so (see _repeated);
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


def _condition(condition: int) -> _Piece:
    return _Piece("", condition, zero_width=True)


def _char_set(ranges: Ranges) -> _Piece:
    if not ranges:
        return _condition(NOWHERE)  # an empty class matches nothing
    return _Piece(_chars(ranges), NOWHERE, atom=True)


def _text(piece: _Piece) -> str:
    return _condition_text(piece.empty) if piece.zero_width else piece.text


def _sequence(pieces: list[_Piece]) -> _Piece:
    """Pieces one after the other; neighbouring conditions become one."""
    merged: list[_Piece] = []
    for piece in pieces:
        if piece.zero_width and merged and merged[-1].zero_width:
            merged[-1] = _condition(merged[-1].empty & piece.empty)
        else:
            merged.append(piece)
    if all(piece.zero_width for piece in merged):
        return _condition(functools.reduce(operator.and_, (p.empty for p in merged), EVERYWHERE))
    empty = functools.reduce(operator.and_, (p.empty for p in merged))
    skips = sum(piece.skips for piece in merged) if empty != NOWHERE else 0
    chained = any(piece.chained for piece in merged)
    return _Piece("".join(_text(piece) for piece in merged), empty, skips=skips, chained=chained)


def _alternatives(branches: list[_Piece]) -> _Piece:
    conditions = [branch.empty for branch in branches if branch.zero_width]
    either = functools.reduce(operator.or_, conditions, NOWHERE)
    if len(conditions) == len(branches):
        return _condition(either)
    texts = [branch.text for branch in branches if not branch.zero_width]
    if conditions:
        texts.append(_condition_text(either))
    empty = functools.reduce(operator.or_, (branch.empty for branch in branches))
    skips = max(1, *(branch.skips for branch in branches)) if empty != NOWHERE else 0
    chained = any(branch.chained for branch in branches)
    return _Piece("|".join(texts), empty, skips=skips, chained=chained)


def _repeated(piece: _Piece, low: int, high: int | None) -> _Piece:
    if piece.zero_width or high == 0:
        # A condition holds once or not at all where it is tested: c{2,} is c, c* nothing.
        return _condition(piece.empty if low and piece.zero_width else EVERYWHERE)
    operand = piece.text if piece.atom else f"(?:{piece.text})"
    text = _counted(operand, low, high)
    empty = EVERYWHERE if low == 0 else piece.empty
    if piece.empty == NOWHERE:
        return _Piece(text, empty, skips=1 if low == 0 else 0)
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
    return _Piece(text, empty, skips=skips, chained=skips > 0)


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


# --- reading RE2 syntax (re2/parse.cc) ---------------------------------------------------

# `{n}`, `{n,}`, `{n,m}` with no leading zeros; anything else after `{` is a literal `{`.
_REPEAT = re.compile(r"\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}")
_CONTROL_ESCAPES = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_QUANTIFIERS = {"*": (0, None), "+": (1, None), "?": (0, 1)}
_OCTAL_DIGITS = frozenset("01234567")
_FLAGS = ("i", "m", "s")
Flags = frozenset[str]


def to_postgres(pattern: str, options: str) -> str:
    """The PostgreSQL pattern matching what RE2 matches with `(?options)pattern`."""
    parser = _Parser(pattern)
    translated = parser.sequence(frozenset(options) & frozenset(_FLAGS))
    if parser.at != len(pattern):
        raise Unsupported("unbalanced )")  # RE2 refuses it first
    text = _text(translated)
    if translated.empty >> (4 * OTHER + OTHER) & 1 and translated.empty != EVERYWHERE:
        # RE2 reads UTF-8 bytes, and between two bytes of a character `\B` holds: a
        # pattern matching the empty string in such a context matches any text with a
        # non-ASCII character (`\B` matches "AßB", though no position between two of its
        # characters qualifies).
        return f"{text}|{_chars(((0x80, MAX_CODE_POINT),))}"
    return text


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0

    def peek(self, offset: int = 0) -> str:
        return self.pattern[self.at + offset : self.at + offset + 1]

    def sequence(self, flags: Flags) -> _Piece:
        """Up to the `)` closing the current group, or the end: flags set here end there
        (RE2 keeps them across `|`)."""
        branches: list[list[_Piece]] = [[]]
        while self.at < len(self.pattern) and self.peek() != ")":
            char = self.peek()
            if char == "|":
                self.at += 1
                branches.append([])
            elif char in _QUANTIFIERS or _REPEAT.match(self.pattern, self.at):
                self.quantify(branches[-1])
            elif self.peek(1) == "?" and char == "(" and self.peek(2) not in ("P", "<"):
                flags = self.flags(flags, branches[-1])
            else:
                branches[-1].extend(self.atoms(flags))
        return _alternatives([_sequence(branch) for branch in branches])

    def group(self, flags: Flags) -> _Piece:
        body = self.sequence(flags)
        if self.peek() != ")":
            raise Unsupported("missing )")  # RE2 refuses it first
        self.at += 1
        if body.zero_width:
            return body
        return _Piece(
            f"(?:{body.text})", body.empty, atom=True, skips=body.skips, chained=body.chained
        )

    def flags(self, flags: Flags, branch: list[_Piece]) -> Flags:
        """`(?i-s)` changes the flags of the rest of the group, `(?i-s:...)` those inside."""
        self.at += 2
        changed, turning_on = set(flags), True
        while True:
            char = self.peek()
            self.at += 1
            if char == "-":
                turning_on = False
            elif char in _FLAGS:
                (changed.add if turning_on else changed.discard)(char)
            elif char == "U":
                pass  # laziness changes how a match ends, never whether there is one
            elif char == ":":
                branch.append(self.group(frozenset(changed)))
                return flags
            elif char == ")":
                return frozenset(changed)
            else:
                raise Unsupported(f"(?{char}")  # RE2 refuses it first

    def quantify(self, branch: list[_Piece]) -> None:
        if not branch:
            raise Unsupported("a repetition of nothing")  # RE2 refuses it first
        count = _REPEAT.match(self.pattern, self.at)
        if count:
            low = int(count[1])
            high = None if count[2] and count[3] is None else int(count[3] or low)
            self.at = count.end()
        else:
            low, high = _QUANTIFIERS[self.peek()]
            self.at += 1
        if self.peek() == "?":
            self.at += 1  # lazy: the same strings match
        # RE2 allows `a*(?i)*`, which is `(a*)*`; nesting writes that as well.
        branch.append(_repeated(branch.pop(), low, high))

    def atoms(self, flags: Flags) -> list[_Piece]:
        char = self.peek()
        if char == "(":
            # Named groups, `(?P<name>` and `(?<name>`, are groups like any other.
            self.at = self.pattern.index(">", self.at) + 1 if self.peek(1) == "?" else self.at + 1
            return [self.group(flags)]
        if char == "[":
            return [_char_set(self.bracket(flags))]
        if char == "\\":
            return self.escape(flags)
        self.at += 1
        if char == ".":
            dot = ((0, MAX_CODE_POINT),) if "s" in flags else _complement(_points("\n"))
            return [_char_set(dot)]
        if char in ("^", "$"):
            return [_condition(_CONDITIONS[char + "m" if "m" in flags else char])]
        return [_literal(ord(char), flags)]

    def escape(self, flags: Flags) -> list[_Piece]:
        letter = self.peek(1)
        if letter in ("A", "z", "b", "B"):
            self.at += 2
            return [_condition(_CONDITIONS[{"A": "^", "z": "$"}.get(letter, letter)])]
        if letter == "C":
            raise Unsupported("\\C (any byte)")
        if letter in ("p", "P"):
            raise Unsupported(self.unicode_class())
        if letter.lower() in _PERL_CLASSES:
            self.at += 2
            return [_char_set(self.perl_class(letter, flags))]
        if letter == "Q":
            # `\Q...\E`: literal text up to `\E` or the end.
            end = self.pattern.find("\\E", self.at + 2)
            end = len(self.pattern) if end == -1 else end
            text = self.pattern[self.at + 2 : end]
            self.at = min(end + 2, len(self.pattern))
            return [_literal(ord(char), flags) for char in text]
        return [_literal(self.escaped_char(), flags)]

    def unicode_class(self) -> str:
        end = self.pattern.find("}", self.at) + 1 if self.peek(2) == "{" else self.at + 3
        return (
            f"{self.pattern[self.at : end]} (a Unicode class; use ASCII classes such as \\w "
            "or [[:alpha:]], or ranges such as [\\x{400}-\\x{4ff}])"
        )

    def perl_class(self, letter: str, flags: Flags) -> Ranges:
        return _class_of(_PERL_CLASSES[letter.lower()], letter.isupper(), "i" in flags)

    def escaped_char(self) -> int:
        """The code point of an escape that stands for one: `\\n`, `\\x{41}`, `\\101`, `\\.`."""
        self.at += 1
        char = self.peek()
        self.at += 1
        if char in _OCTAL_DIGITS:
            digits = char
            while len(digits) < 3 and self.peek() in _OCTAL_DIGITS:
                digits += self.peek()
                self.at += 1
            return int(digits, 8)
        if char == "x":
            if self.peek() == "{":
                end = self.pattern.index("}", self.at)
                digits, self.at = self.pattern[self.at + 1 : end], end + 1
            else:
                digits, self.at = self.pattern[self.at : self.at + 2], self.at + 2
            return int(digits, 16)
        return _CONTROL_ESCAPES.get(char, ord(char))  # else punctuation, as itself

    def bracket(self, flags: Flags) -> Ranges:
        """`[...]` as a set of code points."""
        self.at += 1
        negated = self.peek() == "^"
        self.at += negated
        fold = "i" in flags
        parts: list[tuple[int, int]] = []
        first = True  # `]` first is a literal
        while first or self.peek() != "]":
            first = False
            if self.pattern.startswith("[:", self.at):
                end = self.pattern.find(":]", self.at + 2)
                name = self.pattern[self.at + 2 : end]
                if end != -1 and name.removeprefix("^") in _POSIX_CLASSES:
                    members = _POSIX_CLASSES[name.removeprefix("^")]
                    parts.extend(_class_of(members, name.startswith("^"), fold))
                    self.at = end + 2
                    continue
            letter = self.peek(1)
            if self.peek() == "\\" and letter in ("p", "P"):
                raise Unsupported(self.unicode_class())
            if self.peek() == "\\" and letter.lower() in _PERL_CLASSES:
                self.at += 2
                parts.extend(self.perl_class(letter, flags))
                continue
            low = high = self.class_char()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.at += 1
                high = self.class_char()
            parts.extend(_class_of(((low, high),), False, fold))
        self.at += 1
        ranges = _normalized(parts)
        return _complement(ranges) if negated else ranges

    def class_char(self) -> int:
        if self.peek() == "\\":
            return self.escaped_char()
        self.at += 1
        return ord(self.pattern[self.at - 1])


def _literal(point: int, flags: Flags) -> _Piece:
    return _char_set(_class_of(((point, point),), False, "i" in flags))
