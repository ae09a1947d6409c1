"""A web form's change is committed before the page answers: a commit the database refuses
shows the 500 error page, and nothing is stored (``tests/api/test_commits.py`` for the API)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from speechqa_service.app import create_app
from tests.support import make_floor, refused_commits, table_rows, web_sign_in


@pytest.mark.parametrize("backend", ["embedded", "external"])
def test_a_refused_commit_shows_the_error_page_and_stores_nothing(settings, backend):
    with TestClient(
        create_app(settings), base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        floor = make_floor(settings, client)
        key = floor.keys["rita"]["Authorization"].removeprefix("Bearer ")
        signed = web_sign_in(client, key)
        assert signed.status_code == 303, signed.text
        call = floor.calls[0]
        page = client.get(f"/calls/{call}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None, page.text[:500]
        before = table_rows(settings, "reviews")
        with refused_commits(settings, "reviews"):
            r = client.post(f"/calls/{call}/review", data={"csrf": csrf.group(1)},
                            follow_redirects=False)  # fmt: skip
        assert r.status_code == 500 and "Nothing was saved" in r.text
        assert "FOREIGN KEY" not in r.text and "by the test" not in r.text
        assert table_rows(settings, "reviews") == before
        # Without the refusal the same form stores the review before it redirects.
        r = client.post(f"/calls/{call}/review", data={"csrf": csrf.group(1)},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 303 and len(table_rows(settings, "reviews")) == len(before) + 1


@pytest.mark.parametrize("backend", ["embedded", "external"])
def test_a_form_field_with_a_nul_is_refused_and_stores_nothing(settings, backend):
    """PostgreSQL cannot store NUL (it was a 500 there); every form refuses it with a 422 page,
    as the API refuses it in a JSON body."""
    with TestClient(
        create_app(settings), base_url="https://testserver", raise_server_exceptions=False
    ) as client:
        floor = make_floor(settings, client)
        key = floor.keys["rita"]["Authorization"].removeprefix("Bearer ")
        assert web_sign_in(client, key).status_code == 303
        call = floor.calls[0]
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/calls/{call}").text)
        assert csrf is not None
        started = client.post(f"/calls/{call}/review", data={"csrf": csrf.group(1)},
                              follow_redirects=False)  # fmt: skip
        review = re.search(r"/reviews/(\d+)", started.headers["location"] + client.get(
            started.headers["location"]).text)  # fmt: skip
        assert review is not None
        before = table_rows(settings, "reviews")
        r = client.post(f"/reviews/{review.group(1)}/comments",
                        data={"csrf": csrf.group(1), "text": "fine\x00"}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 422, r.text[:300]
        assert "U+0000" in r.text and "text" in r.text
        assert table_rows(settings, "reviews") == before
