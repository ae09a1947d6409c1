"""Periods and buckets of KPI queries: validated query parameters, day/week/month keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from speechqa.errors import InvalidInput

BUCKETS = ("day", "week", "month")


def parse_period(
    start: str | None, end: str | None, bucket: str | None
) -> tuple[datetime, datetime, str | None]:
    """Validate query parameters; dates are ISO dates or datetimes, the end day is included."""

    def parse(name: str, value: str | None, default: datetime) -> datetime:
        if value is None:
            return default
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(
                f"'{name}' must be a date (YYYY-MM-DD) or an ISO datetime, not {value!r}.",
                details={"parameter": name},
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    now = datetime.now(UTC)
    lo = parse("from", start, now - timedelta(days=30))
    hi = parse("to", end, now)
    if end is not None and len(end) == 10:
        hi += timedelta(days=1)
    if hi <= lo:
        raise InvalidInput("'to' must be after 'from'.", details={"parameter": "to"})
    if bucket is not None and bucket not in BUCKETS:
        raise InvalidInput(
            f"'bucket' must be one of {', '.join(BUCKETS)}, not {bucket!r}.",
            details={"parameter": "bucket"},
        )
    return lo, hi, bucket


def bucket_start(at: datetime, bucket: str) -> str:
    day = at.astimezone(UTC).date()
    if bucket == "week":
        day -= timedelta(days=day.weekday())
    elif bucket == "month":
        day = day.replace(day=1)
    return day.isoformat()
