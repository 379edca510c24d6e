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

import re

from insightboards.query import code_points, postgres_regex
from insightboards.query.code_points import MAX_CODE_POINT, Ranges
from insightboards.query.postgres_regex import Unsupported

__all__ = ["Unsupported", "to_postgres"]


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
    text = postgres_regex.piece_text(translated)
    other, everywhere = postgres_regex.OTHER, postgres_regex.EVERYWHERE
    if translated.empty >> (4 * other + other) & 1 and translated.empty != everywhere:
        # RE2 reads UTF-8 bytes, and between two bytes of a character `\B` holds: a
        # pattern matching the empty string in such a context matches any text with a
        # non-ASCII character (`\B` matches "AßB", though no position between two of its
        # characters qualifies).
        return f"{text}|{postgres_regex.char_class_text(((0x80, MAX_CODE_POINT),))}"
    return text


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0

    def peek(self, offset: int = 0) -> str:
        return self.pattern[self.at + offset : self.at + offset + 1]

    def sequence(self, flags: Flags) -> postgres_regex.Piece:
        """Up to the `)` closing the current group, or the end: flags set here end there
        (RE2 keeps them across `|`)."""
        branches: list[list[postgres_regex.Piece]] = [[]]
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
        return postgres_regex.alternatives_piece(
            [postgres_regex.sequence_piece(branch) for branch in branches]
        )

    def group(self, flags: Flags) -> postgres_regex.Piece:
        body = self.sequence(flags)
        if self.peek() != ")":
            raise Unsupported("missing )")  # RE2 refuses it first
        self.at += 1
        if body.zero_width:
            return body
        return postgres_regex.Piece(
            f"(?:{body.text})", body.empty, atom=True, skips=body.skips, chained=body.chained
        )

    def flags(self, flags: Flags, branch: list[postgres_regex.Piece]) -> Flags:
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

    def quantify(self, branch: list[postgres_regex.Piece]) -> None:
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
        branch.append(postgres_regex.repeated_piece(branch.pop(), low, high))

    def atoms(self, flags: Flags) -> list[postgres_regex.Piece]:
        char = self.peek()
        if char == "(":
            # Named groups, `(?P<name>` and `(?<name>`, are groups like any other.
            self.at = self.pattern.index(">", self.at) + 1 if self.peek(1) == "?" else self.at + 1
            return [self.group(flags)]
        if char == "[":
            return [postgres_regex.char_set_piece(self.bracket(flags))]
        if char == "\\":
            return self.escape(flags)
        self.at += 1
        if char == ".":
            dot = (
                ((0, MAX_CODE_POINT),)
                if "s" in flags
                else code_points.complement(code_points.points("\n"))
            )
            return [postgres_regex.char_set_piece(dot)]
        if char in ("^", "$"):
            return [
                postgres_regex.condition_piece(
                    postgres_regex.CONDITIONS[char + "m" if "m" in flags else char]
                )
            ]
        return [_literal(ord(char), flags)]

    def escape(self, flags: Flags) -> list[postgres_regex.Piece]:
        letter = self.peek(1)
        if letter in ("A", "z", "b", "B"):
            self.at += 2
            return [
                postgres_regex.condition_piece(
                    postgres_regex.CONDITIONS[{"A": "^", "z": "$"}.get(letter, letter)]
                )
            ]
        if letter == "C":
            raise Unsupported("\\C (any byte)")
        if letter in ("p", "P"):
            raise Unsupported(self.unicode_class())
        if letter.lower() in code_points.PERL_CLASSES:
            self.at += 2
            return [postgres_regex.char_set_piece(self.perl_class(letter, flags))]
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
        return code_points.class_of(
            code_points.PERL_CLASSES[letter.lower()], letter.isupper(), "i" in flags
        )

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
                if end != -1 and name.removeprefix("^") in code_points.POSIX_CLASSES:
                    members = code_points.POSIX_CLASSES[name.removeprefix("^")]
                    parts.extend(code_points.class_of(members, name.startswith("^"), fold))
                    self.at = end + 2
                    continue
            letter = self.peek(1)
            if self.peek() == "\\" and letter in ("p", "P"):
                raise Unsupported(self.unicode_class())
            if self.peek() == "\\" and letter.lower() in code_points.PERL_CLASSES:
                self.at += 2
                parts.extend(self.perl_class(letter, flags))
                continue
            low = high = self.class_char()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.at += 1
                high = self.class_char()
            parts.extend(code_points.class_of(((low, high),), False, fold))
        self.at += 1
        ranges = code_points.normalized(parts)
        return code_points.complement(ranges) if negated else ranges

    def class_char(self) -> int:
        if self.peek() == "\\":
            return self.escaped_char()
        self.at += 1
        return ord(self.pattern[self.at - 1])


def _literal(point: int, flags: Flags) -> postgres_regex.Piece:
    return postgres_regex.char_set_piece(
        code_points.class_of(((point, point),), False, "i" in flags)
    )
