"""Who may do what, everywhere: every API route and every web page and form, for every role
and a key with scopes only, on an object of the caller's own team and one of another team,
compared with the table the README promises.

Billing is the caller's team (agent a-17, reviewer, coach and lead limited to it), support the
other (agent a-22). Keys made without a user see every team. What a caller may not see is 404
(never 403, so ids do not leak); what their role may not do at all is 403, on any team's
object; no key is 401 (the web app's sign-in page). A 2xx answer to a team-limited caller never
names the other team's call or agent. A route of the app that is not in the table fails.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from speechqa_service.web.deps import COOKIE
from speechqa_service.workers.queue import enqueue_rescore
from sqlalchemy import select

from speechqa.apikeys import Principal, Scope, authenticate, create_key
from speechqa.coaching import library, sessions
from speechqa.errors import NotFound
from speechqa.reviews import calibration, queues, workflow
from speechqa.rules import versions
from speechqa.scoring import score_calls
from speechqa.settings import Settings
from speechqa.signin import sign_in
from speechqa.storage.database import dispose_engines, migrate, session_scope
from speechqa.storage.tables import ApiKey, Call, WebSession, utcnow
from speechqa.users import create_user
from speechqa.webhooks import endpoints, outbox
from speechqa_service.app import create_app
from tests.support import EXAMPLES, reference_transcript, store_call, web_sign_in

README = Path(__file__).resolve().parents[2] / "README.md"
OWN, OTHER = "own", "other"
TEAM = {OWN: "billing", OTHER: "support"}
AGENT = {OWN: "a-17", OTHER: "a-22"}

# -- who ----------------------------------------------------------------------------------------

USERS = {  # name: role, teams, agent id
    "ingest": ("ingest", [], None),
    "agent": ("agent", ["billing"], "a-17"),
    "reviewer": ("reviewer", ["billing"], None),
    "coach": ("coach", ["billing"], None),
    "lead": ("lead", ["billing"], None),
    "admin": ("admin", [], None),
    # the other team's people, who make its objects (not callers in the table)
    "agent2": ("agent", ["support"], "a-22"),
    "reviewer2": ("reviewer", ["support"], None),
    "lead2": ("lead", ["support"], None),
}
SCOPE_KEYS = {"key-ingest": Scope.INGEST, "key-review": Scope.REVIEW,
              "key-coach": Scope.COACH, "key-lead": Scope.LEAD}  # fmt: skip
CALLERS = ("anonymous", "ingest", "agent", "reviewer", "coach", "lead", "admin", *SCOPE_KEYS)
LIMITED = {"agent", "reviewer", "coach", "lead"}
"""Callers limited to billing (the agent to a-17)."""

INGEST = frozenset({"ingest", "admin", "key-ingest"})
REVIEW = frozenset({"reviewer", "coach", "lead", "admin", "key-review", "key-coach", "key-lead"})
READ = REVIEW | {"agent"}
COACH = frozenset({"coach", "lead", "admin", "key-coach", "key-lead"})
LEAD = frozenset({"lead", "admin", "key-lead"})
ADMIN = frozenset({"admin"})
AGENT_ONLY = frozenset({"agent"})
COACHED = COACH | {"agent"}
EVERYONE = frozenset(CALLERS)
REVIEWERS = {OWN: ["reviewer", "coach"], OTHER: ["reviewer2", "lead2"]}
"""Whom a new queue or calibration session over each team's calls names (who sees them)."""
PARTICIPANTS = frozenset({"reviewer", "coach", "lead", "admin"})
"""The billing calibration session's reviewers (keys without a user cannot be named)."""

OK = "ok"
"""Allowed: 2xx, a redirect other than to sign in, or 409 (the object is in another state, as
when a draft was submitted by an earlier row; the state is checked after access)."""


@dataclass(frozen=True)
class Rule:
    """Who may (``allowed``); with ``team``, a limited caller gets 404 on the other team's
    object. ``what`` is the README row the rule belongs to."""

    what: str
    allowed: frozenset[str]
    team: bool = True
    codes: dict[tuple[str, str], int | str] = field(default_factory=dict)
    """Cells that differ from the rule: (caller, own|other) -> status."""

    def expected(self, who: str, team: str, *, web: bool = False) -> int | str:
        if (who, team) in self.codes:
            return self.codes[(who, team)]
        if who == "anonymous" and self.allowed != EVERYONE:
            return 401
        if who not in self.allowed:
            return 403
        if self.team and team == OTHER and who in LIMITED:
            return 404
        return OK


def _only(*cells: tuple[str, str, int | str]) -> dict[tuple[str, str], int | str]:
    return {(who, team): code for who, team, code in cells}


