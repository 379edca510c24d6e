"""loop_reads.KeyedReads: the point reads asked for in one turn of the event loop go out
as one statement per group, each key answered from its own group's rows only."""

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from insightboards.loop_reads import KeyedReads, LoopReads

STATEMENT = sa.select(sa.literal_column("key"))


class _Recorded(LoopReads):
    """Rows from a dict of groups, and the parameters of every statement run."""

    def __init__(self, rows: dict[str, dict[str, tuple[Any, ...]]]) -> None:
        super().__init__(postgresql.psycopg.dialect())  # type: ignore[no-untyped-call]
        self.rows = rows
        self.statements: list[Mapping[str, Any]] = []
        self.failure: Exception | None = None

    async def execute(
        self, statement: sa.ClauseElement, parameters: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        self.statements.append(parameters)
        await asyncio.sleep(0)  # a round trip
        if self.failure is not None:
            raise self.failure
        of_group = self.rows.get(parameters["group"], {})
        return [of_group[key] for key in parameters["keys"] if key in of_group]

    async def close(self) -> None: ...


ROWS = {
    "account-a": {"b1": ("b1", "of a"), "b2": ("b2", "of a")},
    "account-b": {"b3": ("b3", "of b")},
}


def test_reads_of_one_turn_go_out_together_one_statement_per_group() -> None:
    reads = _Recorded(ROWS)

    async def main() -> list[tuple[Any, ...] | None]:
        keyed = reads.keyed(STATEMENT)
        assert reads.keyed(STATEMENT) is keyed
        return await asyncio.gather(
            keyed.read("account-a", "b1"),
            keyed.read("account-a", "b2"),
            keyed.read("account-a", "b1"),  # twice in one turn: read once
            keyed.read("account-b", "b3"),
            keyed.read("account-b", "b1"),  # another account's board: not found
            keyed.read("account-a", "missing"),
        )

    answers = asyncio.run(main())
    assert answers == [("b1", "of a"), ("b2", "of a"), ("b1", "of a"), ("b3", "of b"), None, None]
    assert sorted((p["group"], sorted(p["keys"])) for p in reads.statements) == [
        ("account-a", ["b1", "b2", "missing"]),
        ("account-b", ["b1", "b3"]),
    ]


def test_reads_of_later_turns_go_out_again() -> None:
    reads = _Recorded(ROWS)

    async def main() -> None:
        keyed = reads.keyed(STATEMENT)
        assert await keyed.read("account-a", "b1") == ("b1", "of a")
        assert await keyed.read("account-a", "b2") == ("b2", "of a")

    asyncio.run(main())
    assert [p["keys"] for p in reads.statements] == [["b1"], ["b2"]]


def test_many_keys_are_read_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KeyedReads, "MOST_KEYS", 2)
    reads = _Recorded({"g": {f"k{n}": (f"k{n}",) for n in range(5)}})

    async def main() -> list[tuple[Any, ...] | None]:
        keyed = reads.keyed(STATEMENT)
        return await asyncio.gather(*(keyed.read("g", f"k{n}") for n in range(5)))

    assert asyncio.run(main()) == [(f"k{n}",) for n in range(5)]
    assert [len(p["keys"]) for p in reads.statements] == [2, 2, 1]


def test_a_failed_statement_fails_every_read_that_waited_for_it() -> None:
    reads = _Recorded(ROWS)
    reads.failure = RuntimeError("the server went away")

    async def main() -> list[Any]:
        keyed = reads.keyed(STATEMENT)
        return await asyncio.gather(
            keyed.read("account-a", "b1"), keyed.read("account-a", "b2"), return_exceptions=True
        )

    answers = asyncio.run(main())
    assert [str(answer) for answer in answers] == ["the server went away"] * 2


def test_a_cancelled_read_leaves_the_others_answered() -> None:
    reads = _Recorded(ROWS)

    async def main() -> tuple[Any, ...] | None:
        keyed = reads.keyed(STATEMENT)
        gone = asyncio.ensure_future(keyed.read("account-a", "b1"))
        staying = asyncio.ensure_future(keyed.read("account-a", "b1"))
        await asyncio.sleep(0)
        gone.cancel()
        return await asyncio.wait_for(staying, timeout=5)

    assert asyncio.run(main()) == ("b1", "of a")
