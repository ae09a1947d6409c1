"""Calibration: two reviewers score the same call on their own; the report shows where they
disagree, agreement beyond chance, and the machine against their consensus."""

from __future__ import annotations

import pytest

from speechqa.apikeys import create_key
from speechqa.reviews.calibration import fleiss_kappa
from speechqa.storage.database import session_scope
from speechqa.users import create_user


def test_a_calibration_session(world):
    client, call, keys = world["client"], world["call"], world["keys"]
    body = {"name": "november", "calls": [call], "reviewers": ["rita", "rob"]}
    assert client.post("/v1/calibrations", headers=keys["rita"], json=body).status_code == 403
    created = client.post("/v1/calibrations", headers=keys["lee"], json=body)
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    start = f"/v1/calibrations/{sid}/calls/{call}/reviews"
    ritas = client.post(start, headers=keys["rita"]).json()
    robs = client.post(start, headers=keys["rob"]).json()
    assert client.post(start, headers=keys["ann"]).status_code == 403
    # Independent: rita cannot read rob's answers before she submits hers.
    assert client.get(f"/v1/reviews/{robs['id']}", headers=keys["rita"]).status_code == 404
    client.put(f"/v1/reviews/{ritas['id']}/items/2.1", headers=keys["rita"],
               json={"decision": "fail", "reason": "No real closing"})  # fmt: skip
    assert client.post(f"/v1/reviews/{ritas['id']}/submit", headers=keys["rita"]).status_code == 200
    assert client.get(f"/v1/reviews/{robs['id']}", headers=keys["rita"]).status_code == 200
    assert client.post(f"/v1/reviews/{robs['id']}/submit", headers=keys["rob"]).status_code == 200

    report = client.get(f"/v1/calibrations/{sid}", headers=keys["lee"]).json()
    items = {i["key"]: i for i in report["items"]}
    assert items["2.1"]["answers"] == {"rita": "fail", "rob": "pass"}
    assert items["2.1"]["consensus"] is None and items["2.1"]["agreement"] == 0.0
    assert items["0.0"]["consensus"] == "pass" and items["0.0"]["agreement"] == 1.0
    assert report["percent_agreement"] == 0.75
    assert report["fleiss_kappa"] == pytest.approx(-0.1429, abs=1e-4)
    # Two reviewers who differ leave the consensus undecided: agreement for neither of them.
    assert report["undecided"] == 1
    assert report["reviewer_agreement"] == {"rita": 0.75, "rob": 0.75}
    assert items["2.1"]["reasons"] == {"rita": "No real closing"}
    assert report["machine"]["rule greeting"]["precision"] == 1.0
    # Calibration reviews never count for the call.
    row = client.get("/v1/calls?status=done", headers=keys["lee"]).json()["calls"][0]
    assert row["score_source"] == "automatic"
    assert client.get(f"/v1/calibrations/{sid}", headers=keys["rita"]).status_code == 403
    again = client.post(start, headers=keys["rita"])
    assert again.status_code == 409


def test_a_session_names_only_reviewers_who_see_its_calls(world, settings):
    client, call, keys = world["client"], world["call"], world["keys"]
    with session_scope(settings) as session:
        create_user(session, "sue", "reviewer", teams=["support"])
        create_user(session, "bea", "lead", teams=["billing"])
        bea = {"Authorization": f"Bearer {create_key(session, [], user='bea')}"}
    for reviewers, words in ((["rita", "sue"], "sue cannot see every call of the session"),
                             (["rita", "ann"], "ann cannot take part in calibration")):  # fmt: skip
        r = client.post("/v1/calibrations", headers=keys["lee"],
                        json={"name": "x", "calls": [call], "reviewers": reviewers})  # fmt: skip
        assert r.status_code == 422 and words in r.json()["error"]["message"], r.text
    r = client.post("/v1/calibrations", headers=bea,
                    json={"name": "x", "calls": [call], "reviewers": ["rita", "rob"]})  # fmt: skip
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("ratings", "kappa"),
    [
        ([["a", "a"], ["b", "b"], ["a", "a"]], 1.0),  # perfect agreement
        ([["a", "b"], ["b", "a"], ["a", "b"], ["b", "a"]], -1.0),  # systematic disagreement
        # three raters: P-bar = 2/3, P_e = 1/2, so kappa = 1/3 (worked by hand)
        ([["a", "a", "b"], ["a", "b", "b"], ["a", "a", "a"], ["b", "b", "b"]], 0.3333),
        ([["a", "a"], ["a", "a"]], None),  # one category only: undefined
        ([], None),
    ],
)
def test_fleiss_kappa(ratings, kappa):
    result = fleiss_kappa(ratings)
    assert result == (pytest.approx(kappa, abs=1e-4) if kappa is not None else None)