PUBLIC = Rule("health, docs, sign-in page, static files: no key", EVERYONE, team=False)
CALLS_IN = Rule("submit calls, read their status", INGEST, team=False)
READ_CALLS = Rule("read calls, transcripts, redacted audio, reviews; an agent's KPIs", READ)
LIST_CALLS = Rule(READ_CALLS.what, READ, team=False)
ORIGINAL = Rule("play the unredacted recording", ADMIN)
ORIGINAL_AUDIO = Rule(ORIGINAL.what, READ, codes=_only(
    *((w, t, 403) for w in READ - ADMIN for t in (OWN, OTHER) if w not in LIMITED or t == OWN)
))  # fmt: skip
"""The audio route reads the call first (404 for another team's), then the scope (403)."""
REVIEWING = Rule("start, answer, comment on and submit reviews (an agent's: self-review)", READ)
TAGGING = Rule("tag calls (from the list, many at once)", REVIEW)
ANSWERING = Rule("acknowledge or dispute a review of one's own call", AGENT_ONLY)
RESOLVING = Rule("settle disputes", LEAD)
RESOLVING_LIST = Rule(RESOLVING.what, LEAD, team=False)
TEAM_REPORTS = Rule("team KPIs, leaderboard, journal, summary, rule quality", REVIEW)
TEAM_REPORTS_ANY = Rule(TEAM_REPORTS.what, REVIEW, team=False)
QUEUE_WORK = Rule("list queues, one's own queue", REVIEW, team=False)
QUEUES = Rule("create and sample queues", LEAD)
CALIBRATING = Rule("take part in calibration (the session's reviewers)", REVIEW,
                   codes=_only(*((k, OWN, 404) for k in ("key-review", "key-coach", "key-lead")),
                               *((w, OTHER, 404) for w in REVIEW)))  # fmt: skip
CALIBRATING_LIST = Rule(CALIBRATING.what, REVIEW, team=False)
CALIBRATIONS = Rule("create calibration sessions, read their reports", LEAD)
RULESETS_READ = Rule("read and validate rulesets", REVIEW, team=False)
RULESETS = Rule("store ruleset versions, re-score", LEAD, team=False)
COACHING = Rule("examples, clip collections, record coaching sessions", COACH)
COACHING_ANY = Rule(COACHING.what, COACH, team=False)
COACHING_READ = Rule("read coaching sessions (an agent: their own)", COACHED)
COACHING_READ_ANY = Rule(COACHING_READ.what, COACHED, team=False)
COACHING_ACK = Rule("acknowledge one's own coaching session", AGENT_ONLY)
ADMINISTER = Rule("users, keys, webhooks, jobs, deleting calls", ADMIN, team=False)
ADMIN_DELETE = Rule(ADMINISTER.what, ADMIN)

API: dict[str, Rule] = {
    "GET /openapi.json": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC,
    "GET /redoc": PUBLIC,
    "GET /metrics": PUBLIC,
    "GET /healthz": PUBLIC,
    "GET /readyz": Rule(
        PUBLIC.what,
        EVERYONE,
        team=False,
        codes={(w, t): 503 for w in CALLERS for t in (OWN, OTHER)},
    ),  # no worker
    "POST /v1/calls": CALLS_IN,
    "GET /v1/calls": LIST_CALLS,
    "GET /v1/calls/{call_id}/status": CALLS_IN,
    "GET /v1/calls/{call_id}": READ_CALLS,
    "GET /v1/calls/{call_id}/audio": READ_CALLS,
    "GET /v1/calls/{call_id}/transcript": READ_CALLS,
    "POST /v1/calls/tags": TAGGING,
    "GET /v1/calls/{call_id}/audio?original=true": ORIGINAL_AUDIO,
    "DELETE /v1/calls/{call_id}": ADMIN_DELETE,
    "GET /v1/rulesets": RULESETS_READ,
    "POST /v1/rulesets/validate": RULESETS_READ,
    "PUT /v1/rulesets/{name}": RULESETS,
    "GET /v1/rulesets/{name}": RULESETS_READ,
    "POST /v1/rulesets/{name}/rescore": RULESETS,
    "GET /v1/jobs/{job_id}": ADMINISTER,
    "GET /v1/agents/{agent_id}/kpis": READ_CALLS,
    "GET /v1/teams/{team}/kpis": TEAM_REPORTS,
    "GET /v1/leaderboard": TEAM_REPORTS,
    "GET /v1/reports/kpi-journal": TEAM_REPORTS,
    "GET /v1/reports/summary": TEAM_REPORTS,
    "GET /v1/apikeys": ADMINISTER,
    "POST /v1/apikeys": ADMINISTER,
    "DELETE /v1/apikeys/{key_id}": ADMINISTER,
    "GET /v1/users": ADMINISTER,
    "POST /v1/users": ADMINISTER,
    "POST /v1/calls/{call_id}/reviews": REVIEWING,
    "GET /v1/calls/{call_id}/reviews": READ_CALLS,
    "GET /v1/reviews/{review_id}": READ_CALLS,
    "PUT /v1/reviews/{review_id}/items/{key}": REVIEWING,
    "POST /v1/reviews/{review_id}/comments": REVIEWING,
    "POST /v1/reviews/{review_id}/submit": REVIEWING,
    "POST /v1/reviews/{review_id}/acknowledge": ANSWERING,
    "POST /v1/reviews/{review_id}/dispute": ANSWERING,
    "POST /v1/reviews/{review_id}/resolve": RESOLVING,
    "GET /v1/rules/quality": TEAM_REPORTS_ANY,
    "POST /v1/queues": QUEUES,
    "GET /v1/queues": QUEUE_WORK,
    "POST /v1/queues/{queue_id}/sample": QUEUES,
    "POST /v1/queues/{queue_id}/calls": QUEUES,
    "GET /v1/queues/{queue_id}/progress": QUEUES,
    "GET /v1/me/queue": QUEUE_WORK,
    "POST /v1/calibrations": Rule(CALIBRATIONS.what, LEAD, codes={("lead", OTHER): 422}),
    # another team's calls are unknown calls to a limited lead, like a mistyped id
    "POST /v1/calibrations/{session_id}/calls/{call_id}/reviews": CALIBRATING,
    "GET /v1/calibrations/{session_id}": CALIBRATIONS,
    "POST /v1/webhooks": ADMINISTER,
    "GET /v1/webhooks": ADMINISTER,
    "GET /v1/webhooks/{endpoint_id}": ADMINISTER,
    "DELETE /v1/webhooks/{endpoint_id}": ADMINISTER,
    "POST /v1/webhooks/{endpoint_id}/rotate-secret": ADMINISTER,
    "GET /v1/webhooks/{endpoint_id}/deliveries": ADMINISTER,
    "POST /v1/webhooks/deliveries/{delivery_id}/resend": ADMINISTER,
    "GET /v1/coaching/examples": COACHING,
    "POST /v1/coaching/collections": COACHING_ANY,
    "GET /v1/coaching/collections": COACHING_ANY,
    "GET /v1/coaching/collections/{collection_id}": COACHING_ANY,  # shared; clips filtered
    "POST /v1/coaching/collections/{collection_id}/clips": COACHING,
    "DELETE /v1/coaching/collections/{collection_id}/clips/{clip_id}": COACHING,
    "POST /v1/coaching/sessions": COACHING,
    "GET /v1/coaching/sessions": COACHING_READ_ANY,
    "GET /v1/coaching/sessions/{session_id}": COACHING_READ,
    "POST /v1/coaching/sessions/{session_id}/acknowledge": COACHING_ACK,
}
"""Every API route (and two variants) -> who may."""

