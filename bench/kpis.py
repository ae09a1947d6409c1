"""Benchmark: per-agent KPIs over a quarter when the database holds a million calls.

Generates call records without audio (500 agents in 25 teams, one year of calls, with their
KPI rows), then times ``GET /v1/agents/{id}/kpis`` for a quarter, the work behind it
(``speechqa.kpis.aggregates.agent_kpis``: an index range scan of the agent's rows plus means,
medians and rule rates), for 20 different agents, and a team's quarter.

    python -m bench.kpis --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.kpis                         # SQLite, for comparison
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from speechqa.kpis import aggregates as kpis
from speechqa.settings import Settings
from speechqa.storage.database import dispose_engines, get_engine, migrate, session_scope
from speechqa.storage.tables import Agent, Base, Call, CallStats

RULES = [
    "greeting",
    "introduction",
    "identification",
    "empathy",
    "hold_thanks",
    "resolution",
    "further_help",
    "closing",
]


def generate(settings: Settings, calls: int, agents: int, teams: int) -> float:
    rng = random.Random(0)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    with session_scope(settings) as session:
        session.execute(
            insert(Agent),
            [{"id": f"agent-{a}", "team": f"team-{a % teams}"} for a in range(agents)],
        )
    batch = 20_000
    for at in range(0, calls, batch):
        call_rows, stats_rows = [], []
        for _ in range(min(batch, calls - at)):
            a = rng.randrange(agents)
            cid = uuid.uuid4().hex
            when = start + timedelta(seconds=rng.randrange(365 * 86400))
            call_rows.append(
                {
                    "id": cid,
                    "agent_id": f"agent-{a}",
                    "team": f"team-{a % teams}",
                    "started_at": when,
                    "audio_path": "-",
                    "audio_sha256": "-",
                    "audio_bytes": 0,
                    "status": "done",
                    "duration_s": 300.0,
                    "tags": [],
                    "extra": {},
                }
            )
            stats_rows.append(
                {
                    "call_id": cid,
                    "agent_id": f"agent-{a}",
                    "team": f"team-{a % teams}",
                    "at": when,
                    "values": {
                        "qa_score": rng.uniform(40, 100),
                        "silence_ratio": rng.uniform(0, 0.4),
                        "agent_talk_pct": rng.uniform(0.3, 0.7),
                        "agent_interruptions": rng.randrange(4),
                        "customer_sentiment_shift": rng.uniform(-1, 1),
                    },
                    "rules_hit": [r for r in RULES if rng.random() < 0.7],
                    "critical_fail": rng.random() < 0.03,
                }
            )
        with session_scope(settings) as session:
            session.execute(insert(Call), call_rows)
            session.execute(insert(CallStats), stats_rows)
        print(f"\r  {at + len(call_rows):,} calls", end="", flush=True)
    print()
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--teams", type=int, default=25)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=args.database_url)
        if args.database_url:
            with get_engine(settings).begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        migrate(settings)
        load_s = generate(settings, args.calls, args.agents, args.teams)
        if args.database_url:
            with get_engine(settings).begin() as conn:
                conn.execute(text("ANALYZE"))
        q_start, q_end = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
        times, counts = [], []
        for a in range(20):
            t0 = time.perf_counter()
            with session_scope(settings) as session:
                result = kpis.agent_kpis(session, f"agent-{a * 7}", q_start, q_end, "week")
            times.append((time.perf_counter() - t0) * 1000)
            counts.append(result["totals"]["calls"])
        t0 = time.perf_counter()
        with session_scope(settings) as session:
            team = kpis.team_kpis(session, "team-3", q_start, q_end, "month")
        team_ms = (time.perf_counter() - t0) * 1000
        backend = get_engine(settings).dialect.name
        typical = statistics.median(counts)
        print(f"{backend}: {args.calls:,} calls loaded in {load_s:.0f} s")
        print(
            f"per-agent KPIs for a quarter (~{typical:.0f} calls, weekly buckets): "
            f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms (target < 100 ms)"
        )
        team_calls = team["totals"]["calls"]
        print(f"a team's quarter ({team_calls:,} calls, monthly buckets): {team_ms:.0f} ms")
        if args.database_url:
            Base.metadata.drop_all(get_engine(settings))
        dispose_engines()
    return 0


if __name__ == "__main__":
    sys.exit(main())
