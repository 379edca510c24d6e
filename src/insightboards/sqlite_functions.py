"""The SQL functions the service's statements use that SQLite lacks, registered on each of
its connections (database.py): `value REGEXP pattern`, evaluated by RE2, which runs in
linear time (the query language checks a pattern before any statement holds it:
query/regex.py)."""

import functools
from typing import Any

import re2


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


_OPTIONS = _re2_options()


@functools.lru_cache(maxsize=256)
def compiled(pattern: str) -> Any:
    """`pattern` compiled by RE2 (re2.error if RE2 refuses it)."""
    return re2.compile(pattern, _OPTIONS)


def regexp(pattern: str | None, value: Any) -> bool:
    """SQLite's `REGEXP` function: `value REGEXP pattern` calls regexp(pattern, value)."""
    if pattern is None or not isinstance(value, str):
        return False
    return compiled(pattern).search(value) is not None