WEB_ONLY = frozenset(READ)
"""Who may sign in to the web app: people, never an ingest key."""
SIGN_IN = Rule("sign in to the web app", WEB_ONLY, team=False,
               codes={("anonymous", OWN): 401, ("anonymous", OTHER): 401})  # fmt: skip
SIGNED_IN = Rule(SIGN_IN.what, WEB_ONLY, team=False)
JOURNAL_CSV = Rule(READ_CALLS.what, READ, codes={("agent", OTHER): OK})  # always their own
CALIBRATION_PAGE = Rule(
    CALIBRATING.what, REVIEW,
    codes=_only(("key-review", OWN, 403), ("key-coach", OWN, 403),  # not in it, not a lead
                ("key-review", OTHER, 403), ("key-coach", OTHER, 403)),
)  # fmt: skip

WEB: dict[str, Rule] = {
    "GET /": PUBLIC,
    "GET /login": PUBLIC,
    "POST /login": SIGN_IN,
    "POST /logout": SIGNED_IN,
    "GET /static/{path}": PUBLIC,
    "GET /favicon.ico": PUBLIC,
    "GET /calls": LIST_CALLS,
    "GET /disputes": RESOLVING_LIST,
    "GET /calls/{call_id}": READ_CALLS,
    "GET /calls/{call_id}/audio": READ_CALLS,
    "GET /calls.csv": LIST_CALLS,
    "GET /calls/{call_id}/transcript.{fmt}": READ_CALLS,
    "POST /calls/bulk": TAGGING,
    "POST /calls/{call_id}/review": REVIEWING,
    "POST /reviews/{review_id}/answers": REVIEWING,
    "POST /reviews/{review_id}/comments": REVIEWING,
    "POST /reviews/{review_id}/submit": REVIEWING,
    "POST /reviews/{review_id}/acknowledge": ANSWERING,
    "POST /reviews/{review_id}/dispute": ANSWERING,
    "POST /reviews/{review_id}/resolve": RESOLVING,
    "GET /queue": QUEUE_WORK,
    "POST /queues": QUEUES,
    "POST /queues/{queue_id}/sample": QUEUES,
    "GET /calibrations": CALIBRATING_LIST,
    "POST /calibrations": Rule(CALIBRATIONS.what, LEAD, codes={("lead", OTHER): 422}),
    "GET /calibrations/{session_id}": CALIBRATION_PAGE,
    "POST /calibrations/{session_id}/calls/{call_id}/review": CALIBRATING,
    "GET /agents/{agent_id}": READ_CALLS,
    "GET /teams/{team}": TEAM_REPORTS,
    "GET /teams": TEAM_REPORTS_ANY,
    "GET /reports/journal.csv": JOURNAL_CSV,
    "GET /reports/summary.csv": TEAM_REPORTS,
    "GET /coaching": COACHING_READ_ANY,
    "POST /coaching/clips": COACHING,
    "GET /coaching/collections/{collection_id}": COACHING_ANY,
    "GET /coaching/sessions/new": COACHING_ANY,
    "POST /coaching/sessions": COACHING,
    "GET /coaching/sessions/{session_id}": COACHING_READ,
    "POST /coaching/sessions/{session_id}/acknowledge": COACHING_ACK,
    "GET /rulesets": RULESETS,
    "GET /rulesets/{name}": RULESETS,
    "POST /rulesets/{name}": RULESETS,
    "POST /rulesets/{name}/rescore": RULESETS,
}
"""Every web page and form action -> who may (an ingest key gets no session: 403)."""

