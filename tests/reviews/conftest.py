"""Reviews' shared setup: a scored billing call by Ann, a call still queued, and users."""

from __future__ import annotations

from typing import Any

import pytest

from speechqa.apikeys import create_key
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Call
from speechqa.users import create_user
from tests.api.test_rulesets import RULESET
from tests.support import reference_transcript, store_call


@pytest.fixture
def world(settings, client, admin) -> dict[str, Any]:
    assert (
        client.put("/v1/rulesets/billing", headers=admin, content=RULESET.encode()).status_code
        == 201
    )
    with session_scope(settings) as session:
        call = store_call(session, reference_transcript("billing_refund"), agent_id="ann",
                          team="billing", ruleset="billing")  # fmt: skip
        score_calls(session, [call])
        pending = store_call(session, reference_transcript("address_change"), agent_id="ann",
                             team="billing")  # fmt: skip
        session.get(Call, pending).status = "queued"  # type: ignore[union-attr]
        keys = {}
        for name, role, agent in (("rita", "reviewer", None), ("rob", "reviewer", None),
                                  ("ann", "agent", "ann"), ("lee", "lead", None)):  # fmt: skip
            create_user(session, name, role, agent_id=agent)
            keys[name] = {"Authorization": f"Bearer {create_key(session, [], user=name)}"}
    return {"client": client, "call": call, "pending": pending, "keys": keys, "admin": admin}
