"""What an outside probe sent to the service: each case is a quick, clear 4xx, never a 500.

Every case runs on both deployments (PostgreSQL is the stricter one: it refuses NUL bytes and
integers past 32 bits) and within a time limit, so an input that costs minutes of CPU fails here.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.audiofiles import silent_flac
from tests.support import EXAMPLES, live_server, stored_audio, submit, work

SAMPLE = EXAMPLES / "address_change.wav"
BIG = "9223372036854775808"  # 2**63
PG_BIG = "2147483648"  # 2**31

ALIAS_BOMB = "\n".join(
    ["name: bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 8)]
    + ["rules: [{id: r, match: hello}]"]
)


def ruleset(match: str) -> str:
    return f"name: hostile\nrules:\n  - id: r\n    match: {json.dumps(match)}\n"


def scorecard(points: str) -> bytes:
    items = f"        - {{rule: r, points: {points}}}\n"
    return (
        ruleset("hello") + "scorecard:\n  sections:\n    - name: A\n      items:\n" + items
    ).encode()


def _chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"\0" * size


# (method, path, request keywords, status, code or None)
CASES: list[tuple[str, str, dict[str, Any], int, str | None]] = [
    ("GET", f"/v1/rulesets/default?version={BIG}", {}, 422, "invalid_input"),
    ("GET", f"/v1/rulesets/default?version={PG_BIG}", {}, 422, "invalid_input"),
    ("POST", f"/v1/rulesets/default/rescore?version={BIG}", {}, 422, "invalid_input"),
    ("GET", f"/v1/reports/kpi-journal?cursor={BIG}", {}, 422, "invalid_input"),
    ("GET", f"/v1/reports/kpi-journal?limit={BIG}", {}, 422, "invalid_input"),
    ("GET", f"/v1/calls?limit={BIG}", {}, 422, "invalid_input"),
    ("GET", "/v1/jobs/a*", {}, 422, "invalid_input"),
    ("GET", "/v1/calls?agent_id=a%00b", {}, 400, "invalid_input"),
    ("GET", "/v1/calls/a%00b", {}, 400, "invalid_input"),
    ("GET", "/v1/agents/a%00b/kpis", {}, 400, "invalid_input"),
    ("GET", "/v1/calls?cursor=%ff%fe", {}, 422, "invalid_input"),
    ("DELETE", "/v1/calls", {}, 405, "method_not_allowed"),
    ("PUT", "/v1/rulesets/bomb", {"content": ALIAS_BOMB.encode()}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": ALIAS_BOMB.encode()}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": b"[" * 5000 + b"]" * 5000}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": ("name: x\nrules: " + "{a: " * 5000 + "1" + "}" * 5000).encode()}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": ruleset("(" * 5000 + "hello" + ")" * 5000).encode()}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": ruleset("NOT " * 5000 + "hello").encode()}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": ruleset(" NEAR/50 ".join(["hello"] * 3000)).encode()}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": ruleset(" NEAR/50 ".join(["hello"] * 40)).encode()}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": b"x" * (2 << 20)}, 413, "upload_too_large"),
    ("POST", "/v1/rulesets/validate", {"content": scorecard("1" + "0" * 5000)}, 422, "invalid_ruleset"),
    ("PUT", "/v1/rulesets/hostile", {"content": scorecard("1" + "0" * 5000)}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": scorecard(".inf")}, 422, "invalid_ruleset"),
    ("POST", "/v1/rulesets/validate", {"content": scorecard("1e400")}, 422, "invalid_ruleset"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "kw", "status", "code"), CASES)
def test_hostile_requests_get_a_quick_4xx(client, admin, method, path, kw, status, code):
    started = time.perf_counter()
    r = client.request(method, path, headers=admin, **kw)
    elapsed = time.perf_counter() - started
    assert r.status_code == status, r.text
    if code:
        assert r.json()["error"]["code"] == code
    if status == 405:
        assert "GET" in r.headers["allow"] and "POST" in r.headers["allow"]
    assert elapsed < 2.0, f"{method} {path[:60]} took {elapsed:.1f} s"


def test_a_number_too_long_to_read_names_its_rule_and_field(client, admin):
    r = client.post("/v1/rulesets/validate", headers=admin, content=scorecard("1" + "0" * 5000))
    assert r.status_code == 422, r.text
    [problem] = r.json()["error"]["details"]
    assert problem["where"] == "scorecard.sections[0] (A).items[0] (r).points"
    assert problem["message"] == "a number of 5001 digits; at most 15" and problem["line"] == 9


def _nested(depth: int) -> str:
    return '{"agent_id": "a", "x": ' + "[" * depth + "]" * depth + "}"


METADATA: list[tuple[str, Any, str]] = [
    ("nested 5,000 deep", _nested(5000), "not valid JSON"),
    ("nested 20 deep", _nested(20), "nests deeper"),
    ("200,000 tags", {"agent_id": "a", "tags": ["t"] * 200_000}, "at most"),
    ("a 1,000,000-character tag", {"agent_id": "a", "tags": ["t" * 1_000_000]}, "at most"),
    ("NaN", '{"agent_id": "a", "score": NaN}', "NaN"),
    ("Infinity", '{"agent_id": "a", "score": -Infinity}', "Infinity"),
    ("a NUL in external_id", {"agent_id": "a", "external_id": "x\u0000y"}, "NUL"),
    ("a NUL in a key", {"agent_id": "a", "k\u0000": 1}, "NUL"),
    ("1.5 MB", {"agent_id": "a", "note": "n" * 1_500_000}, "metadata"),
]


@pytest.mark.parametrize(("meta", "message"), [(m, msg) for _, m, msg in METADATA],
                         ids=[name for name, _, _ in METADATA])  # fmt: skip
def test_hostile_metadata_is_refused_and_nothing_is_stored(client, settings, admin, meta, message):
    started = time.perf_counter()
    r = submit(client, admin, SAMPLE, meta=meta)
    assert time.perf_counter() - started < 3.0
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_metadata"
    assert message in r.json()["error"]["message"]
    assert stored_audio(settings) == []


def test_metadata_may_come_as_a_file_part(client, admin):
    meta = json.dumps({"agent_id": "a-1", "external_id": "as-file"}).encode()
    files = {
        "audio": (SAMPLE.name, SAMPLE.read_bytes(), "audio/wav"),
        "metadata": ("metadata.json", meta, "application/json"),
    }
    r = client.post("/v1/calls", headers=admin, files=files)
    assert r.status_code == 202, r.text


def test_a_chunked_upload_is_cut_off_at_the_limit(settings, admin, monkeypatch):
    """No Content-Length: the body is counted as it streams, not read whole before the 413."""
    monkeypatch.setattr(settings, "max_upload_bytes", 2 << 20)
    chunk = b"\0" * (1 << 20)
    sent = 0
    answer = b""
    with live_server(settings) as port, socket.create_connection(("127.0.0.1", port)) as conn:
        head = (
            f"POST /v1/calls HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {admin['Authorization']}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        conn.sendall(head.encode())
        part = b"--x\r\nContent-Disposition: form-data; name=audio; filename=a.wav\r\n\r\n"
        conn.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        conn.settimeout(0.05)
        while sent < 64 << 20 and not answer:
            try:
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                answer = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:  # the server closed the connection after answering
                conn.settimeout(5)
                answer = conn.recv(65536)
                break
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 << 20, f"{sent} bytes were sent before the 413"
    assert stored_audio(settings) == []


def test_a_flac_without_its_length_is_refused_at_upload(client, settings, admin, tmp_path):
    # 40 min of silence in 440 KB, STREAMINFO total_samples zeroed: decoding it whole took a
    # worker 240 MB (a 200 MB one would take 70 GB). Its packets tell its length undecoded.
    bomb = silent_flac(tmp_path / "bomb.flac", 40 * 60, header_samples=0)
    settings.max_duration_s = 600
    started = time.perf_counter()
    r = submit(client, admin, bomb, content_type="audio/flac")
    assert time.perf_counter() - started < 3.0
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "audio_too_long"
    assert r.json()["error"]["message"] == "The recording lasts more than the limit of 600 s."
    assert stored_audio(settings) == []


def test_a_flac_whose_header_lies_fails_once_decoding_passes_the_limit(
    client, settings, admin, tmp_path
):
    liar = silent_flac(tmp_path / "liar.flac", 40 * 60, header_samples=10 * 8000)
    settings.max_duration_s = 600
    r = submit(client, admin, liar, content_type="audio/flac")
    assert r.status_code == 202, r.text
    work(settings)
    status = client.get(f"/v1/calls/{r.json()['id']}/status", headers=admin).json()
    assert status["status"] == "failed"
    assert "The recording lasts more than the limit of 600 s." in status["reason"]


@pytest.mark.parametrize("filename", ["../../.wav.php", "x.wav\0.sh", "call.sh", "call.mp3"])
def test_the_stored_recording_is_named_by_its_format_not_the_clients_name(
    client, settings, admin, filename
):
    files = {"audio": (filename, SAMPLE.read_bytes(), "audio/wav")}
    data = {"metadata": json.dumps({"agent_id": "a-1", "external_id": "named"})}
    r = client.post("/v1/calls", headers=admin, files=files, data=data)
    assert r.status_code == 202, r.text
    (stored,) = stored_audio(settings)
    assert stored.endswith(f"/{r.json()['id']}.wav")
