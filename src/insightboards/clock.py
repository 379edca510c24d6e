"""Timestamps as stored and served: ISO 8601, UTC, millisecond precision, fixed width."""

from datetime import UTC, datetime


def now_iso() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
