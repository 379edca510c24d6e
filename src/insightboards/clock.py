"""Timestamps as stored and served: ISO 8601, UTC, millisecond precision, fixed width."""

from datetime import UTC, datetime


def _format(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return _format(datetime.now(UTC))


def normalize_timestamp(value: str) -> str | None:
    """Any ISO 8601 date or timestamp in the stored form (UTC assumed when no offset is
    given); None when `value` is not one."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _format(parsed.astimezone(UTC))
