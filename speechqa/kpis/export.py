"""CSV exports of reports: the same rows the JSON answers carry, one header line.

Every text cell that a spreadsheet would read as a formula (it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return: OWASP's list) is prefixed with ``'`` so it shows as text.
Agent ids, team names and rule texts come from upstream systems and transcripts, so nothing in
an export is trusted. Numbers stay numbers (a negative score is not a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet shows it literally."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV text, columns in the order of the first row (empty for no rows)."""
    out = io.StringIO()
    if rows:
        writer = csv.writer(out)
        columns = list(rows[0])
        writer.writerow([safe_cell(c) for c in columns])
        writer.writerows([safe_cell(row.get(c)) for c in columns] for row in rows)
    return out.getvalue()
