"""Benchmark: searching 100,000 calls' transcripts with filters, as a reviewer does.

Generates calls without audio (one million utterances made of sentences from the sample calls
and common call-center phrases, with KPI rows), then times the call list page a reviewer gets
(``speechqa.calls.listing.list_calls``, what ``GET /v1/calls`` runs): a search plus two filters,
for a common word, a rare word, a phrase and a prefix. The baseline, in the same run, is the same
page with the same filters and no search.

    python -m bench.search --database-url postgresql://postgres@127.0.0.1:5432/bench
    python -m bench.search --calls 20000                       # SQLite, for comparison
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench.common import ROOT
from speechqa.calls.listing import CallFilters, list_calls
from speechqa.settings import Settings
from speechqa.storage.database import dispose_engines, get_engine, migrate, session_scope
from speechqa.storage.tables import Agent, Call, CallStats, UtteranceRow

EXTRA = [
    "I would like to speak to a supervisor about this.",
    "Can you cancel my subscription please?",
    "The technician will come on Tuesday between nine and noon.",
    "Your order number is being looked up now.",
    "I am calling about the invoice I received last week.",
    "Let me transfer you to the right department.",
    "Is there anything else I can help you with today?",
    "I have updated your payment method.",
]


def sentences() -> list[str]:
    pool = list(EXTRA)
    for path in sorted((ROOT / "examples").glob("*.json")):
        pool += [t["text"] for t in json.loads(path.read_text())["turns"]]
    return pool


def generate(settings: Settings, calls: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pool = sentences()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(settings) as session:
        session.execute(
            insert(Agent), [{"id": f"agent-{a}", "team": f"team-{a % 25}"} for a in range(500)]
        )
    batch = 2000
    for at in range(0, calls, batch):
        call_rows, stats_rows, utterance_rows = [], [], []
        for _ in range(min(batch, calls - at)):
            cid = uuid.uuid4().hex
            agent = rng.randrange(500)
            when = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
            score = round(rng.uniform(20, 100), 1)
            call_rows.append(
                {
                    "id": cid,
                    "agent_id": f"agent-{agent}",
                    "team": f"team-{agent % 25}",
                    "started_at": when,
                    "created_at": when,
                    "audio_path": "-",
                    "audio_sha256": "-",
                    "audio_bytes": 0,
                    "status": "done",
                    "duration_s": 60.0,
                    "tags": [],
                    "extra": {},
                }
            )
            stats_rows.append(
                {
                    "call_id": cid,
                    "agent_id": f"agent-{agent}",
                    "team": f"team-{agent % 25}",
                    "at": when,
                    "values": {"qa_score": score},
                    "rules_hit": [],
                    "critical_fail": rng.random() < 0.1,
                }
            )
            for i in range(10):
                utterance_rows.append(
                    {
                        "call_id": cid,
                        "idx": i,
                        "speaker": "agent" if i % 2 == 0 else "customer",
                        "start": i * 6.0,
                        "end": i * 6.0 + 5.0,
                        "text": rng.choice(pool),
                        "words": [],
                    }
                )
        with session_scope(settings) as session:
            session.execute(insert(Call), call_rows)
            session.execute(insert(CallStats), stats_rows)
            session.execute(insert(UtteranceRow), utterance_rows)
    with get_engine(settings).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def timed(settings: Settings, filters: CallFilters, repeat: int) -> tuple[float, float, float, int]:
    times = []
    rows = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        with session_scope(settings) as session:
            rows = len(list_calls(session, filters, limit=50).rows)
        times.append((time.perf_counter() - t0) * 1000)
    rest = sorted(times[1:])
    return times[0], statistics.median(rest), rest[int(0.95 * (len(rest) - 1))], rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=args.database_url)
        if args.database_url:
            with get_engine(settings).begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        migrate(settings)
        t0 = time.perf_counter()
        generate(settings, args.calls)
        backend = get_engine(settings).dialect.name
        print(
            f"{backend}: {args.calls} calls, {args.calls * 10} utterances generated in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        base = CallFilters(team="team-3", critical_fail=False)
        cold, median, p95, rows = timed(settings, base, args.repeat)
        print(
            f"  baseline, team + critical_fail, no search: median {median:.1f} ms, "
            f"p95 {p95:.1f} ms, first {cold:.1f} ms ({rows} rows)"
        )
        for q in ("thank", "supervisor", '"charged twice"', "cancel*", "xylophone"):
            cold, median, p95, rows = timed(settings, base.searching(q), args.repeat)
            print(
                f"  q={q:<16} + team + critical_fail: median {median:6.1f} ms, p95 {p95:6.1f} ms,"
                f" first {cold:6.1f} ms ({rows} rows)"
            )
        dispose_engines()
    return 0


if __name__ == "__main__":
    sys.exit(main())