RULESET = "name: roles\nrules:\n  - id: hello\n    match: hello\n"


# -- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    settings: Settings
    client: TestClient
    keys: dict[str, str]
    principals: dict[str, Principal]
    calls: dict[str, str]
    submitted: dict[str, int]
    disputed: dict[str, int]
    drafts: dict[tuple[str, str], int]
    calibrations: dict[str, int]
    queues: dict[str, int]
    collections: dict[str, int]
    coaching: dict[str, int]
    web: dict[str, tuple[str, str]] = field(default_factory=dict)
    """caller -> (session token, CSRF token)."""
    serial: int = 0

    def next(self) -> int:
        self.serial += 1
        return self.serial


def _call(session: Any, settings: Settings, sample: str, team: str) -> str:
    call_id = store_call(session, reference_transcript(sample), agent_id=AGENT[team],
                         team=TEAM[team], started_at=utcnow() - timedelta(days=1))  # fmt: skip
    wav = EXAMPLES / f"{sample}.wav"
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(wav, settings.audio_dir / f"{call_id}.wav")
    call = session.get(Call, call_id)
    call.audio_path, call.audio_bytes = f"{call_id}.wav", wav.stat().st_size
    call.content_type, call.format_name = "audio/wav", "wav"
    return call_id


def _build(settings: Settings) -> World:
    with session_scope(settings) as s:
        calls = {t: _call(s, settings, "billing_refund", t) for t in (OWN, OTHER)}
        score_calls(s, list(calls.values()))
        keys = {}
        for name, (role, teams, agent) in USERS.items():
            create_user(s, name, role, teams=teams, agent_id=agent)
            keys[name] = create_key(s, [], user=name)
        for name, scope in SCOPE_KEYS.items():
            keys[name] = create_key(s, [scope], name=name)
    with session_scope(settings) as s:
        who = {name: authenticate(s, key) for name, key in keys.items()}
    with session_scope(settings) as s:
        # Each caller's own draft on each team's call they see, begun before any review counts
        # (the reviewer's and the lead's are the reviews below).
        drafts = {}
        team_reviewers = {OWN: ("reviewer", "lead"), OTHER: ("reviewer2", "lead2")}
        for name in READ - {"reviewer", "lead"}:
            for team in (OWN, OTHER):
                try:
                    drafts[(name, team)] = workflow.start(s, calls[team], who[name])[0].id
                except NotFound:  # another team's call: the table uses the team's review
                    continue
        # A reviewer submits; the lead re-evaluates (superseding it) and the agent disputes.
        submitted: dict[str, int] = {}
        disputed: dict[str, int] = {}
        for team, (first, lead) in team_reviewers.items():
            review, _ = workflow.start(s, calls[team], who[first])
            workflow.submit(s, review.id, who[first])
            again, _ = workflow.start(s, calls[team], who[lead], reason="a second look")
            workflow.submit(s, again.id, who[lead])
            submitted[team], disputed[team] = review.id, again.id
            drafts[(first, team)], drafts[(lead, team)] = review.id, again.id
            agent_of = who["agent" if team == OWN else "agent2"]
            workflow.dispute(s, disputed[team], agent_of, ["0.0"], "not fair", 30)
        drafts[("team", OWN)], drafts[("team", OTHER)] = submitted[OWN], submitted[OTHER]
        cal = {
            OWN: calibration.create(s, "cal-billing", [calls[OWN]], sorted(PARTICIPANTS),
                                    who["admin"]).id,
            OTHER: calibration.create(s, "cal-support", [calls[OTHER]], ["reviewer2", "lead2"],
                                      who["lead2"]).id,
        }  # fmt: skip
        rule = {"kind": "random_per_agent", "per_agent": 5, "days": 30}
        qs = {OWN: queues.create(s, "q-billing", rule, ["reviewer"], who["lead"]).id,
              OTHER: queues.create(s, "q-support", rule, ["reviewer2"], who["lead2"]).id}  # fmt: skip
        # An unlimited lead's queue of both teams (it deals the billing reviewer billing calls).
        every = queues.create(s, "q-every-team", rule, ["reviewer"], who["admin"])
        queues.sample(s, who["admin"], every.id)
        colls = {}
        for team in (OWN, OTHER):
            c = library.create(s, who["admin"], f"clips-{TEAM[team]}", None)
            library.add(s, who["admin"], c.id, call_id=calls[team], start=1.0, end=3.0)
            colls[team] = c.id
        coaching = {
            team: sessions.create(s, who["admin"], agent_id=AGENT[team],
                                  focus=[{"kpi": "qa_score"}]).id
            for team in (OWN, OTHER)
        }  # fmt: skip
        versions.put(s, RULESET, name="roles", by="admin")
    return World(settings, None, keys, who, calls, submitted, disputed, drafts, cal, qs,  # type: ignore[arg-type]
                 colls, coaching)  # fmt: skip


