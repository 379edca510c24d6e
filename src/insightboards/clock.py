"""Timestamps as stored and served: ISO 8601, UTC, millisecond precision, fixed width."""

from datetime import UTC, datetime, timedelta


class TimestampOutOfRange(ValueError):
    """A valid ISO 8601 timestamp whose UTC moment falls outside years 1 to 9999."""


def _format(moment: datetime) -> str:
    # Not strftime: its `%Y` leaves years before 1000 unpadded on glibc, and stored
    # timestamps are compared as text, so their width must never vary.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def now_iso() -> str:
    return _format(datetime.now(UTC))


def iso_in(days: float) -> str:
    """The moment `days` from now."""
    return _format(datetime.now(UTC) + timedelta(days=days))


def normalize_timestamp(value: str) -> str | None:
    """Any ISO 8601 date or timestamp in the stored form (UTC assumed when no offset is
    given); None when `value` is not one; TimestampOutOfRange when it is one but its UTC
    moment cannot be stored (`0001-01-01T00:00:00+01:00`)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return _format(parsed.astimezone(UTC))
    except OverflowError:
        raise TimestampOutOfRange(
            f"{value} is before 0001-01-01 or after 9999-12-31 in UTC"
        ) from None
