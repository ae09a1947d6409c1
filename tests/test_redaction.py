"""Personal data end to end: a customer reads out a card number, an account number, a date of birth
and an e-mail address (examples/card_payment.wav, espeak-ng); the real worker analyses the call,
and none of it is left in the clear in any table, stored file or API answer, and the recording
everyone but an admin hears is silent where it was said."""

from __future__ import annotations

import hashlib
import io
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import select

from speechqa.apikeys import Scope
from speechqa.contracts import Transcript
from speechqa.settings import Settings, get_settings
from speechqa.storage.database import get_engine, session_scope
from speechqa.storage.tables import Base, Call
from speechqa.webhooks import endpoints
from tests.support import EXAMPLES, key_for, submit, work

CALL = EXAMPLES / "card_payment.wav"
SAID = {
    "card number": ["4539148803436467", "4539", "1488", "0343", "6467", "fourfivethreenine"],
    "account number": ["87654321", "8765", "eightsevensixfive"],
    "date of birth": ["1985", "fourteenth", "14th", "nineteeneightyfive"],
    "e-mail": ["lopez", "maria", "examplecom", "nymphal", "nautlope"],
}
"""What the customer says (and how tiny.en on espeak-ng hears it), compared without spaces or
punctuation so "4 .5 -3 -9" and "four five three nine" are caught as well as "4539"."""


_NOISE = re.compile(
    r"\d{4}-\d\d-\d\d[T ][\d:.]+(?:[+-]\d\d:\d\d|Z)?"  # timestamps
    r"|[A-Za-z0-9_+/=]{20,}"  # ids, key hashes, secrets: random, so any digits may turn up
)


PAYMENTS = """
name: payments
redact: [card_number, account, dob, email]
rules:
  - id: card_asked_for
    speaker: agent
    match: '"card number" OR card'
  - id: card_given
    speaker: customer
    match: '[CARD_NUMBER]'
  - id: card_read_back
    speaker: agent
    match: '[CARD_NUMBER]'
scorecard:
  sections:
    - name: Payment
      items:
        - {rule: card_given, points: 5, when: card_asked_for, within: 60}
        - {rule: card_read_back, expect: absent, points: 10, critical: true}
"""
"""The call's ruleset: its own redaction types (no names), and rules on the card number's tag."""


def leaks(*texts: str) -> list[str]:
    """What the customer said that is in ``texts`` (each one looked at by itself)."""
    found = []
    for text in texts:
        flat = re.sub(r"[^a-z0-9]", "", _NOISE.sub(" ", text).lower())
        found += [f"{what}: {raw}" for what, forms in SAID.items() for raw in forms if raw in flat]
    return found


def strings(value: Any) -> list[str]:
    """The text in a stored value (JSON walked; numbers such as word times are not text)."""
    if isinstance(value, str):
        try:
            return strings(json.loads(value)) if value[:1] in "[{" else [value]
        except ValueError:
            return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


@lru_cache(maxsize=1)
def heard() -> Transcript:
    """What ASR hears in the call, unredacted: the test's proof that it has something to find."""
    from speechqa.pipeline.analysis import transcribe_call

    return transcribe_call(CALL, Settings())


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


def decode(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=8000)
        frames = [r.to_ndarray() for f in container.decode(stream) for r in resampler.resample(f)]
    return np.concatenate(frames, axis=1).reshape(-1, 2)


def test_the_unredacted_transcript_would_leak() -> None:
    said = " ".join(u.text for u in heard().utterances if u.speaker == "customer")
    found = {leak.split(":")[0] for leak in leaks(said)}
    assert found == set(SAID), said