def _world(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[World]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("roles") / "data",
                        redis_url=redis_url, auth_failures_per_minute=100_000)  # fmt: skip
    migrate(settings)
    w = _build(settings)
    with TestClient(create_app(settings)) as client:
        w.client = client
        yield w
    dispose_engines()


@pytest.fixture(scope="module")
def api_world(tmp_path_factory: pytest.TempPathFactory, embedded_redis: str) -> Iterator[World]:
    yield from _world(tmp_path_factory, embedded_redis)


@pytest.fixture(scope="module")
def web_world(tmp_path_factory: pytest.TempPathFactory, embedded_redis: str) -> Iterator[World]:
    """A world of its own, so that the web's forms meet open drafts and disputes too."""
    yield from _world(tmp_path_factory, embedded_redis)


# -- requests -----------------------------------------------------------------------------------


def _fresh_key(w: World) -> int:
    with session_scope(w.settings) as s:
        create_key(s, [Scope.INGEST], name=f"spare-{w.next()}")
        return int(s.scalar(select(ApiKey.id).order_by(ApiKey.id.desc())) or 0)


def _fresh_endpoint(w: World) -> int:
    with session_scope(w.settings) as s:
        view, _ = endpoints.register(s, "https://93.184.215.14/hook", ["call.analyzed"], None,
                                     "admin")  # fmt: skip
        return view.id


def _delivery(w: World) -> int:
    from speechqa.storage.tables import WebhookDelivery

    endpoint = _fresh_endpoint(w)
    with session_scope(w.settings) as s:
        outbox.emit(s, "call.analyzed", {"call_id": "x"})
        s.flush()
        return int(
            s.scalar(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.endpoint_id == endpoint)
                .order_by(WebhookDelivery.id.desc())
            )
            or 0
        )


def _fresh_clip(w: World, team: str) -> int:
    with session_scope(w.settings) as s:
        start = w.next() % 6000 / 100
        return library.add(s, w.principals["admin"], w.collections[OWN], call_id=w.calls[team],
                           start=start, end=start + 1).id  # fmt: skip


def _fresh_call(w: World, team: str) -> str:
    with session_scope(w.settings) as s:
        call_id = store_call(s, reference_transcript("address_change"), agent_id=AGENT[team],
                             team=TEAM[team])  # fmt: skip
        score_calls(s, [call_id])
        return call_id


def _job(w: World) -> str:
    redis = w.client.app.state.redis  # type: ignore[attr-defined]
    return str(enqueue_rescore(w.settings, redis, "roles", 1).id)


def _draft(w: World, who: str, team: str) -> int:
    return w.drafts.get((who, team)) or w.drafts[("team", team)]


def _params(w: World, route: str, who: str, team: str) -> dict[str, str]:
    """The path parameters of ``route`` for an object of ``team``."""
    names = set(re.findall(r"{(\w+)}", route))
    out: dict[str, str] = {}
    for name in names:
        if name == "call_id":
            out[name] = _fresh_call(w, team) if route.startswith("DELETE") else w.calls[team]
        elif name == "review_id":
            if route.endswith(("acknowledge", "dispute")) or route.endswith("{review_id}"):
                out[name] = str(w.submitted[team])
            elif route.endswith("resolve"):
                out[name] = str(w.disputed[team])
            else:
                out[name] = str(_draft(w, who, team))
        elif name == "session_id":
            table = w.coaching if "/coaching/" in route else w.calibrations
            out[name] = str(table[team])
        elif name == "queue_id":
            out[name] = str(w.queues[team])
        elif name == "agent_id":
            out[name] = AGENT[team]
        elif name == "team":
            out[name] = TEAM[team]
        elif name == "name":
            out[name] = "roles"
        elif name == "key":
            out[name] = "0.0"
        elif name == "collection_id":
            out[name] = str(w.collections[team] if route.startswith("GET") else w.collections[OWN])
        elif name == "clip_id":
            out[name] = str(_fresh_clip(w, team))
        elif name == "path":
            out[name] = "app.css"
        elif name == "fmt":
            out[name] = "vtt"
        elif name == "job_id":
            out[name] = _job(w)
        elif name == "key_id":
            out[name] = str(_fresh_key(w))
        elif name == "endpoint_id":
            out[name] = str(_fresh_endpoint(w))
        elif name == "delivery_id":
            out[name] = str(_delivery(w))
        else:
            raise AssertionError(f"{route}: no value for {{{name}}}")
    return out


