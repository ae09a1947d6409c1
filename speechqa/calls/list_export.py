"""The call list as CSV: the rows a filtered list shows, every page of them, for a spreadsheet.

Times are ISO 8601 in UTC, and in the viewer's zone beside them when one is given; a call the
upstream sent without a start says its time is the arrival (``time_source``). Text that a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) is quoted with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

from speechqa.calls.listing import CallRow
from speechqa.zones import UTC_ZONE, ShownZone

COLUMNS = (
    "id",
    "external_id",
    "time_utc",
    "time_local",
    "time_zone",
    "time_source",
    "agent_id",
    "agent_name",
    "team",
    "direction",
    "status",
    "duration_s",
    "score",
    "critical_fail",
    "reviewed",
    "disputed",
    "customer_sentiment_shift",
    "tags",
)


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value[0] in "=+-@\t\r" else value


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _flag(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def row_values(row: CallRow, zone: ShownZone) -> list[str]:
    when = row.started_at or row.received_at
    moment = datetime.fromisoformat(when) if when else None
    return [
        row.id,
        _text(row.external_id),
        UTC_ZONE.format(moment, "%Y-%m-%dT%H:%M:%SZ"),
        zone.format(moment, "%Y-%m-%d %H:%M:%S"),
        zone.name,
        "started" if row.started_at else "received",
        _text(row.agent_id),
        _text(row.agent_name),
        _text(row.team),
        _text(row.direction),
        row.status,
        _number(row.duration_s),
        _number(row.score),
        _flag(row.critical_fail),
        _flag(row.score_source == "review"),
        _flag(row.disputed),
        _number(row.customer_sentiment_shift),
        _text(" ".join(row.tags)),
    ]


def csv_lines(rows: Iterable[CallRow], zone: ShownZone) -> Iterator[str]:
    """The header, then one CSV line per row (a generator: a response streams it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row_values(row, zone))
        if buffer.tell() > 32_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
