"""Property: a translated `$regex` matches on PostgreSQL exactly what RE2 matches.

RE2 is what SQLite runs (sqlite_functions.regexp); PostgreSQL's `~` gets regex.postgres_pattern.
Each generated pattern is tried on generated and fixed texts in one query, under the
database's collation and under a Turkish ICU one (whose own case rules fold i with İ, not
with I), to show that PostgreSQL's locale plays no part.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from insightboards.errors import BadRequest
from insightboards.query import regex
from insightboards.sqlite_functions import regexp as sqlite_regexp
from tests.e2e.harness import POSTGRES_ADMIN_URL, postgres_reachable
from tests.query.regex_grammar import FIXED_TEXTS, options, patterns, texts

# The patterns of the bug report that RE2 and SQLite accept (\pL is refused on both).
REPORTED = ["(?i)okr", "(?m)^a$", "(?P<n>a)", "\\z", "a{1000}", "[[:^alpha:]]"]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    if not postgres_reachable():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute("SET statement_timeout = 10000")
        icu = connection.execute("SELECT 1 FROM pg_collation WHERE collname = 'tr-x-icu'")
        yield connection, icu.fetchone() is not None


def _postgres_matches(postgres: Any, pattern: str, subjects: list[str]) -> list[list[bool]]:
    connection, icu = postgres
    turkish = ', array_agg((s COLLATE "tr-x-icu") ~ %(p)s ORDER BY n)' if icu else ""
    row = connection.execute(
        f"SELECT array_agg(s ~ %(p)s ORDER BY n){turkish} "
        "FROM unnest(%(s)s::text[]) WITH ORDINALITY AS t(s, n)",
        {"p": pattern, "s": subjects},
    ).fetchone()
    return list(row)


def _examples(test: Any) -> Any:
    for pattern in [*REPORTED, "\\B", "(?:a|\\b){20}", "(?i)[^\\W]", "(?m)(?:^|$){16}"]:
        test = example(pattern=pattern, options="", generated=[])(test)
    return example(pattern="^a.$", options="s", generated=["a\n"])(test)


@settings(
    max_examples=int(os.environ.get("INSIGHTBOARDS_REGEX_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pattern=patterns, options=options, generated=st.lists(texts, max_size=24))
@_examples
def test_postgres_matches_exactly_what_re2_matches(
    postgres: Any, pattern: str, options: str, generated: list[str]
) -> None:
    try:
        regex.validate(pattern, options)
    except BadRequest:
        assume(False)  # RE2 refuses it (`a**`, a repetition over 1000): so do both databases
    subjects = FIXED_TEXTS + generated
    re2_pattern = regex.re2_pattern(pattern, options)
    expected = [sqlite_regexp(re2_pattern, s) for s in subjects]
    translated = regex.postgres_pattern(pattern, options)
    for matched in _postgres_matches(postgres, translated, subjects):
        wrong = [(s, e) for s, e, m in zip(subjects, expected, matched, strict=True) if e != m]
        assert not wrong, (pattern, options, translated, wrong)
