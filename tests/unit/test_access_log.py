"""api.access_log's writer: the lines gathered while it waits go out as one record, in order,
one line per request; what is queued at close is written before it returns."""

import logging
from collections.abc import Iterator

import pytest

from insightboards.api import access_log


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def records() -> Iterator[list[str]]:
    handler = _Records()
    level = access_log.logger.level
    access_log.logger.addHandler(handler)
    access_log.logger.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        access_log.logger.removeHandler(handler)
        access_log.logger.setLevel(level)


def test_lines_put_together_are_written_as_one_record_in_order(
    records: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_log, "_GATHER_SECONDS", 0.5)
    writer = access_log._LineWriter()
    for number in range(50):
        writer.put(f'{{"n":{number}}}')
    writer.close()
    assert records == ["\n".join(f'{{"n":{number}}}' for number in range(50))]


def test_what_is_queued_at_close_is_written(
    records: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_log, "_GATHER_SECONDS", 0)
    writer = access_log._LineWriter()
    writer.put("first")
    writer.close()
    writer.close()  # at exit, again: nothing more
    assert "\n".join(records).splitlines() == ["first"]