def _api_request(w: World, route: str, who: str, team: str) -> Any:
    method, _, template = route.partition(" ")
    template, _, query = template.partition("?")
    path = template.format(**_params(w, route, who, team))
    n = w.next()
    headers = {} if who == "anonymous" else {"Authorization": f"Bearer {w.keys[who]}"}
    q = {"from": "2000-01-01", "to": "2100-01-01"} if path.startswith(("/v1/agents", "/v1/teams",
                                                                       "/v1/leader", "/v1/reports")) else {}  # fmt: skip
    if query:
        q.update(dict(p.split("=") for p in query.split("&")))
    kw: dict[str, Any] = {}
    body: Any = None
    if route == "POST /v1/calls":
        meta = {"agent_id": AGENT[team], "team": TEAM[team], "external_id": f"up-{team}"}
        wav = EXAMPLES / "address_change.wav"
        kw["files"] = {"audio": (wav.name, wav.read_bytes(), "audio/wav")}
        kw["data"] = {"metadata": json.dumps(meta)}
    elif route in ("GET /v1/leaderboard", "GET /v1/reports/summary"):
        q["team"] = TEAM[team]
    elif route == "GET /v1/reports/kpi-journal":
        q["agent_id"] = AGENT[team]
    elif route == "GET /v1/coaching/examples":
        q.update({"quality": "good", "rule": "empathy", "team": TEAM[team]})
    elif route == "GET /v1/calls":
        q["team"] = TEAM[team]
    elif route in ("POST /v1/calls/tags", "POST /v1/queues/{queue_id}/calls"):
        body = {"calls": [w.calls[team]], **({"add": ["checked"]} if "tags" in route else {})}
    elif route in ("POST /v1/rulesets/validate", "PUT /v1/rulesets/{name}"):
        kw["content"] = RULESET.encode()
    elif route == "PUT /v1/reviews/{review_id}/items/{key}":
        body = {"decision": "accept"}
    elif route == "POST /v1/reviews/{review_id}/comments":
        body = {"text": "checked"}
    elif route == "POST /v1/reviews/{review_id}/dispute":
        body = {"items": ["0.0"], "comment": "not fair"}
    elif route == "POST /v1/reviews/{review_id}/resolve":
        body = {"outcome": "upheld", "reason": "the review stands"}
    elif route == "POST /v1/queues":
        rule: dict[str, Any] = {"kind": "filter", "filters": {"team": TEAM[team]}, "limit": 5}
        body = {"name": f"queue-{n}", "rule": rule, "reviewers": [REVIEWERS[team][0]]}
    elif route == "POST /v1/calibrations":
        body = {"name": f"cal-{n}", "calls": [w.calls[team]], "reviewers": REVIEWERS[team]}
    elif route == "POST /v1/apikeys":
        body = {"scopes": ["ingest"], "name": f"made-{n}"}
    elif route == "POST /v1/users":
        body = {"name": f"user-{n}", "role": "reviewer"}
    elif route == "POST /v1/webhooks":
        body = {"url": "https://93.184.215.14/hook", "events": ["call.analyzed"]}
    elif route == "POST /v1/coaching/collections":
        body = {"name": f"collection-{n}"}
    elif route == "POST /v1/coaching/collections/{collection_id}/clips":
        body = {"call_id": w.calls[team], "start": n % 6000 / 100, "end": n % 6000 / 100 + 1}
    elif route == "POST /v1/coaching/sessions":
        body = {"agent_id": AGENT[team], "focus": [{"kpi": "qa_score"}]}
    if body is not None:
        kw["json"] = body
    return w.client.request(method, path, params=q, headers=headers, **kw)


def _web_session(w: World, who: str, *, fresh: bool = False) -> tuple[str, str] | None:
    """A browser session for ``who``; an ingest key's is written as one from before sign-in
    refused them (a session that exists must still be refused)."""
    if who == "anonymous":
        return None
    if who in w.web and not fresh:
        return w.web[who]
    with session_scope(w.settings) as s:
        if who in WEB_ONLY:
            token, signed = sign_in(s, w.keys[who], 1)
            made = (token, signed.csrf)
        else:
            import hashlib
            import secrets

            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
            now = utcnow()
            s.add(WebSession(token_hash=hashlib.sha256(token.encode()).hexdigest(),
                             key_id=w.principals[who].key_id, csrf=csrf, created_at=now,
                             expires_at=now + timedelta(hours=1)))  # fmt: skip
            made = (token, csrf)
    if not fresh:
        w.web[who] = made
    return made


