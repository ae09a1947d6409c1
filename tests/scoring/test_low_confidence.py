"""A scored call says, in the API and on its page, which answers rest on unsure words."""

from __future__ import annotations

from fastapi.testclient import TestClient

from speechqa.contracts import Interval, Transcript
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from speechqa_service.app import create_app
from tests.support import REFUND_CALL, store_call, web_sign_in


def test_a_fail_on_unsure_words_is_marked_in_the_api_and_on_the_call_page(settings, admin):
    transcript = Transcript(
        duration_s=67.0, source_channels=2, channels={"left": "agent", "right": "customer"},
        language="en", utterances=list(REFUND_CALL),
        speech={"agent": [Interval(u.start, u.end) for u in REFUND_CALL]},
    )  # fmt: skip
    with session_scope(settings) as session:
        call_id = store_call(session, transcript)
        score_calls(session, [call_id])
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        doc = client.get(f"/v1/calls/{call_id}", headers=admin).json()
        items = {i["item"]: i for s in doc["score"]["sections"] for i in s["items"]}
        keys = {i["item"]: f"{n}.{m}" for n, s in enumerate(doc["score"]["sections"])
                for m, i in enumerate(s["items"])}  # fmt: skip
        resolution = items["rule resolution"]
        assert (resolution["passed"], resolution["low_confidence"]) == (False, True)
        assert resolution["weak_spots"][0]["text"] == "Yes, I can wish you no reason."
        assert items["rule greeting"]["low_confidence"] is False

        assert (
            web_sign_in(client, admin["Authorization"].removeprefix("Bearer ")).status_code == 303
        )
        page = client.get(f"/calls/{call_id}").text
        marks = page.split('class="low-confidence"')[1:]
        assert len(marks) == sum(i["low_confidence"] for i in items.values())
        row = page.split(f'data-key="{keys["rule resolution"]}"', 1)[1].split("</li>")[0]
        mark = row.split('class="low-confidence"')[1]
        assert "⚠ rests on low-confidence words (ASR confidence 0.80)" in mark
        assert 'data-seek="43.1"' in mark and "“Yes, I can wish you no reason.” 0.65" in mark
        greeting = page.split(f'data-key="{keys["rule greeting"]}"', 1)[1].split("</li>")[0]
        assert 'class="low-confidence"' not in greeting
