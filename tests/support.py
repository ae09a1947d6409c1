"""What tests share besides fixtures: paths, required services, reference text, API helpers."""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from speechqa.apikeys import Scope, create_key
from speechqa.calls import repository
from speechqa.contracts import Interval, Transcript, Utterance, Word
from speechqa.settings import Settings
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Agent, Call, CallStatus

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED_AUDIO = Path(
    os.environ.get("SPEECHQA_TEST_SHARED_AUDIO", ROOT.parent / "shared" / "data" / "audio")
)
POSTGRES_URL = os.environ.get(
    "SPEECHQA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
EXTERNAL_REDIS_URL = os.environ.get("SPEECHQA_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI must provide it)")
    pytest.skip(message)


def shared_audio(relative: str) -> Path:
    """A real recording from the shared data folder (beside the checkout, as in CI)."""
    path = SHARED_AUDIO / relative
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing: CI lays shared/ beside the checkout")
        pytest.skip(f"{path} is not present")
    return path


def reference(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return data


def reference_text(name: str, speaker: str) -> str:
    return " ".join(t["text"] for t in reference(name)["turns"] if t["speaker"] == speaker)


def key_for(settings: Settings, *scopes: Scope) -> dict[str, str]:
    """Authorization headers with a new API key holding ``scopes``."""
    with session_scope(settings) as session:
        key = create_key(session, list(scopes), name="test")
    return {"Authorization": f"Bearer {key}"}


def submit(
    client: Any,
    headers: dict[str, str],
    path: Path = EXAMPLES / "address_change.wav",
    meta: dict[str, Any] | str | None = None,
    content_type: str = "audio/wav",
    **kw: Any,
) -> Any:
    """POST a recording to /v1/calls as an upstream system would (multipart audio + metadata)."""
    meta = {"agent_id": "a-1", "external_id": path.stem} if meta is None else meta
    data = {"metadata": meta if isinstance(meta, str) else json.dumps(meta)}
    files = {"audio": (path.name, path.read_bytes() if path.exists() else b"", content_type)}
    return client.post("/v1/calls", headers=headers, files=files, data=data, **kw)


def work(settings: Settings) -> None:
    """Work the queue until it is empty, in this process, with the worker ``speechqa worker`` runs."""
    from workers.worker import build_worker

    build_worker(settings).work(burst=True, with_scheduler=False)


def reference_transcript(name: str) -> Transcript:
    """A sample call's reference turns as a transcript (words spread evenly over each turn)."""
    ref = reference(name)
    utterances = []
    speech: dict[str, list[Interval]] = {}
    for i, turn in enumerate(ref["turns"]):
        tokens = turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(tokens)
        words = [
            Word(
                tok,
                round(turn["start"] + k * step, 3),
                round(turn["start"] + (k + 1) * step, 3),
                0.9,
            )
            for k, tok in enumerate(tokens)
        ]
        utterances.append(
            Utterance(i, turn["speaker"], turn["start"], turn["end"], turn["text"], words)
        )
        speech.setdefault(turn["speaker"], []).append(Interval(turn["start"], turn["end"]))
    return Transcript(
        duration_s=ref["duration_s"],
        source_channels=2,
        channels=ref["channels"],
        language="en",
        utterances=utterances,
        speech=speech,
    )


def store_call(
    session: Session,
    transcript: Transcript,
    *,
    agent_id: str = "a-1",
    team: str | None = None,
    ruleset: str | None = None,
    started_at: datetime | None = None,
) -> str:
    """A call as the worker leaves it after transcription (not yet scored), without audio."""
    if session.get(Agent, agent_id) is None:
        session.add(Agent(id=agent_id, team=team))
    call = Call(
        id=uuid.uuid4().hex, agent_id=agent_id, team=team, ruleset=ruleset, started_at=started_at,
        audio_path="-", audio_sha256="-", audio_bytes=0, status=CallStatus.DONE, tags=[], extra={},
    )  # fmt: skip
    session.add(call)
    session.flush()
    repository.save_transcript(session, call, transcript, "reference")
    return call.id
