"""The machine's answers judged by reviewers: agreement, precision and recall per item."""

from __future__ import annotations


def test_rule_quality_from_submitted_reviews(world):
    client, call, keys = world["client"], world["call"], world["keys"]
    rita = client.post(f"/v1/calls/{call}/reviews", headers=keys["rita"]).json()
    assert client.post(f"/v1/reviews/{rita['id']}/submit", headers=keys["rita"]).status_code == 200
    # lee re-evaluates: the machine heard a closing, lee did not. Only the version that counts
    # judges the machine (rita's is superseded).
    lee = client.post(f"/v1/calls/{call}/reviews", headers=keys["lee"],
                      json={"reason": "second listen"}).json()  # fmt: skip
    submitted = client.post(f"/v1/reviews/{lee['id']}/submit", headers=keys["lee"], json={
        "answers": {"2.1": {"decision": "fail", "reason": "Not a closing"}}})  # fmt: skip
    assert submitted.status_code == 200, submitted.text
    again = client.post(f"/v1/calls/{call}/reviews", headers=keys["rita"], json={"reason": "me"})
    assert again.status_code == 409 and again.json()["error"]["details"]["reviewer"] == "lee"
    draft = client.post(
        f"/v1/calls/{call}/reviews", headers=keys["lee"], json={"reason": "once more"}
    ).json()  # a draft: not counted
    assert draft["status"] == "draft"

    report = client.get("/v1/rules/quality?ruleset=billing", headers=keys["rita"])
    assert report.status_code == 200, report.text
    items = {i["item"]: i for i in report.json()["items"]}
    closing, greeting = items["rule closing"], items["rule greeting"]
    assert (closing["reviews"], closing["agreement"]) == (1, 0.0)
    assert (closing["tp"], closing["fp"], closing["precision"]) == (0, 1, 0.0)
    assert (greeting["reviews"], greeting["agreement"], greeting["precision"]) == (1, 1.0, 1.0)
    assert client.get("/v1/rules/quality", headers=keys["ann"]).status_code == 403
    assert client.get("/v1/rules/quality?ruleset=none", headers=keys["rita"]).json() == {
        "items": []
    }
