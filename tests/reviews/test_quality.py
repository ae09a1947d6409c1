"""The machine's answers judged by reviewers: agreement, precision and recall per item."""

from __future__ import annotations


def test_rule_quality_from_submitted_reviews(world):
    client, call, keys = world["client"], world["call"], world["keys"]
    for reviewer, override in (("rita", True), ("rob", False)):
        review = client.post(f"/v1/calls/{call}/reviews", headers=keys[reviewer]).json()
        url = f"/v1/reviews/{review['id']}"
        if override:  # the machine heard a closing; rita did not
            client.put(f"{url}/items/2.1", headers=keys[reviewer],
                       json={"decision": "fail", "reason": "Not a closing"})  # fmt: skip
        assert client.post(f"{url}/submit", headers=keys[reviewer]).status_code == 200
    draft = client.post(f"/v1/calls/{call}/reviews", headers=keys["lee"]).json()  # not counted
    assert draft["status"] == "draft"

    report = client.get("/v1/rules/quality?ruleset=billing", headers=keys["rita"])
    assert report.status_code == 200, report.text
    items = {i["item"]: i for i in report.json()["items"]}
    closing, greeting = items["rule closing"], items["rule greeting"]
    assert (closing["reviews"], closing["agreement"]) == (2, 0.5)
    assert (closing["tp"], closing["fp"], closing["precision"], closing["recall"]) == (
        1,
        1,
        0.5,
        1.0,
    )
    assert (greeting["reviews"], greeting["agreement"], greeting["precision"]) == (2, 1.0, 1.0)
    assert client.get("/v1/rules/quality", headers=keys["ann"]).status_code == 403
    assert client.get("/v1/rules/quality?ruleset=none", headers=keys["rita"]).json() == {
        "items": []
    }
