"""Totals over every stored call: how many are in each status, and how much audio is analysed.

They are read from the database, so they are the same whichever process or machine asks
(monitoring reads them at each scrape).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from speechqa.storage.tables import Call, CallStatus


def calls_by_status(session: Session) -> dict[CallStatus, int]:
    """The number of calls in each status, every status named (0 where there is none)."""
    counts = dict.fromkeys(CallStatus, 0)
    for status, count in session.execute(select(Call.status, func.count()).group_by(Call.status)):
        counts[CallStatus(status)] = int(count)
    return counts


def analysed_audio_s(session: Session) -> float:
    """Seconds of audio in the calls whose analysis is done."""
    total = session.scalar(
        select(func.coalesce(func.sum(Call.duration_s), 0.0)).where(Call.status == CallStatus.DONE)
    )
    return float(total or 0.0)