def _web_request(w: World, route: str, who: str, team: str) -> Any:
    method, _, template = route.partition(" ")
    path = template.format(**_params(w, route, who, team))
    n = w.next()
    held = _web_session(w, who, fresh=route == "POST /logout")
    headers = {"Cookie": f"{COOKIE}={held[0]}"} if held else {}
    form: dict[str, Any] = {"csrf": held[1]} if held else {}
    q: dict[str, str] = {}
    if route == "POST /login":  # as the sign-in form posts it, with its own form token
        token = _signin_token(w)
        form = {"key": w.keys.get(who, "sqa_wrong-key"), "next": "/calls", "csrf": token}
        headers = {"Cookie": f"speechqa_signin={token}"}
    elif route in ("GET /calls", "GET /calls.csv"):
        q["team"] = TEAM[team]
    elif route == "POST /calls/bulk":
        form.update({"call": w.calls[team], "action": "tag", "tag": "checked"})
    elif route in ("GET /reports/journal.csv",):
        q["agent_id"] = AGENT[team]
    elif route == "GET /reports/summary.csv":
        q["team"] = TEAM[team]
    elif route == "POST /reviews/{review_id}/comments":
        form["text"] = "checked"
    elif route == "POST /reviews/{review_id}/dispute":
        form.update({"items": "0.0", "comment": "not fair"})
    elif route == "POST /reviews/{review_id}/resolve":
        form.update({"outcome": "upheld", "reason": "the review stands"})
    elif route == "POST /coaching/clips":
        form.update({"collection": str(w.collections[OWN]), "call_id": w.calls[team],
                     "start": str(n % 6000 / 100), "end": str(n % 6000 / 100 + 1)})  # fmt: skip
    elif route == "POST /coaching/sessions":
        form.update({"agent_id": AGENT[team], "focus": "kpi qa_score"})
    elif route == "POST /rulesets/{name}":
        form["source"] = RULESET
    elif route == "POST /queues":
        form.update({"name": f"queue-{n}", "kind": "filter", "team": TEAM[team], "limit": "5",
                     "reviewers": REVIEWERS[team][0], "sample": "yes"})  # fmt: skip
    elif route == "POST /calibrations":
        form.update({"name": f"cal-{n}", "calls": w.calls[team], "reviewers": REVIEWERS[team]})
    data = form if method == "POST" else None
    return w.client.request(method, path, params=q, headers=headers, data=data,
                            follow_redirects=False)  # fmt: skip


def _signin_token(w: World) -> str:
    page = w.client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text
    return token.group(1)


def _status(r: Any, *, web: bool) -> int | str:
    code = r.status_code
    if web and code == 303 and r.headers["location"].startswith("/login?next="):
        return 401  # the sign-in page, with the reason
    if 200 <= code < 400 or code == 409:
        return OK
    return int(code)


def _leaks(w: World, who: str, body: str) -> list[str]:
    """The other team's names in an answer to a billing-limited caller."""
    if who not in LIMITED:
        return []
    secret = [w.calls[OTHER], "a-22", "q-support", "cal-support"]
    if who == "agent":  # an agent sees their own calls only (one call of a-17's: billing)
        secret += ["reviewer2"]
    return [s for s in secret if s in body]


def _routes(app: Any) -> Iterator[Any]:
    for route in app.routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            assert route.include_context.prefix == ""
            yield from _routes(inner)
        else:
            yield route


def _app_routes(app: Any) -> set[str]:
    found = set()
    for route in _routes(app):
        methods = getattr(route, "methods", None)
        if methods is None:  # a mount: the static files
            found.add(f"GET {route.path}/{{path}}")
            continue
        found.update(f"{method} {route.path}" for method in methods if method != "HEAD")
    return found


# -- the tests ----------------------------------------------------------------------------------


BY_TEAM = {"POST /v1/calls", "GET /v1/calls", "GET /calls", "GET /calls.csv"}
"""Routes of no one team asked about either team (a list filtered by ``team=``)."""


def _walk(w: World, table: dict[str, Rule], send: Callable[..., Any], *, web: bool) -> list[str]:
    wrong = []
    for route, rule in table.items():
        teams = (OWN, OTHER) if rule.team or route in BY_TEAM else (OWN,)
        for who in CALLERS:
            for team in teams:
                expected = rule.expected(who, team, web=web)
                r = send(w, route, who, team)
                got = _status(r, web=web)
                if got != expected:
                    wrong.append(f"{route} {who} {team}: {r.status_code}, expected {expected}"
                                 f" ({r.text[:120]!r})")  # fmt: skip
                elif got == OK and (leaked := _leaks(w, who, r.text)):
                    wrong.append(f"{route} {who} {team}: answer names {leaked}")
    return wrong


def test_every_api_route_for_every_role_and_team(api_world: World) -> None:
    routes = _app_routes(api_world.client.app)
    missing = sorted(routes - set(API) - set(WEB))
    assert not missing, f"routes missing from the table (add who may use them): {missing}"
    wrong = _walk(api_world, API, _api_request, web=False)
    assert not wrong, "\n".join(wrong)


def test_every_web_page_and_form_for_every_role_and_team(web_world: World) -> None:
    wrong = _walk(web_world, WEB, _web_request, web=True)
    assert not wrong, "\n".join(wrong)