def test_personal_data_reaches_no_table_file_or_answer_in_the_clear(
    settings: Settings, client: Any, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_original = settings.database_url is None  # embedded keeps it, external deletes it
    if not keep_original:
        monkeypatch.setenv("SPEECHQA_KEEP_ORIGINAL_AUDIO", "false")
        get_settings.cache_clear()
    with session_scope(settings) as session:
        endpoints.register(
            session, "https://hooks.acme.test/calls", ["call.analyzed"], None, "test"
        )
    put = client.put("/v1/rulesets/payments", headers=admin, content=PAYMENTS.encode())
    assert put.status_code == 201, put.text
    r = submit(
        client, key_for(settings, Scope.INGEST), CALL, {"agent_id": "a-1", "ruleset": "payments"}
    )
    assert r.status_code == 202, r.text
    call_id = r.json()["id"]
    work(settings)
    reviewer = key_for(settings, Scope.REVIEW)

    doc = client.get(f"/v1/calls/{call_id}", headers=reviewer).json()
    assert doc["status"] == "done", doc
    customer = " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == "customer")
    for tag in ("[CARD_NUMBER]", "[ACCOUNT]", "[DOB]", "[EMAIL]"):
        assert tag in customer, customer
    # Scoring sees the tags: the customer gave the card number after the agent asked for it.
    rules = {rule["id"]: rule for rule in doc["rules"]}
    assert rules["card_asked_for"]["matched"] and not rules["card_read_back"]["matched"]
    given = rules["card_given"]
    assert given["matched"] and given["hits"][0]["text"].startswith("[CARD_NUMBER]")
    assert given["hits"][0]["speaker"] == "customer"
    assert doc["score"]["value"] == 100 and not doc["score"]["critical_fail"]
    assert {span["type"] for span in doc_spans(settings, call_id)} <= {
        "CARD_NUMBER",
        "ACCOUNT",
        "DOB",
        "EMAIL",
    }  # the ruleset's types, not the deployment's (all)

    answers = {"call document": json.dumps(doc)}
    for q in ("card", "lopez", "4539", "thank"):
        found = client.get("/v1/calls", params={"q": q}, headers=reviewer)
        assert found.status_code == 200, found.text
        answers[f"search {q}"] = found.text

    def search(q: str) -> list[str]:
        found = client.get("/v1/calls", params={"q": q}, headers=reviewer).json()
        return [c["id"] for c in found["calls"]]

    assert search("card") == [call_id] and search("lopez") == search("4539") == []
    csv = client.get(
        "/v1/reports/kpi-journal", params={"from": "2000-01-01"},
        headers={**reviewer, "Accept": "text/csv"},
    )  # fmt: skip
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    answers["kpi journal csv"] = csv.text
    coach = key_for(settings, Scope.COACH)
    collection = client.post(
        "/v1/coaching/collections", headers=coach, json={"name": "payments"}
    ).json()["id"]
    card = next(s for s in doc_spans(settings, call_id) if s["type"] == "CARD_NUMBER")
    clip = client.post(
        f"/v1/coaching/collections/{collection}/clips", headers=coach,
        json={"call_id": call_id, "start": card["start"] - 1, "end": card["end"] + 1},
    )  # fmt: skip
    assert clip.status_code == 201 and "[CARD_NUMBER]" in clip.json()["text"], clip.text
    answers["coaching clip"] = clip.text

    with session_scope(settings) as session:
        tables = {
            table.name: [
                s for row in session.execute(select(table)) for v in row for s in strings(v)
            ]
            for table in Base.metadata.sorted_tables
        }
    assert tables["webhook_messages"], "the call.analyzed message is in the outbox"
    for name, texts in tables.items():
        assert not leaks(*texts), (name, leaks(*texts))
    for name, body in answers.items():
        assert not leaks(body), (name, leaks(body))
    for path in Path(settings.data_dir).rglob("*"):
        # recordings are checked by ear below; the database file by its tables above
        if path.is_file() and path.suffix not in (".wav", ".flac", ".db", ".db-wal", ".db-shm"):
            assert not leaks(path.read_bytes().decode("latin-1")), path

    # Audio: the copy everyone is served is silent where the data was said, both channels.
    with session_scope(settings) as session:
        call = session.get(Call, call_id)
        assert call is not None and call.redacted_audio_path is not None
        original = settings.audio_dir / call.audio_path
        redacted_path = call.redacted_audio_path
    served = client.get(f"/v1/calls/{call_id}/audio", headers=reviewer)
    assert served.status_code == 200 and served.headers["content-type"] == "audio/flac"
    audio = decode(served.content)
    spans = doc_spans(settings, call_id)
    assert {s["type"] for s in spans} >= {"CARD_NUMBER", "ACCOUNT", "DOB", "EMAIL"}
    source = decode(CALL.read_bytes())
    for span in spans:
        lo, hi = int(span["start"] * 8000), int(span["end"] * 8000)
        assert rms(audio[lo:hi]) == 0.0, span
        if span["speaker"] == "customer":
            assert rms(source[lo:hi, 1]) > 300, span  # speech was there
    said_by_agent = next(u for u in doc["utterances"] if u["speaker"] == "agent")
    lo, hi = int(said_by_agent["start"] * 8000), int(said_by_agent["end"] * 8000)
    assert rms(audio[lo:hi, 0]) > 300  # the rest is kept
    clip_audio = client.get(
        f"/v1/calls/{call_id}/audio",
        params={"start": card["start"], "end": card["end"]},
        headers=reviewer,
    )
    assert rms(decode(clip_audio.content)) == 0.0
    # The original: for an admin only, and only while it is kept.
    assert client.get(
        f"/v1/calls/{call_id}/audio", params={"original": "true"}, headers=reviewer
    ).status_code == 403  # fmt: skip
    unredacted = client.get(
        f"/v1/calls/{call_id}/audio", params={"original": "true"}, headers=admin
    )
    if keep_original:
        assert unredacted.status_code == 200 and hashlib.sha256(unredacted.content).digest() == (
            hashlib.sha256(CALL.read_bytes()).digest()
        )
    else:
        assert unredacted.status_code == 410 and not original.exists()
    # Deleting the call removes both recordings.
    copy = settings.audio_dir / redacted_path
    assert copy.is_file()
    assert client.delete(f"/v1/calls/{call_id}", headers=admin).status_code == 204
    assert not copy.exists() and not original.exists()


def doc_spans(settings: Settings, call_id: str) -> list[dict[str, Any]]:
    with get_engine(settings).connect() as conn:
        value = conn.execute(select(Call.redactions).where(Call.id == call_id)).scalar_one()
    return list(value or [])
