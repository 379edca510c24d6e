"""Random RE2 patterns from the syntax the translator supports, and strings to match them on.

Small on purpose: a few literals where RE2 and PostgreSQL could disagree (case variants
outside ASCII, a newline, an astral character), each kind of class, anchor, flag, group,
quantifier (past PostgreSQL's 255 too) and alternation, combined recursively.
"""

# ruff: noqa: RUF001  (look-alike letters such as long s and dotless i are the point)

from __future__ import annotations

from hypothesis import strategies as st

LITERALS = ["a", "b", "A", "K", "k", "s", "S", "i", "I", "é", "É", "ß", "ẞ", "ſ", "K", "ı",
            "İ", "σ", "ς", "Σ", "ΐ", "ΐ", "\\n", "\n", " ", "0", "_", "-", "\\.", "\\x{1F600}",
            "😀", "\\101", "\\Qa.\\E", "\\t", "{", "a{,2}"]  # fmt: skip
CLASSES = ["[ab]", "[^a]", "[a-z]", "[^\\n]", "[[:alpha:]]", "[[:^alpha:]]", "[[:punct:]]",
           "[[:space:]]", "[[:word:]]", "[[:upper:]]", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S",
           "[\\w-]", "[^\\W\\d]", ".", "[k]", "[é-ſ]", "[^k]", "[]a]", "[^-a]", "[\\s\\S]",
           "[^\\x{0}-\\x{10FFFF}]", "[A-Z]", "[^[:lower:]]", "[ſ]",
           "[\\x{2000}-\\x{10FFFF}]"]  # fmt: skip
ANCHORS = ["^", "$", "\\A", "\\z", "\\b", "\\B"]
FLAGS = ["(?i)", "(?m)", "(?s)", "(?-i)", "(?U)", "(?im)", "(?-ms)", "(?i-s)"]
QUANTIFIERS = ["*", "+", "?", "{2}", "{1,3}", "{0,}", "{0}", "*?", "{3,}", "+?", "{256}",
               "{0,300}"]  # fmt: skip
OPENERS = ["(", "(?:", "(?P<n>", "(?<n>", "(?i:", "(?-i:", "(?s:", "(?m:", "(?i-m:"]


def _grouped(item: tuple[str, str]) -> str:
    operand, quantifier = item
    return f"(?:{operand}){quantifier}"


def _extended(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(st.sampled_from(OPENERS), inner).map(lambda t: f"{t[0]}{t[1]})"),
        st.tuples(inner, inner).map("|".join),
        st.tuples(inner, st.sampled_from(QUANTIFIERS)).map(_grouped),
        # Bare, the quantifier takes the last item only (and RE2 refuses some: `a**`).
        st.tuples(inner, st.sampled_from(QUANTIFIERS)).map("".join),
        st.lists(st.one_of(inner, st.sampled_from(FLAGS)), min_size=1, max_size=4).map("".join),
    )


patterns = st.recursive(st.sampled_from(LITERALS + CLASSES + ANCHORS), _extended, max_leaves=10)
options = st.sampled_from(["", "i", "m", "s", "ims"])

ALPHABET = "aAbBkKsS \n_-.0éÉßſKσςΣ😀xıIiİẞ{,}ΐΐ"
texts = st.text(alphabet=ALPHABET, max_size=8)
# Always tried as well: the edges of lines and words, case variants, non-ASCII text.
FIXED_TEXTS = ["", "\n", "a", "okr", "OKR board", "AßB", "a\nb", "K", "ſ", "x\n", "\na", "é",
               "a{,2}", "{"]  # fmt: skip