def test_an_ingest_key_is_refused_a_web_session(api_world: World) -> None:
    for who in ("ingest", "key-ingest"):
        r = web_sign_in(api_world.client, api_world.keys[who])
        assert r.status_code == 403 and "cannot sign in to the web app" in r.text
        assert COOKIE not in r.headers.get("set-cookie", "")


def test_the_collection_list_counts_only_clips_the_viewer_sees(api_world: World) -> None:
    headers = {"Authorization": f"Bearer {api_world.keys['coach']}"}
    listed = api_world.client.get("/v1/coaching/collections", headers=headers).json()
    counts = {c["name"]: c["clip_count"] for c in listed}
    assert counts["clips-support"] == 0 and counts["clips-billing"] >= 1
    admin = {"Authorization": f"Bearer {api_world.keys['admin']}"}
    listed = api_world.client.get("/v1/coaching/collections", headers=admin).json()
    assert {c["name"]: c["clip_count"] for c in listed}["clips-support"] >= 1


def test_a_team_limited_leads_queue_picks_only_their_teams_calls(api_world: World) -> None:
    _fresh_call(api_world, OWN)  # one the billing reviewer has not reviewed
    _fresh_call(api_world, OTHER)
    lead = {"Authorization": f"Bearer {api_world.keys['lead']}"}
    rule = {"kind": "random_per_agent", "per_agent": 5, "days": 30}
    r = api_world.client.post("/v1/queues", headers=lead,
                          json={"name": "lead-every-agent", "rule": rule,
                                "reviewers": ["reviewer"]})  # fmt: skip
    assert r.status_code == 201 and r.json()["rule"]["teams"] == ["billing"]
    sampled = api_world.client.post(f"/v1/queues/{r.json()['id']}/sample", headers=lead).json()
    assert sampled["sampled"] and {a["team"] for a in sampled["sampled"]} == {"billing"}


def test_the_readme_table_is_the_tables(api_world: World) -> None:
    """The README's "who may do what" table is rendered from the tables above."""
    assert readme_table() in README.read_text(), "refresh the README table:\n" + readme_table()


COLUMNS = ("ingest", "agent", "reviewer", "coach", "lead", "admin")


def readme_table() -> str:
    rows: dict[str, list[str]] = {}
    for rule in [*API.values(), *WEB.values()]:
        if rule.what in rows or rule.what == PUBLIC.what:
            continue
        cells = []
        for who in COLUMNS:
            if rule.expected(who, OWN) != OK:
                cells.append("-")
            elif rule.what in (SIGN_IN.what, RULESETS_READ.what, RULESETS.what):  # not by team
                cells.append("yes")
            else:
                cells.append({"agent": "own calls"}.get(who, "their teams" if who in LIMITED
                                                        else "yes"))  # fmt: skip
        rows[rule.what] = cells
    lines = ["| may | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    lines += [f"| {what} | " + " | ".join(cells) + " |" for what, cells in rows.items()]
    return "\n".join(lines)


def test_users_over_http_and_a_key_for_a_user(api_world: World) -> None:
    client = api_world.client
    admin = {"Authorization": f"Bearer {api_world.keys['admin']}"}
    r = client.post("/v1/users", headers=admin, json={"name": "new-coach", "role": "coach",
                                                       "teams": ["support"]})  # fmt: skip
    assert r.status_code == 201 and r.json()["teams"] == ["support"]
    assert client.post("/v1/users", headers=admin,
                       json={"name": "new-coach", "role": "coach"}).status_code == 409  # fmt: skip
    assert client.post("/v1/users", headers=admin,
                       json={"name": "x", "role": "agent"}).status_code == 422  # fmt: skip
    key = client.post("/v1/apikeys", headers=admin, json={"user": "new-coach"}).json()["key"]
    listed = client.get("/v1/calls", headers={"Authorization": f"Bearer {key}"}).json()["calls"]
    assert api_world.calls[OTHER] in {c["id"] for c in listed}
    assert api_world.calls[OWN] not in {c["id"] for c in listed}
    assert client.post("/v1/apikeys", headers=admin, json={"user": "nobody"}).status_code == 404


def test_the_core_services_check_without_an_edge(api_world: World) -> None:
    """Called directly (a script, a future edge), the services that change state still ask
    speechqa.access: an agent cannot settle a dispute or keep clips, a limited lead cannot
    sample another team's queue or read its calibration."""
    from speechqa.errors import Forbidden

    who, w = api_world.principals, api_world
    with session_scope(w.settings) as s:
        with pytest.raises(Forbidden):
            workflow.resolve(s, w.disputed[OWN], who["agent"], "adjusted", "mine", {})
        with pytest.raises(Forbidden):
            workflow.start(s, w.calls[OWN], who["ingest"])
        with pytest.raises(Forbidden):
            library.create(s, who["agent"], "mine", None)
        with pytest.raises(NotFound):
            queues.sample(s, who["lead"], w.queues[OTHER])
        with pytest.raises(NotFound):
            calibration.report(s, who["lead"], w.calibrations[OTHER])
